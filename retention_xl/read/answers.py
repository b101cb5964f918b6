"""The customers' satisfaction and recommendation answers as the readers find them: in the sales sheet's answer
columns (a review score per order: the row's customer and date are the answer's) or in a survey file
(:mod:`retention_xl.read.survey`). Each cell is put on its scale (:mod:`retention_xl.loyalty_scales`); a filled
cell on no scale is counted under a named reason. The figures made of them are in
:mod:`retention_xl.figures.loyalty`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..loyalty_scales import recommend_level, satisfaction_level
from ..reasons import NOT_ON_SCALE
from ..roles import GROUP_ROLES, LOYALTY_ROLES, RECOMMEND, SATISFACTION
from .accounting import EXAMPLES_PER_REASON, Exclusion

LEVEL_OF = {SATISFACTION: satisfaction_level, RECOMMEND: recommend_level}


@dataclass
class Answers:
    """Every answer read: one row per answer with ``customer_id``, ``date``, ``satisfaction`` (1-5) and
    ``recommend`` (0-2) as floats (NaN where that question has no answer), ``row``, ``survey`` (True for an
    answer of the survey file) and, for the sales sheet's answers, the row's store, salesperson ... where known."""

    frame: pd.DataFrame
    columns: dict[str, str] = field(default_factory=dict)  # role -> header of the sales sheet's answer columns
    survey: object = None  # retention_xl.read.survey.SurveyReading, where a survey file was read too

    def with_survey(self, survey_answers: Answers) -> Answers:
        """These answers (the sales sheet's) and a survey file's together."""
        frame = pd.concat([self.frame, survey_answers.frame], ignore_index=True)
        return Answers(frame, self.columns, survey_answers.survey)

    def of_group(self, role: str, value) -> Answers:
        """The answers one group's workbook uses: the sales sheet's of that group's rows, and the survey's."""
        mine = self.frame["survey"].to_numpy(dtype=bool)
        if role in self.frame:
            labels = self.frame[role]
            mine = mine | (labels.isna() if pd.isna(value) else labels.eq(value)).to_numpy(dtype=bool)
        return replace(self, frame=self.frame[mine].reset_index(drop=True))


def parse_answers(column: pd.Series, role: str) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's level on the scale of ``role`` (NaN for none) and whether a filled cell is on no scale.

    The scale is applied once per distinct value.

    >>> levels, bad = parse_answers(pd.Series(["非常满意", 3, None, "", "great", 3.0]), "satisfaction")
    >>> levels.tolist(), bad.tolist()
    ([5.0, 3.0, nan, nan, nan, 3.0], [False, False, False, False, True, False])
    """
    codes, distinct = pd.factorize(column.astype(object), use_na_sentinel=True)
    level_of = LEVEL_OF[role]
    mapped = np.array([np.nan if (level := level_of(value)) is None else level for value in distinct], dtype=float)
    blank = np.array([isinstance(value, str) and not value.strip() for value in distinct], dtype=bool)
    levels = np.where(codes >= 0, mapped[np.maximum(codes, 0)] if len(distinct) else np.nan, np.nan)
    bad = (codes >= 0) & np.isnan(levels) & ~(blank[np.maximum(codes, 0)] if len(distinct) else False)
    return levels, bad


def counted(mask: np.ndarray, rows: np.ndarray) -> Exclusion:
    """The rows ``mask`` marks, as a count with example rows.

    >>> counted(np.array([True, False, True]), np.array([2, 3, 4]))
    Exclusion(count=2, example_rows=[2, 4])
    """
    return Exclusion(int(mask.sum()), [int(r) for r in rows[mask][:EXAMPLES_PER_REASON]])


def answers_in_sales(frame: pd.DataFrame, row_numbers: np.ndarray, transactions: pd.DataFrame, accounting,
                     columns: dict[str, str]) -> Answers | None:
    """The answers in the sales sheet's answer columns, on the rows used as purchases or returns (a row set aside
    is counted under its own reason, answer and all); None where the sheet has no answer column.

    A used row whose answer is on no scale keeps its sale, loses its answer and is counted under the
    adjustment ``satisfaction_not_on_scale`` or ``recommend_not_on_scale`` of ``accounting``.
    """
    present = [role for role in LOYALTY_ROLES if role in frame]
    if not present:
        return None
    positions = pd.Index(row_numbers).get_indexer(transactions["row"].to_numpy())
    rows = transactions["row"].to_numpy()
    data = {"customer_id": transactions["customer_id"].to_numpy(), "date": transactions["date"].to_numpy(),
            "row": rows, "survey": False}
    for role in LOYALTY_ROLES:
        data[role] = np.full(len(rows), np.nan)
        if role in present:
            levels, bad = parse_answers(frame[role], role)
            data[role] = levels[positions]
            accounting.adjustments[NOT_ON_SCALE[role]] = counted(bad[positions], rows)
    data |= {role: transactions[role].to_numpy() for role in GROUP_ROLES if role in transactions}
    answers = pd.DataFrame(data)
    answered = answers[list(LOYALTY_ROLES)].notna().any(axis=1)
    return Answers(answers[answered].reset_index(drop=True), {role: columns[role] for role in present})


def with_survey(provenance, survey: Answers | None):
    """``provenance`` (a :class:`retention_xl.read.sales.Provenance`) with a survey file's answers beside the
    sales' own; as it was without a survey."""
    if survey is None or provenance is None:
        return provenance
    own = provenance.answers
    return replace(provenance, answers=survey if own is None else own.with_survey(survey))
