"""From raw sales rows to clean transactions, with an account of every row.

The rules, applied to each data row in this order (the first that applies decides):

1. ``malformed_line`` -- a CSV line whose fields do not match the header (counted by the reader);
2. ``empty_row`` -- no column read holds a value: a row with only a store, a salesperson or a
   cost filled is not empty (it is missing its customer, its date ...);
3. ``total_row`` -- a cell says 合计 / 總計 / Total ...: a summary line, not a sale;
4. ``missing_customer`` -- no customer id (or name, where the sheet has no id);
5. ``invalid_date`` -- no date, or text that is not a date;
6. ``date_out_of_range`` -- a date before 1900-01-01 or impossible (``0001-01-01``,
   ``2024-02-30``, an Excel serial of 0 or below);
7. ``future_date`` -- a date after the day the report is made (``as_of``);
8. ``formula_without_value`` -- the amount is a formula the file holds no value for (a
   workbook written by a program, never opened and saved in Excel);
9. ``invalid_amount`` -- no amount, or text that is not a number;
10. ``non_finite_amount`` -- an amount that is not a finite number (``inf``, ``1e400``, ``NaN``);
11. ``zero_amount`` -- an amount of exactly 0.

Every other row is a transaction: a **purchase** when its amount is positive, a
**return** when it is negative (refunds and cancellations such as invoices starting
with "C"). Returns reduce revenue but never make a customer active. So that the
figures can be checked, ``rows_read = purchases + returns + all exclusions``.
Used rows whose customer id or name holds characters a workbook cannot store
(control characters) or more than a cell's 32,767 characters are kept with that
text cleaned, and counted under ``adjustments``.

**Profit**, where the sheet has a profit, cost or unit-cost column: the profit column
as it stands, or amount - cost, where cost is the line's total cost (unit cost x
quantity for a unit cost). On a return line the cost is taken as negative, whatever
sign the sheet gives it: the goods come back. A used row whose profit or cost cell is
blank or not a number keeps its amount and counts under the adjustment
``profit_unknown``; its profit is missing (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from . import cells as values
from . import dates as date_cells
from ..reasons import PROFIT_UNKNOWN
from .accounting import Accounting, account_rows, group_members
from .row_rules import after_as_of, as_of_day, first_reasons, line_profit

TRANSACTION_COLUMNS = ("customer_id", "customer_name", "date", "amount", "order_id", "row")


@dataclass
class CleanResult:
    transactions: pd.DataFrame
    accounting: Accounting
    dayfirst: bool | None


@values.by_category
def blank_cells(series: pd.Series) -> pd.Series:
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
    decimal: str | None = None,
    as_of: str | pd.Timestamp | None = None,
    unsaved_formulas: np.ndarray | None = None,
    group_cols: dict[str, str] | None = None,
    profit_col: str | None = None,
    cost_col: str | None = None,
    unit_cost_col: str | None = None,
) -> CleanResult:
    """Clean a DataFrame of raw sales rows, whatever its columns are called.

    Dates after the day ``as_of`` (default: today on this computer's clock) are set aside as in the future.
    ``decimal`` is the decimal mark of text amounts (default: read off the column). ``unsaved_formulas`` marks
    rows whose amount is a formula without a saved value (a reader of workbooks knows). ``group_cols`` maps
    group names (``store``, ``salesperson``, ``channel``, ``region``) to columns carried into the transactions
    as text; a missing value stays missing (its own group). ``profit_col``, ``cost_col`` or ``unit_cost_col``
    (the first given counts; a unit cost needs ``quantity_col``) add a ``profit`` column (see the module's
    rules). ``ValueError`` subclasses ``AmbiguousDates`` (:mod:`retention_xl.read.dates`) and
    ``AmbiguousDecimal`` (:mod:`retention_xl.read.cells`) say that a column needs ``dayfirst`` or ``decimal``.

    Give either ``amount_col`` or both ``quantity_col`` and ``unit_price_col`` (amount = quantity x unit
    price), and ``customer_id_col`` or ``customer_name_col``. ``row_numbers`` are the sheet rows used in
    examples (default: 2, 3, ... as under a header in row 1). Every row of ``frame`` is counted, the last ones
    too; a row is empty only when no column of ``frame`` holds a value.

    >>> raw = pd.DataFrame({"Client": ["A", "B", None, "合计"], "When": ["2024-01-05", "2024-01-09", "2024-01-09", None],
    ...                     "Paid": ["120", "-20", "5", "105"]})
    >>> result = clean_transactions(raw, "Client", "When", "Paid")
    >>> result.transactions[["customer_id", "amount"]].values.tolist()
    [['A', 120.0], ['B', -20.0]]
    >>> result.accounting.purchases, result.accounting.returns, result.accounting.exclusions["missing_customer"].example_rows
    (1, 1, [4])
    """
    names = _Columns(customer_id_col, customer_name_col, datetime_col, amount_col, quantity_col, unit_price_col,
                     order_id_col)
    _check_columns_given(names, profit_col or cost_col, unit_cost_col)
    frame = frame.reset_index(drop=True)
    rows = np.arange(2, len(frame) + 2, dtype=np.int32) if row_numbers is None else np.asarray(row_numbers, dtype=np.int32)
    empty = _empty_rows(frame, names.used)
    parsed = _parse(frame, names, dayfirst, decimal)
    reasons = _reasons(frame, names, parsed, empty, as_of)
    if unsaved_formulas is not None:
        reasons["formula_without_value"] = np.asarray(unsaved_formulas, dtype=bool)[:len(frame)]
    profits = (profit_col, cost_col, unit_cost_col, quantity_col) if profit_col or cost_col or unit_cost_col else None
    return _cleaned(frame, parsed, rows, reasons, profits, decimal, group_cols or {}, as_of)


def _check_columns_given(names: _Columns, profit_or_cost_col: str | None, unit_cost_col: str | None) -> None:
    """The columns a cleaning cannot do without, each named, or a ValueError saying which to give."""
    if names.customer is None and names.name is None:
        raise ValueError("give customer_id_col or customer_name_col")
    if names.date is None:
        raise ValueError("give datetime_col")
    if names.amount is None and (names.quantity is None or names.price is None):
        raise ValueError("give amount_col, or quantity_col and unit_price_col")
    if unit_cost_col is not None and names.quantity is None and profit_or_cost_col is None:
        raise ValueError("a unit cost needs quantity_col")


def _cleaned(frame: pd.DataFrame, parsed, rows: np.ndarray, reasons: dict, profits: tuple | None,
             decimal: str | None, group_cols: dict[str, str], as_of) -> CleanResult:
    """The rows kept as transactions and every row accounted for, once each row's reasons are known."""
    excluded, reason_of = first_reasons(reasons)
    adjusted = _make_visible(parsed, ~excluded)
    transactions = _kept_rows(parsed, rows, ~excluded)
    amounts = parsed.amounts.to_numpy(dtype=float)
    if profits is not None:
        profit = _profits(frame, amounts, *profits, decimal)
        adjusted[PROFIT_UNKNOWN] = np.isnan(profit) & ~excluded
        transactions["profit"] = profit[~excluded] if excluded.any() else profit
    day = str(as_of_day(as_of).date())
    accounting = account_rows(np.arange(len(rows)), rows, amounts, reason_of, adjusted, day)
    for group, column in group_cols.items():
        labels = group_labels(frame[column])
        transactions[group] = labels[~excluded].reset_index(drop=True) if excluded.any() else labels
        accounting.by_group[group] = {label: account_rows(members, rows, amounts, reason_of, adjusted, day)
                                      for label, members in group_members(labels)}
    return CleanResult(transactions, accounting, parsed.dayfirst)


def _profits(frame: pd.DataFrame, amounts: np.ndarray, profit_col, cost_col, unit_cost_col, quantity_col,
             decimal) -> np.ndarray:
    """Each row's profit, NaN where the profit or cost cell is blank or not a finite number."""
    if profit_col is not None:
        return line_profit(amounts, profit=values.amounts(frame[profit_col], decimal).to_numpy(dtype=float))
    cost = values.amounts(frame[cost_col or unit_cost_col], decimal).to_numpy(dtype=float)
    if cost_col is None:
        cost = cost * values.amounts(frame[quantity_col], decimal).to_numpy(dtype=float)
    return line_profit(amounts, cost=cost)


def group_labels(column: pd.Series) -> pd.Series:
    """A store (salesperson ...) column as text a workbook can hold.

    A chain has few stores: the rules run on the distinct names of a categorical column.
    """
    labels = values.customer_ids(column.astype("category"))
    if values.has_control_characters(labels).any() or values.too_long_for_a_cell(labels).any():
        labels = values.visible_text(labels)
    return labels.reset_index(drop=True)


def _reasons(frame: pd.DataFrame, names: "_Columns", parsed: "_Parsed", empty: np.ndarray, as_of) -> dict:
    """Per reason, the rows it applies to (a row may match several; the first in order counts)."""
    no_date = parsed.dates.isna().to_numpy()
    amounts = parsed.amounts.to_numpy(dtype=float)
    # Only the rows without a date or an amount need a second look at their cells: usually none.
    date_like = np.zeros(len(frame), dtype=bool)
    if no_date.any():
        date_like[no_date] = date_cells.looks_like_date(frame[names.date][no_date]).to_numpy(dtype=bool)
    spelled_nan = np.zeros(len(frame), dtype=bool)
    no_amount = np.isnan(amounts)
    for column in (names.amount, names.quantity, names.price):
        if column is not None and no_amount.any():
            spelled_nan[no_amount] |= values.says_not_a_number(frame[column][no_amount]).to_numpy(dtype=bool)
    return {
        "malformed_line": np.zeros(len(frame), dtype=bool),
        "empty_row": empty,
        "total_row": _total_rows(frame, names),
        "missing_customer": parsed.customers.isna().to_numpy(),
        "invalid_date": no_date & ~date_like,
        "date_out_of_range": no_date & date_like,
        "future_date": after_as_of(parsed.dates, as_of) & ~no_date,
        "formula_without_value": np.zeros(len(frame), dtype=bool),
        "invalid_amount": np.isnan(amounts) & ~spelled_nan,
        "non_finite_amount": np.isinf(amounts) | spelled_nan,
        "zero_amount": amounts == 0,
    }


def _make_visible(parsed: "_Parsed", keep: np.ndarray) -> dict[str, np.ndarray]:
    """Ids and names cleaned of what a workbook cannot hold; per adjustment, the used rows that changed."""
    control = np.zeros(len(keep), dtype=bool)
    cut = np.zeros(len(keep), dtype=bool)
    for attribute in ("customers", "names"):
        series = getattr(parsed, attribute)
        if series is None:
            continue
        has_control = values.has_control_characters(series).to_numpy(dtype=bool)
        too_long = values.too_long_for_a_cell(series).to_numpy(dtype=bool)
        if has_control.any() or too_long.any():
            setattr(parsed, attribute, values.visible_text(series))
        control |= has_control
        cut |= too_long
    return {"control_characters": control & keep, "text_cut": cut & keep}


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


def _empty_rows(frame: pd.DataFrame, used: list[str]) -> np.ndarray:
    """Rows without a value in any column of ``frame``.

    Every row is counted, trailing ones too: the readers hand over only the file's data rows.
    The columns the rules use are looked at first; the rest only on the rows still blank (usually none).
    """
    empty = np.ones(len(frame), dtype=bool)
    for column in used:
        empty &= blank_cells(frame[column]).to_numpy()
    for column in frame.columns.difference(used, sort=False):
        if not empty.any():
            break
        empty[empty] = blank_cells(frame[column][empty]).to_numpy()
    return empty


def _total_rows(frame: pd.DataFrame, names: _Columns) -> np.ndarray:
    total = np.zeros(len(frame), dtype=bool)
    for column in (names.customer, names.name, names.date, names.order):
        if column is not None:
            total |= values.is_total_label(frame[column]).to_numpy()
    return total


def _parse(frame: pd.DataFrame, names: _Columns, dayfirst: bool | None, decimal: str | None) -> _Parsed:
    key_column = names.customer if names.customer is not None else names.name
    dates, dayfirst_used = date_cells.dates(frame[names.date], dayfirst)
    if names.amount is not None:
        amounts = values.amounts(frame[names.amount], decimal)
    else:
        amounts = values.amounts(frame[names.quantity], decimal) * values.amounts(frame[names.price], decimal)
    return _Parsed(
        customers=values.customer_ids(frame[key_column]),
        names=values.customer_ids(frame[names.name]) if names.name and names.customer else None,
        dates=dates,
        amounts=amounts,
        orders=values.customer_ids(frame[names.order]) if names.order is not None else None,
        dayfirst=dayfirst_used,
    )


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
