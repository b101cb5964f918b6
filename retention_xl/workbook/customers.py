"""The Customers sheet: one row per customer, the base first by window revenue.

openpyxl writes the header, widths, filter, print set-up and one styled template
row; the rows themselves are streamed in after saving (:mod:`.stream`). The sheet
returns :class:`CustomerColumns`, the ranges other sheets' formulas point at.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from openpyxl.utils import get_column_letter

from ..figures.customers import SEGMENTS, STATUSES, columns_of
from ..figures.customer_value import VALUE_COLUMNS
from ..figures.loyalty import LEVELS
from ..roles import LOYALTY_ROLES
from .sheet import SheetWriter, display_width, number_width, sheet_ref
from .stream import Column

EXCEL_MAX_ROWS = 1_048_576
_STYLES = {
    "first_purchase": "rx_date", "last_purchase": "rx_date", "orders": "rx_int", "revenue": "rx_money",
    "window_orders": "rx_int", "window_revenue": "rx_money", "days_since_last": "rx_int", "profit": "rx_money",
    "window_profit": "rx_money", "usual_gap": "rx_int", "r_score": "rx_score", "f_score": "rx_score",
    "m_score": "rx_score",
    "p_alive": "rx_pct", "expected_purchases": "rx_money", "clv": "rx_money",
}
_ROUNDED = {"revenue": 2, "window_revenue": 2, "profit": 2, "window_profit": 2, "clv": 2, "expected_purchases": 2, "p_alive": 4}
_KINDS = {"first_purchase": "date", "last_purchase": "date", "customer_id": "text", "customer_name": "text"}


@dataclass
class CustomerColumns:
    """Where the Customers sheet put each column, and whether every customer fits on it."""

    title: str
    letters: dict[str, str]
    rows: int            # customers written
    complete: bool       # every customer of the report is on the sheet

    def range(self, key: str) -> str:
        """The absolute range of column ``key`` over the customer rows, e.g. ``'客户明细'!$F$2:$F$901``."""
        letter = self.letters[key]
        return sheet_ref(self.title, f"${letter}$2:${letter}${max(self.rows + 1, 2)}")


def _shown_values(table: pd.DataFrame, key: str, words: dict[str, str]) -> tuple[pd.Series, str]:
    """A column's values as the sheet shows them (labels in the report language), and their kind."""
    yes_no = {True: words["yes"], False: words["no"]}
    labels = {
        "segment": {s: words[f"segment.{s}"] for s in SEGMENTS},
        "status": {s: words[f"status.{s}"] for s in STATUSES},
        "action": {a: words[f"action.{a}"] for a in list(SEGMENTS) + ["key_quiet"]},
        "in_base": yes_no,
        "key_account": yes_no,
        **{question: {float(level): words[f"loyalty.{question}.{level}"] for level in LEVELS[question]}
           for question in LOYALTY_ROLES},
    }
    values = table[key]
    if key in labels:
        return values.map(labels[key]), "text"
    if key in _ROUNDED:
        return values.round(_ROUNDED[key]), "number"
    return values, _KINDS.get(key, "number")


def _template_value(value, kind: str):
    if pd.isna(value):
        return None
    if kind == "date":
        return value.to_pydatetime()
    if kind == "text":
        return str(value)
    return value.item() if hasattr(value, "item") else value


def _width(column: Column, header: str) -> float:
    values = column.values.head(2000)
    if column.kind == "date":
        width = 11
    elif column.kind == "number":
        width = max((number_width(v) for v in values), default=4)
    else:
        width = max((display_width(v) for v in values.dropna()), default=4)
    return min(max(width + 2, display_width(header) + 2, 6), 40)


def write_customers(sheet: SheetWriter, table: pd.DataFrame, horizon: int = 12) -> tuple[CustomerColumns, list[Column]]:
    """Header and one styled template row; returns the column ranges and the rows to stream.

    The customer-value columns follow the others where the models ran (``horizon``: months of value).
    """
    words = sheet.words
    has_names = table["customer_name"].notna().any()
    keys = [k for k in columns_of(table) if has_names or k != "customer_name"] + [k for k in VALUE_COLUMNS if k in table]
    keys += [question for question in LOYALTY_ROLES if question in table]
    letters = {key: get_column_letter(index) for index, key in enumerate(keys, start=1)}
    shown = table.head(EXCEL_MAX_ROWS - 1).reset_index(drop=True)
    titles = {key: sheet.word(f"col.{key}", horizon=horizon) for key in keys}
    sheet.header(1, 1, [titles[k] for k in keys])
    if "p_alive" in table and table["p_alive"].isna().any():  # the column says why some cells are blank
        why = "col.p_alive_no_dropout" if table["p_alive"].isna().all() else "col.p_alive_one_day"
        sheet.note(1, keys.index("p_alive") + 1, words[why])

    columns = []
    for index, key in enumerate(keys, start=1):
        values, kind = _shown_values(shown, key, words)
        column = Column(letters[key], kind, values)
        columns.append(column)
        if len(shown):  # the template row carries each column's style into the streamed rows
            sheet.put(2, index, _template_value(values.iloc[0], kind), _STYLES.get(key, "rx_text"))
        sheet.ws.column_dimensions[column.letter].width = _width(column, titles[key])

    ws = sheet.ws
    ws.auto_filter.ref = f"A1:{letters[keys[-1]]}{len(shown) + 1}"
    ws.freeze_panes = "B2"
    if len(shown) < len(table):
        ws.sheet_properties.tabColor = "C00000"
    ws.row_dimensions[1].height = 32
    sheet.print_setup("1:1")
    sheet.written.customers_written = len(shown)
    placed = CustomerColumns(sheet.title, letters, len(shown), complete=len(shown) == len(table))
    return placed, columns


def link_customer_file(sheet: SheetWriter, placed: CustomerColumns, file_name: str) -> None:
    """A link, right of the header, to the file beside the workbook that holds every customer."""
    column = len(placed.letters) + 2  # one empty column apart from the table and its filter
    cell = sheet.text(1, column, sheet.word("customers.file_link", file=file_name), "rx_bold")
    cell.hyperlink = file_name  # relative: the file lies beside the workbook
    sheet.ws.column_dimensions[get_column_letter(column)].width = min(display_width(cell.value) + 2, 60)
