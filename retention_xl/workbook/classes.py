"""The Classes sheet: customers and revenue per RFM segment, per lifecycle status, key accounts
against the rest of the base (formulas over the Customers sheet), and the Pareto curve."""

from __future__ import annotations

import numpy as np
from openpyxl.chart import LineChart, Reference

from . import formulas
from .customers import CustomerColumns
from .sheet import SheetWriter


def _share(value) -> float:
    return 0.0 if np.isnan(value) else float(value)


def _block(sheet: SheetWriter, row: int, title: str, table, label_of, count_formula, revenue_formula,
           revenue_header: str, complete: bool, value_formula=None) -> int:
    """One class table; formulas over the Customers sheet when it lists everyone. Returns the next free row.

    With ``value_formula`` and a ``clv`` column in ``table``, a sixth column gives the class's expected value.
    """
    words = sheet.words
    valued = value_formula is not None and "clv" in table
    sheet.put(row, 1, title, "rx_section")
    sheet.header(row + 1, 1, [words["classes.class"], words["classes.customers"], words["classes.customer_share"],
                              revenue_header, words["classes.revenue_share"]] + ([words["classes.clv"]] if valued else []))
    first, last = row + 2, row + 1 + len(table)
    for r, (key, values) in enumerate(table.iterrows(), start=first):
        sheet.put(r, 1, label_of(key))
        customers, revenue = int(values["customers"]), float(values["revenue"])
        if complete:
            sheet.formula(r, 2, count_formula(r, key), customers, "rx_int")
            sheet.formula(r, 4, revenue_formula(r, key), revenue, "rx_money")
        else:  # the sheet lists only part of the customers: formulas over it would undercount
            sheet.put(r, 2, customers, "rx_int")
            sheet.put(r, 4, revenue, "rx_money")
        sheet.formula(r, 3, formulas.share_of_total(f"B{r}", f"$B${first}:$B${last}"),
                      _share(values["customer_share"]), "rx_pct")
        sheet.formula(r, 5, formulas.share_of_total(f"D{r}", f"$D${first}:$D${last}"),
                      _share(values["revenue_share"]), "rx_pct")
        if valued:
            value = round(float(values["clv"]), 2)
            if complete:
                sheet.formula(r, 6, value_formula(r), value, "rx_money")
            else:
                sheet.put(r, 6, value, "rx_money")
    return last + 2


def _pareto(sheet: SheetWriter, row: int, curve) -> None:
    words = sheet.words
    sheet.put(row, 1, words["classes.pareto_title"], "rx_section")
    sheet.header(row + 1, 1, [words["classes.top_share"], words["classes.revenue_held"]])
    first = row + 2
    for r, point in enumerate(curve.itertuples(index=False), start=first):
        sheet.put(r, 1, float(point.top_fraction), "rx_pct")
        if not np.isnan(point.revenue_share):
            sheet.put(r, 2, float(point.revenue_share), "rx_pct")
    last = first + len(curve) - 1
    chart = LineChart()
    chart.title = words["chart.pareto"]
    chart.height, chart.width = 8, 16
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
    chart.x_axis.title = words["chart.customer_share"]
    chart.y_axis.title = words["chart.revenue_share"]
    chart.legend = None
    chart.add_data(Reference(sheet.ws, min_col=2, min_row=first, max_row=last))
    chart.set_categories(Reference(sheet.ws, min_col=1, min_row=first, max_row=last))
    sheet.ws.add_chart(chart, "G3")


def write_classes(sheet: SheetWriter, report, customers: CustomerColumns) -> None:
    words = sheet.words
    yes, no = words["yes"], words["no"]
    segment, status = customers.range("segment"), customers.range("status")
    revenue, window = customers.range("revenue"), customers.range(f"window_{report.options.value}")
    base, key = customers.range("in_base"), customers.range("key_account")
    sheet.put(1, 1, sheet.word("report.title", month=str(report.month)), "rx_title")
    complete = customers.complete

    row = _block(sheet, 3, words["classes.segment_title"], report.segment_table(), lambda k: words[f"segment.{k}"],
                 lambda r, _: formulas.count_if(segment, f"A{r}"), lambda r, _: formulas.sum_if(segment, f"A{r}", revenue),
                 words["classes.revenue"], complete,
                 (lambda r: formulas.sum_if(segment, f"A{r}", customers.range("clv"))) if "clv" in customers.letters
                 else None)
    row = _block(sheet, row, words["classes.status_title"], report.status_table(), lambda k: words[f"status.{k}"],
                 lambda r, _: formulas.count_if(status, f"A{r}"), lambda r, _: formulas.sum_if(status, f"A{r}", revenue),
                 words["classes.revenue"], complete)
    flag = {"key": yes, "other": no}
    row = _block(sheet, row, words["classes.key_title"], report.key_account_table(),
                 lambda k: words["classes.key" if k == "key" else "classes.other"],
                 lambda r, k: formulas.count_ifs((base, yes), (key, flag[k])),
                 lambda r, k: formulas.sum_ifs(window, (base, yes), (key, flag[k])),
                 words["classes.window_revenue"], complete)
    _pareto(sheet, row, report.pareto_curve())
    sheet.fit_columns(widths={"A": 28})
    sheet.print_setup()
