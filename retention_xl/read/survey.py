"""A survey file beside the sales: each customer's satisfaction or likelihood to recommend, with the day asked.

``--survey FILE`` is read by the sales file's readers (any format the sales can be: .xlsx/.xls, .csv,
.parquet, a folder or glob), with its header found the same way among its first rows: a customer id (or name),
a date, and a satisfaction or recommendation column (:mod:`retention_xl.loyalty_scales` gives the scales).
Its rows have their own account, ``rows_read = used + every exclusion``; the rules apply in this order:

1. ``malformed_line``, ``empty_row``, ``total_row``, ``missing_customer``, ``invalid_date``,
   ``date_out_of_range``, ``future_date`` -- as for a sales row (:mod:`retention_xl.read.cleaning`);
2. ``no_answer`` -- neither answer given, or neither on its scale;
3. ``unknown_customer`` -- the customer bought nothing in the sales (counted once the sales are known).

A used row whose other answer is on no scale keeps the answer that is, and is counted under ``not_on_scale``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..roles import CUSTOMER_ID, CUSTOMER_NAME, DATE, LOYALTY_ROLES, ROLE_OPTIONS
from . import cells
from . import dates as date_cells
from . import columns as cols
from .accounting import Exclusion
from .answers import Answers, counted, parse_answers
from .reader import read_raw_table

SURVEY_TABLE = cols.TableKind(
    lambda found: (CUSTOMER_ID in found or CUSTOMER_NAME in found) and DATE in found
    and any(role in found for role in LOYALTY_ROLES),
    "a customer id or name, the date of the answer, and a satisfaction or recommendation column (e.g. 满意度, "
    "评分, review_score, 推荐意愿, NPS)")
READ_REASONS = ("malformed_line", "empty_row", "total_row", "missing_customer", "invalid_date", "date_out_of_range",
                "future_date", "no_answer")
UNKNOWN_CUSTOMER = "unknown_customer"


@dataclass
class SurveyReading:
    """The account of every row of a survey file."""

    source_name: str
    sheet: str | None
    columns: dict[str, str]  # role -> header read
    rows_read: int
    exclusions: dict[str, Exclusion]
    not_on_scale: dict[str, Exclusion]
    as_of: str
    answers: pd.DataFrame = field(repr=False, default=None)  # the used rows' answers, before the sales are known

    @property
    def used(self) -> int:
        return self.rows_read - sum(excluded.count for excluded in self.exclusions.values())

    def balances(self) -> bool:
        return self.rows_read == self.used + sum(excluded.count for excluded in self.exclusions.values())

    def match(self, customer_ids: np.ndarray) -> None:
        """Count the answers of ids that bought nothing in the sales (``customer_ids``: every customer's)."""
        known = pd.Index(customer_ids).get_indexer(self.answers["customer_id"].to_numpy()) >= 0
        self.exclusions[UNKNOWN_CUSTOMER] = counted(~known, self.answers["row"].to_numpy())

    def as_dict(self) -> dict:
        """For ``--json``: the file, the columns read, and every row's account."""
        return {"file": self.source_name, "sheet": self.sheet, "columns": self.columns, "rows_read": self.rows_read,
                "as_of": self.as_of, "used": self.used,
                "excluded": {reason: {"count": e.count, "example_rows": e.example_rows}
                             for reason, e in self.exclusions.items()},
                "not_on_scale": {question: {"count": e.count, "example_rows": e.example_rows}
                                 for question, e in self.not_on_scale.items()}}


def read_survey(path: str | Path, *, columns: dict[str, str] | None = None, sheet: str | int | None = None,
                dayfirst: bool | None = None, encoding: str | None = None, as_of=None) -> Answers:
    """The answers of the survey file at ``path``, with its :class:`SurveyReading` as ``survey``.

    ``columns`` names the answer columns by hand (``{"satisfaction": "Q1", "recommend": "Q2"}``, header text or
    column letter); the customer and the date are found by their headers. Dates after ``as_of`` (default today)
    are in the future, as for sales.
    """
    path = Path(path)
    mapping = {role: str(header) for role, header in (columns or {}).items() if header not in (None, "")}
    token = cols.TABLE_KIND.set(SURVEY_TABLE)
    try:
        raw = read_raw_table(path, sheet, mapping, encoding, lambda message: None)
    except InputError as error:  # the same fault, said of the survey file
        raise InputError(f"survey file: {error.reason}", file=error.file, sheet=error.sheet, row=error.row,
                         column=error.column) from None
    finally:
        cols.TABLE_KIND.reset(token)
    frame, rows = raw.frame.reset_index(drop=True), np.asarray(raw.row_numbers)
    try:
        customers, dates, reasons = _row_reasons(frame, dayfirst, as_of)
    except date_cells.AmbiguousDates as error:
        raise InputError(f"survey file: {error}; say which with --dayfirst or --monthfirst", file=path,
                         sheet=raw.sheet, column=f'"{raw.column_map.header_of(DATE)}"') from None
    levels, bad = {}, {}
    for question in LOYALTY_ROLES:
        levels[question], bad[question] = (parse_answers(frame[question], question) if question in frame
                                           else (np.full(len(frame), np.nan), np.zeros(len(frame), dtype=bool)))
    reasons["no_answer"] = np.isnan(levels[LOYALTY_ROLES[0]]) & np.isnan(levels[LOYALTY_ROLES[1]])
    excluded = np.zeros(len(frame), dtype=bool)
    exclusions = {}
    for reason in READ_REASONS:
        hits = reasons.get(reason, np.zeros(len(frame), dtype=bool)) & ~excluded
        exclusions[reason] = counted(hits, rows)
        excluded |= hits
    if raw.malformed_count:
        exclusions["malformed_line"] = Exclusion(raw.malformed_count, raw.malformed_lines[:5])
    used = ~excluded
    answers = pd.DataFrame({"customer_id": customers[used].to_numpy(), "date": dates[used].to_numpy(),
                            "row": rows[used], "survey": True,
                            **{question: levels[question][used] for question in LOYALTY_ROLES}})
    reading = SurveyReading(
        source_name=path.name, sheet=raw.sheet,
        columns={role: raw.column_map.header_of(role) for role in raw.column_map.positions},
        rows_read=len(frame) + raw.malformed_count, exclusions=exclusions,
        not_on_scale={question: counted(bad[question] & used, rows) for question in LOYALTY_ROLES if question in frame},
        as_of=str(_day(as_of).date()), answers=answers)
    return Answers(answers, {}, reading)


def survey_beside_sales(survey: str | Path | None, columns: dict[str, str] | None, dayfirst: bool | None = None,
                        as_of=None) -> tuple[dict[str, str] | None, Answers | None]:
    """The sales' column mapping and the answers of the ``survey`` file (None: no survey, and ``columns`` as
    given). With a survey, the ``satisfaction`` and ``recommend`` entries of ``columns`` name its columns, not
    the sales file's.

    >>> survey_beside_sales(None, {"customer": "A", "satisfaction": "Q1"})
    ({'customer': 'A', 'satisfaction': 'Q1'}, None)
    """
    if survey is None:
        return columns, None
    answer_options = {ROLE_OPTIONS[role] for role in LOYALTY_ROLES}
    named = {option: header for option, header in (columns or {}).items() if option in answer_options}
    answers = read_survey(survey, columns=named, dayfirst=dayfirst, as_of=as_of)
    return {option: header for option, header in (columns or {}).items() if option not in answer_options}, answers


def _day(as_of) -> pd.Timestamp:
    return pd.Timestamp.now().normalize() if as_of is None else pd.Timestamp(as_of).normalize()


def _row_reasons(frame: pd.DataFrame, dayfirst, as_of) -> tuple[pd.Series, pd.Series, dict]:
    """Each row's customer and date by the sales' rules, and the rows each reading reason applies to."""
    key = CUSTOMER_ID if CUSTOMER_ID in frame else CUSTOMER_NAME
    customers = cells.customer_ids(frame[key])
    dates, _ = date_cells.dates(frame[DATE], dayfirst)
    no_date = dates.isna().to_numpy()
    date_like = np.zeros(len(frame), dtype=bool)
    if no_date.any():
        date_like[no_date] = date_cells.looks_like_date(frame[DATE][no_date]).to_numpy(dtype=bool)
    blank = np.ones(len(frame), dtype=bool)
    for column in frame.columns:
        text = frame[column].astype("string").str.strip()
        blank &= (frame[column].isna() | text.eq("").fillna(True)).to_numpy(dtype=bool)
    total = np.zeros(len(frame), dtype=bool)
    for column in (key, DATE):
        total |= cells.is_total_label(frame[column]).to_numpy(dtype=bool)
    end = _day(as_of) + pd.Timedelta(days=1)
    return customers, dates, {
        "empty_row": blank, "total_row": total, "missing_customer": customers.isna().to_numpy(),
        "invalid_date": no_date & ~date_like, "date_out_of_range": no_date & date_like,
        "future_date": ~no_date & (dates.to_numpy(dtype="datetime64[ns]") >= end.to_datetime64()),
    }
