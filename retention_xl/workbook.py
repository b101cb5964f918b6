"""The formatted monthly workbook, written with openpyxl.

Six sheets, named in the report's language: Summary, Cohorts, Customers, Classes,
Actions, Definitions & data. Headline figures are live formulas over the
workbook's own tables (see :mod:`retention_xl.formulas`); every formula written
is recorded with the value Python computed for it, so tests can check that a
spreadsheet application recalculates it to the same number.

Text that comes from the sales file (customer ids and names) is always stored as
text: a customer called ``=HYPERLINK(...)`` stays a name, never becomes a formula.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from . import formulas, sheetxml
from .cleaning import EXCLUSION_REASONS
from .customers import ACTIVE_MONTHS, COLUMNS as CUSTOMER_COLUMNS, SEGMENTS, STATUSES
from .i18n import labels

EXCEL_MAX_ROWS = 1_048_576

INT = "#,##0"
PCT = "0.0%"
MONEY = "#,##0.00"
DATE = "yyyy-mm-dd"
DASH = "—"

HEADER_FILL = "1F4E78"
SECTION_FILL = "DDEBF7"
WARNING_FILL = "FCE4D6"


@dataclass
class WrittenWorkbook:
    """What was written: the sheet titles and, for every formula cell, the value Python expects."""

    sheets: dict[str, str]
    expected: dict[tuple[str, str], object] = field(default_factory=dict)
    customers_written: int = 0


def display_width(value: object) -> int:
    """Characters a value needs on screen; East Asian wide characters count twice."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Writer:
    def __init__(self, report, progress=None):
        self.report = report
        self.words = labels(report.options.language)
        self.progress = progress or (lambda message: None)
        self.book = Workbook()
        self.written = WrittenWorkbook(sheets={})
        self._register_styles()

    def w(self, key: str, **values) -> str:
        text = self.words[key]
        return text.format(**values) if values else text

    # --- styles ---------------------------------------------------------------------------

    def _register_styles(self):
        font_name = self.words["font"]
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
            self.book.add_named_style(named)

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
        style("rx_warning", bold=True, color="9C0006", fill=WARNING_FILL, wrap=True)

    # --- cells ------------------------------------------------------------------------------

    def put(self, ws: Worksheet, row: int, column: int, value, style="rx_text", expected=None):
        """Write one cell; a formula (``expected`` given) is recorded with its expected value."""
        cell = ws.cell(row=row, column=column)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            cell.value = DASH if expected is not None else None
        else:
            cell.value = value
        if isinstance(value, str) and value.startswith("=") and expected is None:
            cell.data_type = "s"  # data, not a formula
        if expected is not None and isinstance(value, str) and value.startswith("="):
            self.written.expected[(ws.title, cell.coordinate)] = expected
        cell.style = style
        return cell

    def text(self, ws, row, column, value, style="rx_text"):
        """Text from the data: stored as a string whatever its first character."""
        cell = self.put(ws, row, column, None if value is None or value is pd.NA else str(value), style)
        cell.data_type = "s"
        return cell

    @staticmethod
    def ref(ws: Worksheet, row: int, column: int, absolute=False) -> str:
        letter = get_column_letter(column)
        return f"${letter}${row}" if absolute else f"{letter}{row}"

    @staticmethod
    def sheet_ref(title: str, cells: str) -> str:
        return "'" + title.replace("'", "''") + "'!" + cells

    # --- layout helpers ------------------------------------------------------------------------

    def header_row(self, ws, row, column, titles):
        for offset, title in enumerate(titles):
            self.put(ws, row, column + offset, title, "rx_header")

    def fit_columns(self, ws, minimum=6, maximum=60, widths=None, sample_rows=2000):
        widths = dict(widths or {})
        measured: dict[int, int] = {}
        for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, sample_rows)):
            for cell in row:
                if cell.value is None or cell.style in ("rx_title", "rx_subtitle", "rx_section", "rx_warning", "rx_wrap"):
                    continue
                if isinstance(cell.value, str) and cell.value.startswith("=") and cell.data_type == "f":
                    expected = self.written.expected.get((ws.title, cell.coordinate))
                    size = (len(f"{expected:,.2f}") + 1 if isinstance(expected, (int, float))
                            else display_width(expected) if isinstance(expected, str) else 12)
                elif isinstance(cell.value, (dt.date, dt.datetime, pd.Timestamp)):
                    size = 11
                elif isinstance(cell.value, (int, float, np.integer, np.floating)):
                    size = len(f"{cell.value:,.2f}") + 1
                else:
                    size = display_width(cell.value) + (2 if cell.style == "rx_header" else 0)
                measured[cell.column] = max(measured.get(cell.column, 0), size)
        for column, size in measured.items():
            letter = get_column_letter(column)
            ws.column_dimensions[letter].width = widths.get(letter, min(max(size + 2, minimum), maximum))
        for letter, size in widths.items():
            ws.column_dimensions[letter].width = size

    @staticmethod
    def print_setup(ws, title_rows: str | None = None):
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        if title_rows:
            ws.print_title_rows = title_rows

    def wrapped_row(self, ws, row, column, value, width_chars, last_column=None, style="rx_wrap"):
        """Long text in one cell (merged across to ``last_column``) with a row height that shows all of it."""
        self.put(ws, row, column, value, style)
        if last_column and last_column > column:
            ws.merge_cells(start_row=row, start_column=column, end_row=row, end_column=last_column)
        lines = sum(max(1, math.ceil(display_width(part) / max(width_chars, 1))) for part in str(value).split("\n"))
        ws.row_dimensions[row].height = max(15, 14.5 * lines + 3)

    # --- sheets ---------------------------------------------------------------------------------

    def write(self, path):
        titles = {key: self.w(f"sheet.{key}") for key in ("summary", "cohorts", "customers", "classes", "actions", "definitions")}
        self.written.sheets = titles
        summary = self.book.active
        summary.title = titles["summary"]
        cohorts = self.book.create_sheet(titles["cohorts"])
        customers = self.book.create_sheet(titles["customers"])
        classes = self.book.create_sheet(titles["classes"])
        actions = self.book.create_sheet(titles["actions"])
        definitions = self.book.create_sheet(titles["definitions"])

        self.progress("  customers sheet…")
        self.customer_columns = self.write_customers(customers)
        self.progress("  summary, cohorts, classes, actions…")
        self.write_summary(summary)
        self.write_cohorts(cohorts)
        self.write_classes(classes)
        self.write_actions(actions)
        self.write_definitions(definitions)
        self.book.calculation.fullCalcOnLoad = True
        self.progress("  saving…")
        self.book.save(path)
        if len(self.report.customers):
            self.progress(f"  streaming {self.written.customers_written:,} customer rows…")
            sheetxml.stream_rows(path, self.book.worksheets.index(customers) + 1, self.streamed_customers)
        return self.written

    # Summary ------------------------------------------------------------------------------------

    def write_summary(self, ws):
        report, words = self.report, self.words
        options = report.options
        sales = report.sales
        self.put(ws, 1, 1, self.w("report.title", month=str(report.month)), "rx_title")
        source = sales.file.name if sales else "DataFrame"
        sheet = f' / {sales.sheet}' if sales and sales.sheet else ""
        self.text(ws, 2, 1, self.w("report.subtitle", file=source, sheet=sheet, window=options.active_window,
                                   generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M")), "rx_subtitle")
        notes = [self.w("report.click_hint")]
        if self.written.customers_written < len(report.customers):
            notes.append(self.w("customers.truncated", shown=f"{self.written.customers_written:,}",
                                total=f"{len(report.customers):,}"))
        if report.month_was_defaulted_mid_month:
            notes.insert(0, self.w("report.mid_month", last_date=f"{report.last_date:%Y-%m-%d}", month=str(report.month)))
        self.put(ws, 3, 1, "  ".join(notes), "rx_subtitle")

        # The trend table first: the headline figures are formulas over it.
        trend_title_row = 25
        trend_header_row = trend_title_row + 1
        trend_rows = self.write_trend(ws, trend_title_row)
        this_row = trend_rows[-1]
        previous_row = trend_rows[-2] if len(trend_rows) > 1 and report.previous is not None else None

        header = 5
        self.header_row(ws, header, 1, [words["summary.metric"], str(report.month),
                                        str(report.month - 1), words["summary.change"]])
        current, previous = report.current, report.previous
        rows = {}
        layout = [
            ("S", "B", "rx_int"), ("L", "C", "rx_int"), ("N", "D", "rx_int"), ("R", "E", "rx_int"), ("E", "F", "rx_int"),
        ]
        row = header + 1
        for key, trend_column, style in layout:
            rows[key] = row
            self.put(ws, row, 1, words[f"kpi.{key}"], "rx_bold" if key in ("S", "E") else "rx_text")
            for column, trend_row, figures in ((2, this_row, current), (3, previous_row, previous)):
                if trend_row is not None:
                    self.put(ws, row, column, f"={trend_column}{trend_row}", style, getattr(figures, key))
            self.change(ws, row, style)
            self.explain(ws, row, self.w(f"meaning.{key}", window=options.active_window))
            row += 1

        rows["bridge"] = row
        self.put(ws, row, 1, words["kpi.bridge"], "rx_subtitle")
        for column, figures in ((2, current), (3, previous)):
            if figures is not None:
                c = get_column_letter(column)
                self.put(ws, row, column, f"={c}{rows['S']}-{c}{rows['L']}+{c}{rows['N']}+{c}{rows['R']}", "rx_int", figures.E)
        self.explain(ws, row, words["meaning.bridge"])
        row += 1

        def rate_row(key, formula_of, value_of):
            nonlocal row
            rows[key] = row
            self.put(ws, row, 1, words[f"kpi.{key}"], "rx_bold" if key == "retention" else "rx_text")
            for column, figures in ((2, current), (3, previous)):
                if figures is None:
                    continue
                value = value_of(figures)
                formula = formula_of(get_column_letter(column), figures)
                if value is None or formula is None:
                    self.put(ws, row, column, DASH if value is None else value, "rx_pct")
                else:
                    self.put(ws, row, column, formula, "rx_pct", value)
            self.change(ws, row, "rx_pct")
            self.explain(ws, row, self.w(f"meaning.{key}", high=f"{options.high:.0%}", low=f"{options.low:.0%}"))
            row += 1

        rate_row("retention", lambda c, f: formulas.retention(f"{c}{rows['E']}", f"{c}{rows['N']}", f"{c}{rows['S']}"),
                 lambda f: f.retention)
        rate_row("strict_retention", lambda c, f: formulas.strict_retention(f"{c}{rows['S']}", f"{c}{rows['L']}"),
                 lambda f: f.strict_retention)
        rate_row("txn_growth", lambda c, f: self.trend_growth_formula(this_row if f is current else previous_row),
                 lambda f: f.txn_growth)
        rate_row("repeat_rate", lambda c, f: self.repeat_rate_formula() if f is current else None, lambda f: f.repeat_rate)

        rows["repeat_tier"] = row
        self.put(ws, row, 1, words["kpi.repeat_tier"])
        tier_labels = tuple(words[f"tier.{t}"] for t in ("high", "medium", "low"))
        for column, figures in ((2, current), (3, previous)):
            if figures is not None and figures.repeat_rate is not None:
                c = get_column_letter(column)
                formula = formulas.repeat_tier(f"{c}{rows['repeat_rate']}", tier_labels, options.high, options.low)
                self.put(ws, row, column, formula, "rx_bold", words[f"tier.{figures.repeat_tier}"])
        self.explain(ws, row, self.w("meaning.repeat_tier", high=f"{options.high:.0%}", low=f"{options.low:.0%}"))
        row += 1

        rate_row("pareto_share", lambda c, f: self.pareto_formula() if f is current else None, lambda f: f.pareto_share)

        for key, trend_column, style, value_of in (
            ("revenue", "I", "rx_money", lambda f: f.revenue),
            ("orders", "K", "rx_int", lambda f: f.orders),
            ("aov", None, "rx_money", lambda f: f.average_order_value),
            ("buyers", "L", "rx_int", lambda f: f.buyers),
        ):
            rows[key] = row
            self.put(ws, row, 1, words[f"kpi.{key}"])
            for column, trend_row, figures in ((2, this_row, current), (3, previous_row, previous)):
                if trend_row is None or figures is None:
                    continue
                value = value_of(figures)
                if key == "aov":
                    formula = f"=J{trend_row}/K{trend_row}" if value is not None else None
                else:
                    formula = f"={trend_column}{trend_row}"
                self.put(ws, row, column, formula if formula else DASH, style, value if formula else None)
            self.change(ws, row, style)
            self.explain(ws, row, self.w(f"meaning.{key}"))
            row += 1

        chart = LineChart()
        chart.title = words["chart.trend"]
        chart.height, chart.width = 7.5, 16
        chart.y_axis.number_format = "0%"
        chart.y_axis.majorGridlines = None
        data = Reference(ws, min_col=7, max_col=8, min_row=trend_header_row, max_row=trend_rows[-1])
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=trend_rows[0], max_row=trend_rows[-1]))
        ws.add_chart(chart, "G5")

        ws.freeze_panes = "A6"
        self.fit_columns(ws, minimum=12, widths={"A": 34})
        self.print_setup(ws)

    def explain(self, ws, row, text):
        """What a headline figure means, as a note on its label (the Definitions sheet has the full text)."""
        ws.cell(row=row, column=1).comment = Comment(text, "retention_xl", width=260, height=60)

    def change(self, ws, row, style):
        """Column D: this month minus the month before, where both are numbers."""
        b, c = ws.cell(row=row, column=2).value, ws.cell(row=row, column=3).value
        expected_b = self.written.expected.get((ws.title, f"B{row}"))
        expected_c = self.written.expected.get((ws.title, f"C{row}"))
        if expected_b is None or expected_c is None or not isinstance(b, str) or not isinstance(c, str):
            return
        if not all(isinstance(v, (int, float)) for v in (expected_b, expected_c)):
            return
        self.put(ws, row, 4, f"=B{row}-C{row}", style if style != "rx_money" else "rx_money", expected_b - expected_c)

    def write_trend(self, ws, title_row) -> list[int]:
        words = self.words
        self.put(ws, title_row, 1, words["trend.title"], "rx_section")
        keys = ["month", "S", "L", "N", "R", "E", "retention", "strict_retention", "revenue", "purchases", "orders",
                "buyers", "existing_revenue", "existing_revenue_previous", "txn_growth"]
        self.header_row(ws, title_row + 1, 1, [words[f"trend.{k}"] for k in keys])
        rows = []
        for index, figures in enumerate(self.report.trend):
            row = title_row + 2 + index
            rows.append(row)
            self.put(ws, row, 1, figures.month, "rx_text")
            for column, key in enumerate(["S", "L", "N", "R", "E"], start=2):
                self.put(ws, row, column, getattr(figures, key), "rx_int")
            retention = formulas.retention(f"F{row}", f"D{row}", f"B{row}") if figures.retention is not None else DASH
            strict = formulas.strict_retention(f"B{row}", f"C{row}") if figures.strict_retention is not None else DASH
            self.put(ws, row, 7, retention, "rx_pct", figures.retention)
            self.put(ws, row, 8, strict, "rx_pct", figures.strict_retention)
            self.put(ws, row, 9, figures.revenue, "rx_money")
            self.put(ws, row, 10, figures.purchases, "rx_money")
            self.put(ws, row, 11, figures.orders, "rx_int")
            self.put(ws, row, 12, figures.buyers, "rx_int")
            self.put(ws, row, 13, figures.existing_revenue, "rx_money")
            self.put(ws, row, 14, figures.existing_revenue_previous, "rx_money")
            growth = self.trend_growth_formula(row) if figures.txn_growth is not None else DASH
            self.put(ws, row, 15, growth, "rx_pct", figures.txn_growth)
        return rows

    @staticmethod
    def trend_growth_formula(row):
        return formulas.txn_growth(f"M{row}", f"N{row}") if row is not None else None

    def customers_range(self, key: str) -> str:
        letter = get_column_letter(self.customer_columns[key])
        last = max(self.written.customers_written + 1, 2)
        return self.sheet_ref(self.written.sheets["customers"], f"${letter}$2:${letter}${last}")

    @property
    def customers_complete(self) -> bool:
        """Whether every customer fits on the Customers sheet, so formulas over it see them all."""
        return self.written.customers_written == len(self.report.customers)

    def repeat_rate_formula(self):
        if not self.customers_complete:
            return None
        base, orders = self.customers_range("in_base"), self.customers_range("window_orders")
        yes = self.words["yes"]
        return f'=COUNTIFS({base},"{yes}",{orders},">=2")/COUNTIF({base},"{yes}")'

    def pareto_formula(self):
        """Pareto share over the Customers sheet, which lists the base first by window revenue, largest first."""
        if not self.customers_complete:
            return None
        revenue, base = self.customers_range("window_revenue"), self.customers_range("in_base")
        yes = self.words["yes"]
        k = f'{self.report.options.top_fraction}*COUNTIF({base},"{yes}")'
        whole = f"INT({k})"
        top = f'IF({whole}>0,SUMIF(INDEX({revenue},1):INDEX({revenue},{whole}),">0"),0)'
        part = f"IF({k}>{whole},({k}-{whole})*MAX(0,INDEX({revenue},{whole}+1)),0)"
        total = f'SUMIFS({revenue},{base},"{yes}",{revenue},">0")'
        return f"=({top}+{part})/{total}"

    # Cohorts -------------------------------------------------------------------------------------

    def write_cohorts(self, ws):
        cohorts, words = self.report.cohorts, self.words
        active, revenue = cohorts.active, cohorts.revenue
        offsets = list(active.columns)
        n = len(active)
        self.put(ws, 1, 1, self.w("report.title", month=str(self.report.month)), "rx_title")
        self.put(ws, 2, 1, words["cohort.note"], "rx_subtitle")

        # Block 1: active customers (values).
        top = 4
        self.put(ws, top, 1, words["cohort.active_title"], "rx_section")
        self.header_row(ws, top + 1, 1, [words["cohort.month"], ""] + [str(o) for o in offsets])
        first_active = top + 2
        for i, (cohort, values) in enumerate(active.iterrows()):
            r = first_active + i
            self.put(ws, r, 1, cohort)
            for j, value in enumerate(values):
                if not np.isnan(value):
                    self.put(ws, r, 3 + j, int(value), "rx_int")
        last_active = first_active + n - 1

        # Block 2: retention = active / cohort size (formulas), weighted average, colour scale.
        top2 = last_active + 2
        self.put(ws, top2, 1, words["cohort.retention_title"], "rx_section")
        self.header_row(ws, top2 + 1, 1, [words["cohort.month"], words["cohort.size"]] + [str(o) for o in offsets])
        first_ret = top2 + 2
        retention = cohorts.retention
        for i, cohort in enumerate(active.index):
            r = first_ret + i
            source = first_active + i
            self.put(ws, r, 1, cohort)
            size = active.iloc[i, 0]
            self.put(ws, r, 2, f"=C{source}", "rx_int", int(size))
            for j in range(len(offsets)):
                value = retention.iloc[i, j]
                if np.isnan(active.iloc[i, j]) or size == 0:
                    continue
                cell = get_column_letter(3 + j)
                self.put(ws, r, 3 + j, f"={cell}{source}/$B{r}", "rx_pct", float(value))
        last_ret = first_ret + n - 1
        weighted_row = last_ret + 1
        self.put(ws, weighted_row, 1, words["cohort.weighted"], "rx_bold")
        averages = cohorts.weighted_average()
        sizes = f"$C${first_active}:$C${last_active}"
        for j in range(len(offsets)):
            column = get_column_letter(3 + j)
            col_range = f"{column}{first_active}:{column}{last_active}"
            value = averages.iloc[j]
            if np.isnan(value):
                continue
            self.put(ws, weighted_row, 3 + j, f"=SUM({col_range})/SUMPRODUCT({sizes}*ISNUMBER({col_range}))",
                     "rx_pct", float(value))
        if len(offsets) > 1:
            ws.conditional_formatting.add(
                f"D{first_ret}:{get_column_letter(2 + len(offsets))}{last_ret}",
                ColorScaleRule(start_type="min", start_color="F8696B", mid_type="percentile", mid_value=50,
                               mid_color="FFEB84", end_type="max", end_color="63BE7B"),
            )

        # Block 3: revenue (values).
        top3 = weighted_row + 2
        self.put(ws, top3, 1, words["cohort.revenue_title"], "rx_section")
        self.header_row(ws, top3 + 1, 1, [words["cohort.month"], ""] + [str(o) for o in offsets])
        for i, (cohort, values) in enumerate(revenue.iterrows()):
            r = top3 + 2 + i
            self.put(ws, r, 1, cohort)
            for j, value in enumerate(values):
                if not np.isnan(value):
                    self.put(ws, r, 3 + j, float(value), "rx_money")

        if len(offsets) > 1:
            chart = LineChart()
            chart.title = words["chart.cohort_curve"]
            chart.height, chart.width = 7.5, 18
            chart.y_axis.number_format = "0%"
            chart.x_axis.title = words["chart.months_since"]
            chart.legend = None
            chart.add_data(Reference(ws, min_col=4, max_col=2 + len(offsets), min_row=weighted_row), from_rows=True)
            chart.set_categories(Reference(ws, min_col=4, max_col=2 + len(offsets), min_row=top2 + 1))
            ws.add_chart(chart, f"A{top3 + n + 4}")

        ws.freeze_panes = f"B{top + 2}"
        self.fit_columns(ws, minimum=7, widths={"A": 16, "B": 11})
        self.print_setup(ws)

    # Customers ----------------------------------------------------------------------------------

    def write_customers(self, ws) -> dict[str, int]:
        """Header and one styled template row through openpyxl; the rows are streamed in after saving."""
        report, words = self.report, self.words
        table = report.customers
        has_names = table["customer_name"].notna().any()
        keys = [k for k in CUSTOMER_COLUMNS if has_names or k != "customer_name"]
        positions = {key: index for index, key in enumerate(keys, start=1)}
        shown = table.head(EXCEL_MAX_ROWS - 1).reset_index(drop=True)
        self.written.customers_written = len(shown)
        self.header_row(ws, 1, 1, [words[f"col.{k}"] for k in keys])

        yes_no = {True: words["yes"], False: words["no"]}
        names = {
            "segment": {s: words[f"segment.{s}"] for s in SEGMENTS},
            "status": {s: words[f"status.{s}"] for s in STATUSES},
            "action": {a: words[f"action.{a}"] for a in list(SEGMENTS) + ["key_quiet"]},
            "in_base": yes_no,
            "key_account": yes_no,
        }
        kinds = {"first_purchase": "date", "last_purchase": "date", "customer_id": "text", "customer_name": "text"}
        styles = {
            "first_purchase": "rx_date", "last_purchase": "rx_date", "orders": "rx_int", "revenue": "rx_money",
            "window_orders": "rx_int", "window_revenue": "rx_money", "days_since_last": "rx_int",
        }
        columns = []
        for key in keys:
            values = shown[key]
            if key in names:
                values, kind = values.map(names[key]), "text"
            elif key in ("revenue", "window_revenue"):
                values, kind = values.round(2), "number"
            else:
                kind = kinds.get(key, "number")
            columns.append(sheetxml.Column(get_column_letter(positions[key]), kind, values))
            if len(shown):  # the template row carries each column's style into the streamed rows
                first = values.iloc[0]
                cell = ws.cell(row=2, column=positions[key], value=first.to_pydatetime() if kind == "date" else
                               (str(first) if kind == "text" and not pd.isna(first) else
                                None if pd.isna(first) else first.item() if hasattr(first, "item") else first))
                cell.style = styles.get(key, "rx_text")
        self.streamed_customers = columns

        last_column = get_column_letter(len(keys))
        ws.auto_filter.ref = f"A1:{last_column}{len(shown) + 1}"
        ws.freeze_panes = "B2"
        if len(shown) < len(table):
            ws.sheet_properties.tabColor = "C00000"
        for key, column in zip(keys, columns):
            values = column.values.head(2000)
            if column.kind == "date":
                width = 11
            elif column.kind == "number":
                width = max((len(f"{v:,.2f}") for v in values), default=4) + 1
            else:
                width = max((display_width(v) for v in values.dropna()), default=4)
            header = display_width(words[f"col.{key}"]) + 2
            ws.column_dimensions[column.letter].width = min(max(width + 2, header, 6), 40)
        ws.row_dimensions[1].height = 32
        self.print_setup(ws, "1:1")
        return positions

    # Classes ------------------------------------------------------------------------------------

    def write_classes(self, ws):
        report, words = self.report, self.words
        yes, no = words["yes"], words["no"]
        segment_range = self.customers_range("segment")
        status_range = self.customers_range("status")
        revenue_range = self.customers_range("revenue")
        window_range = self.customers_range("window_revenue")
        base_range = self.customers_range("in_base")
        key_range = self.customers_range("key_account")
        self.put(ws, 1, 1, self.w("report.title", month=str(report.month)), "rx_title")
        row = 3

        def block(title, table, label_of, count_formula, revenue_formula, revenue_header):
            nonlocal row
            self.put(ws, row, 1, title, "rx_section")
            self.header_row(ws, row + 1, 1, [words["classes.class"], words["classes.customers"],
                                             words["classes.customer_share"], revenue_header,
                                             words["classes.revenue_share"]])
            first = row + 2
            last = first + len(table) - 1
            for i, (key, values) in enumerate(table.iterrows()):
                r = first + i
                label = label_of(key)
                self.put(ws, r, 1, label)
                complete = self.customers_complete  # else the sheet lists only part of them: write the values
                self.put(ws, r, 2, count_formula(r, key) if complete else int(values["customers"]), "rx_int",
                         int(values["customers"]))
                self.put(ws, r, 3, f"=IF(SUM($B${first}:$B${last})=0,0,B{r}/SUM($B${first}:$B${last}))", "rx_pct",
                         float(values["customer_share"]) if not np.isnan(values["customer_share"]) else 0.0)
                self.put(ws, r, 4, revenue_formula(r, key) if complete else float(values["revenue"]), "rx_money",
                         float(values["revenue"]))
                self.put(ws, r, 5, f"=IF(SUM($D${first}:$D${last})=0,0,D{r}/SUM($D${first}:$D${last}))", "rx_pct",
                         float(values["revenue_share"]) if not np.isnan(values["revenue_share"]) else 0.0)
            row = last + 2

        block(words["classes.segment_title"], report.segment_table(), lambda k: words[f"segment.{k}"],
              lambda r, _: f"=COUNTIF({segment_range},A{r})", lambda r, _: f"=SUMIF({segment_range},A{r},{revenue_range})",
              words["classes.revenue"])
        block(words["classes.status_title"], report.status_table(), lambda k: words[f"status.{k}"],
              lambda r, _: f"=COUNTIF({status_range},A{r})", lambda r, _: f"=SUMIF({status_range},A{r},{revenue_range})",
              words["classes.revenue"])
        flag = {"key": yes, "other": no}
        block(words["classes.key_title"], report.key_account_table(),
              lambda k: words["classes.key" if k == "key" else "classes.other"],
              lambda r, k: f'=COUNTIFS({base_range},"{yes}",{key_range},"{flag[k]}")',
              lambda r, k: f'=SUMIFS({window_range},{base_range},"{yes}",{key_range},"{flag[k]}")',
              words["classes.window_revenue"])

        # Pareto curve (values) and its chart.
        self.put(ws, row, 1, words["classes.pareto_title"], "rx_section")
        self.header_row(ws, row + 1, 1, [words["classes.top_share"], words["classes.revenue_held"]])
        curve = report.pareto_curve()
        first = row + 2
        for i, point in enumerate(curve.itertuples(index=False)):
            self.put(ws, first + i, 1, float(point.top_fraction), "rx_pct")
            if not np.isnan(point.revenue_share):
                self.put(ws, first + i, 2, float(point.revenue_share), "rx_pct")
        last = first + len(curve) - 1
        chart = LineChart()
        chart.title = words["chart.pareto"]
        chart.height, chart.width = 8, 16
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
        chart.x_axis.title = words["chart.customer_share"]
        chart.y_axis.title = words["chart.revenue_share"]
        chart.legend = None
        chart.add_data(Reference(ws, min_col=2, min_row=first, max_row=last))
        chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
        ws.add_chart(chart, "G3")
        self.fit_columns(ws, widths={"A": 28})
        self.print_setup(ws)

    # Actions ------------------------------------------------------------------------------------

    def write_actions(self, ws):
        report, words = self.report, self.words
        self.put(ws, 1, 1, self.w("actions.title", month=str(report.month)), "rx_title")
        width = 80  # characters across the merged columns of the text
        row = 3
        if not report.actions:
            self.put(ws, row, 1, words["actions.none"])
        who_keys = ["customer_id", "customer_name", "segment", "last_purchase", "days_since_last", "revenue"]
        if report.customers["customer_name"].isna().all():
            who_keys.remove("customer_name")
        for action in report.actions:
            style = "rx_warning" if action.warning else "rx_section"
            self.put(ws, row, 1, action.title, style)
            for column in range(2, 2 + len(who_keys)):
                ws.cell(row=row, column=column).style = style
            row += 1
            for label, text in ((words["actions.why"], action.why), (words["actions.what"], action.what)):
                self.put(ws, row, 1, label, "rx_bold")
                self.wrapped_row(ws, row, 2, text, width, last_column=1 + len(who_keys))
                row += 1
            if len(action.who):
                self.put(ws, row, 1, words["actions.who"], "rx_bold")
                self.header_row(ws, row, 2, [words[f"who.{k}"] for k in who_keys])
                row += 1
                for person in action.who.itertuples(index=False):
                    cells = {
                        "customer_id": (person.customer_id, None),
                        "customer_name": (None if pd.isna(person.customer_name) else person.customer_name, None),
                        "segment": (words[f"segment.{person.segment}"], "rx_text"),
                        "last_purchase": (person.last_purchase.to_pydatetime(), "rx_date"),
                        "days_since_last": (int(person.days_since_last), "rx_int"),
                        "revenue": (float(person.stake), "rx_money"),
                    }
                    for column, key in enumerate(who_keys, start=2):
                        value, style_name = cells[key]
                        if style_name is None:  # text from the data
                            self.text(ws, row, column, value)
                        else:
                            self.put(ws, row, column, value, style_name)
                    row += 1
                if action.remaining:
                    self.put(ws, row, 2, self.w("actions.more", count=f"{action.remaining:,}",
                                                filter=action.filter_value or ""), "rx_subtitle")
                    row += 1
            row += 1
        self.fit_columns(ws, widths={"A": 14, "B": 16, "C": 22, "D": 18, "E": 14, "F": 12, "G": 16})
        self.print_setup(ws)

    # Definitions & data -------------------------------------------------------------------------------

    def write_definitions(self, ws):
        from .actions import pct, render_definitions

        report, words = self.report, self.words
        options, sales = report.options, report.sales
        self.put(ws, 1, 1, words["defs.title"], "rx_title")
        row = 3
        self.put(ws, row, 1, words["defs.parameters"], "rx_section")
        ws.cell(row=row, column=2).style = "rx_section"
        row += 1
        parameters = []
        if sales is not None:
            parameters += [
                (words["param.file"], str(sales.file.name)),
                (words["param.sheet"], sales.sheet or "—"),
                (words["param.header_row"], sales.header_row),
                (words["param.columns"], "; ".join(f"{words['role.' + role]} ← {header}" for role, header in sales.columns.items())),
            ]
        parameters += [
            (words["param.month"], str(report.month)),
            (words["param.window"], options.active_window),
            (words["param.thresholds"], f"{pct(options.high)} / {pct(options.low)}"),
            (words["param.top_fraction"], pct(options.top_fraction)),
            (words["param.data_range"], f"{report.first_date:%Y-%m-%d} – {report.last_date:%Y-%m-%d}"),
            (words["param.language"], options.language),
            (words["param.generated"], dt.datetime.now().strftime("%Y-%m-%d %H:%M")),
        ]
        for label, value in parameters:
            self.put(ws, row, 1, label, "rx_bold")
            if isinstance(value, str):
                self.text(ws, row, 2, value, "rx_wrap")
                ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
            else:
                self.put(ws, row, 2, value, "rx_int")
                ws.cell(row=row, column=2).alignment = Alignment(horizontal="left")
            row += 1

        row += 1
        self.put(ws, row, 1, words["defs.definitions"], "rx_section")
        ws.cell(row=row, column=2).style = "rx_section"
        row += 1
        for term, definition in render_definitions(
            options.language, window=options.active_window, high=options.high, low=options.low,
            top=options.top_fraction, active_months=min(ACTIVE_MONTHS, options.active_window),
        ):
            self.put(ws, row, 1, term, "rx_bold")
            ws.cell(row=row, column=1).alignment = Alignment(vertical="top", wrap_text=True)
            self.wrapped_row(ws, row, 2, definition, 95, last_column=3)
            row += 1

        if sales is not None:
            row += 1
            accounting = sales.accounting
            self.put(ws, row, 1, words["defs.accounting"], "rx_section")
            for column in (2, 3):
                ws.cell(row=row, column=column).style = "rx_section"
            row += 1
            self.header_row(ws, row, 1, ["", words["acct.count"], words["acct.examples"]])
            row += 1
            read_row = row
            self.put(ws, row, 1, words["acct.rows_read"], "rx_bold")
            self.put(ws, row, 2, accounting.rows_read, "rx_int")
            row += 1
            first_part = row
            self.put(ws, row, 1, words["acct.purchases"])
            self.put(ws, row, 2, accounting.purchases, "rx_int")
            row += 1
            self.put(ws, row, 1, words["acct.returns"])
            self.put(ws, row, 2, accounting.returns, "rx_int")
            row += 1
            for reason in EXCLUSION_REASONS:
                exclusion = accounting.exclusions[reason]
                self.put(ws, row, 1, words[f"acct.excluded.{reason}"])
                self.put(ws, row, 2, exclusion.count, "rx_int")
                if exclusion.example_rows:
                    examples = self.put(ws, row, 3, ", ".join(str(r) for r in exclusion.example_rows))
                    examples.alignment = Alignment(horizontal="left", indent=2)
                row += 1
            self.put(ws, row, 1, words["acct.check"], "rx_bold")
            total = accounting.purchases + accounting.returns + accounting.excluded
            self.put(ws, row, 2, f"=SUM(B{first_part}:B{row - 1})", "rx_int", total)
            self.put(ws, row, 3, f'=IF(B{row}=B{read_row},"✓","✗")', "rx_bold", "✓" if total == accounting.rows_read else "✗")
        self.fit_columns(ws, widths={"A": 52, "B": 60, "C": 40})
        self.print_setup(ws)


def write_report_workbook(report, path, progress=None) -> WrittenWorkbook:
    """Write ``report`` (a :class:`retention_xl.report.RetentionReport`) to ``path``."""
    return _Writer(report, progress).write(path)
