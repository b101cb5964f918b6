"""The month's retention figures, trend and cohorts, computed from the customer x month table.

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
* Pareto share = share of the window's net revenue (or profit, where the report
  measures value by profit) of the customers in E held by the top 20% of them
  (values below 0 count as 0).
* Revenue = net sales in M (purchases minus returns); orders = distinct purchase
  orders in M; average order value = purchases in M / orders.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .. import metrics
from ..table.contract import CustomerTable, month_number, month_period


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
    repeat_buyers: int              # buyers with purchases on 2+ days of the month
    repurchase_rate: float | None   # 当月复购率: repeat_buyers / buyers
    previous_buyers: int            # buyers of the month before
    returning_buyers: int           # buyers of the month before who bought again this month
    return_rate: float | None       # 回购率: returning_buyers / previous_buyers
    window_covered: bool = True  # the data cover the whole window before the month
    profit: float | None = None  # profit in the month, where the data carry profit or cost

    def as_dict(self) -> dict:
        """Every figure by name; ``profit`` only where the data carry it."""
        figures = asdict(self)
        if figures["profit"] is None:
            del figures["profit"]
        return figures


def _safe(compute) -> float | None:
    try:
        value = compute()
    except (ZeroDivisionError, ValueError):
        return None
    return None if isinstance(value, float) and math.isnan(value) else value


def _buyers(table: CustomerTable, m: int, bought_now: np.ndarray, purchase_days: np.ndarray
            ) -> tuple[int, int, int, int]:
    """Buyers of month ``m``, those of them who bought on 2+ days, buyers of the month before, and those who came back."""
    bought_before = table.active_in(m - 1, m - 1)
    repeat = purchase_days >= 2
    return int(bought_now.sum()), int(repeat.sum()), int(bought_before.sum()), int((bought_now & bought_before).sum())


def _base_figures(table: CustomerTable, m: int, w: int, end_base: np.ndarray, high: float, low: float,
                  top_fraction: float, value: str) -> tuple:
    """(repeat rate, its tier, Pareto share) of the base at the end of month ``m``, over its ``w``-month window."""
    window_orders, window_value = table.sums([("orders", m - w + 1, m),
                                              ("net" if value == "revenue" else "profit", m - w + 1, m)])
    repeat_rate = metrics.repeat_rate(window_orders[end_base].astype(np.int64))
    tier = metrics.repeat_tier(repeat_rate, high, low)
    window_value = np.clip(window_value[end_base], 0, None)
    return repeat_rate, tier, _safe(lambda: metrics.pareto_share(window_value, top_fraction))


def month_figures(
    table: CustomerTable,
    month: pd.Period,
    active_window: int,
    *,
    detailed: bool = True,
    high: float = metrics.DEFAULT_HIGH_REPEAT,
    low: float = metrics.DEFAULT_LOW_REPEAT,
    top_fraction: float = metrics.DEFAULT_TOP_FRACTION,
    value: str = "revenue",
) -> MonthFigures:
    """The figures of ``month``; ``detailed=False`` skips the repeat rate and Pareto share.

    ``value`` (``"revenue"`` or ``"profit"``) is what the Pareto share measures.
    """
    m = month_number(month)
    w = active_window
    start_base = table.active_in(m - w, m - 1)
    end_base = table.active_in(m - w + 1, m)
    bought_now = table.active_in(m, m)
    new = table.first_month == m
    reactivated = bought_now & ~start_base & ~new
    lost = start_base & ~end_base
    S, E, N, R, L = (int(x.sum()) for x in (start_base, end_base, new, reactivated, lost))

    totals = table.month_totals(m)
    purchases, orders = totals["purchases"], totals["orders"]
    revenue_now, revenue_before, purchase_days = table.sums([("net", m, m), ("net", m - 1, m - 1),
                                                             ("purchase_days", m, m)])
    existing_now = float(revenue_now[start_base].sum())
    buyers, repeat_buyers, previous_buyers, returning = _buyers(table, m, bought_now, purchase_days)
    existing_before = float(revenue_before[start_base].sum())

    repeat_rate, tier, pareto = (_base_figures(table, m, w, end_base, high, low, top_fraction, value)
                                 if detailed and E else (None, None, None))

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
        revenue=totals["revenue"],
        purchases=purchases,
        orders=orders,
        average_order_value=purchases / orders if orders else None,
        buyers=buyers,
        repeat_buyers=repeat_buyers,
        repurchase_rate=repeat_buyers / buyers if buyers else None,
        previous_buyers=previous_buyers,
        returning_buyers=returning,
        return_rate=returning / previous_buyers if previous_buyers else None,
        profit=totals["profit"],
    )


def trend(table: CustomerTable, month: pd.Period, active_window: int, months: int = 12,
          first_date: pd.Timestamp | None = None) -> list[MonthFigures]:
    """Light figures (no repeat rate or Pareto share) for the ``months`` months ending at ``month``.

    With ``first_date`` (the first transaction), each month says whether the data
    cover its whole start window; where they do not, S and retention are not
    comparable and "new" means first purchase in the data.
    """
    first_data = table.first_data_month
    first_data = month_number(month) if first_data is None else first_data
    start = max(month_number(month) - months + 1, first_data)
    figures = []
    for m in range(start, month_number(month) + 1):
        month_figures_m = month_figures(table, month_period(m), active_window, detailed=False)
        if first_date is not None:
            month_figures_m.window_covered = window_covered(first_date, month_period(m), active_window)
        figures.append(month_figures_m)
    return figures


WINDOW_CHOICES = (12, 6, 3, 1)
WINDOW_GIVEN, WINDOW_COVERED, WINDOW_SHORT = "given", "covered", "short"
# Filled in by retention_xl.i18n.fill, where {window|month|months} is the word the count takes.
WINDOW_REASONS = {
    WINDOW_GIVEN: "{window} {window|month|months}, as given",
    WINDOW_COVERED: "{window} {window|month|months}: the longest of 12, 6, 3 and 1 that the data cover in full before {month}",
    WINDOW_SHORT: "1 month: the data do not cover even one full month before {month}",
}


def window_covered(first_date: pd.Timestamp, month: pd.Period, window: int) -> bool:
    """Whether the data start on or before the first day of month ``month - window``."""
    return pd.Timestamp(first_date).normalize() <= (month - window).start_time


def default_window(first_date: pd.Timestamp, month: pd.Period) -> tuple[int, str]:
    """The longest of 12, 6, 3 and 1 months whose start window the data cover in full, and why.

    A window the data do not cover counts every earlier buyer as active at both ends
    of the month: retention 100%, nobody lost. So the default shrinks to what the data
    can support.

    >>> default_window(pd.Timestamp("2009-12-01 07:45"), pd.Period("2010-11", "M"))
    (6, 'covered')
    >>> default_window(pd.Timestamp("2024-03-05"), pd.Period("2024-03", "M"))
    (1, 'short')
    """
    for window in WINDOW_CHOICES:
        if window_covered(first_date, month, window):
            return window, WINDOW_COVERED
    return 1, WINDOW_SHORT


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


def cohorts(table: CustomerTable, month: pd.Period, months: int = 24) -> Cohorts:
    """Cohorts of the ``months`` months ending at ``month``."""
    m = month_number(month)
    first_month = table.first_month
    first = max(m - months + 1, int(first_month[first_month >= 0].min()))
    cohort_months = list(range(first, m + 1))
    size = m - first + 1
    active, revenue = table.cohort_grid(first, m)

    reached = np.add.outer(np.arange(size), np.arange(size)) <= m - first
    labels = [str(month_period(c)) for c in cohort_months]
    offsets = list(range(size))
    return Cohorts(
        active=pd.DataFrame(np.where(reached, active, np.nan), index=labels, columns=offsets),
        revenue=pd.DataFrame(np.where(reached, revenue, np.nan), index=labels, columns=offsets),
    )
