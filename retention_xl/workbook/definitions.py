"""The Definitions & data sheet: the parameters, every definition, and the reader's accounting of the file."""

from __future__ import annotations

import datetime as dt
import math

from openpyxl.styles import Alignment

from ..figures.actions import pct, render_definitions
from ..reasons import ADJUSTMENTS, EXCLUSION_REASONS, NOT_ON_SCALE, PROFIT_UNKNOWN
from ..figures.customers import ACTIVE_MONTHS, LAPSE_MULTIPLE, LAPSE_STEP_POINTS, base_gap
from ..figures.customer_value import CORRELATION_WARNING, FREQUENCY_GROUPS
from .sheet import SheetWriter
from .loyalty import write_survey_accounting
from .summary import model_limits

DEFINITION_WIDTH = 95  # characters across the merged definition columns


def _section(sheet: SheetWriter, row: int, title: str, last_column: int) -> None:
    sheet.put(row, 1, title, "rx_section")
    sheet.style_row(row, 2, last_column, "rx_section")


def _parameters(report, words) -> list[tuple[str, object]]:
    options, sales = report.options, report.sales
    parameters = []
    if sales is not None:
        parameters += [
            (words["param.file"], sales.source_name),
            (words["param.sheet"], sales.sheet or "—"),
            (words["param.header_row"], sales.header_row),
            (words["param.columns"], "; ".join(f"{words['role.' + role]} ← {header}" for role, header in sales.columns.items())),
        ]
        reading = _reading(sales, words)
        parameters += [(words["param.reading"], reading)] if reading else []
    return parameters + [
        (words["param.month"], str(report.month)),
        (words["param.window"], options.active_window),
        (words["param.thresholds"], f"{pct(options.high)} / {pct(options.low)}"),
        (words["param.top_fraction"], pct(options.top_fraction)),
        *([(words["param.value"], words[f"col.{options.value}"])] if report.current.profit is not None else []),
        (words["param.data_range"], f"{report.first_date:%Y-%m-%d} – {report.last_date:%Y-%m-%d}"),
        (words["param.language"], options.language),
        (words["param.generated"], dt.datetime.now().strftime("%Y-%m-%d %H:%M")),
    ]


def _reading(sales, words) -> str:
    """The reader's choices a user may want to check: a CSV file's encoding, eight-digit dates."""
    notes = []
    choice = sales.encoding_choice
    if choice is not None and choice.clear_cut:
        notes.append(words["reading.encoding"].format(name=choice.shown_names[0]))
    elif choice is not None:
        word, other_word = choice.example or ("…", "…")
        notes.append(words["reading.encoding_unclear"].format(
            name=choice.shown_names[0], others=" / ".join(choice.shown_names[1:]), word=word,
            other_word=other_word, option=choice.others[0]))
    if sales.eight_digit_example:
        notes.append(words["reading.yyyymmdd"].format(value=sales.eight_digit_example))
    shared = sales.shared_orders
    if shared is not None and shared.noted:
        notes.append(words["reading.shared_orders"].format(shared=f"{shared.shared:,}", numbers=f"{shared.numbers:,}"))
    return "; ".join(notes)


def _accounting(sheet: SheetWriter, row: int, accounting) -> int:
    """Rows read = purchases + returns + each exclusion, with a check formula and example rows; returns the next
    free row."""
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
    return _adjustments(sheet, check + 2, accounting)


def _adjustments(sheet: SheetWriter, row: int, accounting) -> int:
    """Rows used with their text changed so that a workbook can hold it, or an answer set aside; returns the next
    free row."""
    sheet.put(row, 1, sheet.words["acct.adjusted"], "rx_bold")
    reasons = ADJUSTMENTS + tuple(reason for reason in (PROFIT_UNKNOWN, *NOT_ON_SCALE.values())
                                  if reason in accounting.adjustments)
    for row, reason in enumerate(reasons, start=row + 1):
        adjusted = accounting.adjustments[reason]
        sheet.put(row, 1, sheet.words[f"acct.adjusted.{reason}"])
        sheet.put(row, 2, adjusted.count, "rx_int")
        if adjusted.example_rows:
            cell = sheet.put(row, 3, ", ".join(str(r) for r in adjusted.example_rows))
            cell.alignment = Alignment(horizontal="left", indent=2)
    return row + 2


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
        value=options.value, has_profit=report.current.profit is not None,
        lapse_days=options.lapse_days, lapse_multiple=LAPSE_MULTIPLE, lapse_step=LAPSE_STEP_POINTS,
        base_gap=_base_gap(report.customers), loyalty=report.loyalty is not None,
    ):
        sheet.put(row, 1, term, "rx_bold").alignment = Alignment(vertical="top", wrap_text=True)
        sheet.wrapped(row, 2, definition, DEFINITION_WIDTH, last_column=3)
        row += 1

    row = _value_section(sheet, row + 1, report)
    if report.sales is not None:
        if report.sales.group is not None:  # one group's workbook: its own rows, and no other group's
            sheet.put(row + 1, 1, sheet.word("acct.group_note", group=report.sales.group), "rx_subtitle")
            row += 1
        if report.sales.from_several_files:
            sheet.put(row + 1, 1, words["acct.files_note"], "rx_subtitle")
            row += 1
        row = _accounting(sheet, row + 1, report.sales.accounting)
        if report.sales.answers is not None and report.sales.answers.survey is not None:
            write_survey_accounting(sheet, row + 1, report.sales.answers.survey)
    sheet.fit_columns(widths={"A": 52, "B": 60, "C": 40})
    sheet.print_setup()


def _base_gap(customers) -> float | None:
    """The base's usual gap in days, which one-time buyers are judged by; None where nobody bought twice."""
    gap = base_gap(customers["usual_gap"].to_numpy(dtype=float))
    return None if math.isnan(gap) else gap


def _value_section(sheet: SheetWriter, row: int, report) -> int:
    """How the customer values were made and how far to trust them; returns the next free row."""
    value, words = report.value, sheet.words
    _section(sheet, row, words["value.title"], 3)
    row += 1
    if not value.available:
        sheet.wrapped(row, 1, sheet.word(value.unavailable, **value.details), DEFINITION_WIDTH + 50, last_column=3)
        return row + 2
    # Without drop-out there is no P(alive), and without the spend model no Gamma-Gamma: the texts say what the
    # models are then, and what is shown instead.
    detected = value.dropout_detected
    about = ("value.about" if detected else "value.about_no_dropout") + ("_observed_spend" if value.spend_refused else "")
    texts = [sheet.word(about, as_of=f"{report.month.end_time:%Y-%m-%d}"),
             words["value.def_p_alive" if detected else "value.def_p_alive_no_dropout"], words["value.def_expected"],
             sheet.word("value.def_clv", horizon=value.horizon, discount=f"{value.discount:g}")]
    for text in texts:
        sheet.wrapped(row, 1, text, DEFINITION_WIDTH + 50, last_column=3)
        row += 1
    if detected:
        purchases = (words["value.bgnbd"], [value.bgnbd.r, value.bgnbd.alpha, value.bgnbd.a, value.bgnbd.b])
    else:  # a and b ran to the no-drop-out boundary: they are not estimates
        purchases = (words["value.nbd"], [value.nbd.r, value.nbd.alpha])
    fits = [purchases]
    if not value.spend_refused:  # a refused fit's p, q, v estimate nothing the values use
        fits.append((words["value.gamma_gamma"], [value.gamma_gamma.p, value.gamma_gamma.q, value.gamma_gamma.v]))
    for label, numbers in fits:
        sheet.put(row, 1, label, "rx_bold")
        sheet.put(row, 2, " / ".join(f"{n:.4g}" for n in numbers))
        row += 1
    for note in model_limits(value, sheet, holdout=False):  # the holdout check below words its own miss
        sheet.wrapped(row, 1, note, DEFINITION_WIDTH + 50, last_column=3)
        row += 1
    correlation = value.spend_correlation
    sheet.put(row, 1, words["value.correlation"], "rx_bold")
    verdict = "value.correlation_warning" if correlation is not None and correlation > CORRELATION_WARNING \
        else "value.correlation_ok"
    sheet.put(row, 2, f"{correlation:.2f}: {words[verdict]}" if correlation is not None
              else words["value.correlation_undefined"], "rx_warning" if verdict.endswith("warning") else "rx_wrap")
    return _holdout(sheet, row + 2, report) + 1


def _holdout(sheet: SheetWriter, row: int, report) -> int:
    holdout, words = report.value.holdout, sheet.words
    if holdout is None:
        sheet.put(row, 1, words[report.value.no_holdout])
        return row + 1
    sheet.put(row, 1, sheet.word("value.holdout_title", calibration_end=f"{(report.month - holdout.months).end_time:%Y-%m-%d}",
                                 months=holdout.months), "rx_bold")
    row += 1
    sheet.header(row, 1, [words["value.group"], words["value.customers"], words["value.predicted"],
                          words["value.actual"]])
    first = row + 1
    for row, (group, line) in enumerate(holdout.table.iterrows(), start=first):
        sheet.put(row, 1, f"{group}+" if group == FREQUENCY_GROUPS - 1 else str(group))
        sheet.put(row, 2, int(line.customers), "rx_int")
        sheet.put(row, 3, round(float(line.predicted), 1), "rx_money")
        sheet.put(row, 4, float(line.actual), "rx_int")
    row += 1
    sheet.put(row, 1, words["value.total"], "rx_bold")
    sheet.formula(row, 3, f"=SUM(C{first}:C{row - 1})", sum(round(float(p), 1) for p in holdout.table["predicted"]),
                  "rx_money")
    sheet.formula(row, 4, f"=SUM(D{first}:D{row - 1})", float(holdout.table["actual"].sum()), "rx_int")
    error = holdout.error
    if error is not None:
        verdict = "good" if abs(error) <= 0.1 else "fair" if abs(error) <= 0.25 else "poor"
        sheet.wrapped(row + 1, 1, sheet.word(f"value.error_{verdict}", predicted=f"{holdout.predicted:,.0f}",
                                             actual=f"{holdout.actual:,.0f}", error=f"{error:+.0%}"),
                      DEFINITION_WIDTH + 50, last_column=3)
    return row + 2
