"""Write sample_workbooks/functions_demo.xlsx: the worksheet functions on a shop's numbers.

The first sheet has the four figure functions, each figure twice: computed by the add-in
(=RETENTION(...) ...) and by the plain Excel formula that gives the same answer without it.
Without the add-in the first column shows #NAME? once recalculated, the second still works.

The second sheet has a sales list (customer, date, amount) and the five sales-list
functions beside it, each spilling the table computed here by the same functions. They
are saved as array formulas over their tables, which every Excel version opens as they are.
Every formula is saved with its value, as Excel with the add-in saves it, so a preview
shows the figures.

    python examples/functions_demo.py [OUTPUT.xlsx]
"""

import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula

from retention_xl.workbook import formulas
from retention_xl import metrics, udfs
from retention_xl.i18n import tier_label
from retention_xl.sample import sample_sales
from retention_xl.workbook import save_workbook

MONTHS = ["2024-07", "2024-08", "2024-09", "2024-10", "2024-11", "2024-12"]
START = [812, 840, 851, 866, 889, 902]        # customers at the start of each month
NEW = [61, 55, 58, 70, 74, 52]                 # first purchase in the month
END = [840, 851, 866, 889, 902, 897]           # customers at the end
BASE_REVENUE = [231_880, 253_031, 241_980, 239_479, 266_410, 244_905]  # existing customers' revenue
ORDERS_PER_CUSTOMER = [1, 3, 2, 1, 5, 2, 1, 1, 4, 2, 1, 7, 1, 2, 3, 1, 1, 2, 6, 1]
REVENUE_PER_CUSTOMER = [52_300, 18_450, 12_900, 9_870, 8_120, 6_400, 5_980, 4_410, 3_960, 3_200,
                        2_870, 2_450, 1_990, 1_730, 1_210, 980, 760, 540, 410, 220]


def build(path: Path) -> Path:
    """Write the demo workbook to ``path``, every formula saved with the value it computes."""
    book = Workbook()
    sheet = book.active
    sheet.title = "函数示例"
    values = {}  # every formula's value, saved with it: what the add-in and the plain formula both compute

    def formula(cell: str, text: str, value, number_format: str | None = None) -> None:
        sheet[cell] = text
        values[(sheet.title, cell)] = value
        if number_format:
            sheet[cell].number_format = number_format

    bold = Font(bold=True)
    head = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")
    sheet["A1"] = "retention_xl 工作表函数示例 / worksheet functions"
    sheet["A1"].font = Font(bold=True, size=14)

    sheet.append([])
    sheet.append(["月份", "期初 S", "新客 N", "期末 E", "RETENTION（插件）", "(E−N)/S（纯公式）",
                  "老客销售额", "TXN_GROWTH（插件）", "纯公式"])
    for cell in sheet[3]:
        cell.font, cell.fill = bold, head
    retention = [metrics.retention_rate(END[i], NEW[i], START[i]) for i in range(len(MONTHS))]
    for i, month in enumerate(MONTHS):
        r = 4 + i
        sheet.append([month, START[i], NEW[i], END[i]])
        formula(f"E{r}", f"=RETENTION(D{r},C{r},B{r})", retention[i], "0.0%")
        formula(f"F{r}", formulas.retention(f"D{r}", f"C{r}", f"B{r}"), retention[i], "0.0%")
        sheet[f"G{r}"] = BASE_REVENUE[i]
        if i:
            growth = metrics.txn_growth(BASE_REVENUE[i], BASE_REVENUE[i - 1])
            formula(f"H{r}", f"=TXN_GROWTH(G{r},G{r - 1})", growth, "0.0%")
            formula(f"I{r}", formulas.txn_growth(f"G{r}", f"G{r - 1}"), growth, "0.0%")
    last = 3 + len(MONTHS)
    sheet[f"A{last + 1}"] = "整列一次计算（动态数组溢出）/ whole columns at once (spills):"
    # Saved without a spill range, the cell holds the first value of the column the add-in returns.
    formula(f"E{last + 1}", f"=RETENTION(D4:D{last},C4:C{last},B4:B{last})", retention[0])

    top = last + 4
    sheet[f"A{top}"] = "客户"
    sheet[f"B{top}"] = "订单数"
    sheet[f"C{top}"] = "销售额"
    for cell in sheet[top]:
        cell.font, cell.fill = bold, head
    for i, (orders, revenue) in enumerate(zip(ORDERS_PER_CUSTOMER, REVENUE_PER_CUSTOMER)):
        sheet.append([f"C{i + 1:03d}", orders, revenue])
    first, end = top + 1, top + len(ORDERS_PER_CUSTOMER)
    rate = metrics.repeat_rate(ORDERS_PER_CUSTOMER)
    tier = metrics.repeat_tier(rate)
    share = metrics.pareto_share(REVENUE_PER_CUSTOMER)
    tiers = tuple(tier_label(t, "zh-CN") for t in ("high", "medium", "low"))
    rows = [
        ("REPEAT_TIER（插件，订单数）", f"=REPEAT_TIER(B{first}:B{end})", tier_label(tier, "zh-CN"), None),
        ("复购率（纯公式）", formulas.repeat_rate(f"B{first}:B{end}"), rate, "0.0%"),
        ("REPEAT_TIER（插件，复购率）", f"=REPEAT_TIER(F{end + 3})", tier_label(tier, "zh-CN"), None),
        ("复购档位（纯公式）", formulas.repeat_tier(f"F{end + 3}", tiers), tier_label(tier, "zh-CN"), None),
        ("PARETO_SHARE（插件）", f"=PARETO_SHARE(C{first}:C{end})", share, "0.0%"),
        ("前 20% 客户占比（纯公式）", formulas.pareto_share(f"C{first}:C{end}"), share, "0.0%"),
        ("REPEAT_TIER 英文标签", f'=REPEAT_TIER(B{first}:B{end},,,"en")', tier_label(tier, "en"), None),
    ]
    for offset, (label, text, value, number_format) in enumerate(rows, start=2):
        r = end + offset
        sheet[f"E{r}"] = label
        formula(f"F{r}", text, value, number_format)
    for column, width in zip("ABCDEFGHI", (12, 10, 10, 10, 28, 18, 12, 20, 10)):
        sheet.column_dimensions[column].width = width
    sales_sheet = book.create_sheet("销售清单函数")
    for anchor, value in sales_list_sheet(sales_sheet).items():
        values[(sales_sheet.title, anchor)] = value
    save_workbook(book, path, values, what="functions demo")
    return path


SALES_CUSTOMERS = 300
CDNOW_PARAMETERS = (0.243, 4.414, 0.793, 2.426)  # r, alpha, a, b: Fader and Hardie's BG/NBD fit to CDNOW


def sales_list_sheet(sheet) -> dict[str, object]:
    """A sales list in A:C and each sales-list function below the other from column E, with its table.

    Returns each function's anchor cell and the value it holds (the table's first cell)."""
    sales = sample_sales(customers=SALES_CUSTOMERS)
    bold = Font(bold=True)
    sheet.append(["会员号 / customer", "订单日期 / date", "金额 / amount"])
    for cell in sheet[1]:
        cell.font = bold
    for customer, date, amount in zip(sales["会员号"], sales["订单日期"], sales["金额"]):
        sheet.append([customer, date.to_pydatetime(), float(amount)])
    end = len(sales) + 1
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].number_format = "yyyy-mm-dd hh:mm"
    ranges = f"A2:A{end},B2:B{end},C2:C{end}"
    cells = [[[c.value] for c in column] for column in sheet.iter_cols(min_row=2, max_row=end, max_col=3)]
    value_table = udfs.CUSTOMER_VALUE(*cells, None, 12, 0.01, "zh-CN")
    blocks = [
        (f"=CUSTOMER_BRIDGE({ranges})", udfs.CUSTOMER_BRIDGE(*cells, 12, "zh-CN")),
        (f'=COHORT_TABLE({ranges},"retention")', udfs.COHORT_TABLE(*cells, "retention", "zh-CN")),
        (f"=CUSTOMER_SEGMENTS({ranges})", udfs.CUSTOMER_SEGMENTS(*cells, None, "zh-CN")),
        (f"=CUSTOMER_VALUE({ranges})", value_table),
    ]
    anchors, top, starts = {}, 1, []
    for formula, table in blocks:
        starts.append(top + 1)
        top = _block(sheet, top, formula, table, anchors) + 2
    sheet.cell(top, 5, "P_ALIVE：BG/NBD 参数（CDNOW）/ parameters fitted elsewhere (CDNOW)").font = bold
    for offset, (name, number) in enumerate(zip(("r", "alpha", "a", "b"), CDNOW_PARAMETERS)):
        sheet.cell(top + 1, 5 + offset, name)
        sheet.cell(top + 2, 5 + offset, number)
    first, last = starts[-1] + 1, starts[-1] + len(value_table) - 1  # the value table's rows below its header
    x, t_x, age = (f"{letter}{first}:{letter}{last}" for letter in "FGH")
    columns = [[[row[i]] for row in value_table[1:]] for i in (1, 2, 3)]
    p_alive = udfs.P_ALIVE(*columns, *CDNOW_PARAMETERS)
    _block(sheet, top + 3, f"=P_ALIVE({x},{t_x},{age},E{top + 2},F{top + 2},G{top + 2},H{top + 2})", p_alive, anchors)
    for column, width in zip("ABC", (16, 18, 12)):
        sheet.column_dimensions[column].width = width
    return anchors


def _block(sheet, top: int, formula: str, table, anchors: dict) -> int:
    """The formula's text as a title in row ``top``, then the formula over the table it spills; returns the table's
    last row."""
    sheet.cell(top, 5, f"公式 / formula:  {formula}").font = Font(bold=True, color="1F4E78")
    start = top + 1
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            cell = sheet.cell(start + r, 5 + c, value)
            if hasattr(value, "year"):
                cell.number_format = "yyyy-mm"
    anchor = f"E{start}"
    spill = f"{anchor}:{get_column_letter(4 + len(table[0]))}{start + len(table) - 1}"
    anchors[anchor] = table[0][0]
    sheet[anchor] = ArrayFormula(spill, formula)
    return start + len(table) - 1


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "sample_workbooks" / "functions_demo.xlsx"
    print(f"Wrote {build(target)}")
