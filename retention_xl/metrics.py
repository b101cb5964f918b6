"""The four retention metrics, as plain functions on numbers.

This module is the product's pure core: no Excel, no files, and plain Python only
(``math.fsum`` for exact sums), so that the worksheet functions need no compiled
package wherever Excel runs them -- xlwings Lite's Pyodide included. The worksheet
functions (``retention_xl.udfs``) and the monthly report both call it, so a number
means the same thing wherever it appears. Sequences may be lists, tuples, NumPy arrays
or pandas Series.

Errors follow one rule so every adapter can translate them the same way:

* ``ZeroDivisionError`` -- the denominator is zero (Excel shows ``#DIV/0!``);
* ``ValueError`` -- a number outside the metric's domain: a negative or fractional
  count, NaN, a rate outside 0..1 (Excel shows ``#NUM!``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

DEFAULT_HIGH_REPEAT = 0.70
DEFAULT_LOW_REPEAT = 0.30
DEFAULT_TOP_FRACTION = 0.20

TIERS = ("high", "medium", "low")


def _finite(value: float, what: str) -> float:
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return value


def _floats(values: Iterable[float]) -> list[float]:
    if hasattr(values, "tolist"):  # a NumPy array or pandas Series converts in one step
        values = values.tolist()
    elif isinstance(values, list) and set(map(type, values)) == {float}:
        return values  # already what is needed: the worksheet functions pass such lists
    return list(map(float, values))


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
    counts = _floats(purchase_counts)
    if not counts:
        raise ZeroDivisionError("no customers to compute a repeat-purchase rate from")
    # map() over built-in functions keeps a report's hundreds of thousands of customers fast in plain Python.
    counts = list(map(float, counts))
    if not all(map(math.isfinite, counts)):
        raise ValueError("purchase counts must be finite numbers")
    if min(counts) < 0:
        raise ValueError("purchase counts cannot be negative")
    if not all(map(float.is_integer, counts)) and any(abs(c - round(c)) > 1e-9 for c in counts):
        raise ValueError("purchase counts must be whole numbers")
    return sum(map((2.0).__le__, counts)) / len(counts)


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
    return pareto_curve(amounts, [top_fraction])[0]


def pareto_curve(amounts: Iterable[float], top_fractions: Sequence[float]) -> list[float]:
    """:func:`pareto_share` for several fractions at once, ranking the customers once.

    >>> pareto_curve([50, 20, 10, 10, 10], [0, 0.2, 0.5, 1])
    [0.0, 0.5, 0.75, 1.0]
    """
    values = _floats(amounts)
    fractions = [_finite(f, "top fraction") for f in top_fractions]
    for fraction in fractions:
        if not 0 <= fraction <= 1:
            raise ValueError(f"top fraction must be between 0 and 1, got {fraction:g}")
    try:  # an exact sum at C speed, which also tells whether any amount is NaN or infinite
        total = math.fsum(values)
    except OverflowError:  # finite amounts whose sum is beyond the float range: scaled below
        total = math.inf
    if math.isnan(total) or (math.isinf(total) and not all(math.isfinite(v) for v in values)):
        raise ValueError("amounts must be finite numbers")
    if values and min(values) < 0:
        raise ValueError("amounts per customer cannot be negative")
    largest = max(values, default=0.0)
    if largest > 2.0**1000 or 0 < largest < 2.0**-1000:
        # Scaled by a power of two (exact) so that no sum overflows or underflows.
        exponent = math.frexp(largest)[1]
        values = [math.ldexp(v, -exponent) for v in values]
        total = math.fsum(values)
    if total == 0:
        raise ZeroDivisionError("the total amount is 0")
    ordered = sorted(values, reverse=True)
    # The Lorenz curve: the whole customers of the top k = fraction x n count in full, the next one in
    # proportion to the fractional part of k. The prefix sums are taken once, boundary to boundary.
    boundaries = [_whole(fraction * len(ordered)) for fraction in fractions]
    held, done, running = {}, 0, 0.0
    for whole in sorted(set(boundaries)):
        running += math.fsum(ordered[done:whole])
        held[whole], done = running, whole
    shares = []
    for fraction, whole in zip(fractions, boundaries):
        if whole >= len(ordered):
            shares.append(1.0)
            continue
        partial = (fraction * len(ordered) - whole) * ordered[whole]
        shares.append(min((held[whole] + partial) / total, 1.0))
    return shares


def _whole(k: float) -> int:
    """Whole customers in the top ``k``; ``k`` within rounding of a whole number counts as whole."""
    return int(math.floor(k + 1e-9))


def totals_by_customer(customer_ids: Iterable[object], amounts: Iterable[float]) -> list[float]:
    """Sum ``amounts`` per distinct customer id; returns one total per customer, in order of appearance.

    >>> totals_by_customer(["a", "b", "a"], [1.0, 2.0, 3.0])
    [4.0, 2.0]
    """
    ids = list(customer_ids)
    values = _floats(amounts)
    if len(ids) != len(values):
        raise ValueError(f"{len(ids)} customer ids but {len(values)} amounts")
    totals: dict[object, float] = {}
    for customer, value in zip(ids, values):
        totals[customer] = totals.get(customer, 0.0) + value
    return list(totals.values())


def pareto_share_by_customer(
    customer_ids: Iterable[object], amounts: Iterable[float], top_fraction: float = DEFAULT_TOP_FRACTION
) -> float:
    """:func:`pareto_share` of (customer, amount) pairs, summed per customer first.

    >>> pareto_share_by_customer(["a", "b", "a", "c", "d"], [30, 20, 20, 10, 20], 0.25)
    0.5
    """
    return pareto_share(totals_by_customer(customer_ids, amounts), top_fraction)
