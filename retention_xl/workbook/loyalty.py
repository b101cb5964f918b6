"""The loyalty parts of the workbook, where the sales carry satisfaction or recommendation answers: the three
measures side by side on the Summary with their trend, the Loyalty sheet (each level's customers, the satisfaction
index and the NPS as formulas, retention by answer for the chain and each store), the survey file's accounting on
the Definitions sheet. See :mod:`retention_xl.figures.loyalty` for the figures.
"""

from __future__ import annotations

from openpyxl.styles import Alignment

from ..figures.groups import MISSING
from ..figures.loyalty import LEVELS, NO_ANSWER
from ..loyalty_scales import DETRACTOR, PROMOTER
from ..roles import LOYALTY_ROLES, RECOMMEND, SATISFACTION
from .sheet import DASH, SheetWriter

# What a level stands for on the scale read: a satisfaction level is its score, a recommendation level a range of 0-10.
_SCORES = {RECOMMEND: {PROMOTER: "9–10", 1: "7–8", DETRACTOR: "0–6"}}
_TREND = ("month", "satisfaction_index", "satisfaction_answered", "nps", "recommend_answered", "repeat_rate",
          "repeat_tier")


def level_label(words: dict, question: str, level) -> str:
    """A level's name on the sheets (``"none"``: no answer)."""
    return words["loyalty.none"] if level == NO_ANSWER else words[f"loyalty.{question}.{int(level)}"]


def _cell(column: int, row: int) -> str:
    return f"{chr(64 + column)}{row}"


def write_loyalty_summary(sheet: SheetWriter, report, row: int) -> None:
    """Below the Summary's trend from ``row``: the satisfaction index, the repeat-purchase rate and the NPS of the
    month beside the month before, then their trend, a month to a row."""
    words, loyalty = sheet.words, report.loyalty
    trend_row = row + 8
    rows = {figures.month: trend_row + 1 + index for index, figures in enumerate(loyalty.trend)}
    sheet.put(row, 1, words["loyalty.summary_title"], "rx_section")
    sheet.style_row(row, 2, 6, "rx_section")
    sheet.header(row + 1, 1, [words["summary.metric"], str(report.month), str(report.month - 1),
                              words["summary.change"], words["loyalty.answering"], words["loyalty.trend.repeat_tier"]])
    months = [loyalty.current, loyalty.previous]
    lines = (("satisfaction_index", "satisfaction_answered", "rx_money"), ("loyalty_repeat_rate", None, "rx_pct"),
             ("nps", "recommend_answered", "rx_pct"))
    for offset, (key, answered, style) in enumerate(lines, start=2):
        figure = "repeat_rate" if key == "loyalty_repeat_rate" else key
        sheet.put(row + offset, 1, words[f"kpi.{key}"], "rx_bold")
        sheet.note(row + offset, 1, words[f"meaning.{key}"])
        values = []
        for column, month in enumerate(months, start=2):
            value = None if month is None else getattr(month, figure)
            source = None if month is None else _cell(_TREND.index(figure) + 1, rows[month.month])
            sheet.formula(row + offset, column, source and f"={source}", value, style)
            values.append(value)
        if all(value is not None for value in values):
            sheet.formula(row + offset, 4, f"=B{row + offset}-C{row + offset}", values[0] - values[1], style)
        if answered:
            sheet.formula(row + offset, 5, f"={_cell(_TREND.index(answered) + 1, rows[loyalty.current.month])}",
                          getattr(loyalty.current, answered), "rx_int")
        elif loyalty.current.repeat_tier:
            sheet.put(row + offset, 6, words[f"tier.{loyalty.current.repeat_tier}"], "rx_bold")
    _loyalty_trend(sheet, loyalty.trend, trend_row)


def _loyalty_trend(sheet: SheetWriter, trend, header_row: int) -> None:
    words = sheet.words
    sheet.put(header_row - 1, 1, words["loyalty.trend_title"], "rx_section")
    sheet.header(header_row, 1, [words["loyalty.trend.month"], words["kpi.satisfaction_index"],
                                 words["loyalty.trend.satisfaction_answered"], words["kpi.nps"],
                                 words["loyalty.trend.recommend_answered"], words["kpi.loyalty_repeat_rate"],
                                 words["loyalty.trend.repeat_tier"]])
    styles = {"satisfaction_index": "rx_money", "nps": "rx_pct", "repeat_rate": "rx_pct",
              "satisfaction_answered": "rx_int", "recommend_answered": "rx_int"}
    for row, figures in enumerate(trend, start=header_row + 1):
        sheet.put(row, 1, figures.month)
        for column, key in enumerate(_TREND[1:-1], start=2):
            value = getattr(figures, key)
            sheet.put(row, column, DASH if value is None else value, styles[key])
        sheet.put(row, len(_TREND), words[f"tier.{figures.repeat_tier}"] if figures.repeat_tier else DASH)


def write_loyalty(sheet: SheetWriter, report, customers=None) -> None:
    """The Loyalty sheet: each question's levels with their customers, the index and the NPS as formulas over
    them, and retention by answer for the chain and, where the sales have stores, each store."""
    words, loyalty = sheet.words, report.loyalty
    first, last = loyalty.answer_window
    sheet.put(1, 1, sheet.word("loyalty.title", month=str(report.month)), "rx_title")
    sheet.put(2, 1, sheet.word("loyalty.window_note", first=f"{first:%Y-%m-%d}", last=f"{last:%Y-%m-%d}",
                               sources=_sources(report, words)), "rx_subtitle")
    asked = [question for question in LOYALTY_ROLES if loyalty.asked(question)]
    row = 4
    for question, key in ((SATISFACTION, "satisfaction_index"), (RECOMMEND, "nps")):
        if question in asked:
            row = _distribution(sheet, row, question, getattr(loyalty.current, question), key,
                                getattr(loyalty.current, key)) + 1
    sheet.put(row, 1, words["loyalty.by_answer_note"], "rx_subtitle")
    row += 1
    for question in asked:
        row = _by_answer(sheet, row + 1, words[f"loyalty.by_{question}_title"], loyalty.by_answer.loc[question],
                         question, report.current)
    if loyalty.by_store is not None:
        _stores(sheet, row + 1, loyalty.by_store[loyalty.by_store.index.get_level_values(1).isin(asked)])
    sheet.fit_columns(minimum=10, widths={"A": 30, "B": 22})
    sheet.print_setup()


def _sources(report, words) -> str:
    answers = report.loyalty.answers
    named = [words["loyalty.source_sales"].format(column=column) for column in answers.columns.values()]
    if answers.survey is not None:
        named.append(words["loyalty.source_survey"].format(file=answers.survey.source_name))
    return "; ".join(named)


def _distribution(sheet: SheetWriter, row: int, question: str, counts: dict, key: str, value) -> int:
    """A question's levels with their customers and shares, its total, and the index or NPS formula; returns the
    next free row."""
    words = sheet.words
    sheet.put(row, 1, words[f"loyalty.{question}_title"], "rx_section")
    sheet.style_row(row, 2, 4, "rx_section")
    sheet.header(row + 1, 1, [words["loyalty.level"], words["loyalty.score"], words["loyalty.customers"],
                              words["loyalty.share"]])
    first = row + 2
    levels = LEVELS[question]
    total_row = first + len(levels)
    answered = sum(counts.values())
    for line, level in enumerate(levels, start=first):
        sheet.put(line, 1, level_label(words, question, level))
        sheet.put(line, 2, _SCORES.get(question, {}).get(level, level), "rx_int")
        sheet.put(line, 3, counts[level], "rx_int")
        sheet.formula(line, 4, f"=IF($C${total_row}=0,\"{DASH}\",C{line}/$C${total_row})",
                      counts[level] / answered if answered else DASH, "rx_pct")
    sheet.put(total_row, 1, words["loyalty.total"], "rx_bold")
    sheet.formula(total_row, 3, f"=SUM(C{first}:C{total_row - 1})", answered, "rx_int")
    sheet.put(total_row + 1, 1, words[f"kpi.{key}"], "rx_bold")
    sheet.note(total_row + 1, 1, words[f"meaning.{key}"])
    counts_range = f"C{first}:C{total_row - 1}"
    if question == SATISFACTION:
        formula = f"=SUMPRODUCT(B{first}:B{total_row - 1},{counts_range})/C{total_row}"
    else:
        promoters, detractors = (first + levels.index(level) for level in (PROMOTER, DETRACTOR))
        formula = f"=(C{promoters}-C{detractors})/C{total_row}"
    sheet.formula(total_row + 1, 3, formula, value, "rx_money" if question == SATISFACTION else "rx_pct")
    return total_row + 3


def _by_answer(sheet: SheetWriter, row: int, title: str, table, question: str, current) -> int:
    """Each level's S, L and strict retention, with a total that equals the Summary's S and L; returns the next
    free row."""
    words = sheet.words
    sheet.put(row, 1, title, "rx_section")
    sheet.style_row(row, 2, 4, "rx_section")
    sheet.header(row + 1, 1, [words["loyalty.level"], words["loyalty.S"], words["loyalty.L"],
                              words["loyalty.strict_retention"]])
    first = row + 2
    for line, (level, counts) in enumerate(table.iterrows(), start=first):
        _retention_row(sheet, line, level_label(words, question, level), int(counts.S), int(counts.L))
    total = first + len(table)
    _retention_row(sheet, total, words["loyalty.total"], int(table.S.sum()), int(table.L.sum()),
                   f"=SUM(B{first}:B{total - 1})", f"=SUM(C{first}:C{total - 1})")
    return total + 2


def _retention_row(sheet: SheetWriter, row: int, label: str, start: int, lost: int, start_formula: str | None = None,
                   lost_formula: str | None = None, first_column: int = 1) -> None:
    bold = "rx_bold" if start_formula else "rx_text"
    s, l, rate = (first_column + offset for offset in (1, 2, 3))
    sheet.put(row, first_column, label, bold)
    for column, formula, value in ((s, start_formula, start), (l, lost_formula, lost)):
        if formula:
            sheet.formula(row, column, formula, value, "rx_int")
        else:
            sheet.put(row, column, value, "rx_int")
    sheet.formula(row, rate, f"=IF({_cell(s, row)}=0,\"{DASH}\",({_cell(s, row)}-{_cell(l, row)})/{_cell(s, row)})",
                  (start - lost) / start if start else DASH, "rx_pct")


def _stores(sheet: SheetWriter, row: int, by_store) -> None:
    """Each store's retention by answer: store, question, level, S, L, strict retention."""
    words = sheet.words
    sheet.put(row, 1, words["loyalty.stores_title"], "rx_section")
    sheet.style_row(row, 2, 6, "rx_section")
    sheet.put(row + 1, 1, words["loyalty.stores_note"], "rx_subtitle")
    sheet.header(row + 2, 1, [words["group.store"], words["loyalty.question"], words["loyalty.level"],
                              words["loyalty.S"], words["loyalty.L"], words["loyalty.strict_retention"]])
    line = row + 3
    for (store, question, level), counts in by_store.iterrows():
        if store is MISSING:
            sheet.put(line, 1, words["group.missing.store"])
        else:  # text from the data
            sheet.text(line, 1, store)
        sheet.put(line, 2, words[f"role.{question}"])
        _retention_row(sheet, line, level_label(words, question, level), int(counts.S), int(counts.L),
                       first_column=3)
        line += 1


def write_survey_accounting(sheet: SheetWriter, row: int, survey) -> int:
    """The survey file's rows: read = used + each exclusion, with a check formula; returns the next free row."""
    words = sheet.words
    sheet.put(row, 1, sheet.word("survey.title", file=survey.source_name), "rx_section")
    sheet.style_row(row, 2, 3, "rx_section")
    sheet.header(row + 1, 1, ["", words["acct.count"], words["acct.examples"]])
    read_row = row + 2
    sheet.put(read_row, 1, words["survey.rows_read"], "rx_bold")
    sheet.put(read_row, 2, survey.rows_read, "rx_int")
    parts = [(words["survey.used"], survey.used, [])]
    parts += [(sheet.word(f"survey.excluded.{reason}", as_of=survey.as_of), excluded.count, excluded.example_rows)
              for reason, excluded in survey.exclusions.items()]
    first = read_row + 1
    for line, (label, count, examples) in enumerate(parts, start=first):
        sheet.put(line, 1, label)
        sheet.put(line, 2, count, "rx_int")
        _examples(sheet, line, examples)
    check = first + len(parts)
    total = sum(count for _, count, _ in parts)
    sheet.put(check, 1, words["survey.check"], "rx_bold")
    sheet.formula(check, 2, f"=SUM(B{first}:B{check - 1})", total, "rx_int")
    sheet.formula(check, 3, f'=IF(B{check}=B{read_row},"✓","✗")', "✓" if total == survey.rows_read else "✗",
                  "rx_bold")
    line = check + 1
    for question, bad in survey.not_on_scale.items():
        sheet.put(line, 1, words[f"survey.not_on_scale.{question}"])
        sheet.put(line, 2, bad.count, "rx_int")
        _examples(sheet, line, bad.example_rows)
        line += 1
    return line + 1


def _examples(sheet: SheetWriter, row: int, rows: list[int]) -> None:
    if rows:
        sheet.put(row, 3, ", ".join(map(str, rows))).alignment = Alignment(horizontal="left", indent=2)

