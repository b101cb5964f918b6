"""The rules for a sales row that the reader applies in pandas and the scan in SQL, each written here in both forms
side by side, so that the two cannot drift apart: the reason a row is set aside for (the first that applies, in the
documented order), the as-of cut, a line's profit, and a unit cost without a quantity.

>>> reasons = {name: np.zeros(3, dtype=bool) for name in EXCLUSION_REASONS}
>>> reasons["zero_amount"][:] = [True, True, False]; reasons["missing_customer"][1] = True
>>> first_reasons(reasons)[1].tolist()
[10, 3, -1]
>>> reason_sql({"missing_customer": "customer_key IS NULL", "zero_amount": "amount = 0"})
'CASE WHEN customer_key IS NULL THEN 3 WHEN amount = 0 THEN 10 ELSE -1 END'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..reasons import EXCLUSION_REASONS

# Past the last day pandas can hold (2262-04-11), no date can lie after the as-of day.
LAST_AS_OF_DAY = pd.Timestamp("2262-04-10")
UNIT_COST_WITHOUT_QUANTITY = ("column {column} is a unit cost, but the sheet has no quantity column to multiply it by; "
                              "name one with --quantity, or give the line's total cost with --cost")


def first_reasons(reasons: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each row counted under the first reason that applies to it, in the order of :data:`EXCLUSION_REASONS`.

    Returns the excluded rows and, per row, the position of its reason in
    :data:`EXCLUSION_REASONS` (-1 for a row that is used).
    """
    length = len(reasons["empty_row"])
    excluded = np.zeros(length, dtype=bool)
    reason_of = np.full(length, -1, dtype=np.int8)
    for position, reason in enumerate(EXCLUSION_REASONS):
        hits = reasons[reason] & ~excluded
        excluded |= hits
        reason_of[hits] = position
    return excluded, reason_of


def reason_sql(conditions: dict[str, str]) -> str:
    """:func:`first_reasons` in SQL: the position of the first reason whose condition holds, or -1. A reason a
    source cannot have (a malformed line of a Parquet file) is left out of ``conditions``."""
    cases = " ".join(f"WHEN {conditions[reason]} THEN {position}"
                     for position, reason in enumerate(EXCLUSION_REASONS) if reason in conditions)
    return f"CASE {cases} ELSE -1 END"


def as_of_day(as_of) -> pd.Timestamp:
    """The day of the as-of cut: ``as_of`` (default: today) without its time.

    >>> str(as_of_day("2024-03-31 18:00").date())
    '2024-03-31'
    """
    return pd.Timestamp.now().normalize() if as_of is None else pd.Timestamp(as_of).normalize()


def _end_of(as_of) -> pd.Timestamp | None:
    """The first moment after the as-of day; None where no date can reach it."""
    day = as_of_day(as_of)
    return None if day >= LAST_AS_OF_DAY else day + pd.Timedelta(days=1)


def after_as_of(dates: pd.Series, as_of) -> np.ndarray:
    """Per date: whether it lies after the as-of day (a missing date does not)."""
    end = _end_of(as_of)
    if end is None:
        return np.zeros(len(dates), dtype=bool)
    return dates.to_numpy(dtype="datetime64[ns]") >= end.to_datetime64()


def after_as_of_sql(timestamp: str, as_of) -> str:
    """:func:`after_as_of` in SQL, for the timestamp expression ``timestamp``.

    >>> after_as_of_sql("ts", "2024-03-31"), after_as_of_sql("ts", "9999-12-31")
    ("ts >= TIMESTAMP '2024-04-01'", 'false')
    """
    end = _end_of(as_of)
    return "false" if end is None else f"{timestamp} >= TIMESTAMP '{end:%Y-%m-%d}'"


def line_profit(amounts: np.ndarray, cost: np.ndarray | None = None, profit: np.ndarray | None = None) -> np.ndarray:
    """Each line's profit: its ``profit``, or its amount less its ``cost``, which is taken as negative on a return
    whatever sign the sheet gives it (the goods come back); NaN where it is not a finite number.

    >>> line_profit(np.array([100.0, -40.0, 10.0]), cost=np.array([60.0, 25.0, np.nan])).tolist()
    [40.0, -15.0, nan]
    """
    if profit is None:
        profit = amounts - np.where(amounts < 0, -np.abs(cost), cost)
    return np.where(np.isfinite(profit), profit, np.nan)


def line_profit_sql(amount: str, is_finite, cost: str | None = None, profit: str | None = None) -> str:
    """:func:`line_profit` in SQL; ``is_finite(expression)`` is the dialect's test of a finite number (NULL where
    not finite)."""
    if profit is None:
        profit = f"({amount} - CASE WHEN {amount} < 0 THEN -abs({cost}) ELSE {cost} END)"
    return f"(CASE WHEN {is_finite(profit)} THEN {profit} END)"


def unit_cost_lacks_quantity(profit_role: str | None, roles) -> bool:
    """Whether the line's cost is a unit cost with no quantity to multiply it by (:data:`UNIT_COST_WITHOUT_QUANTITY`
    says so); ``roles`` are the roles the sheet's columns have.

    >>> unit_cost_lacks_quantity("unit_cost", {"amount", "unit_cost"}), unit_cost_lacks_quantity("cost", {"amount"})
    (True, False)
    """
    return profit_role == "unit_cost" and "quantity" not in roles
