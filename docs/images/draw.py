"""Draw the pictures in this folder, <function>.png: the top of each sales-list function's table on the second
sheet of sample_workbooks/functions_demo.xlsx, as LibreOffice Calc prints it.

Each picture holds the block's formula, the header of the table it spills and its first rows (the tables
with a row per customer run to 300 rows, the cohort table to 26 columns), copied with the values the demo
saved to a sheet of their own; LibreOffice prints the sheets to PDF and pdftoppm cuts each page to its table.
Needs soffice and pdftoppm (Debian: libreoffice-calc-nogui, poppler-utils).

    python docs/images/draw.py [DEMO.xlsx] [OUTPUT_FOLDER]
"""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

REPO = Path(__file__).resolve().parents[2]
SHEET = "销售清单函数"
ROWS = 12      # table rows below the header in each picture
COLUMNS = 12   # columns of the table in each picture
DPI = 110
LATEST = {"CUSTOMER_BRIDGE"}  # tables pictured by their last rows: the bridge's recent months, its window covered
FORMULA = "公式 / formula:"  # how the demo titles each function's block
MAX_WIDTH = 16  # characters: longer headers wrap
TITLE_WIDTH = 1.15  # a bold title's characters are wider than a column width counts
LINES = Border(*[Side(style="thin", color="A6A6A6")] * 4)


def blocks(sheet) -> dict[str, tuple[int, int]]:
    """Each function's name -> (its title row, its last row) on the demo's sales-list sheet."""
    found = {}
    for cell in sheet["E"]:
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA):
            last = cell.row + 1
            while sheet.cell(last + 1, 5).value is not None:
                last += 1
            found[cell.value.split("=")[1].split("(")[0]] = (cell.row, last)
    return found


def _row(sheet, row: int, columns: int) -> list:
    return [sheet.cell(row, 5 + c).value for c in range(columns)]


def _table_grid(sheet, first: int, last: int, latest: bool) -> list[tuple[str, list]]:
    """The block's title, its table's header and ``ROWS`` rows (``latest``: the last ones), and a row of dots
    where the table goes on: (kind, cells) rows."""
    header = first + 1
    columns = min(COLUMNS, sum(v is not None for v in _row(sheet, header, sheet.max_column)))
    body = list(range(header + 1, last + 1))
    shown = [("body", _row(sheet, r, columns)) for r in (body[-ROWS:] if latest else body[:ROWS])]
    dots = [("dots", ["…"] * columns)] if len(shown) < len(body) else []
    return [("title", [sheet.cell(first, 5).value]), ("header", _row(sheet, header, columns))] + (
        dots + shown if latest else shown + dots)


def _p_alive_grid(sheet, found: dict) -> list[tuple[str, list]]:
    """P_ALIVE's parameters, then its answers beside the frequency, recency and T it was given (the demo takes
    them from the customer-value table): (kind, cells) rows."""
    first = found["P_ALIVE"][0]
    value_header = found["CUSTOMER_VALUE"][0] + 1
    inputs = [_row(sheet, value_header + offset, 4)[1:] for offset in range(ROWS + 1)]
    answers = [sheet.cell(r, 5).value for r in range(first + 1, first + 1 + ROWS)]
    return [("title", [sheet.cell(first - 3, 5).value]), ("header", _row(sheet, first - 2, 4)),
            ("body", _row(sheet, first - 1, 4)), ("title", [sheet.cell(first, 5).value]),
            ("header", inputs[0] + ["P_ALIVE"])] + [("body", row + [answer]) for row, answer in
                                                   zip(inputs[1:], answers)] + [("dots", ["…"] * 4)]


def _width(text: str) -> float:
    """Characters as a column width counts them: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _number_format(value) -> str:
    if isinstance(value, bool):  # a styled cell shows TRUE and FALSE as 1 and 0 in its general format
        return '"TRUE";"TRUE";"FALSE"'
    if hasattr(value, "year"):
        return "yyyy-mm"
    if isinstance(value, float):
        return "#,##0" if value == round(value) else "0.0000" if abs(value) < 10 else "#,##0.00"
    return "General"


def write(target, grid: list[tuple[str, list]]) -> None:
    """The rows on ``target``, formatted to be read at a glance and printed on one page."""
    columns = max(len(cells) for kind, cells in grid if kind != "title")
    widths = [8.0] * columns
    for kind, cells in grid:
        if kind != "title":
            for c, value in enumerate(cells):
                shown = f"{value:,.4f}" if isinstance(value, float) else str(value)
                widths[c] = max(widths[c], min(_width(shown) + 2, MAX_WIDTH))
    for at, (kind, cells) in enumerate(grid, start=1):
        for c, value in enumerate(cells):
            cell = target.cell(at, c + 1, value)
            cell.number_format = _number_format(value)
            if kind == "title":
                cell.font = Font(bold=True, color="1F4E78")
                continue
            cell.border = LINES
            if kind == "header":
                cell.font, cell.fill = Font(bold=True), PatternFill("solid", start_color="DDEBF7")
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            elif kind == "dots":
                cell.alignment = Alignment(horizontal="center")
        if kind == "header":  # wrapped headers: as many lines as the longest needs
            lines = max(math.ceil(_width(str(v)) / (widths[c] - 1)) for c, v in enumerate(cells) if v is not None)
            target.row_dimensions[at].height = 15 * lines
    for c, width in enumerate(widths):
        target.column_dimensions[get_column_letter(c + 1)].width = width
    # The page takes in the cells a long title runs over, which have no lines of their own.
    title = max(_width(str(cells[0])) for kind, cells in grid if kind == "title") * TITLE_WIDTH
    spanned = columns + max(0, math.ceil((title - sum(widths)) / 8))
    target.print_area = f"A1:{get_column_letter(spanned)}{len(grid)}"
    target.page_setup.orientation = "landscape"
    target.sheet_properties.pageSetUpPr.fitToPage = True
    target.page_setup.fitToWidth = target.page_setup.fitToHeight = 1


def _content_box(ppm: bytes, margin: int = 6) -> tuple[int, int, int, int]:
    """(x, y, width, height) of what is not white on a page as pdftoppm writes it (binary PPM), with a margin."""
    _, size, _, pixels = ppm.split(b"\n", 3)
    width, height = map(int, size.split())
    inked = (np.frombuffer(pixels, dtype=np.uint8).reshape(height, width, 3) < 240).any(axis=2)
    rows, columns = np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0))
    x, y = max(int(columns[0]) - margin, 0), max(int(rows[0]) - margin, 0)
    return x, y, min(int(columns[-1]) + margin, width - 1) - x + 1, min(int(rows[-1]) + margin, height - 1) - y + 1


def draw(demo: Path, folder: Path) -> list[Path]:
    """A PNG per sales-list function in ``folder``; their paths."""
    source = load_workbook(demo, data_only=True)[SHEET]
    book = Workbook()
    book.remove(book.active)
    found = blocks(source)
    names = list(found)
    for name, (first, last) in found.items():
        grid = _p_alive_grid(source, found) if name == "P_ALIVE" else _table_grid(source, first, last, name in LATEST)
        write(book.create_sheet(name), grid)
    folder.mkdir(parents=True, exist_ok=True)
    pictures = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        book.save(work / "pictures.xlsx")
        subprocess.run(["soffice", f"-env:UserInstallation=file://{work}/profile", "--headless", "--convert-to",
                        "pdf", "--outdir", str(work), str(work / "pictures.xlsx")], check=True, capture_output=True,
                       timeout=300)
        for page, name in enumerate(names, start=1):
            common = ["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile"]
            subprocess.run(common + [str(work / "pictures.pdf"), str(work / "page")], check=True, timeout=120)
            x, y, w, h = _content_box((work / "page.ppm").read_bytes())
            target = folder / f"{name.lower()}.png"
            subprocess.run(common + ["-png", "-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h),
                                     str(work / "pictures.pdf"), str(target.with_suffix(""))], check=True, timeout=120)
            pictures.append(target)
    return pictures


if __name__ == "__main__":
    demo = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "sample_workbooks" / "functions_demo.xlsx"
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parent
    for picture in draw(demo, folder):
        print(f"Wrote {picture}")
