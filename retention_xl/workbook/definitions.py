"""The Definitions & data sheet: the parameters, every definition, and the reader's accounting of the file."""

from __future__ import annotations

import datetime as dt

from openpyxl.styles import Alignment

from ..actions import pct, render_definitions
from ..cleaning import ADJUSTMENTS, EXCLUSION_REASONS
from ..customers import ACTIVE_MONTHS
from .sheet import SheetWriter

DEFINITION_WIDTH = 95  # characters across the merged definition columns


def _section(sheet: SheetWriter, row: int, title: str, last_column: int) -> None:
    sheet.put(row, 1, title, "rx_section")
    sheet.style_row(row, 2, last_column, "rx_section")


def _parameters(report, words) -> list[tuple[str, object]]:
    options, sales = report.options, report.sales
    parameters = []
    if sales is not None:
        parameters += [
            (words["param.file"], str(sales.file.name)),
            (words["param.sheet"], sales.sheet or "—"),
            (words["param.header_row"], sales.header_row),
            (words["param.columns"], "; ".join(f"{words['role.' + role]} ← {header}" for role, header in sales.columns.items())),
        ]
    return parameters + [
        (words["param.month"], str(report.month)),
        (words["param.window"], options.active_window),
        (words["param.thresholds"], f"{pct(options.high)} / {pct(options.low)}"),
        (words["param.top_fraction"], pct(options.top_fraction)),
        (words["param.data_range"], f"{report.first_date:%Y-%m-%d} – {report.last_date:%Y-%m-%d}"),
        (words["param.language"], options.language),
        (words["param.generated"], dt.datetime.now().strftime("%Y-%m-%d %H:%M")),
    ]


def _accounting(sheet: SheetWriter, row: int, accounting) -> None:
    """Rows read = purchases + returns + each exclusion, with a check formula and example rows."""
    words = sheet.words
    _section(sheet, row, words["defs.accounting"], 3)
    sheet.header(row + 1, 1, ["", words["acct.count"], words["acct.examples"]])
    read_row = row + 2
    sheet.put(read_row, 1, words["acct.rows_read"], "rx_bold")
    sheet.put(read_row, 2, accounting.rows_read, "rx_int")
    parts = [(words["acct.purchases"], accounting.purchases, []), (words["acct.returns"], accounting.returns, [])]
    parts += [(sheet.word(f"acct.excluded.{reason}", as_of=accounting.as_of), accounting.exclusions[reason].count,
               accounting.exclusions[reason].example_rows) for reason in EXCLUSION_REASONS]
    first = read_row + 1
    for row, (label, count, examples) in enumerate(parts, start=first):
        sheet.put(row, 1, label)
        sheet.put(row, 2, count, "rx_int")
        if examples:
            cell = sheet.put(row, 3, ", ".join(str(r) for r in examples))
            cell.alignment = Alignment(horizontal="left", indent=2)
    check = first + len(parts)
    total = sum(count for _, count, _ in parts)
    sheet.put(check, 1, words["acct.check"], "rx_bold")
    sheet.formula(check, 2, f"=SUM(B{first}:B{check - 1})", total, "rx_int")
    sheet.formula(check, 3, f'=IF(B{check}=B{read_row},"✓","✗")', "✓" if total == accounting.rows_read else "✗", "rx_bold")
    _adjustments(sheet, check + 2, accounting)


def _adjustments(sheet: SheetWriter, row: int, accounting) -> None:
    """Rows used with their text changed so that a workbook can hold it."""
    sheet.put(row, 1, sheet.words["acct.adjusted"], "rx_bold")
    for row, reason in enumerate(ADJUSTMENTS, start=row + 1):
        adjusted = accounting.adjustments[reason]
        sheet.put(row, 1, sheet.words[f"acct.adjusted.{reason}"])
        sheet.put(row, 2, adjusted.count, "rx_int")
        if adjusted.example_rows:
            cell = sheet.put(row, 3, ", ".join(str(r) for r in adjusted.example_rows))
            cell.alignment = Alignment(horizontal="left", indent=2)


def write_definitions(sheet: SheetWriter, report) -> None:
    words, options = sheet.words, report.options
    sheet.put(1, 1, words["defs.title"], "rx_title")
    _section(sheet, 3, words["defs.parameters"], 2)
    row = 4
    for label, value in _parameters(report, words):
        sheet.put(row, 1, label, "rx_bold")
        if isinstance(value, str):
            sheet.text(row, 2, value, "rx_wrap")
            sheet.ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
        else:
            sheet.put(row, 2, value, "rx_int").alignment = Alignment(horizontal="left")
        row += 1

    _section(sheet, row + 1, words["defs.definitions"], 2)
    row += 2
    for term, definition in render_definitions(
        options.language, window=options.active_window, high=options.high, low=options.low,
        top=options.top_fraction, active_months=min(ACTIVE_MONTHS, options.active_window),
        as_of=report.sales.accounting.as_of if report.sales is not None else "—",
    ):
        sheet.put(row, 1, term, "rx_bold").alignment = Alignment(vertical="top", wrap_text=True)
        sheet.wrapped(row, 2, definition, DEFINITION_WIDTH, last_column=3)
        row += 1

    if report.sales is not None:
        _accounting(sheet, row + 1, report.sales.accounting)
    sheet.fit_columns(widths={"A": 52, "B": 60, "C": 40})
    sheet.print_setup()
