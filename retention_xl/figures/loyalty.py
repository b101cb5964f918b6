"""The seed's three loyalty measures side by side: overall satisfaction, the likelihood to recommend, and beside
them the repeat-purchase rate the report already has; and what the answers say about who left.

Answers come from the sales sheet (a satisfaction or recommendation column, e.g. a review score per order: the
row's customer and date are the answer's) or from a survey file, as the reader hands them over
(:class:`retention_xl.read.answers.Answers`). The scales are those of :mod:`retention_xl.loyalty_scales`.
All figures of a month M use the **answer window**: from the first day of M - w (the start of the window of the
base at the month's start) to the last day of M, w being the active window. It covers every customer of S and
E: a customer lost this month bought last in M - w, and answered then if at all.

* A customer's **latest answer** to each question is the one on the latest date in the answer window (the last
  row of the file among answers of the same day); the two questions are taken apart.
* **Satisfaction**: customers per level and the **satisfaction index**, the mean level on 1-5.
  **Recommendation**: customers per level and the **NPS**, share of promoters minus share of detractors.
* **Retention by answer**: per level of each question, the customers of S whose latest answer it is, how many of
  them were lost (L) and the strict retention (S - L) / S; customers without an answer form a row of their own,
  so the rows add up to the report's S and L. Per store, with the store's own S and L (a customer is active at a
  store if they bought there), and the customer's latest answer wherever it was given.
* **Actions**: key accounts whose latest satisfaction is 不满意 or worse get a personal call, first on the
  Actions sheet; key accounts who are promoters get a referral invitation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..loyalty_scales import DETRACTOR, PROMOTER, RECOMMEND_LEVELS, SATISFACTION_LEVELS, UNHAPPY_FROM
from ..roles import LOYALTY_ROLES, RECOMMEND, SATISFACTION, STORE
from ..table.contract import month_number
from .month import month_figures
from .actions import action_for
from .groups import MISSING

LEVELS = {SATISFACTION: SATISFACTION_LEVELS, RECOMMEND: RECOMMEND_LEVELS}
RECOMMEND_KEYS = {PROMOTER: "promoter", 1: "passive", DETRACTOR: "detractor"}  # --json's names of the levels
NO_ANSWER = "none"


@dataclass
class MonthLoyalty:
    """One month's answers: customers per level of each question, with the repeat-purchase rate beside them."""

    month: str
    satisfaction: dict[int, int]
    recommend: dict[int, int]
    repeat_rate: float | None = None
    repeat_tier: str | None = None

    @property
    def satisfaction_answered(self) -> int:
        return sum(self.satisfaction.values())

    @property
    def recommend_answered(self) -> int:
        return sum(self.recommend.values())

    @property
    def satisfaction_index(self) -> float | None:
        """The mean satisfaction on 1-5 of the customers answering; None without one."""
        answered = self.satisfaction_answered
        return sum(level * count for level, count in self.satisfaction.items()) / answered if answered else None

    @property
    def nps(self) -> float | None:
        """Share of promoters minus share of detractors, as a fraction; None without an answer."""
        answered = self.recommend_answered
        return (self.recommend[PROMOTER] - self.recommend[DETRACTOR]) / answered if answered else None

    def as_dict(self) -> dict:
        """The month for ``--json``: each figure with the number of customers answering."""
        return {
            "month": self.month,
            "satisfaction": {"customers": self.satisfaction_answered,
                             "levels": {str(level): self.satisfaction[level] for level in SATISFACTION_LEVELS}},
            "satisfaction_index": {"value": self.satisfaction_index, "customers": self.satisfaction_answered},
            "recommend": {"customers": self.recommend_answered,
                          "levels": {RECOMMEND_KEYS[level]: self.recommend[level] for level in RECOMMEND_LEVELS}},
            "nps": {"value": self.nps, "customers": self.recommend_answered},
            "repeat_rate": self.repeat_rate,
            "repeat_tier": self.repeat_tier,
        }


@dataclass
class Loyalty:
    """The report's loyalty figures: the month, the month before, the trend, retention by answer (the chain's
    and, where the sales have stores, each store's) and each customer's latest answers."""

    current: MonthLoyalty
    previous: MonthLoyalty | None
    trend: list[MonthLoyalty]
    by_answer: pd.DataFrame  # index (question, level or "none"); columns S, L
    by_store: pd.DataFrame | None  # index (store, question, level or "none"); columns S, L
    answer_window: tuple[pd.Timestamp, pd.Timestamp]
    latest: pd.DataFrame  # per customer id: satisfaction and recommend levels (NaN: no answer in the window)
    answers: object  # the answers read (retention_xl.read.answers.Answers)

    def asked(self, question: str) -> bool:
        """Whether any answer to ``question`` was read (the Loyalty sheet leaves a question nobody was asked out)."""
        return bool(self.answers.frame[question].notna().any())


def answer_window(month: pd.Period, window: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last day of the answers a month's figures use: from the start of M - w to the end of M.

    >>> [f"{day:%Y-%m-%d}" for day in answer_window(pd.Period("2024-03", "M"), 3)]
    ['2023-12-01', '2024-03-31']
    """
    return (month - window).start_time, month.end_time.normalize()


def latest_answers(frame: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """Per customer id (the index), the level of their latest answer to each question dated ``first`` to ``last``
    (days); NaN where they gave none.

    >>> answers = pd.DataFrame({"customer_id": ["a", "a", "b", "a"], "row": [2, 3, 4, 5],
    ...     "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03", "2024-02-01"]),
    ...     "satisfaction": [5.0, 2.0, np.nan, 4.0], "recommend": [2.0, np.nan, 0.0, np.nan]})
    >>> latest_answers(answers, pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-29")).to_dict("index")
    {'a': {'satisfaction': 4.0, 'recommend': 2.0}, 'b': {'satisfaction': nan, 'recommend': 0.0}}
    """
    days = frame["date"].dt.normalize()
    inside = frame[(days >= first) & (days <= last)].sort_values(["date", "row"], kind="stable")
    latest = {question: inside.dropna(subset=[question]).groupby("customer_id", sort=True)[question].last()
              for question in LOYALTY_ROLES}
    return pd.DataFrame(latest).rename_axis("customer_id")


def month_loyalty(frame: pd.DataFrame, month: pd.Period, window: int) -> MonthLoyalty:
    """The customers per level of each question in ``month``'s answer window."""
    latest = latest_answers(frame, *answer_window(month, window))
    return MonthLoyalty(str(month), *(_per_level(latest[question], question) for question in LOYALTY_ROLES))


def _per_level(levels: pd.Series, question: str) -> dict[int, int]:
    counts = levels.dropna().astype(int).value_counts()
    return {level: int(counts.get(level, 0)) for level in LEVELS[question]}


def retention_by_answer(latest: pd.DataFrame, ids: np.ndarray, start: np.ndarray, end: np.ndarray) -> pd.DataFrame:
    """Per question and level (``"none"``: no answer), the customers of S (``start``) and how many were lost (in
    S, not in ``end``); ``ids`` names the customers of the two masks.

    >>> latest = pd.DataFrame({"satisfaction": [1.0, 5.0], "recommend": [np.nan, 2.0]}, index=["a", "b"])
    >>> table = retention_by_answer(latest, np.array(["a", "b", "c"]), np.array([1, 1, 1], bool), np.array([0, 1, 1], bool))
    >>> table.loc["satisfaction"].loc[[1, 5, "none"]].to_dict("index")
    {1: {'S': 1, 'L': 1}, 5: {'S': 1, 'L': 0}, 'none': {'S': 1, 'L': 0}}
    """
    rows = []
    at = latest.reindex(ids[start])
    lost = ~end[start]
    for question in LOYALTY_ROLES:
        levels = at[question].to_numpy()
        for level in LEVELS[question]:
            mine = levels == level
            rows.append((question, level, int(mine.sum()), int((mine & lost).sum())))
        none = np.isnan(levels)
        rows.append((question, NO_ANSWER, int(none.sum()), int((none & lost).sum())))
    return pd.DataFrame(rows, columns=["question", "level", "S", "L"]).set_index(["question", "level"])


def store_retention_by_answer(transactions: pd.DataFrame, latest: pd.DataFrame, month: pd.Period,
                              window: int) -> pd.DataFrame:
    """:func:`retention_by_answer` per store, each on the store's own S and L; the index's first level holds the
    store (:data:`retention_xl.figures.groups.MISSING`: the sales without one)."""
    m = month_number(month)
    bought = transactions[transactions["amount"] > 0]
    months = (bought["date"].dt.year * 12 + bought["date"].dt.month - 1).to_numpy()
    near = (months >= m - window) & (months <= m)
    activity = pd.DataFrame({"store": bought[STORE].to_numpy()[near], "customer_id": bought["customer_id"].to_numpy()[near],
                             "start": months[near] <= m - 1, "end": months[near] >= m - window + 1})
    per_customer = activity.groupby(["store", "customer_id"], dropna=False, sort=True, observed=True)[["start", "end"]].any()
    parts = {}
    for store, part in per_customer.groupby(level=0, dropna=False, sort=True):
        ids = part.index.get_level_values(1).to_numpy()
        parts[MISSING if pd.isna(store) else store] = retention_by_answer(latest, ids, part["start"].to_numpy(),
                                                                        part["end"].to_numpy())
    return pd.concat(parts, names=["store"]) if parts else None


def measure_loyalty(answers, table, customers: pd.DataFrame, month: pd.Period, window: int,
                    trend_months: list[str], detail: dict, transactions: pd.DataFrame | None = None) -> Loyalty | None:
    """The report's loyalty figures from ``answers`` and the customer x month ``table``; None where no customer
    of the table answered. ``trend_months`` are the months of the report's trend (the month before among them,
    where the report has it); ``detail`` the options of the repeat-purchase rate. ``transactions`` (rows in memory,
    with a store column) give each store's retention by answer. Answers of ids without a purchase in the table are
    left out."""
    known = pd.Index(table.customers["customer_id"].to_numpy())
    frame = answers.frame[known.get_indexer(answers.frame["customer_id"].to_numpy()) >= 0]
    if frame.empty:
        return None
    m = month_number(month)
    first, last = answer_window(month, window)
    latest = latest_answers(frame, first, last)
    ids = table.customers["customer_id"].to_numpy()
    by_answer = retention_by_answer(latest, ids, table.active_in(m - window, m - 1), table.active_in(m - window + 1, m))
    by_store = None
    if transactions is not None and STORE in transactions:
        by_store = store_retention_by_answer(transactions, latest, month, window)

    def beside_repeat(text: str) -> MonthLoyalty:
        period = pd.Period(text, "M")
        figures = month_figures(table, period, window, **detail)
        return replace(month_loyalty(frame, period, window), repeat_rate=figures.repeat_rate,
                       repeat_tier=figures.repeat_tier)

    trend = [beside_repeat(text) for text in dict.fromkeys([*trend_months, str(month)])]
    previous = next((t for t in trend if t.month == str(month - 1)), None)
    return Loyalty(trend[-1], previous, trend, by_answer, by_store, (first, last),
                   latest.reindex(customers["customer_id"].to_numpy()), answers)


def with_latest_answers(customers: pd.DataFrame, loyalty: Loyalty | None) -> pd.DataFrame:
    """The customer table with each customer's latest answers (``satisfaction``, ``recommend``; NaN: none)."""
    if loyalty is None:
        return customers
    return customers.assign(**{question: loyalty.latest[question].to_numpy() for question in LOYALTY_ROLES})


def answers_left_out(report) -> bool:
    """Whether the sales have answer columns that this report could not read: a DuckDB or Spark scan reads no
    answers (the loyalty figures need the rows in memory)."""
    sales = report.sales
    read = sales.answers.columns if sales is not None and sales.answers is not None else {}
    return sales is not None and any(role in sales.columns and role not in read for role in LOYALTY_ROLES)


def add_loyalty(report, table, transactions: pd.DataFrame | None = None) -> None:
    """Give ``report`` (a :class:`retention_xl.figures.result.RetentionReport`) its loyalty figures, the customers' latest
    answers and the loyalty actions, where its sales carry answers; ``table`` is its customer x month table and
    ``transactions`` its rows where they are in memory. A survey's answers from ids that bought nothing in the
    whole sales are counted in the survey's accounting (not in one group's workbook, whose sales are a part)."""
    answers = report.sales.answers if report.sales is not None else None
    if answers is None:
        return
    if answers.survey is not None and report.sales.group is None:
        answers.survey.match(table.customers["customer_id"].to_numpy())
    options = report.options
    detail = {"high": options.high, "low": options.low, "top_fraction": options.top_fraction, "value": options.value}
    report.loyalty = measure_loyalty(answers, table, report.customers, report.month, options.active_window,
                                     [figures.month for figures in report.trend], detail, transactions)
    if report.loyalty is None:
        return
    report.customers = with_latest_answers(report.customers, report.loyalty)
    first, last = loyalty_actions(report.customers, options.value)
    report.actions = first + report.actions + last


def loyalty_actions(customers: pd.DataFrame, value: str = "revenue") -> tuple[list, list]:
    """(actions for the top of the list, actions for after the others): key accounts whose latest satisfaction is
    不满意 or worse, for a personal call; key accounts who are promoters, for a referral invitation."""
    if SATISFACTION not in customers:
        return [], []
    key, window_value = customers["key_account"], f"window_{value}"
    stake = "who.revenue" if value == "revenue" else "who.profit"
    unhappy = customers[key & (customers[SATISFACTION] <= UNHAPPY_FROM)]
    promoters = customers[key & (customers[RECOMMEND] == PROMOTER)]

    def action(name: str, members: pd.DataFrame, labels: list[str]):
        figures = {"count": len(members), "revenue": float(members[window_value].sum()), "measure": value,
                   "key_accounts": int(key.sum())}
        return [action_for(name, members, window_value, figures, labels, stake_label=stake)] if len(members) else []

    return (action("unhappy_key", unhappy, ["loyalty.satisfaction.2", "loyalty.satisfaction.1"]),
            action("promoter_key", promoters, ["loyalty.recommend.2"]))


def loyalty_line(report) -> str | None:
    """What the command prints of the loyalty figures: why the answers in the sales were left out, where they
    were, and the three measures of the month; None where there is neither."""
    note = ("Note: the sales were scanned by DuckDB or Spark, so their satisfaction and recommendation columns are "
            "left out: the loyalty figures need the in-memory reader (add --engine pandas)."
            if answers_left_out(report) else None)
    if report.loyalty is None:
        return note
    month = report.loyalty.current
    index = "—" if month.satisfaction_index is None else f"{month.satisfaction_index:.2f}"
    nps = "—" if month.nps is None else f"{month.nps:+.1%}"
    repeat = "—" if month.repeat_rate is None else f"{month.repeat_rate:.1%}"
    figures = (f"loyalty: satisfaction index {index} ({month.satisfaction_answered:,} answering), NPS {nps} "
               f"({month.recommend_answered:,} answering), repeat-purchase rate {repeat}")
    return figures if note is None else f"{note}\n{figures}"
