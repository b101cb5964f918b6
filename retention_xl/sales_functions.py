"""The worksheet functions that take a sales list: cells in, the report's own tables out.

``CUSTOMER_BRIDGE``, ``COHORT_TABLE``, ``CUSTOMER_SEGMENTS`` and ``CUSTOMER_VALUE`` (in
:mod:`retention_xl.udfs`) hand their ranges to this module, which reads them with the
report's rules (:func:`retention_xl.read.cleaning.clean_transactions`: a row whose customer,
date or amount is not readable is skipped, as the report's accounting skips it), builds
the report's customer x month table (:mod:`retention_xl.table.contract`) and asks the report's
own code for the figures: :mod:`retention_xl.figures.month` for the bridge and the cohorts,
:mod:`retention_xl.figures.customers` for the segments, :mod:`retention_xl.figures.customer_value` for the models.
Nothing here computes a figure; it only chooses the months and lays out the cells.

This module imports pandas, NumPy and SciPy, so the functions module imports it on a
function's first call, not when Excel loads the functions.

>>> rows = customer_bridge(sales_from_cells([["a"], ["b"], ["a"]], [[45292], [45300], [45330]],
...                                         [[10], [20], [5]]), window=1, language="en")
>>> rows[0][:6], rows[2][1:6]
(['Month', 'S', 'L', 'N', 'R', 'E'], [2, 1, 0, 0, 1])
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .figures import month as analysis, customer_value as value
from .figures.models import clv
from .table.contract import month_number
from .table.numpy_builder import build_customer_months
from .read.cleaning import clean_transactions
from .figures.customers import customer_table
from .excel_values import ERROR_CODES, NA, NUM, VALUE, ExcelError, as_matrix, cell
from .i18n import fill, labels

MEASURES = ("customers", "retention", "revenue")
DEFAULT_WINDOW = 12  # months of the customer base, as the bridge's and the report's longest default
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_UNREADABLE = ERROR_CODES | {""}  # error cells and empty text: blank cells to the report
NO_PURCHASES = "no row of the sales list is a purchase (a readable customer, date and positive amount)"


def _column(matrix: list[list], as_category: bool = False) -> np.ndarray | pd.Categorical:
    """A range (a 2-D list) as one column in reading order, typed as a sales file's column would be: numbers (blank cells
    NaN) where every readable cell is a number, else objects with blanks and error cells as None; with
    ``as_category``, those objects dictionary-encoded, as a large file's text column is read, so that the
    report's cleaning reads each distinct cell once (a sales list names each customer many times)."""
    cells = [row[0] for row in matrix] if len(matrix[0]) == 1 else [v for row in matrix for v in row]
    kinds = set(map(type, cells))
    if kinds <= {float, int}:  # the common case, converted in one step
        return np.array(cells, dtype=float)
    # Office.js sends numbers and text as they are; anything else (error objects, Pyodide's blanks, the
    # Windows add-in's dates and blanks) takes the cell-by-cell conversion.
    if not kinds <= {float, int, str}:
        cells = [cell(v) for v in cells]
        kinds = set(map(type, cells))
    column = np.empty(len(cells), dtype=object)
    column[:] = cells
    if bool in kinds:  # factorize takes TRUE for 1: such a range (rare) is read cell by cell
        column[pd.Series(column).isin(_UNREADABLE).to_numpy()] = None
        return column
    codes, distinct = pd.factorize(column)
    distinct = np.append(np.asarray(distinct, dtype=object), None)  # code -1 (a blank cell) takes the last
    readable = ~(pd.Index(distinct).isin(_UNREADABLE) | pd.isna(distinct))
    distinct[~readable] = None
    if all(type(v) in (float, int) for v in distinct[readable]):
        return np.where(readable, distinct, np.nan).astype(float)[codes]
    if not as_category:
        return distinct[codes]
    category_of = np.where(readable, np.cumsum(readable) - 1, -1)
    return pd.Categorical.from_codes(category_of[codes], categories=pd.Index(distinct[readable], dtype=object))


def sales_from_cells(ids: object, dates: object, amounts: object, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The clean transactions of a sales list given as three ranges of the same shape (a sale per row).

    Rows dated after today are set aside as the report sets them aside; with ``as_of``, rows after that day
    too. Raises ``#VALUE!`` for ranges of different shapes and ``#N/A`` where no row is a purchase.
    """
    ids, dates, amounts = map(as_matrix, (ids, dates, amounts))
    if len({(len(m), len(m[0])) for m in (ids, dates, amounts)}) != 1:
        raise ExcelError(VALUE, "customer ids, dates and amounts must be ranges of the same height")
    frame = pd.DataFrame({"customer": _column(ids, as_category=True), "date": _column(dates),
                          "amount": _column(amounts, as_category=True)})
    transactions = clean_transactions(frame, "customer", "date", "amount").transactions
    if as_of is not None:
        transactions = transactions[transactions["date"] < as_of.normalize() + pd.Timedelta(days=1)]
    if not (transactions["amount"] > 0).any():
        raise ExcelError(NA, NO_PURCHASES)
    return transactions.reset_index(drop=True)


def _table_to_last_month(transactions: pd.DataFrame):
    last_month = transactions["date"].max().to_period("M")
    return build_customer_months(transactions, last_month), last_month


def _first_purchase_month(transactions: pd.DataFrame) -> int:
    return month_number(transactions.loc[transactions["amount"] > 0, "date"].min().to_period("M"))


def _number(value) -> float | int | None:
    """A figure as a cell holds it: a plain number, or None (a blank cell) where there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def customer_bridge(transactions: pd.DataFrame, window: int = 12, language: str = "zh-CN") -> list[list]:
    """One row per month from the first purchase month to the last month of the data, as on the Summary trend:
    the month's first day, S, L, N, R, E, retention, strict retention and whether the window is covered."""
    words = labels(language)
    table, last_month = _table_to_last_month(transactions)
    months = month_number(last_month) - _first_purchase_month(transactions) + 1
    trend = analysis.trend(table, last_month, window, months, transactions["date"].min())
    header = [words["trend.month"], "S", "L", "N", "R", "E", words["trend.retention"],
              words["trend.strict_retention"], words["trend.window_covered"]]
    rows = [[pd.Period(f.month, "M").start_time.to_pydatetime(), f.S, f.L, f.N, f.R, f.E, _number(f.retention),
             _number(f.strict_retention), f.window_covered] for f in trend]
    return [header] + rows


def cohort_table(transactions: pd.DataFrame, measure: str = "customers", language: str = "zh-CN") -> list[list]:
    """One row per first-purchase month: its first day, the cohort's size, then ``measure`` for months 0, 1, 2 …
    since the first purchase (None where the cohort has not reached that month), as on the Cohorts sheet."""
    words = labels(language)
    table, last_month = _table_to_last_month(transactions)
    months = month_number(last_month) - _first_purchase_month(transactions) + 1
    cohorts = analysis.cohorts(table, last_month, months)
    grid = {"customers": cohorts.active, "retention": cohorts.retention, "revenue": cohorts.revenue}[measure]
    header = [words["cohort.month"], words["cohort.size"]] + list(range(grid.shape[1]))
    rows = [[pd.Period(label, "M").start_time.to_pydatetime(), int(size)] + [_number(v) for v in values]
            for label, size, values in zip(grid.index, cohorts.sizes.to_numpy(), grid.to_numpy().tolist())]
    return [header] + rows


def _as_of_month(transactions: pd.DataFrame, as_of: pd.Timestamp | None) -> tuple[pd.Timestamp, pd.Period]:
    day = (transactions["date"].max() if as_of is None else as_of).normalize()
    return day, day.to_period("M")


def _in_list_order(frame: pd.DataFrame, table) -> pd.DataFrame:
    """Customers in the order they first appear in the sales list."""
    position = pd.Index(table.customers["customer_id"]).get_indexer(frame["customer_id"])
    return frame.iloc[np.argsort(position, kind="stable")]


def customer_segments(transactions: pd.DataFrame, as_of: pd.Timestamp | None = None, language: str = "zh-CN",
                      window: int = DEFAULT_WINDOW) -> list[list]:
    """One row per customer, in the order of the sales list: id, days since the last purchase, purchase days,
    net revenue, R, F, M and the RFM segment as of ``as_of`` (default: the last date of the data), with the
    customer base of a report's ``window`` (months): a customer who bought in none of them is lapsing.

    >>> sales = sales_from_cells([["a"], ["b"], ["a"], ["c"]], [[45292], [45300], [45400], [45410]],
    ...                          [[10], [20], [5], [7]])
    >>> [row[-1] for row in customer_segments(sales, language="en", window=3)[1:]]
    ['Loyal', 'Lost', 'Promising']
    >>> [row[-1] for row in customer_segments(sales, language="en", window=12)[1:]]
    ['Loyal', 'Between Purchases', 'Promising']
    """
    words = labels(language)
    day, month = _as_of_month(transactions, as_of)
    table = build_customer_months(transactions, month)
    frame = _in_list_order(customer_table(table, month, window, as_of=day), table)
    header = [words[f"col.{c}"] for c in ("customer_id", "days_since_last")] + [words["fn.purchase_days"]] + [
        words[f"col.{c}"] for c in ("revenue", "r_score", "f_score", "m_score", "segment")]
    columns = [frame[c].tolist() for c in ("customer_id", "days_since_last", "orders", "revenue", "r_score",
                                             "f_score", "m_score")]
    segment_names = [words[f"segment.{s}"] for s in frame["segment"]]
    return [header] + [list(row) for row in zip(*columns, segment_names)]


def customer_value(transactions: pd.DataFrame, as_of: pd.Timestamp | None = None, months: int = 12,
                   monthly_discount: float = 0.01, language: str = "zh-CN") -> list[list]:
    """One row per customer, in the order of the sales list: id, frequency, recency and T in weeks, P(alive)
    (None where no drop-out is detectable), expected purchase days in the next 90 days and the value over
    ``months``, from the report's models with the report's minimums. ``#N/A`` where the models cannot run."""
    words = labels(language)
    day, month = _as_of_month(transactions, as_of)
    table = build_customer_months(transactions, month)
    valued = value.customer_value(table, month, months, monthly_discount, as_of=day)
    if not valued.available:
        raise ExcelError(NA, valued.unavailable or "")
    summary = value.summary_from_table(table, month_number(month), int((day - pd.Timestamp("1970-01-01")).days))
    predictions = valued.customers.reindex(summary.index)
    header = [words["col.customer_id"], words["fn.frequency"], words["fn.recency"], words["fn.age"],
              words["col.p_alive"], words["col.expected_purchases"], fill(words["col.clv"], horizon=months)]
    columns = [summary.index.tolist(), summary["frequency"].tolist(), summary["recency"].tolist(),
               summary["T"].tolist()] + [predictions[c].tolist() for c in value.VALUE_COLUMNS]
    return [header] + [[_number(v) for v in row] for row in zip(*columns)]


def p_alive(frequency, recency, age, r: float, alpha: float, a: float, b: float) -> np.ndarray:
    """BG/NBD's P(alive) of each (frequency, recency, T), for parameters fitted elsewhere; NaN where the
    arguments are outside the model (negative or fractional frequency, recency outside 0 … T, a parameter ≤ 0).

    >>> p_alive([0, 2], [0, 30.43], [38.86, 38.86], 0.243, 4.414, 0.793, 2.426).round(3).tolist()
    [1.0, 0.727]
    """
    if min(r, alpha, a, b) <= 0:
        raise ValueError("r, alpha, a and b must be positive")
    frequency, recency, age = (np.asarray(column, dtype=float) for column in (frequency, recency, age))
    valid = (frequency >= 0) & (frequency == np.floor(frequency)) & (recency >= 0) & (recency <= age)
    valid &= (frequency > 0) | (recency == 0)
    fit = clv.BgNbdFit(r=r, alpha=alpha, a=a, b=b, log_likelihood=float("nan"))
    alive = clv.p_alive(fit, {"frequency": frequency, "recency": recency, "T": age})
    return np.where(valid, alive, np.nan)


def day_of(serial_or_date: object) -> pd.Timestamp:
    """A day as a cell holds it: a date, an Excel serial number or text such as 2024-03-31.

    >>> day_of(45382), day_of("2024-03-31")
    (Timestamp('2024-03-31 00:00:00'), Timestamp('2024-03-31 00:00:00'))
    """
    if isinstance(serial_or_date, (int, float)) and not isinstance(serial_or_date, bool):
        if not 1 <= serial_or_date < 2958466:
            raise ExcelError(NUM, f"{serial_or_date} is not a day")
        return (_EXCEL_EPOCH + pd.Timedelta(days=float(serial_or_date))).normalize()
    try:
        return pd.Timestamp(serial_or_date).normalize()
    except (ValueError, TypeError):
        raise ExcelError(VALUE, f"{serial_or_date!r} is not a date") from None

