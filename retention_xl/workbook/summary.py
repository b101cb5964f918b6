"""The Summary sheet: the month beside the month before, and the 12-month trend with its chart.

The trend table is written first and returns where each figure landed; every
headline figure above it is a live formula over those cells or over the
Customers sheet, so a click shows where a number comes from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from openpyxl.chart import LineChart, Reference
from openpyxl.utils import get_column_letter

from . import formulas
from ..i18n import partial_month_note
from ..figures.actions import share
from ..figures.loyalty import answers_left_out
from .customers import CustomerColumns
from .loyalty import write_loyalty_summary
from .sheet import DASH, SheetWriter

TREND_TITLE_ROW = 25
HEADER_ROW = 5
TREND_KEYS = ("month", "S", "L", "N", "R", "E", "retention", "strict_retention", "revenue", "purchases", "orders",
              "buyers", "existing_revenue", "existing_revenue_previous", "txn_growth", "repeat_buyers",
              "repurchase_rate", "previous_buyers", "returning_buyers", "return_rate", "window_covered",
              "chart_retention", "chart_strict_retention")
# What the chart plots: a copy of the rates for months whose window the data cover, blank otherwise
# (a chart draws a text cell such as "—" as 0, and a month without full data is not comparable).
_CHARTED = {"chart_retention": "retention", "chart_strict_retention": "strict_retention"}
_COUNTS = ("S", "L", "N", "R", "E")
_MONEY = ("revenue", "purchases", "existing_revenue", "existing_revenue_previous")


@dataclass
class TrendTable:
    """Where the trend table put each month's figures."""

    header_row: int
    rows: list[int]          # one sheet row per month, oldest first

    @staticmethod
    def column(key: str) -> int:
        return TREND_KEYS.index(key) + 1

    def cell(self, key: str, row: int) -> str:
        return f"{get_column_letter(self.column(key))}{row}"


def write_trend(sheet: SheetWriter, trend, title_row: int = TREND_TITLE_ROW) -> TrendTable:
    """One row per month: the bridge, retention (formulas), revenue, orders and transaction growth."""
    sheet.put(title_row, 1, sheet.words["trend.title"], "rx_section")
    sheet.header(title_row + 1, 1, [sheet.words[f"trend.{_CHARTED.get(k, k)}"] for k in TREND_KEYS])
    if not all(figures.window_covered for figures in trend):
        sheet.put(title_row - 1, 1, sheet.words["trend.note"], "rx_subtitle")
    table = TrendTable(title_row + 1, [title_row + 2 + index for index in range(len(trend))])
    for row, figures in zip(table.rows, trend):
        cell = lambda key: table.cell(key, row)  # noqa: E731
        sheet.put(row, 1, figures.month)
        for key in _COUNTS + ("orders", "buyers", "repeat_buyers", "previous_buyers", "returning_buyers"):
            sheet.put(row, table.column(key), getattr(figures, key), "rx_int")
        for key in _MONEY:
            sheet.put(row, table.column(key), getattr(figures, key), "rx_money")
        sheet.formula(row, table.column("retention"), formulas.retention(cell("E"), cell("N"), cell("S")),
                      figures.retention, "rx_pct")
        sheet.formula(row, table.column("strict_retention"), formulas.strict_retention(cell("S"), cell("L")),
                      figures.strict_retention, "rx_pct")
        sheet.formula(row, table.column("txn_growth"),
                      formulas.txn_growth(cell("existing_revenue"), cell("existing_revenue_previous")),
                      figures.txn_growth, "rx_pct")
        sheet.formula(row, table.column("repurchase_rate"), formulas.ratio(cell("repeat_buyers"), cell("buyers")),
                      figures.repurchase_rate, "rx_pct")
        sheet.formula(row, table.column("return_rate"), formulas.ratio(cell("returning_buyers"), cell("previous_buyers")),
                      figures.return_rate, "rx_pct")
        sheet.put(row, table.column("window_covered"), "✓" if figures.window_covered else "✗")
        for chart_key, key in _CHARTED.items():
            value = getattr(figures, key)
            if figures.window_covered and value is not None:
                sheet.formula(row, table.column(chart_key), f"={cell(key)}", value, "rx_pct")
    return table


def _trend_chart(sheet: SheetWriter, trend: TrendTable) -> None:
    chart = LineChart()
    chart.title = sheet.words["chart.trend"]
    chart.height, chart.width = 7.5, 16
    chart.y_axis.number_format = "0%"
    chart.y_axis.majorGridlines = None
    chart.display_blanks = "gap"
    data = Reference(sheet.ws, min_col=trend.column("chart_retention"), max_col=trend.column("chart_strict_retention"),
                     min_row=trend.header_row, max_row=trend.rows[-1])
    chart.add_data(data, titles_from_data=True)
    for series in chart.series:  # straight lines: Excel smooths a line series that does not say otherwise
        series.smooth = False
    chart.set_categories(Reference(sheet.ws, min_col=1, min_row=trend.rows[0], max_row=trend.rows[-1]))
    sheet.ws.add_chart(chart, "G5")


class _Headlines:
    """The rows of headline figures: column B this month, C the month before, D the change."""

    def __init__(self, sheet: SheetWriter, report, trend: TrendTable, customers: CustomerColumns):
        self.sheet, self.report, self.customers = sheet, report, customers
        self.trend_rows = {"B": trend.rows[-1],
                           "C": trend.rows[-2] if len(trend.rows) > 1 and report.previous is not None else None}
        self.figures = {"B": report.current, "C": report.previous}
        self.trend = trend
        self.row = HEADER_ROW + 1
        self.rows: dict[str, int] = {}

    def months(self):
        """(column letter, column number, trend row, figures) of the months that have figures."""
        for column, letter in ((2, "B"), (3, "C")):
            if self.figures[letter] is not None:
                yield letter, column, self.trend_rows[letter], self.figures[letter]

    def add(self, key: str, cell_of, label_style: str = "rx_text", style: str = "rx_int", meaning: str | None = None,
            change: bool = True) -> None:
        """One headline row; ``cell_of(letter, trend_row, figures)`` gives (formula or None, value)."""
        sheet, row = self.sheet, self.row
        self.rows[key] = row
        sheet.put(row, 1, sheet.word(f"kpi.{key}", top=share(self.report.options.top_fraction)), label_style)
        numbers = {}
        for letter, column, trend_row, figures in self.months():
            formula, value = cell_of(letter, trend_row, figures)
            if formula is None:
                sheet.put(row, column, DASH if value is None else value, style)
            else:
                sheet.formula(row, column, formula, value, style)
                numbers[letter] = value
        if change and all(isinstance(numbers.get(letter), (int, float)) for letter in "BC"):
            sheet.formula(row, 4, formulas.difference(f"B{row}", f"C{row}"), numbers["B"] - numbers["C"], style)
        sheet.note(row, 1, meaning if meaning is not None else sheet.word(f"meaning.{key}"))
        self.row += 1

    def here(self, letter: str, key: str) -> str:
        return f"{letter}{self.rows[key]}"


def _write_headlines(sheet: SheetWriter, report, trend: TrendTable, customers: CustomerColumns) -> None:
    words, options = sheet.words, report.options
    thresholds = {"high": f"{options.high:.0%}", "low": f"{options.low:.0%}", "top": share(options.top_fraction)}
    sheet.header(HEADER_ROW, 1, [words["summary.metric"], str(report.month), str(report.month - 1),
                                 words["summary.change"]])
    lines = _Headlines(sheet, report, trend, customers)

    def from_trend(key):
        return lambda letter, trend_row, f: ((f"={trend.cell(key, trend_row)}" if trend_row else None), getattr(f, key))

    for key in _COUNTS:
        lines.add(key, from_trend(key), "rx_bold" if key in ("S", "E") else "rx_text",
                  meaning=sheet.word(f"meaning.{key}", window=options.active_window))
    here = lines.here
    lines.add("bridge", lambda c, _, f: (formulas.bridge(here(c, "S"), here(c, "L"), here(c, "N"), here(c, "R")), f.E),
              "rx_subtitle", meaning=words["meaning.bridge"], change=False)

    def rate(key, formula_of, label_style="rx_text"):
        lines.add(key, lambda c, trend_row, f: (formula_of(c, trend_row, f), getattr(f, key)), label_style, "rx_pct",
                  meaning=sheet.word(f"meaning.{key}", **thresholds))

    current_only = lambda formula: lambda c, _, f: formula() if f is report.current else None  # noqa: E731
    rate("retention", lambda c, *_: formulas.retention(here(c, "E"), here(c, "N"), here(c, "S")), "rx_bold")
    rate("strict_retention", lambda c, *_: formulas.strict_retention(here(c, "S"), here(c, "L")))
    rate("txn_growth", lambda c, trend_row, _: trend_row and formulas.txn_growth(
        trend.cell("existing_revenue", trend_row), trend.cell("existing_revenue_previous", trend_row)))
    rate("repeat_rate", current_only(lambda: customers.complete and formulas.repeat_rate_in_base(
        customers.range("in_base"), customers.range("window_orders"), words["yes"]) or None))

    tiers = tuple(words[f"tier.{t}"] for t in ("high", "medium", "low"))
    lines.add("repeat_tier", lambda c, _, f: (
        formulas.repeat_tier(here(c, "repeat_rate"), tiers, options.high, options.low) if f.repeat_rate is not None
        else None, words[f"tier.{f.repeat_tier}"] if f.repeat_tier else None),
        style="rx_bold", meaning=sheet.word("meaning.repeat_tier", **thresholds), change=False)
    for key in ("repurchase_rate", "return_rate"):
        rate(key, lambda c, trend_row, _, key=key: trend_row and f"={trend.cell(key, trend_row)}")
    rate("pareto_share", current_only(lambda: customers.complete and formulas.pareto_share_sorted(
        customers.range(f"window_{options.value}"), customers.range("in_base"), words["yes"], options.top_fraction)
        or None))

    lines.add("revenue", from_trend("revenue"), style="rx_money")
    lines.add("orders", from_trend("orders"))
    lines.add("aov", lambda c, trend_row, f: (
        formulas.ratio(trend.cell("purchases", trend_row), trend.cell("orders", trend_row))
        if trend_row and f.average_order_value is not None else None, f.average_order_value), style="rx_money")
    lines.add("buyers", from_trend("buyers"))


def model_limits(value, sheet: SheetWriter, holdout: bool = True) -> list[str]:
    """What the reader of the customer values must know, in a sentence each: no drop-out seen, a holdout
    check that missed by more than a quarter (unless ``holdout`` is False), a spend model refused."""
    if not value.available:
        return []
    notes = []
    if not value.dropout_detected:
        notes.append(sheet.words["value.no_dropout"])
    if holdout and value.holdout_missed:
        holdout = value.holdout
        notes.append(sheet.word("value.holdout_miss", months=holdout.months, predicted=f"{holdout.predicted:,.0f}",
                                actual=f"{holdout.actual:,.0f}", error=f"{holdout.error:+.0%}"))
    if value.spend_refused:
        notes.append(spend_refusal(value, sheet))
    return notes


def spend_refusal(value, sheet: SheetWriter) -> str:
    """Why the spend model is not used, in a sentence: it has no finite mean spend, or one far above the
    observed mean."""
    from ..figures.models.spend import MEAN_SPEND_MULTIPLE, has_finite_mean_spend, mean_spend  # loaded where the models ran

    fit = value.gamma_gamma
    if not has_finite_mean_spend(fit):
        return sheet.word("value.spend_refused", q=f"{fit.q:.2f}")
    return sheet.word("value.spend_refused_mean", q=f"{fit.q:.2f}", model_mean=f"{mean_spend(fit):,.2f}",
                      observed=f"{value.observed_mean_spend:,.2f}", multiple=MEAN_SPEND_MULTIPLE)


def write_summary(sheet: SheetWriter, report, customers: CustomerColumns) -> None:
    """The whole Summary sheet; ``customers`` says where the Customers sheet's columns are."""
    words = sheet.words
    options, sales = report.options, report.sales
    sheet.put(1, 1, sheet.word("report.title", month=str(report.month)), "rx_title")
    source = sales.source_name if sales else "DataFrame"
    sheet_name = f" / {sales.sheet}" if sales and sales.sheet else ""
    sheet.text(2, 1, sheet.word("report.subtitle", file=source, sheet=sheet_name, window=options.active_window,
                                generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M")), "rx_subtitle")
    notes = [words["report.click_hint"]]
    if report.window_reason != "given":
        notes.insert(0, sheet.word(f"window.{report.window_reason}", window=options.active_window,
                                   month=str(report.month)))
    if not customers.complete:
        notes.append(sheet.word("customers.truncated_file", shown=f"{customers.rows:,}", total=f"{len(report.customers):,}",
                                file=sheet.written.customer_file.name))
    if report.month_was_defaulted_mid_month:
        notes.insert(0, partial_month_note(report.last_date, sheet.words))
    if answers_left_out(report):
        notes.append(words["loyalty.needs_memory"])
    sheet.put(3, 1, "  ".join(notes), "rx_subtitle")
    value_notes = model_limits(report.value, sheet)
    if value_notes:
        sheet.put(4, 1, "  ".join(value_notes), "rx_subtitle")

    trend = write_trend(sheet, report.trend)
    _write_headlines(sheet, report, trend, customers)
    _trend_chart(sheet, trend)
    if report.loyalty is not None:
        write_loyalty_summary(sheet, report, trend.rows[-1] + 3)
    sheet.ws.freeze_panes = "A6"
    sheet.fit_columns(minimum=12, widths={"A": 34})
    sheet.print_setup()
