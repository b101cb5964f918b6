"""From raw sales rows to clean transactions, with an account of every row.

The rules, applied to each data row in this order (the first that applies decides):

1. ``empty_row`` -- every used cell is blank;
2. ``total_row`` -- a cell says 合计 / 總計 / Total ...: a summary line, not a sale;
3. ``missing_customer`` -- no customer id (or name, where the sheet has no id);
4. ``invalid_date`` -- no date, or one that cannot be read;
5. ``invalid_amount`` -- no amount, or text that is not a number;
6. ``zero_amount`` -- an amount of exactly 0.

Every other row is a transaction: a **purchase** when its amount is positive, a
**return** when it is negative (refunds and cancellations such as invoices starting
with "C"). Returns reduce revenue but never make a customer active. So that the
figures can be checked, ``rows_read = purchases + returns + all exclusions``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from . import values

EXCLUSION_REASONS = ("empty_row", "total_row", "missing_customer", "invalid_date", "invalid_amount", "zero_amount")
EXAMPLES_PER_REASON = 5

TRANSACTION_COLUMNS = ("customer_id", "customer_name", "date", "amount", "order_id", "row")


@dataclass
class Exclusion:
    count: int = 0
    example_rows: list[int] = field(default_factory=list)


@dataclass
class Accounting:
    """What happened to every row that was read."""

    rows_read: int
    purchases: int
    returns: int
    exclusions: dict[str, Exclusion]

    @property
    def excluded(self) -> int:
        return sum(e.count for e in self.exclusions.values())

    def balances(self) -> bool:
        return self.rows_read == self.purchases + self.returns + self.excluded

    def as_dict(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "purchases": self.purchases,
            "returns": self.returns,
            "excluded": {k: {"count": e.count, "example_rows": e.example_rows} for k, e in self.exclusions.items()},
        }


@dataclass
class CleanResult:
    transactions: pd.DataFrame
    accounting: Accounting
    dayfirst: bool | None


@values.by_category
def _blank(series: pd.Series) -> pd.Series:
    if pd.api.types.is_string_dtype(series) or series.dtype == object:
        return series.isna() | (series.astype("string").str.strip() == "").fillna(True)
    return series.isna()


def clean_transactions(
    frame: pd.DataFrame,
    customer_id_col: str | None = None,
    datetime_col: str | None = None,
    amount_col: str | None = None,
    *,
    quantity_col: str | None = None,
    unit_price_col: str | None = None,
    order_id_col: str | None = None,
    customer_name_col: str | None = None,
    row_numbers: np.ndarray | None = None,
    dayfirst: bool | None = None,
) -> CleanResult:
    """Clean a DataFrame of raw sales rows, whatever its columns are called.

    Give either ``amount_col`` or both ``quantity_col`` and ``unit_price_col``
    (amount = quantity x unit price), and ``customer_id_col`` or
    ``customer_name_col``. ``row_numbers`` are the sheet rows used in examples
    (default: 2, 3, ... as under a header in row 1).

    >>> raw = pd.DataFrame({"Client": ["A", "B", None, "合计"], "When": ["2024-01-05", "2024-01-09", "2024-01-09", None],
    ...                     "Paid": ["120", "-20", "5", "105"]})
    >>> result = clean_transactions(raw, "Client", "When", "Paid")
    >>> result.transactions[["customer_id", "amount"]].values.tolist()
    [['A', 120.0], ['B', -20.0]]
    >>> result.accounting.purchases, result.accounting.returns, result.accounting.exclusions["missing_customer"].example_rows
    (1, 1, [4])
    """
    if customer_id_col is None and customer_name_col is None:
        raise ValueError("give customer_id_col or customer_name_col")
    if datetime_col is None:
        raise ValueError("give datetime_col")
    if amount_col is None and (quantity_col is None or unit_price_col is None):
        raise ValueError("give amount_col, or quantity_col and unit_price_col")
    names = _Columns(customer_id_col, customer_name_col, datetime_col, amount_col, quantity_col, unit_price_col,
                     order_id_col)
    frame = frame.reset_index(drop=True)
    rows = np.arange(2, len(frame) + 2, dtype=np.int32) if row_numbers is None else np.asarray(row_numbers, dtype=np.int32)
    frame, rows, empty = _without_trailing_blank_rows(frame, rows, names.used)
    parsed = _parse(frame, names, dayfirst)
    reasons = {
        "empty_row": empty,
        "total_row": _total_rows(frame, names),
        "missing_customer": parsed.customers.isna().to_numpy(),
        "invalid_date": parsed.dates.isna().to_numpy(),
        "invalid_amount": parsed.amounts.isna().to_numpy(),
        "zero_amount": (parsed.amounts == 0).fillna(False).to_numpy(dtype=bool),
    }
    excluded, exclusions = _first_reasons(reasons, rows)
    transactions = _kept_rows(parsed, rows, ~excluded)
    kept_amounts = transactions["amount"].to_numpy()
    accounting = Accounting(
        rows_read=len(frame),
        purchases=int((kept_amounts > 0).sum()),
        returns=int((kept_amounts < 0).sum()),
        exclusions=exclusions,
    )
    return CleanResult(transactions, accounting, parsed.dayfirst)


@dataclass
class _Columns:
    customer: str | None
    name: str | None
    date: str
    amount: str | None
    quantity: str | None
    price: str | None
    order: str | None

    @property
    def used(self) -> list[str]:
        return [c for c in (self.customer, self.name, self.date, self.amount, self.quantity, self.price, self.order)
                if c is not None]


@dataclass
class _Parsed:
    customers: pd.Series
    names: pd.Series | None
    dates: pd.Series
    amounts: pd.Series
    orders: pd.Series | None
    dayfirst: bool | None


def _without_trailing_blank_rows(frame: pd.DataFrame, rows: np.ndarray, used: list[str]):
    """Blank rows after the last filled one are the sheet's formatting, not data: drop them."""
    empty = np.ones(len(frame), dtype=bool)
    for column in used:
        empty &= _blank(frame[column]).to_numpy()
    filled = np.flatnonzero(~empty)
    length = int(filled[-1]) + 1 if filled.size else 0
    if length < len(frame):
        return frame.iloc[:length], rows[:length], empty[:length]
    return frame, rows, empty


def _total_rows(frame: pd.DataFrame, names: _Columns) -> np.ndarray:
    total = np.zeros(len(frame), dtype=bool)
    for column in (names.customer, names.name, names.date, names.order):
        if column is not None:
            total |= values.is_total_label(frame[column]).to_numpy()
    return total


def _parse(frame: pd.DataFrame, names: _Columns, dayfirst: bool | None) -> _Parsed:
    key_column = names.customer if names.customer is not None else names.name
    dates, dayfirst_used = values.dates(frame[names.date], dayfirst)
    if names.amount is not None:
        amounts = values.amounts(frame[names.amount])
    else:
        amounts = values.amounts(frame[names.quantity]) * values.amounts(frame[names.price])
    return _Parsed(
        customers=values.customer_ids(frame[key_column]),
        names=values.customer_ids(frame[names.name]) if names.name and names.customer else None,
        dates=dates,
        amounts=amounts,
        orders=values.customer_ids(frame[names.order]) if names.order is not None else None,
        dayfirst=dayfirst_used,
    )


def _first_reasons(reasons: dict[str, np.ndarray], rows: np.ndarray) -> tuple[np.ndarray, dict[str, Exclusion]]:
    """Each row counted under the first reason that applies to it, in the documented order."""
    excluded = np.zeros(len(rows), dtype=bool)
    exclusions = {}
    for reason in EXCLUSION_REASONS:
        hits = reasons[reason] & ~excluded
        excluded |= hits
        exclusions[reason] = Exclusion(int(hits.sum()), [int(r) for r in rows[hits][:EXAMPLES_PER_REASON]])
    return excluded, exclusions


def _kept_rows(parsed: _Parsed, rows: np.ndarray, keep: np.ndarray) -> pd.DataFrame:
    kept, length = int(keep.sum()), len(keep)

    def selected(series: pd.Series | None) -> pd.Series:
        if series is None:  # an all-missing text column that costs only its validity bits
            return pd.Series(pd.array(pa.nulls(kept, pa.string()), dtype="string[pyarrow]"))
        # Most files lose few rows; skipping the copy keeps ten million rows within memory.
        return series.reset_index(drop=True) if kept == length else series[keep].reset_index(drop=True)

    return pd.DataFrame(
        {
            "customer_id": selected(parsed.customers),
            "customer_name": selected(parsed.names),
            "date": selected(parsed.dates),
            "amount": selected(parsed.amounts.astype(float)),
            "order_id": selected(parsed.orders),
            "row": rows if kept == length else rows[keep],
        },
        copy=False,
    )
