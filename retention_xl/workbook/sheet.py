"""A small writer for one worksheet: named styles, typed cells, column widths and print set-up.

Every sheet module writes through :class:`SheetWriter`, so the rules that keep the
workbook honest live here once: text from the data is always stored as text (a
customer called ``=HYPERLINK(...)`` stays a name), and every formula is recorded
with the value Python computed for it in :class:`WrittenWorkbook`, so tests can
check that a spreadsheet application recalculates it to the same number.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from pathlib import Path
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..i18n import fill

INT = "#,##0"
PCT = "0.0%"
MONEY = "#,##0.00"
DATE = "yyyy-mm-dd"
DASH = "—"

HEADER_FILL = "1F4E78"
SECTION_FILL = "DDEBF7"
WARNING_FILL = "FCE4D6"
# Styles whose text may run across empty neighbours: they never set a column's width.
_FREE_STYLES = ("rx_title", "rx_subtitle", "rx_section", "rx_warning", "rx_wrap")


@dataclass
class WrittenWorkbook:
    """What was written: the sheet titles and, for every formula cell, the value Python expects (and saves)."""

    sheets: dict[str, str]
    expected: dict[tuple[str, str], object] = field(default_factory=dict)
    customers_written: int = 0
    customer_file: Path | None = None  # the whole customer table, where it was written beside the workbook


def display_width(value: object) -> int:
    """Characters a value needs on screen; East Asian wide characters count twice.

    >>> display_width("abc"), display_width("客户")
    (3, 4)
    """
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def number_width(value: float) -> int:
    """Characters a number needs in the ``#,##0.00`` format, with a margin for the sign."""
    return len(f"{value:,.2f}") + 1


def sheet_ref(title: str, cells: str) -> str:
    """A reference to ``cells`` on the sheet called ``title``, quoted as Excel requires.

    >>> sheet_ref("Bob's", "A1:A9")
    "'Bob''s'!A1:A9"
    """
    return "'" + title.replace("'", "''") + "'!" + cells


def register_styles(book: Workbook, font_name: str) -> None:
    """The named styles every sheet uses, in the report language's font."""
    thin = Side(style="thin", color="BFBFBF")

    def style(name, number_format="General", bold=False, size=10, color="000000", fill=None, wrap=False,
              horizontal=None, border=False):
        named = NamedStyle(name=name)
        named.font = Font(name=font_name, bold=bold, size=size, color=color)
        named.number_format = number_format
        if fill:
            named.fill = PatternFill("solid", start_color=fill, end_color=fill)
        named.alignment = Alignment(wrap_text=wrap, vertical="top" if wrap else "center", horizontal=horizontal)
        if border:
            named.border = Border(bottom=thin)
        book.add_named_style(named)

    style("rx_title", bold=True, size=15, color=HEADER_FILL)
    style("rx_subtitle", size=9, color="595959")
    style("rx_section", bold=True, size=11, fill=SECTION_FILL)
    style("rx_header", bold=True, color="FFFFFF", fill=HEADER_FILL, wrap=True, horizontal="center")
    style("rx_text")
    style("rx_wrap", wrap=True)
    style("rx_bold", bold=True)
    style("rx_int", INT)
    style("rx_pct", PCT)
    style("rx_money", MONEY)
    style("rx_date", DATE, horizontal="left")
    style("rx_score", horizontal="center")  # a 1-5 score: right-aligned, it ran into the text of the next column
    style("rx_warning", bold=True, color="9C0006", fill=WARNING_FILL, wrap=True)


class SheetWriter:
    """Writes the cells of one worksheet; ``words`` are the report language's labels."""

    def __init__(self, ws: Worksheet, words: dict[str, str], written: WrittenWorkbook):
        self.ws = ws
        self.words = words
        self.written = written

    @property
    def title(self) -> str:
        return self.ws.title

    def word(self, key: str, **values) -> str:
        """The label ``key``, with ``{placeholders}`` filled in (see :func:`retention_xl.i18n.fill`)."""
        text = self.words[key]
        return fill(text, **values) if values else text

    # --- cells ---------------------------------------------------------------------------

    def put(self, row: int, column: int, value, style: str = "rx_text"):
        """A value the product computed (number, date, label); a string starting with ``=`` stays text."""
        cell = self.ws.cell(row=row, column=column)
        cell.value = None if value is None or (isinstance(value, float) and math.isnan(value)) else value
        if isinstance(cell.value, str):
            cell.data_type = "s"
        cell.style = style
        return cell

    def formula(self, row: int, column: int, formula: str | None, expected, style: str):
        """A live formula and the value Python computed for it, saved with it; a dash where there is no figure."""
        if formula is None or expected is None or (isinstance(expected, float) and not math.isfinite(expected)):
            return self.put(row, column, DASH, style)
        cell = self.ws.cell(row=row, column=column, value=formula)
        cell.style = style
        self.written.expected[(self.title, cell.coordinate)] = expected
        return cell

    def text(self, row: int, column: int, value, style: str = "rx_text"):
        """Text from the data: stored as a string whatever its first character."""
        return self.put(row, column, None if value is None or value is pd.NA else str(value), style)

    def header(self, row: int, column: int, titles) -> None:
        """A styled header row; an empty title leaves its cell empty (styled), not an empty string."""
        for offset, title in enumerate(titles):
            self.put(row, column + offset, title or None, "rx_header")

    def style_row(self, row: int, first: int, last: int, style: str) -> None:
        """Give empty cells of a banner row the banner's style."""
        for column in range(first, last + 1):
            self.ws.cell(row=row, column=column).style = style

    def note(self, row: int, column: int, text: str) -> None:
        """A comment on a cell: what a headline figure means (the Definitions sheet has the full text)."""
        self.ws.cell(row=row, column=column).comment = Comment(text, "retention_xl", width=260, height=60)

    def wrapped(self, row: int, column: int, value, width_chars: int, last_column: int | None = None,
                style: str = "rx_wrap") -> None:
        """Long text in one cell (merged across to ``last_column``) with a row height that shows all of it."""
        self.put(row, column, value, style)
        if last_column and last_column > column:
            self.ws.merge_cells(start_row=row, start_column=column, end_row=row, end_column=last_column)
        lines = sum(max(1, math.ceil(display_width(part) / max(width_chars, 1))) for part in str(value).split("\n"))
        self.ws.row_dimensions[row].height = max(15, 14.5 * lines + 3)

    # --- layout ------------------------------------------------------------------------------

    def _shown_width(self, cell) -> int:
        """Characters the cell will show: a formula's width is that of the value it computes."""
        if cell.data_type == "f":
            expected = self.written.expected.get((self.title, cell.coordinate))
            if isinstance(expected, (int, float)):
                return number_width(expected)
            return display_width(expected) if isinstance(expected, str) else 12
        if isinstance(cell.value, (dt.date, dt.datetime, pd.Timestamp)):
            return 11
        if isinstance(cell.value, (int, float, np.integer, np.floating)):
            return number_width(cell.value)
        return display_width(cell.value) + (2 if cell.style == "rx_header" else 0)

    def fit_columns(self, minimum: int = 6, maximum: int = 60, widths: dict[str, float] | None = None,
                    sample_rows: int = 2000) -> None:
        """Columns as wide as their widest value; ``widths`` fixes some by letter."""
        widths = dict(widths or {})
        measured: dict[int, int] = {}
        for row in self.ws.iter_rows(min_row=1, max_row=min(self.ws.max_row, sample_rows)):
            for cell in row:
                if cell.value is None or cell.style in _FREE_STYLES:
                    continue
                measured[cell.column] = max(measured.get(cell.column, 0), self._shown_width(cell))
        for column, size in measured.items():
            self.ws.column_dimensions[get_column_letter(column)].width = min(max(size + 2, minimum), maximum)
        for letter, size in widths.items():
            self.ws.column_dimensions[letter].width = size

    def print_setup(self, title_rows: str | None = None) -> None:
        """Landscape A4, fitted to the page width, with ``title_rows`` repeated on every page."""
        ws = self.ws
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        if title_rows:
            ws.print_title_rows = title_rows
