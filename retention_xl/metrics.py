"""The four retention metrics, as plain functions on numbers.

This module is the product's pure core: no Excel, no files, only NumPy. The worksheet
functions (``retention_xl.udfs``) and the monthly report both call it, so a number
means the same thing wherever it appears.

Errors follow one rule so every adapter can translate them the same way:

* ``ZeroDivisionError`` -- the denominator is zero (Excel shows ``#DIV/0!``);
* ``ValueError`` -- a number outside the metric's domain: a negative or fractional
  count, NaN, a rate outside 0..1 (Excel shows ``#NUM!``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

DEFAULT_HIGH_REPEAT = 0.70
DEFAULT_LOW_REPEAT = 0.30
DEFAULT_TOP_FRACTION = 0.20

TIERS = ("high", "medium", "low")


def _finite(value: float, what: str) -> float:
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return value


def _float_array(values: Iterable[float]) -> np.ndarray:
    if not isinstance(values, (np.ndarray, list, tuple)):
        values = list(values)
    return np.asarray(values, dtype=float)


def _count(value: float, what: str) -> float:
    value = _finite(value, what)
    if value < 0:
        raise ValueError(f"{what} cannot be negative, got {value:g}")
    if abs(value - round(value)) > 1e-9:
        raise ValueError(f"{what} must be a whole number of customers, got {value:g}")
    return float(round(value))


def retention_rate(end_customers: float, new_customers: float, start_customers: float) -> float:
    """Customer retention rate (E - N) / S, as a fraction (0.8 means 80%).

    E is the number of customers at the end of the period, N the customers gained
    during it and S the customers at its start. The source definition multiplies by
    100; this returns the fraction so that Excel's percent format shows it.

    The result can exceed 1 when customers who had lapsed before the period come
    back during it (they are in E but neither new nor in S).

    Raises ``ZeroDivisionError`` when S is 0 and ``ValueError`` when a count is
    negative, fractional or NaN, or when N > E (new customers are part of E, so that
    can only be a data error).

    >>> retention_rate(end_customers=110, new_customers=20, start_customers=100)
    0.9
    """
    end = _count(end_customers, "customers at period end (E)")
    new = _count(new_customers, "new customers (N)")
    start = _count(start_customers, "customers at period start (S)")
    if new > end:
        raise ValueError(f"new customers (N={new:g}) cannot exceed customers at period end (E={end:g})")
    if start == 0:
        raise ZeroDivisionError("no customers at period start (S = 0)")
    return (end - new) / start


def strict_retention_rate(start_customers: float, lost_customers: float) -> float:
    """Share of the customers at period start who are still customers at its end.

    (S - L) / S, where L counts customers of S that left during the period. Unlike
    :func:`retention_rate` it ignores customers who came back, so it never exceeds 1.

    >>> strict_retention_rate(start_customers=100, lost_customers=15)
    0.85
    """
    start = _count(start_customers, "customers at period start (S)")
    lost = _count(lost_customers, "lost customers (L)")
    if lost > start:
        raise ValueError(f"lost customers (L={lost:g}) cannot exceed customers at period start (S={start:g})")
    if start == 0:
        raise ZeroDivisionError("no customers at period start (S = 0)")
    return (start - lost) / start


def txn_growth(this_period: float, last_period: float) -> float:
    """Transaction growth of existing customers: (this - last) / last.

    Amounts are net of refunds, so this period may be negative (growth below -100%).
    The base must be positive: growth against nothing is undefined
    (``ZeroDivisionError``) and against a negative base has no meaningful sign
    (``ValueError``).

    >>> txn_growth(this_period=12_000, last_period=10_000)
    0.2
    """
    this = _finite(this_period, "this period's amount")
    last = _finite(last_period, "last period's amount")
    if last == 0:
        raise ZeroDivisionError("last period's amount is 0")
    if last < 0:
        raise ValueError(f"last period's amount must be positive, got {last:g}")
    return (this - last) / last


def repeat_rate(purchase_counts: Iterable[float]) -> float:
    """Share of customers with two or more purchases.

    Each item is one customer's number of purchases (orders) in the period; a
    customer with 0 purchases counts in the denominator. Raises
    ``ZeroDivisionError`` for no customers and ``ValueError`` for a negative,
    fractional or NaN count.

    >>> repeat_rate([1, 2, 5, 1])
    0.5
    """
    counts = _float_array(purchase_counts)
    if counts.size == 0:
        raise ZeroDivisionError("no customers to compute a repeat-purchase rate from")
    if np.isnan(counts).any() or np.isinf(counts).any():
        raise ValueError("purchase counts must be finite numbers")
    if (counts < 0).any():
        raise ValueError("purchase counts cannot be negative")
    if (np.abs(counts - np.round(counts)) > 1e-9).any():
        raise ValueError("purchase counts must be whole numbers")
    return float(np.count_nonzero(counts >= 2)) / counts.size


def repeat_tier(rate: float, high: float = DEFAULT_HIGH_REPEAT, low: float = DEFAULT_LOW_REPEAT) -> str:
    """Band a repeat-purchase rate: ``"high"``, ``"medium"`` or ``"low"``.

    High from ``high`` (70%) up, medium from ``low`` (30%) up to but excluding
    ``high``, low below ``low``. Below 30% customers are leaving faster than they
    come back. Raises ``ValueError`` for a rate outside 0..1 or NaN, and for
    thresholds outside 0..1 or with ``low > high``.

    >>> repeat_tier(0.7), repeat_tier(0.45), repeat_tier(0.299)
    ('high', 'medium', 'low')
    """
    rate = _finite(rate, "repeat-purchase rate")
    high = _finite(high, "high threshold")
    low = _finite(low, "low threshold")
    if not 0 <= rate <= 1:
        raise ValueError(f"repeat-purchase rate must be between 0 and 1, got {rate:g}")
    if not (0 <= low <= high <= 1):
        raise ValueError(f"thresholds must satisfy 0 <= low <= high <= 1, got low={low:g}, high={high:g}")
    if rate >= high:
        return "high"
    if rate >= low:
        return "medium"
    return "low"


def pareto_share(amounts: Iterable[float], top_fraction: float = DEFAULT_TOP_FRACTION) -> float:
    """Share of the total held by the top ``top_fraction`` of customers.

    ``amounts`` holds one total per customer. Customers are ranked by amount, largest
    first, and the share is read off the Lorenz curve: when ``top_fraction`` times
    the number of customers is not whole, the boundary customer counts in
    proportion (top 20% of 7 customers = the largest customer plus 0.4 of the
    second). Ties therefore never matter, the share grows steadily with the
    fraction, equals the fraction when all amounts are equal, and is 1 at fraction 1.

    Raises ``ValueError`` for a negative amount (pass net totals per customer;
    refunds larger than purchases make the share meaningless), NaN, or a fraction
    outside 0..1, and ``ZeroDivisionError`` when the total is 0 (including no
    customers).

    >>> pareto_share([50, 20, 10, 10, 10], top_fraction=0.2)
    0.5
    """
    values = _float_array(amounts)
    fraction = _finite(top_fraction, "top fraction")
    if not 0 <= fraction <= 1:
        raise ValueError(f"top fraction must be between 0 and 1, got {fraction:g}")
    if np.isnan(values).any() or np.isinf(values).any():
        raise ValueError("amounts must be finite numbers")
    if (values < 0).any():
        raise ValueError("amounts per customer cannot be negative")
    largest = float(values.max()) if values.size else 0.0
    if largest > 0:  # scaled by a power of two (exact) so that no sum overflows or underflows
        values = np.ldexp(values, -math.frexp(largest)[1])
    total = float(values.sum())
    if total == 0:
        raise ZeroDivisionError("the total amount is 0")
    k = fraction * values.size
    whole = int(math.floor(k + 1e-9))
    if whole >= values.size:
        return 1.0
    # Partial selection is linear; only the top `whole + 1` values need ordering.
    boundary = values.size - whole - 1
    top = np.partition(values, boundary)[boundary:]
    top_sum = float(top[1:].sum()) if whole > 0 else 0.0
    share = (top_sum + (k - whole) * float(top[0])) / total
    return min(share, 1.0)


def totals_by_customer(customer_ids: Iterable[object], amounts: Iterable[float]) -> np.ndarray:
    """Sum ``amounts`` per distinct customer id; returns one total per customer.

    >>> totals_by_customer(["a", "b", "a"], [1.0, 2.0, 3.0]).tolist()
    [4.0, 2.0]
    """
    ids = list(customer_ids)
    values = _float_array(amounts)
    if len(ids) != values.size:
        raise ValueError(f"{len(ids)} customer ids but {values.size} amounts")
    codes: dict[object, int] = {}
    index = np.fromiter((codes.setdefault(i, len(codes)) for i in ids), dtype=np.int64, count=len(ids))
    return np.bincount(index, weights=values, minlength=len(codes))


def pareto_share_by_customer(
    customer_ids: Iterable[object], amounts: Iterable[float], top_fraction: float = DEFAULT_TOP_FRACTION
) -> float:
    """:func:`pareto_share` of (customer, amount) pairs, summed per customer first.

    >>> pareto_share_by_customer(["a", "b", "a", "c", "d"], [30, 20, 20, 10, 20], 0.25)
    0.5
    """
    return pareto_share(totals_by_customer(customer_ids, amounts), top_fraction)
