"""The Stores and Staff sheets: the month's figures per store and per salesperson, ranked by retention,
with the chain's own figures as the last row and a bar chart of retention."""

from __future__ import annotations

import math

from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.utils import get_column_letter

from ..figures.actions import share
from ..figures.groups import FIGURES, MISSING
from .customers import CustomerColumns
from .sheet import SheetWriter

_LABELS = {"S": "trend.S", "N": "trend.N", "E": "trend.E", "R": "trend.R", "L": "trend.L",
           "retention": "trend.retention", "strict_retention": "trend.strict_retention", "revenue": "trend.revenue", "profit": "trend.profit",
           "orders": "trend.orders", "repeat_rate": "kpi.repeat_rate", "repurchase_rate": "trend.repurchase_rate",
           "return_rate": "trend.return_rate", "pareto_share": "kpi.pareto_share", "key_accounts": "group.key_accounts",
           "moved": "group.moved"}
_STYLES = {"retention": "rx_pct", "strict_retention": "rx_pct", "repeat_rate": "rx_pct", "repurchase_rate": "rx_pct",
           "return_rate": "rx_pct", "pareto_share": "rx_pct", "revenue": "rx_money", "profit": "rx_money"}
COLUMNS = FIGURES + ("key_accounts", "moved")


def _columns(table) -> tuple[str, ...]:
    """The figures shown for a group table: profit follows revenue where the data carry it."""
    if "profit" not in table:
        return COLUMNS
    at = COLUMNS.index("revenue") + 1
    return COLUMNS[:at] + ("profit",) + COLUMNS[at:]


def _number(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _section(sheet: SheetWriter, report, role: str, header: int) -> tuple[int, int]:
    """The table of one group column from row ``header``; returns its first and last group rows."""
    words, table = sheet.words, report.groups[role]
    top = share(report.options.top_fraction)
    columns = _columns(table)
    sheet.header(header, 1, [words[f"group.{role}"]] + [sheet.word(_LABELS[k], top=top) for k in columns])
    first = header + 1
    for row, (name, figures) in enumerate(table.iterrows(), start=first):
        if name is MISSING:
            sheet.put(row, 1, words[f"group.missing.{role}"])
        else:
            sheet.text(row, 1, name)
        for column, key in enumerate(columns, start=2):
            sheet.put(row, column, _number(figures[key]), _STYLES.get(key, "rx_int"))
    last = first + len(table) - 1
    _chain_row(sheet, report, last + 1, columns)
    retention = get_column_letter(2 + columns.index("retention"))
    if len(table) > 1:
        sheet.ws.conditional_formatting.add(
            f"{retention}{first}:{retention}{last}",
            ColorScaleRule(start_type="min", start_color="F8696B", mid_type="percentile", mid_value=50,
                           mid_color="FFEB84", end_type="max", end_color="63BE7B"))
    return first, last


def _chain_row(sheet: SheetWriter, report, row: int, columns: tuple[str, ...]) -> None:
    """The whole chain, from all sales (not the sum of the groups: a customer can buy in several)."""
    sheet.put(row, 1, sheet.words["group.chain"], "rx_bold")
    for column, key in enumerate(columns, start=2):
        if key == "key_accounts":
            value = int(report.customers["key_account"].sum())
        elif key == "moved":
            value = None
        else:
            value = getattr(report.current, key)
        sheet.put(row, column, _number(value), _STYLES.get(key, "rx_int"))


def write_group_sheet(sheet: SheetWriter, report, role: str) -> None:
    """One group column's table with a bar chart of retention."""
    sheet.put(1, 1, sheet.word(f"group.title.{role}", month=str(report.month)), "rx_title")
    sheet.put(2, 1, sheet.words[f"group.note.{role}"], "rx_subtitle")
    header = 4
    first, last = _section(sheet, report, role, header)
    _chart(sheet, first, last, 2 + _columns(report.groups[role]).index("retention"), f"A{last + 4}")
    sheet.ws.freeze_panes = f"B{first}"
    sheet.fit_columns(minimum=8, widths={"A": 24})
    sheet.print_setup(f"{header}:{header}")


def write_channels(sheet: SheetWriter, report, customers: CustomerColumns) -> None:
    """Channels and regions, each as a compact section."""
    sheet.put(1, 1, sheet.word("group.title.channels", month=str(report.month)), "rx_title")
    sheet.put(2, 1, sheet.words["group.note.channels"], "rx_subtitle")
    row = 4
    for role in ("channel", "region"):
        if role in report.groups and not report.groups[role].empty:
            sheet.put(row, 1, sheet.word(f"group.title.{role}", month=str(report.month)), "rx_section")
            _, last = _section(sheet, report, role, row + 1)
            row = last + 4
    sheet.fit_columns(minimum=8, widths={"A": 24})
    sheet.print_setup()


def _chart(sheet: SheetWriter, first: int, last: int, column: int, anchor: str) -> None:
    chart = BarChart()
    chart.type = "bar"
    chart.title = sheet.words["trend.retention"]
    chart.legend = None
    chart.height, chart.width = min(max(6, 0.6 * (last - first + 1) + 3), 25), 16  # cm: a bar a line, a page at most
    chart.y_axis.number_format = "0%"
    chart.add_data(Reference(sheet.ws, min_col=column, min_row=first, max_row=last))
    chart.set_categories(Reference(sheet.ws, min_col=1, min_row=first, max_row=last))
    sheet.ws.add_chart(chart, anchor)


def write_stores(sheet: SheetWriter, report, customers: CustomerColumns) -> None:
    write_group_sheet(sheet, report, "store")


def write_staff(sheet: SheetWriter, report, customers: CustomerColumns) -> None:
    write_group_sheet(sheet, report, "salesperson")
