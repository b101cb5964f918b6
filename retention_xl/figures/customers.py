"""One row per customer: RFM scores and segment, key account flag, lifecycle status, action.

Definitions, all as of the last day of the report month M:

* **R/F/M scores** (1-5) rank customers who ever bought by days since their last
  purchase (fewer is better), number of orders and net revenue. A customer's score
  is ``1 + floor(5 x w / n)``, where w counts the customers strictly worse on that
  measure and n all customers: the best fifth scores 5, and equal values always
  share a score.
* **RFM segment**: the first rule that matches, in this order --
  Champions (R>=4, F>=4, M>=4); Loyal (R>=3, F>=4); Can't Lose Them (R<=2, F>=4,
  M>=4); At Risk (R<=2, F>=3); Potential Loyalist (R>=4, F 2-3); New Customers
  (R=5, F=1); Promising (R=4, F=1); Need Attention (R=3, F=3); About to Sleep
  (R=3, F<=2); Hibernating (R=2, F<=2); Lost (R=1, F<=2). Every combination of
  scores falls in exactly one.
* **Usual gap**: a customer's average days between purchase days,
  (last purchase day - first purchase day) / (purchase days - 1), rounded to whole
  days; none for a customer with one purchase day. The **base's usual gap** is the
  median of the usual gaps of every customer who has one.
* **Lapsing**: out of the base (no purchase in the window: they left by the report's
  own definition), or silent (days since the last purchase) for longer than both the
  floor (``lapse_days``, default 30) and :data:`LAPSE_MULTIPLE` times the customer's
  usual gap (the base's usual gap for a one-time buyer). **Recent**: not lapsing and
  silent for no longer than the floor.
* **Honest segments**: the scores are ranks within the base, so where everybody buys
  often somebody still scores R=1, and where everybody buys seldom somebody silent for
  a year still scores R=4. The segments that claim a lapse (:data:`LAPSING_SEGMENTS`)
  are kept for lapsing customers, those that claim recency (:data:`RECENT_SEGMENTS`)
  for recent ones. A customer who is not lapsing but scored into a lapsing segment
  gets the segment of the same F and M with R raised to 3 where F>=3 (Can't Lose
  Them -> Loyal, At Risk -> Loyal or Need Attention) and to 4 where F<=2 (Potential
  Loyalist at F=2, Promising at F=1). A customer who is not recent but would land in
  a segment claiming recency gets R=3 instead (Need Attention at F=3, About to Sleep
  at F<=2). Last, a customer who is neither recent nor lapsing -- quiet for longer
  than the floor, but within their own rhythm -- and would still land in a lapsing
  segment is Between Purchases.
* **Key account**: the top 20% of the customers in the base at the end of M by net
  revenue in the window (rounded up to whole customers) -- the vital few of the
  80/20 rule. Where the report measures value by profit (``value="profit"``), profit
  takes the place of net revenue here, in the ranking and in the M score.
* **Lifecycle status**: *new* (first purchase in M); *active* (bought in the last
  three months, or in the window if it is shorter); *at risk* (in the base, but
  quiet for longer than that); *lapsed* (no purchase in the window).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import metrics
from ..table.contract import CustomerTable, month_number

SEGMENTS = (
    "champions", "loyal", "potential_loyalist", "new_customers", "promising", "need_attention",
    "between_purchases", "about_to_sleep", "cant_lose", "at_risk", "hibernating", "lost",
)
STATUSES = ("new", "active", "at_risk", "lapsed")
ACTIVE_MONTHS = 3
LAPSING_SEGMENTS = ("about_to_sleep", "cant_lose", "at_risk", "hibernating", "lost")
RECENT_SEGMENTS = ("potential_loyalist", "new_customers", "promising")  # their words say "recent customers"
DEFAULT_LAPSE_DAYS = 30
# Silence, in multiples of the customer's usual gap, from which they count as lapsing. Chosen from what the
# Online Retail and CDNOW data say about who comes back: see benchmarks/lapse.py and the README.
LAPSE_MULTIPLE = 3
# Beyond LAPSE_MULTIPLE gaps, how many percentage points more of the silent customers never bought again than
# within it, least and most over the README's cutoffs of those data.
LAPSE_STEP_POINTS = (12, 21)

COLUMNS = (
    "customer_id", "customer_name", "first_purchase", "last_purchase", "orders", "revenue", "window_orders",
    "window_revenue", "in_base", "days_since_last", "usual_gap", "r_score", "f_score", "m_score", "segment",
    "key_account", "status", "action",
)
PROFIT_COLUMNS = ("profit", "window_profit")  # after window_revenue, where the data carry profit or cost


def columns_of(frame: pd.DataFrame) -> list[str]:
    """The customer-table columns ``frame`` has, in the sheet's order."""
    at = COLUMNS.index("window_revenue") + 1
    return [c for c in COLUMNS[:at] + PROFIT_COLUMNS + COLUMNS[at:] if c in frame]


def scores(values: np.ndarray) -> np.ndarray:
    """1-5 scores where higher values are better; ties share a score.

    >>> scores(np.array([10, 20, 30, 40, 50])).tolist(), scores(np.array([1, 1, 1, 2])).tolist()
    ([1, 2, 3, 4, 5], [1, 1, 1, 4])
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    worse = np.searchsorted(np.sort(values), values, side="left")
    return 1 + (5 * worse) // values.size


def segments(r: np.ndarray, f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The RFM segment of each (R, F, M) score triple; the first matching rule wins.

    >>> segments(np.array([5, 1, 1, 5]), np.array([5, 5, 5, 1]), np.array([5, 5, 1, 1])).tolist()
    ['champions', 'cant_lose', 'at_risk', 'new_customers']
    """
    rules = [
        ("champions", (r >= 4) & (f >= 4) & (m >= 4)),
        ("loyal", (r >= 3) & (f >= 4)),
        ("cant_lose", (r <= 2) & (f >= 4) & (m >= 4)),
        ("at_risk", (r <= 2) & (f >= 3)),
        ("potential_loyalist", (r >= 4) & (f >= 2) & (f <= 3)),
        ("new_customers", (r == 5) & (f == 1)),
        ("promising", (r == 4) & (f == 1)),
        ("need_attention", (r == 3) & (f == 3)),
        ("about_to_sleep", (r == 3) & (f <= 2)),
        ("hibernating", (r == 2) & (f <= 2)),
        ("lost", (r == 1) & (f <= 2)),
    ]
    return np.select([condition for _, condition in rules], [name for name, _ in rules], default="")


def honest_segments(r: np.ndarray, f: np.ndarray, m: np.ndarray, lapse: np.ndarray, recent: np.ndarray) -> np.ndarray:
    """The segment of each (R, F, M) that claims a lapse only of a lapsing customer (``lapse``) and recency only of
    a recent one (``recent``); the others move as the module's docstring says.

    >>> r, f, m = np.array([1, 1, 5, 5, 1, 5]), np.array([4, 2, 2, 3, 2, 1]), np.array([1, 1, 1, 1, 1, 1])
    >>> lapse, recent = np.array([0, 0, 0, 1, 1, 0], bool), np.array([1, 1, 0, 0, 0, 0], bool)
    >>> honest_segments(r, f, m, lapse, recent).tolist()
    ['loyal', 'potential_loyalist', 'between_purchases', 'need_attention', 'lost', 'between_purchases']
    """
    named = segments(r, f, m)
    claims_lapse = np.isin(named, LAPSING_SEGMENTS) & ~lapse
    r = np.where(claims_lapse, np.maximum(r, np.where(f >= 3, 3, 4)), r)
    _rename(named, claims_lapse, r, f, m)
    claims_recency = np.isin(named, RECENT_SEGMENTS) & ~recent
    r = np.where(claims_recency, 3, r)
    _rename(named, claims_recency, r, f, m)
    return np.where(np.isin(named, LAPSING_SEGMENTS) & ~lapse, "between_purchases", named)


def _rename(named: np.ndarray, moved: np.ndarray, r: np.ndarray, f: np.ndarray, m: np.ndarray) -> None:
    """Give the rows ``moved`` (whose R score changed) the segment of their new scores, in place: the rules
    run over those rows only, not over every customer again."""
    named[moved] = segments(r[moved], f[moved], m[moved])


def usual_gaps(first_day: np.ndarray, last_day: np.ndarray, purchase_days: np.ndarray) -> np.ndarray:
    """Each customer's average days between purchase days, rounded to whole days (halves up); NaN for a customer
    with one purchase day.

    >>> usual_gaps(np.array([0, 10, 5]), np.array([30, 10, 8]), np.array([4, 1, 3])).tolist()
    [10.0, nan, 2.0]
    """
    repeat = purchase_days >= 2
    gaps = np.full(len(purchase_days), np.nan)
    gaps[repeat] = (last_day[repeat] - first_day[repeat]) / (purchase_days[repeat] - 1)
    return np.floor(gaps + 0.5)


def base_gap(gaps: np.ndarray) -> float:
    """The base's usual gap: the median of the customers' usual gaps (NaN: none), rounded to whole days (halves up).

    >>> base_gap(np.array([7.0, np.nan, 9.0, 30.0])), base_gap(np.array([np.nan]))
    (9.0, nan)
    """
    known = gaps[~np.isnan(gaps)]
    return float(np.floor(np.median(known) + 0.5)) if known.size else math.nan


def lapsing(customers: pd.DataFrame, lapse_days: int = DEFAULT_LAPSE_DAYS) -> np.ndarray:
    """Per row of a customer table: out of the base, or silent for longer than ``lapse_days`` and than
    :data:`LAPSE_MULTIPLE` times the customer's usual gap (the base's usual gap for a one-time buyer).

    >>> people = pd.DataFrame({"days_since_last": [3, 40, 40, 40, 100, 200], "in_base": [1, 1, 1, 1, 1, 0],
    ...                        "usual_gap": [1.0, 7.0, 20.0, np.nan, np.nan, 90.0]})
    >>> lapsing(people).tolist()  # the base's usual gap is 14 days: the one-time buyers need over 42 days
    [False, True, False, False, True, True]
    """
    gaps = customers["usual_gap"].to_numpy(dtype=float)
    # Where nobody has bought twice there is no usual gap to go by: the floor alone decides.
    personal = np.nan_to_num(LAPSE_MULTIPLE * np.where(np.isnan(gaps), base_gap(gaps), gaps), nan=0.0)
    silence = customers["days_since_last"].to_numpy()
    left = ~customers["in_base"].to_numpy(dtype=bool)
    return left | ((silence > lapse_days) & (silence > personal))


def recent(customers: pd.DataFrame, lapse: np.ndarray, lapse_days: int = DEFAULT_LAPSE_DAYS) -> np.ndarray:
    """Per row of a customer table: not lapsing (``lapse``) and silent for no longer than ``lapse_days``: the
    customers whom a segment may call recent."""
    return ~lapse & (customers["days_since_last"].to_numpy() <= lapse_days)


def _ranking(in_base: np.ndarray, window_value: np.ndarray, value: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Row order: customers in the base first, then by window value and value, both descending; ties by id.

    The numbers are sorted first and only the customers they leave tied are ranked by id: comparing
    a million ids as text took longer than everything else in the table.

    >>> _ranking(np.array([False, True, True, True]), np.array([0.0, 5.0, 5.0, 9.0]), np.array([1.0, 7.0, 7.0, 9.0]),
    ...          np.array(["d", "c", "b", "a"], dtype=object)).tolist()
    [3, 2, 1, 0]
    """
    order = np.lexsort((-value, -window_value, ~in_base))
    keys = (in_base[order], window_value[order], value[order])
    same = np.ones(max(len(order) - 1, 0), dtype=bool)
    for key in keys:
        same &= key[1:] == key[:-1]
    if same.any():
        tied = np.r_[same, False] | np.r_[False, same]
        run = np.cumsum(np.r_[True, ~same])[tied]
        rank = pd.factorize(ids[order[tied]], sort=True)[0]
        order[tied] = order[tied][np.lexsort((rank, run))]
    return order


def _segmented(frame: pd.DataFrame, value: str, top_fraction: float, lapse_days: int) -> pd.DataFrame:
    """The customer table ``frame`` with each customer's RFM scores, segment, status, key-account flag and action,
    best prospects first (:func:`_ranking`). Lapse is claimed only of lapsing customers (:func:`lapsing`: the
    rule is not a column of the table; the actions apply it again to the table's columns), recency only of
    recent ones."""
    frame["r_score"] = scores(-frame["days_since_last"].to_numpy())
    frame["f_score"] = scores(frame["orders"].to_numpy())
    frame["m_score"] = scores(frame[value].to_numpy())
    lapse = lapsing(frame, lapse_days)
    r, f, m = (frame[f"{score}_score"].to_numpy() for score in "rfm")
    frame["segment"] = honest_segments(r, f, m, lapse, recent(frame, lapse, lapse_days))
    frame["status"] = np.select(
        [frame["new"], frame["recent"], frame["in_base"]], ["new", "active", "at_risk"], default="lapsed"
    )
    order = _ranking(frame["in_base"].to_numpy(), frame[f"window_{value}"].to_numpy(), frame[value].to_numpy(),
                     frame["customer_id"].to_numpy())
    frame, lapse = frame.take(order).reset_index(drop=True), lapse[order]
    key_count = math.ceil(top_fraction * int(frame["in_base"].sum()) - 1e-9)
    frame["key_account"] = np.arange(len(frame)) < key_count
    key_quiet = frame["key_account"] & (frame["status"] == "at_risk") & lapse
    frame["action"] = np.where(key_quiet, "key_quiet", frame["segment"])
    return frame


def customer_table(
    table: CustomerTable,
    month: pd.Period,
    active_window: int,
    top_fraction: float = metrics.DEFAULT_TOP_FRACTION,
    value: str = "revenue",
    lapse_days: int = DEFAULT_LAPSE_DAYS,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Every customer who bought by the end of ``month``, best prospects first.

    Sorted with the customers in the base first, by window revenue (``value="profit"``:
    window profit), then the others by revenue (profit); ties by customer id. Only
    customers silent for longer than ``lapse_days`` can be named or acted on as lapsing.
    Days since the last purchase count to ``as_of``, a day of ``month`` (default: its last
    day) for a table that holds nothing after that day.
    """
    m = month_number(month)
    w = active_window
    people = table.customers
    first_day = people["first_purchase_day"].to_numpy()
    as_of = int(((month.end_time if as_of is None else pd.Timestamp(as_of)).normalize()
                 - pd.Timestamp("1970-01-01")).days)
    window = m - w + 1
    questions = [("orders", -1, m), ("net", -1, m), ("orders", window, m), ("net", window, m),
                 ("purchase_days", -1, m)]
    sums = table.sums(questions + ([("profit", -1, m), ("profit", window, m)] if table.has_profit else []))
    last_day = table.last_purchase_day()
    frame = pd.DataFrame(
        {
            "customer_id": people["customer_id"].to_numpy(),
            "customer_name": people["customer_name"].to_numpy(),
            "first_purchase": first_day,
            "last_purchase": last_day,
            "orders": sums[0].astype(np.int64),
            # Rounded to the cent before anything ranks them, so sums added in another order tie alike.
            "revenue": np.round(sums[1], 2),
            "window_orders": sums[2].astype(np.int64),
            "window_revenue": np.round(sums[3], 2),
            "in_base": table.active_in(m - w + 1, m),
            "recent": table.active_in(m - min(ACTIVE_MONTHS, w) + 1, m),
            "new": table.first_month == m,
            "usual_gap": usual_gaps(first_day, last_day, sums[4]),
        }
    )
    if table.has_profit:
        frame["profit"] = np.round(sums[5], 2)
        frame["window_profit"] = np.round(sums[6], 2)
    frame = frame[first_day >= 0].reset_index(drop=True)

    frame["days_since_last"] = as_of - frame["last_purchase"]
    frame = _segmented(frame, value, top_fraction, lapse_days)

    epoch = np.datetime64("1970-01-01", "D")
    for column in ("first_purchase", "last_purchase"):
        frame[column] = (epoch + frame[column].to_numpy().astype("timedelta64[D]")).astype("datetime64[ns]")
    return frame[columns_of(frame)]
