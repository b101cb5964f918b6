"""The customer x month table built by DuckDB, to the contract of :mod:`retention_xl.activity`.

The same clean transactions, the same definitions, another engine: DuckDB aggregates
out of core and on every core, which is where data beyond one machine's memory will
go. Customers keep the codes pandas gives them (order of first appearance), so every
figure computed from the table is the same whichever engine built it; money sums may
differ far below a cent, which the contract allows.

>>> import pandas as pd
>>> rows = pd.DataFrame({"customer_id": ["a", "a", "b"], "order_id": ["1", "1", None], "amount": [5.0, 2.0, 3.0],
...                      "date": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-02-03"])})
>>> build_customer_months(rows, pd.Period("2024-02", "M")).months[["customer", "month", "orders", "purchase_days"]].values.tolist()
[[0, 24288, 1, 1], [1, 24289, 1, 1]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .activity import CustomerMonths, NO_DAY, _latest_names

_TABLE = """
WITH t AS (
    SELECT customer, amount, profit, day, order_key, year(day) * 12 + month(day) - 1 AS month
    FROM rows
),
per_month AS (
    SELECT customer, month,
           sum(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS purchases,
           sum(CASE WHEN amount > 0 THEN 0 ELSE -amount END) AS returned,
           count(DISTINCT CASE WHEN amount > 0 THEN day END) AS purchase_days,
           min(CASE WHEN amount > 0 THEN day END) AS first_purchase_day,
           max(CASE WHEN amount > 0 THEN day END) AS last_purchase_day,
           coalesce(sum(profit), 0) AS profit
    FROM t GROUP BY customer, month
),
orders AS (  -- an order belongs to the month of its earliest line
    SELECT customer, month, count(*) AS orders
    FROM (SELECT customer, order_key, min(month) AS month FROM t WHERE amount > 0 GROUP BY customer, order_key)
    GROUP BY customer, month
)
SELECT p.customer, p.month, p.purchases, p.returned, coalesce(o.orders, 0) AS orders, p.purchase_days,
       coalesce(datediff('day', DATE '1970-01-01', p.first_purchase_day), -1) AS first_purchase_day,
       coalesce(datediff('day', DATE '1970-01-01', p.last_purchase_day), -1) AS last_purchase_day, p.profit
FROM per_month p LEFT JOIN orders o USING (customer, month)
ORDER BY p.customer, p.month
"""

_FIRST_DAYS = """
WITH first AS (SELECT customer, min(day) AS day FROM rows WHERE amount > 0 GROUP BY customer)
SELECT f.customer, datediff('day', DATE '1970-01-01', f.day) AS first_purchase_day, sum(r.amount) AS amount
FROM first f JOIN rows r ON r.customer = f.customer AND r.day = f.day
GROUP BY f.customer, f.day
"""


def build_customer_months(transactions: pd.DataFrame, until: pd.Period, connection=None) -> CustomerMonths:
    """The customer x month table of the transactions up to the end of month ``until``, aggregated by DuckDB.

    ``connection`` is a DuckDB connection to use (default: a new in-memory one).
    """
    import duckdb

    codes, ids = pd.factorize(transactions["customer_id"], sort=False)
    day = transactions["date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    # An order is its order id; a purchase without one is one order per customer and day.
    order_key = transactions["order_id"].astype("string").fillna("\x00day " + pd.Series(day.astype(str)))
    rows = pd.DataFrame({"customer": codes.astype(np.int32), "amount": transactions["amount"].to_numpy(dtype=float),
                         "day": day, "order_key": order_key.to_numpy(dtype=object),
                         "profit": transactions["profit"].to_numpy(dtype=float) if "profit" in transactions else np.nan})
    rows = rows[rows["day"] < np.datetime64((until + 1).start_time.date(), "D")]
    con = connection or duckdb.connect()
    try:
        con.register("rows", rows)
        months = con.execute(_TABLE).df()
        firsts = con.execute(_FIRST_DAYS).df()
        con.unregister("rows")
    finally:
        if connection is None:
            con.close()
    months = months.astype({"customer": np.int32, "month": np.int32, "purchases": float, "returned": float,
                            "orders": np.int32, "purchase_days": np.int32, "first_purchase_day": np.int32,
                            "last_purchase_day": np.int32, "profit": float})
    if "profit" not in transactions:
        months = months.drop(columns="profit")
    first_day = np.full(len(ids), NO_DAY, dtype=np.int32)
    first_amount = np.zeros(len(ids))
    first_day[firsts["customer"].to_numpy()] = firsts["first_purchase_day"].to_numpy()
    first_amount[firsts["customer"].to_numpy()] = np.round(firsts["amount"].to_numpy(dtype=float), 2)
    customers = pd.DataFrame({
        "customer_id": np.asarray(ids, dtype=object),
        "customer_name": _latest_names(transactions, ids).to_numpy(dtype=object),
        "first_purchase_day": first_day,
        "first_day_amount": first_amount,
    })
    return CustomerMonths(months=months.reset_index(drop=True), customers=customers)
