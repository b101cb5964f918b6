"""Every formula is saved with its value: what a preview, openpyxl(data_only=True) or pandas read from the file."""

import datetime as dt
import inspect
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl import Workbook
from openpyxl.utils.cell import coordinate_from_string

from libreoffice import assert_saved_values_are_recalculated, cell_values, formula_cells, recalculate_all
from retention_xl import udfs
from retention_xl.report import ReportOptions, analyse, write_workbook
from retention_xl.split import write_split
from retention_xl.workbook import save_workbook
from retention_xl.workbook.stream import StreamError
from test_groups import chain_rows

REPO = Path(__file__).resolve().parents[1]
ADDIN = re.compile(r"=(RETENTION|TXN_GROWTH|REPEAT_TIER|PARETO_SHARE)\((.*)\)")
SALES_LIST_ADDIN = re.compile(r"=(CUSTOMER_BRIDGE|COHORT_TABLE|CUSTOMER_SEGMENTS|CUSTOMER_VALUE|P_ALIVE)\((.*)\)")

# What a spreadsheet saves for each kind of result: (formula, value, number format).
KINDS = {
    "B1": ("=A1/16", 0.25, "0.0%"),                              # a percentage: the fraction
    "B2": ('=IF(A1>9,"big","")', "", None),                      # a blank string: t="str", empty <v>
    "B3": ("=A1/0", "#DIV/0!", None),                            # an error: t="e"
    "B4": ("=DATE(2024,3,1)", dt.date(2024, 3, 1), "yyyy-mm-dd"),  # a date: its serial number
    "B5": ("=A1>1", True, None),                                 # a boolean: t="b"
    "B6": ('="A&B<"&A1', "A&B<4", None),                         # text that needs escaping: t="str"
    "B7": ("=A1*3", 12, None),
}


def kinds_workbook(path: Path, values=None) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "Kinds"
    sheet["A1"] = 4
    for cell, (formula, _, number_format) in KINDS.items():
        sheet[cell] = formula
        if number_format:
            sheet[cell].number_format = number_format
    save_workbook(book, path, values if values is not None else {("Kinds", c): v for c, (_, v, _) in KINDS.items()})
    return path


def typed_cells(path: Path, sheet: str = "xl/worksheets/sheet1.xml") -> dict[str, tuple[str, str]]:
    """Each formula cell's type (``n`` when absent) and saved value text, from the sheet's XML."""
    xml = zipfile.ZipFile(path).read(sheet).decode("utf-8")
    cells = re.findall(r'<c r="([A-Z]+\d+)"([^>]*)><f[^>]*>[^<]*</f><v>([^<]*)</v></c>', xml)
    kinds = {cell: re.search(r' t="(\w+)"', attributes) for cell, attributes, _ in cells}
    return {cell: (kinds[cell].group(1) if kinds[cell] else "n", value) for cell, _, value in cells}


def test_each_kind_of_result_is_saved_as_a_spreadsheet_saves_it(tmp_path):
    typed = typed_cells(kinds_workbook(tmp_path / "kinds.xlsx"))
    assert typed == {"B1": ("n", "0.25"), "B2": ("str", ""), "B3": ("e", "#DIV/0!"), "B4": ("n", "45352"),
                     "B5": ("b", "1"), "B6": ("str", "A&amp;B&lt;4"), "B7": ("n", "12")}
    saved = cell_values(tmp_path / "kinds.xlsx")["Kinds"]
    assert saved["B1"] == 0.25 and saved["B4"] == dt.datetime(2024, 3, 1) and saved["B5"] is True


def test_a_formula_without_its_value_or_a_value_without_its_formula_writes_nothing(tmp_path):
    values = {("Kinds", c): v for c, (_, v, _) in KINDS.items()}
    path = tmp_path / "kinds.xlsx"
    with pytest.raises(StreamError, match="no value was recorded for the formulas in B7"):
        kinds_workbook(path, {key: value for key, value in values.items() if key[1] != "B7"})
    with pytest.raises(StreamError, match="no formula to hold the values recorded for A1"):
        kinds_workbook(path, {**values, ("Kinds", "A1"): 4})
    assert list(tmp_path.iterdir()) == []  # neither the workbook nor a temporary file


def test_the_report_saves_the_value_python_computed_for_every_formula(tmp_path):
    report = analyse(chain_rows(), ReportOptions(month="2024-03", active_window=1, clv=False, language="zh-TW"))
    path = tmp_path / "chain.xlsx"
    written = write_workbook(report, path)
    saved = cell_values(path)
    formulas = formula_cells(path)
    assert {(sheet, cell) for sheet, cells in formulas.items() for cell in cells} == set(written.expected)
    for (sheet, cell), expected in written.expected.items():
        assert saved[sheet][cell] == expected, (sheet, cell)  # numbers to the last bit
    headlines = pd.read_excel(path, sheet_name=0, header=None)  # what pandas reads: the figures, not blanks
    assert headlines.iloc[5:11, 1].notna().all()


def addin_cell(sheet: str, cell: str, formula: str) -> bool:
    """A cell of the add-in's functions, which LibreOffice, without the add-in, shows as #NAME?."""
    return bool(ADDIN.fullmatch(formula) or SALES_LIST_ADDIN.fullmatch(formula))


def addin_value(formula: str, sheet: dict[str, object]):
    """What the add-in's own function answers for ``formula`` over the sheet's cells (the first cell of a column)."""
    name, arguments = ADDIN.fullmatch(formula).groups()
    function = getattr(udfs, name)
    defaults = [parameter.default for parameter in inspect.signature(function).parameters.values()]

    def argument(text: str, default):
        if text == "":
            return default
        if text.startswith('"'):
            return text.strip('"')
        first, _, last = text.partition(":")
        if not last:
            return sheet.get(first)
        (column, top), (_, bottom) = coordinate_from_string(first), coordinate_from_string(last)
        return [[sheet.get(f"{column}{row}")] for row in range(top, bottom + 1)]

    answer = function(*(argument(text, default) for text, default in zip(arguments.split(","), defaults)))
    return answer[0][0] if isinstance(answer, list) else answer


@pytest.mark.libreoffice
@pytest.mark.slow
def test_saved_values_are_libreoffices_in_every_kind_of_workbook(tmp_path):
    rows = chain_rows()
    rows["channel"] = pd.Series(["线上" if i % 2 else "门店" for i in range(len(rows))], dtype="string")
    rows["region"] = pd.Series(["华东" if i % 3 else "华南" for i in range(len(rows))], dtype="string")
    options = ReportOptions(month="2024-03", active_window=1, clv=False, language="en")
    report = analyse(rows, options)
    chain = tmp_path / "chain.xlsx"
    write_workbook(report, chain)
    assert {"Stores", "Staff", "Channels & regions"} <= set(openpyxl.load_workbook(chain).sheetnames)
    split = write_split(report, rows, "store", tmp_path / "by_store", workers=1)
    stores = [tmp_path / "by_store" / name for name in sorted(split.files)]
    demo = tmp_path / "functions_demo.xlsx"
    subprocess.run([sys.executable, str(REPO / "examples" / "functions_demo.py"), str(demo)], check=True)
    kinds = kinds_workbook(tmp_path / "kinds.xlsx")

    workbooks = [chain, *stores, demo, kinds]
    recalculated = dict(zip(workbooks, recalculate_all(workbooks, tmp_path)))
    least = {kinds: len(KINDS), demo: 14}  # the demo's plain formulas; LibreOffice cannot run the add-in's
    for workbook in workbooks:
        compared = assert_saved_values_are_recalculated(workbook, cell_values(recalculated[workbook]), unless=addin_cell)
        assert compared >= least.get(workbook, 20), workbook.name
    assert typed_cells(recalculated[kinds]) == typed_cells(kinds)  # the same types and texts as LibreOffice saves

    # The add-in's cells hold what the add-in computes in Excel (each equal to its plain formula's value).
    saved = cell_values(demo)["函数示例"]
    addin_cells = {cell: formula for cell, formula in formula_cells(demo)["函数示例"].items() if ADDIN.fullmatch(formula)}
    assert len(addin_cells) == 16
    for cell, formula in addin_cells.items():
        answer = addin_value(formula, saved)
        assert saved[cell] == (pytest.approx(answer) if isinstance(answer, float) else answer), (cell, formula)
