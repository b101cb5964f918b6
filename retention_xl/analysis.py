"""The month's retention figures, trend and cohorts, computed on clean transactions.

Definitions (the report's *Definitions* sheet and the README state the same):

* The period is a calendar month M. Only purchases (positive amounts) make a
  customer active; returns only reduce revenue.
* A customer is **in the base** at a moment if they bought in the ``active_window``
  calendar months before it. S = base at the start of M (bought in M-w .. M-1),
  E = base at the end of M (bought in M-w+1 .. M).
* N = customers whose first purchase ever is in M; R (reactivated) = customers
  buying in M who were neither in S nor new; L (lost) = customers in S not in E.
  Always S - L + N + R = E.
* Retention = (E - N) / S; strict retention = (S - L) / S.
* Transaction growth = net revenue in M of the customers in S, against their net
  revenue in M-1.
* Repeat-purchase rate = share of the customers in E with two or more orders in
  the window (orders = distinct order ids, or distinct purchase days without them).
* Pareto share = share of the window's net revenue of the customers in E held by
  the top 20% of them (net revenue below 0 counts as 0).
* Revenue = net sales in M (purchases minus returns); orders = distinct purchase
  orders in M; average order value = purchases in M / orders.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from . import metrics


def month_number(period: pd.Period) -> int:
    """Months since year 0, so that month arithmetic is integer arithmetic."""
    return period.year * 12 + period.month - 1


def month_period(number: int) -> pd.Period:
    return pd.Period(year=number // 12, month=number % 12 + 1, freq="M")


@dataclass
class Activity:
    """Transactions reduced to integer arrays, shared by every computation of one report."""

    customer_ids: np.ndarray       # code -> id
    customer: np.ndarray           # per transaction: customer code
    month: np.ndarray              # per transaction: month number
    day: np.ndarray                # per transaction: day number (days since epoch)
    amount: np.ndarray             # per transaction
    is_purchase: np.ndarray
    first_month: np.ndarray        # per customer: month of first purchase (-1 if none)
    order_customer: np.ndarray     # per distinct purchase order: its customer
    order_month: np.ndarray        # per distinct purchase order: the month it was placed in

    @property
    def customers(self) -> int:
        return len(self.customer_ids)

    def active_in(self, first: int, last: int) -> np.ndarray:
        """Boolean per customer: bought in months ``first`` .. ``last``."""
        mask = self.is_purchase & (self.month >= first) & (self.month <= last)
        active = np.zeros(self.customers, dtype=bool)
        active[self.customer[mask]] = True
        return active

    def revenue_in(self, first: int, last: int) -> np.ndarray:
        """Net revenue per customer in months ``first`` .. ``last``."""
        mask = (self.month >= first) & (self.month <= last)
        return np.bincount(self.customer[mask], weights=self.amount[mask], minlength=self.customers)

    def orders_in(self, first: int, last: int) -> np.ndarray:
        """Distinct purchase orders per customer in months ``first`` .. ``last``."""
        mask = (self.order_month >= first) & (self.order_month <= last)
        return np.bincount(self.order_customer[mask], minlength=self.customers)


PRESENCE_LIMIT = 100_000_000  # cells of a boolean presence grid; beyond it, hash instead


def _distinct_pairs(first: np.ndarray, second: np.ndarray, second_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (first, second) pairs of two non-negative integer arrays, second < ``second_size``."""
    if first.size == 0:
        return first, second
    keys = first.astype(np.int64) * second_size + second
    cells = (int(first.max()) + 1) * second_size
    if cells <= PRESENCE_LIMIT:  # a scatter into a grid is linear; hashing ten million keys is not cheap
        present = np.zeros(cells, dtype=bool)
        present[keys] = True
        keys = np.flatnonzero(present)
    else:
        keys = np.unique(keys)
    return keys // second_size, keys % second_size


HASH_CHUNK = 1_000_000
_MIX = np.uint64(0x9E3779B97F4A7C15)  # spreads customer codes over the 64-bit key space


def _order_hashes(orders: pd.Series, day: np.ndarray) -> np.ndarray:
    """A 64-bit key per row for its order: a hash of the order id, or of the day where it has none.

    Hashing in chunks needs no table of every distinct order id, which for ten
    million order lines would take a gigabyte. Two different orders share a key
    with a probability of about one in a million even at that size.
    """
    keys = np.empty(len(orders), dtype=np.uint64)
    for start in range(0, len(orders), HASH_CHUNK):
        chunk = orders.iloc[start:start + HASH_CHUNK]
        known = chunk.notna().to_numpy()
        part = np.empty(len(chunk), dtype=np.uint64)
        part[known] = pd.util.hash_pandas_object(chunk[known].astype(str), index=False).to_numpy()
        part[~known] = (day[start:start + HASH_CHUNK][~known].astype(np.uint64) + np.uint64(1)) * _MIX
        keys[start:start + HASH_CHUNK] = part
    return keys


def _orders(customer: np.ndarray, order: np.ndarray, month: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(customer, month) of each distinct (customer, order) pair, the month being where it first appears."""
    pairs = order ^ (customer.astype(np.uint64) * _MIX)
    _, first = np.unique(pairs, return_index=True)
    return customer[first], month[first]


def build_activity(transactions: pd.DataFrame, until: pd.Period) -> Activity:
    """Index the transactions up to the end of month ``until`` (later ones are ignored).

    Columns are reduced to arrays and filtered one at a time, so ten million rows are
    never copied as a whole.
    """
    dates = transactions["date"].to_numpy(dtype="datetime64[ns]")
    keep = dates < np.datetime64((until + 1).start_time.to_datetime64(), "ns")
    everything = bool(keep.all())

    def kept(values: np.ndarray) -> np.ndarray:
        return values if everything else values[keep]

    codes, ids = pd.factorize(transactions["customer_id"], sort=False)
    codes = kept(codes.astype(np.int32))
    dates = kept(dates)
    month = (dates.astype("datetime64[M]").astype(np.int64) + 1970 * 12).astype(np.int32)
    all_days = transactions["date"].to_numpy(dtype="datetime64[D]").astype(np.int32)
    day = kept(all_days)
    del dates
    amount = kept(transactions["amount"].to_numpy(dtype=float))
    is_purchase = amount > 0
    # An order is its order id; a purchase without one counts as one order per customer and day.
    order_keys = kept(_order_hashes(transactions["order_id"], all_days))
    del all_days
    order_customer, order_month = _orders(codes[is_purchase], order_keys[is_purchase], month[is_purchase])
    del order_keys
    first_month = np.full(len(ids), np.iinfo(np.int32).max, dtype=np.int32)
    np.minimum.at(first_month, codes[is_purchase], month[is_purchase])
    first_month[first_month == np.iinfo(np.int32).max] = -1
    return Activity(
        customer_ids=np.asarray(ids, dtype=object),
        customer=codes,
        month=month,
        day=day,
        amount=amount,
        is_purchase=is_purchase,
        first_month=first_month,
        order_customer=order_customer,
        order_month=order_month,
    )


@dataclass
class MonthFigures:
    """Every figure of one month, as the report and ``--json`` give them."""

    month: str
    active_window: int
    S: int
    N: int
    E: int
    R: int
    L: int
    retention: float | None
    strict_retention: float | None
    existing_revenue: float
    existing_revenue_previous: float
    txn_growth: float | None
    repeat_rate: float | None
    repeat_tier: str | None
    pareto_share: float | None
    revenue: float
    purchases: float
    orders: int
    average_order_value: float | None
    buyers: int

    def as_dict(self) -> dict:
        return asdict(self)


def _safe(compute) -> float | None:
    try:
        value = compute()
    except (ZeroDivisionError, ValueError):
        return None
    return None if isinstance(value, float) and math.isnan(value) else value


def month_figures(
    activity: Activity,
    month: pd.Period,
    active_window: int,
    *,
    detailed: bool = True,
    high: float = metrics.DEFAULT_HIGH_REPEAT,
    low: float = metrics.DEFAULT_LOW_REPEAT,
    top_fraction: float = metrics.DEFAULT_TOP_FRACTION,
) -> MonthFigures:
    """The figures of ``month``; ``detailed=False`` skips the repeat rate and Pareto share."""
    m = month_number(month)
    w = active_window
    start_base = activity.active_in(m - w, m - 1)
    end_base = activity.active_in(m - w + 1, m)
    bought_now = activity.active_in(m, m)
    new = activity.first_month == m
    reactivated = bought_now & ~start_base & ~new
    lost = start_base & ~end_base
    S, E, N, R, L = (int(x.sum()) for x in (start_base, end_base, new, reactivated, lost))

    in_month = activity.month == m
    revenue = float(activity.amount[in_month].sum())
    purchases = float(activity.amount[in_month & activity.is_purchase].sum())
    orders = int(activity.orders_in(m, m).sum())
    revenue_now = activity.revenue_in(m, m)
    revenue_before = activity.revenue_in(m - 1, m - 1)
    existing_now = float(revenue_now[start_base].sum())
    existing_before = float(revenue_before[start_base].sum())

    repeat_rate = tier = pareto = None
    if detailed and E:
        window_orders = activity.orders_in(m - w + 1, m)[end_base]
        repeat_rate = metrics.repeat_rate(window_orders)
        tier = metrics.repeat_tier(repeat_rate, high, low)
        window_revenue = np.clip(activity.revenue_in(m - w + 1, m)[end_base], 0, None)
        pareto = _safe(lambda: metrics.pareto_share(window_revenue, top_fraction))

    return MonthFigures(
        month=str(month),
        active_window=w,
        S=S, N=N, E=E, R=R, L=L,
        retention=_safe(lambda: metrics.retention_rate(E, N, S)),
        strict_retention=_safe(lambda: metrics.strict_retention_rate(S, L)),
        existing_revenue=existing_now,
        existing_revenue_previous=existing_before,
        txn_growth=_safe(lambda: metrics.txn_growth(existing_now, existing_before)),
        repeat_rate=repeat_rate,
        repeat_tier=tier,
        pareto_share=pareto,
        revenue=revenue,
        purchases=purchases,
        orders=orders,
        average_order_value=purchases / orders if orders else None,
        buyers=int(bought_now.sum()),
    )


def trend(activity: Activity, month: pd.Period, active_window: int, months: int = 12) -> list[MonthFigures]:
    """Light figures (no repeat rate or Pareto share) for the ``months`` months ending at ``month``."""
    first_data = int(activity.month.min()) if activity.month.size else month_number(month)
    start = max(month_number(month) - months + 1, first_data)
    return [
        month_figures(activity, month_period(m), active_window, detailed=False)
        for m in range(start, month_number(month) + 1)
    ]


@dataclass
class Cohorts:
    """First-purchase month x months since: active customers and net revenue.

    ``active`` and ``revenue`` are DataFrames indexed by cohort month (as text,
    ``2024-03``) with one column per month offset 0, 1, 2 ...; cells a cohort has not
    reached yet are NaN. ``sizes`` is each cohort's month-0 count.
    """

    active: pd.DataFrame
    revenue: pd.DataFrame

    @property
    def sizes(self) -> pd.Series:
        return self.active[0]

    @property
    def retention(self) -> pd.DataFrame:
        """Active customers as a share of the cohort's month-0 size (empty cohorts: NaN)."""
        return self.active.div(self.sizes.where(self.sizes > 0), axis=0)

    def weighted_average(self) -> pd.Series:
        """Retention per offset over the cohorts that reached it, weighted by cohort size."""
        reached = self.active.notna()
        return self.active.sum() / reached.mul(self.sizes, axis=0).sum().replace(0, np.nan)


def cohorts(activity: Activity, month: pd.Period, months: int = 24) -> Cohorts:
    """Cohorts of the ``months`` months ending at ``month``."""
    m = month_number(month)
    first = max(m - months + 1, int(activity.first_month[activity.first_month >= 0].min()))
    cohort_months = list(range(first, m + 1))
    offsets = list(range(0, m - first + 1))
    purchase = activity.is_purchase
    cohort_of = activity.first_month[activity.customer]
    in_scope = (cohort_of >= first) & (activity.month >= cohort_of)

    selected = purchase & in_scope
    pair_customer, pair_month = _distinct_pairs(activity.customer[selected], activity.month[selected] - first,
                                                m - first + 1)
    pair_cohort = activity.first_month[pair_customer] - first
    active = np.zeros((len(cohort_months), len(offsets)))
    np.add.at(active, (pair_cohort, pair_month - pair_cohort), 1)

    revenue = np.zeros_like(active)
    tx = in_scope
    np.add.at(revenue, (cohort_of[tx] - first, activity.month[tx] - cohort_of[tx]), activity.amount[tx])

    reached = np.add.outer(np.arange(len(cohort_months)), np.arange(len(offsets))) <= m - first
    labels = [str(month_period(c)) for c in cohort_months]
    return Cohorts(
        active=pd.DataFrame(np.where(reached, active, np.nan), index=labels, columns=offsets),
        revenue=pd.DataFrame(np.where(reached, revenue, np.nan), index=labels, columns=offsets),
    )
