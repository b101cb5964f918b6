"""The Cohorts sheet: first-purchase month x months since, as counts, retention and revenue.

Retention cells are formulas over the counts block (each cohort's own month-0 size),
months a cohort has not reached yet stay blank rather than 0%, and a size-weighted
average row feeds the retention curve.
"""

from __future__ import annotations

import numpy as np
from openpyxl.chart import LineChart, Reference
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.utils import get_column_letter

from . import formulas
from .sheet import SheetWriter

FIRST_OFFSET_COLUMN = 3  # column C holds month 0


def _values_block(sheet: SheetWriter, top: int, title: str, frame, size_header: str, style: str, kind) -> int:
    """A titled block of values, one row per cohort; returns the first data row."""
    words = sheet.words
    sheet.put(top, 1, title, "rx_section")
    sheet.header(top + 1, 1, [words["cohort.month"], size_header] + [str(o) for o in frame.columns])
    first = top + 2
    for i, (cohort, values) in enumerate(frame.iterrows()):
        sheet.put(first + i, 1, cohort)
        for j, value in enumerate(values):
            if not np.isnan(value):
                sheet.put(first + i, FIRST_OFFSET_COLUMN + j, kind(value), style)
    return first


def _retention_block(sheet: SheetWriter, top: int, cohorts, first_active: int) -> int:
    """Retention of each cohort as formulas over the counts block; returns the weighted-average row."""
    words, active = sheet.words, cohorts.active
    offsets = list(active.columns)
    sheet.put(top, 1, words["cohort.retention_title"], "rx_section")
    sheet.header(top + 1, 1, [words["cohort.month"], words["cohort.size"]] + [str(o) for o in offsets])
    first = top + 2
    retention = cohorts.retention
    for i, cohort in enumerate(active.index):
        row, source = first + i, first_active + i
        sheet.put(row, 1, cohort)
        size = active.iloc[i, 0]
        sheet.formula(row, 2, f"=C{source}", int(size), "rx_int")
        for j in range(len(offsets)):
            if np.isnan(active.iloc[i, j]) or size == 0:
                continue
            cell = get_column_letter(FIRST_OFFSET_COLUMN + j)
            sheet.formula(row, FIRST_OFFSET_COLUMN + j, f"={cell}{source}/$B{row}", float(retention.iloc[i, j]),
                          "rx_pct")
    last = first + len(active) - 1
    weighted = last + 1
    sheet.put(weighted, 1, words["cohort.weighted"], "rx_bold")
    last_active = first_active + len(active) - 1
    sizes = f"$C${first_active}:$C${last_active}"
    for j, value in enumerate(cohorts.weighted_average()):
        if np.isnan(value):
            continue
        column = get_column_letter(FIRST_OFFSET_COLUMN + j)
        sheet.formula(weighted, FIRST_OFFSET_COLUMN + j,
                      formulas.weighted_retention(f"{column}{first_active}:{column}{last_active}", sizes),
                      float(value), "rx_pct")
    if len(offsets) > 1:
        sheet.ws.conditional_formatting.add(
            f"D{first}:{get_column_letter(2 + len(offsets))}{last}",
            ColorScaleRule(start_type="min", start_color="F8696B", mid_type="percentile", mid_value=50,
                           mid_color="FFEB84", end_type="max", end_color="63BE7B"),
        )
    return weighted


def _curve(sheet: SheetWriter, offsets: int, header_row: int, weighted_row: int, anchor: str) -> None:
    chart = LineChart()
    chart.title = sheet.words["chart.cohort_curve"]
    chart.height, chart.width = 7.5, 18
    chart.y_axis.number_format = "0%"
    chart.x_axis.title = sheet.words["chart.months_since"]
    chart.legend = None
    last_column = FIRST_OFFSET_COLUMN - 1 + offsets
    chart.add_data(Reference(sheet.ws, min_col=4, max_col=last_column, min_row=weighted_row), from_rows=True)
    chart.set_categories(Reference(sheet.ws, min_col=4, max_col=last_column, min_row=header_row))
    sheet.ws.add_chart(chart, anchor)


def write_cohorts(sheet: SheetWriter, report) -> None:
    cohorts, words = report.cohorts, sheet.words
    n, offsets = len(cohorts.active), len(cohorts.active.columns)
    sheet.put(1, 1, sheet.word("report.title", month=str(report.month)), "rx_title")
    sheet.put(2, 1, words["cohort.note"], "rx_subtitle")

    top = 4
    first_active = _values_block(sheet, top, words["cohort.active_title"], cohorts.active, "", "rx_int", int)
    retention_top = first_active + n + 1
    weighted_row = _retention_block(sheet, retention_top, cohorts, first_active)
    revenue_top = weighted_row + 2
    _values_block(sheet, revenue_top, words["cohort.revenue_title"], cohorts.revenue, "", "rx_money", float)
    if offsets > 1:
        _curve(sheet, offsets, retention_top + 1, weighted_row, f"A{revenue_top + n + 4}")

    sheet.ws.freeze_panes = f"B{top + 2}"
    sheet.fit_columns(minimum=7, widths={"A": 16, "B": 11})
    sheet.print_setup()
