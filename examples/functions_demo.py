"""Write sample_workbooks/functions_demo.xlsx: the four worksheet functions on a shop's numbers.

Each figure appears twice: computed by the add-in (=RETENTION(...) ...) and by the
plain Excel formula that gives the same answer without it. Without the add-in the
first column shows #NAME? once recalculated, the second still works. Every formula is
saved with its value, as Excel with the add-in saves it, so a preview shows the figures.

    python examples/functions_demo.py [OUTPUT.xlsx]
"""

import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from retention_xl import formulas, metrics
from retention_xl.i18n import tier_label
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
    save_workbook(book, path, values, what="functions demo")
    return path

if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "sample_workbooks" / "functions_demo.xlsx"
    print(f"Wrote {build(target)}")
