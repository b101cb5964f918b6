"""The customer x month table as one SQL definition that DuckDB and Spark SQL both run.

The SQL engines share this text rather than each having its own query: it uses only
what both dialects agree on (``CASE``, ``MIN``/``MAX``/``SUM``, ``BIT_OR``/``BIT_COUNT``/``POWER``,
``COALESCE``, joins on equal keys). Dates are turned into whole day and month numbers
before the rows reach an engine, so no date function (whose names differ between
dialects) is needed. The result follows the contract of :mod:`retention_xl.table.contract`.

>>> rows = pd.DataFrame({"customer_id": ["a", "a", "b"], "order_id": ["1", "1", None], "amount": [5.0, 2.0, 3.0],
...                      "date": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-02-03"])})
>>> engine_rows(rows, pd.Period("2024-02", "M"))[0][["customer", "day", "month", "order_key"]].values.tolist()
[[0, 19724, 24288, '1'], [0, 19724, 24288, '1'], [1, 19756, 24289, '\\x00day 19756']]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .contract import NO_DAY, CustomerMonths
from .numpy_builder import latest_names
from .order_keys import text_order_keys

_MONTHS_TEMPLATE = """
WITH per_month AS (  -- a month's purchase days as bits (a day's number mod 31 differs within any month): no
                     -- grouping by day, which at the grain of customer and day would be nearly as large as the rows
    SELECT customer, month,
           SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS purchases,
           SUM(CASE WHEN amount > 0 THEN 0 ELSE -amount END) AS returned,
           CAST(BIT_COUNT(BIT_OR(CASE WHEN amount > 0 THEN CAST(POWER(2, (day % 31 + 31) % 31) AS BIGINT)
                                      ELSE CAST(0 AS BIGINT) END)) AS INT) AS purchase_days,
           COALESCE(MIN(CASE WHEN amount > 0 THEN day END), -1) AS first_purchase_day,
           COALESCE(MAX(CASE WHEN amount > 0 THEN day END), -1) AS last_purchase_day,
           SUM(profit) AS profit
    FROM {rows} {since} GROUP BY customer, month
),
order_months AS (  -- an order belongs to the month of its earliest line
    SELECT customer, MIN(month) AS month FROM {rows} WHERE amount > 0 GROUP BY customer, order_key
),
orders AS (
    SELECT customer, month, CAST(COUNT(*) AS INT) AS orders FROM order_months {since} GROUP BY customer, month
)
SELECT p.customer, p.month, p.purchases, p.returned, CAST(COALESCE(o.orders, 0) AS INT) AS orders, p.purchase_days,
       p.first_purchase_day, p.last_purchase_day, p.profit
FROM per_month p LEFT JOIN orders o ON o.customer = p.customer AND o.month = p.month
"""

FIRST_DAYS_SQL = """
WITH first_days AS (SELECT customer, MIN(day) AS day FROM rows WHERE amount > 0 GROUP BY customer)
SELECT f.customer, f.day AS first_purchase_day, SUM(r.amount) AS amount
FROM first_days f JOIN rows r ON r.customer = f.customer AND r.day = f.day
GROUP BY f.customer, f.day
"""


def months_sql(since: int | None = None, rows: str = "rows") -> str:
    """The customer x month table's SQL over the table or view ``rows``; with ``since`` (a month number),
    its rows for months ``since`` and later.

    An order is still dated by its earliest line among all rows, so an order begun before
    ``since`` is not counted again in a later month.
    """
    return _MONTHS_TEMPLATE.replace("{since}", "" if since is None else f"WHERE month >= {int(since)}").replace(
        "{rows}", rows)


MONTHS_SQL = months_sql()

MONTH_DTYPES = {"customer": np.int32, "month": np.int32, "purchases": float, "returned": float, "orders": np.int32,
                "purchase_days": np.int32, "first_purchase_day": np.int32, "last_purchase_day": np.int32,
                "profit": float}


def engine_rows(transactions: pd.DataFrame, until: pd.Period) -> tuple[pd.DataFrame, pd.Index]:
    """The rows an SQL engine aggregates, up to the end of month ``until``, and the customer ids by code.

    Columns: ``customer`` (int32 code, in order of first appearance, as pandas numbers them),
    ``day`` (days since 1970-01-01), ``month`` (months since year 0), ``amount``,
    ``profit`` (0 where unknown or absent) and ``order_key`` (the order id, or the day for a
    purchase without one).
    """
    codes, ids = pd.factorize(transactions["customer_id"], sort=False)
    day = transactions["date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    day_number = day.astype(np.int64).astype(np.int32)
    month = (day.astype("datetime64[M]").astype(np.int64) + 1970 * 12).astype(np.int32)
    profit = transactions["profit"].to_numpy(dtype=float) if "profit" in transactions else np.zeros(len(day))
    rows = pd.DataFrame({"customer": codes.astype(np.int32), "day": day_number, "month": month,
                         "amount": transactions["amount"].to_numpy(dtype=float), "profit": np.nan_to_num(profit),
                         "order_key": text_order_keys(transactions["order_id"], day_number)})
    keep = day < np.datetime64((until + 1).start_time.date(), "D")
    return (rows if keep.all() else rows[keep].reset_index(drop=True)), ids


def customer_months(months: pd.DataFrame, firsts: pd.DataFrame, transactions: pd.DataFrame, ids: pd.Index) -> CustomerMonths:
    """The table from an engine's two results (``MONTHS_SQL``, ``FIRST_DAYS_SQL``), in the contract's order and dtypes."""
    names = latest_names(transactions, ids).to_numpy(dtype=object)
    return table_from_results(months, firsts, np.asarray(ids, dtype=object), names, "profit" in transactions)


def table_from_results(months: pd.DataFrame, firsts: pd.DataFrame, ids: np.ndarray, names: np.ndarray,
                       has_profit: bool) -> CustomerMonths:
    """The table from the results of ``MONTHS_SQL`` and ``FIRST_DAYS_SQL``, the ids and latest names by code."""
    months = months.astype(MONTH_DTYPES)  # no copy where the engine gave these types already
    key = months["customer"].to_numpy(dtype=np.int64) * 100_000 + months["month"].to_numpy()  # months < 100,000
    if len(key) > 1 and (np.diff(key) < 0).any():  # engines that cannot sort cheaply leave it to here
        months = months.sort_values(["customer", "month"], kind="stable").reset_index(drop=True)
    if not has_profit:
        months = months.drop(columns="profit")
    return CustomerMonths(months=months, customers=customers_frame(firsts, ids, names))


def customers_frame(firsts: pd.DataFrame, ids: np.ndarray, names: np.ndarray) -> pd.DataFrame:
    """The contract's per-customer frame from the result of ``FIRST_DAYS_SQL`` (by code), the ids and names."""
    first_day = np.full(len(ids), NO_DAY, dtype=np.int32)
    first_amount = np.zeros(len(ids))
    codes = firsts["customer"].to_numpy(dtype=np.int64)
    first_day[codes] = firsts["first_purchase_day"].to_numpy()
    first_amount[codes] = np.round(firsts["amount"].to_numpy(dtype=float), 2)
    return pd.DataFrame({"customer_id": ids, "customer_name": names, "first_purchase_day": first_day,
                         "first_day_amount": first_amount})
