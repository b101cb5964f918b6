"""The customer x month table left inside DuckDB, for sales whose table does not fit in memory.

:class:`EngineTable` answers the questions every figure asks of the table (see
:class:`retention_xl.table.contract.CustomerTable`) with queries over a DuckDB table, so that
the bridge, trend, cohorts, Pareto share, customer ranking and customer-value models
are computed by the same Python code as from a table in memory. Python holds only what
has one row per customer (or less): the customers' ids, names and first purchases, and
the per-customer sums one question at a time. DuckDB spills the table to disk as its
memory limit requires.

Sums come back as DuckDB added them, in an order of its own: like any other engine's,
they differ from pandas' far below a cent, and every ranking uses them rounded to cents.

>>> import duckdb
>>> connection = duckdb.connect()
>>> _ = connection.execute('''CREATE TABLE months AS SELECT * FROM (VALUES
...     (0, 24288, 5.0, 0.0, 1, 1, 19724, 19724, 0.0), (1, 24289, 3.0, 1.0, 1, 1, 19756, 19756, 0.0))
...     t(customer, month, purchases, returned, orders, purchase_days, first_purchase_day, last_purchase_day, profit)''')
>>> people = pd.DataFrame({"customer_id": ["a", "b"], "customer_name": [None, None],
...                        "first_purchase_day": [19724, 19756], "first_day_amount": [5.0, 3.0]})
>>> table = EngineTable(connection, "months", people, has_profit=False)
>>> table.revenue_in(24288, 24289).tolist(), table.active_in(24289, 24289).tolist()
([5.0, 2.0], [False, True])
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from .contract import NO_DAY, CustomerTable

_VALUES = {"net": "purchases - returned", "purchases": "purchases", "returned": "returned", "orders": "orders",
           "purchase_days": "purchase_days", "profit": "profit"}


class EngineTable(CustomerTable):
    """The table ``name`` on a DuckDB ``connection`` (the contract's ``months`` columns, ``customer`` the code)
    with its per-customer frame ``customers`` in memory.

    Queries run on a cursor of their own, so that another thread may use ``connection`` meanwhile.
    """

    def __init__(self, connection, name: str, customers: pd.DataFrame, has_profit: bool):
        self.cursor = connection.cursor()
        self.name = name
        self.customers = customers
        self._has_profit = has_profit

    @property
    def has_profit(self) -> bool:
        return self._has_profit

    def _query(self, sql: str) -> dict[str, np.ndarray]:
        return self.cursor.execute(sql).fetchnumpy()

    def _spread(self, sql: str, empty, dtype) -> list[np.ndarray]:
        """The per-customer columns of a query whose first column is the customer code, by code (``empty`` where
        a customer has no row; ``empty`` and ``dtype`` may be lists, one per column)."""
        found = self._query(sql)
        codes = np.asarray(found.pop("customer"), dtype=np.int64)
        count = len(found)
        empties = empty if isinstance(empty, list) else [empty] * count
        dtypes = dtype if isinstance(dtype, list) else [dtype] * count
        spread = []
        for values, nothing, kind in zip(found.values(), empties, dtypes):
            column = np.full(self.customer_count, nothing, dtype=kind)
            column[codes] = np.asarray(values, dtype=kind)
            spread.append(column)
        return spread

    @property
    def first_data_month(self) -> int | None:
        return self._months[0]

    @cached_property
    def _months(self) -> tuple[int | None, int | None]:
        """The table's first and last month (None for a table without rows)."""
        first, last = self.cursor.execute(f"SELECT min(month), max(month) FROM {self.name}").fetchone()
        return (None, None) if first is None else (int(first), int(last))

    def per_customer(self, name: str, first: int, last: int) -> np.ndarray:
        return self.sums([(name, first, last)])[0]

    def sums(self, questions: list[tuple[str, int, int]]) -> list[np.ndarray]:
        # One pass over the months of all the questions: at 100 million rows each pass groups 28 million.
        columns = ", ".join(
            f"CAST(coalesce(sum({_VALUES[name]}) FILTER (WHERE month BETWEEN {int(first)} AND {int(last)}), 0) "
            f"AS DOUBLE) AS sum_{index}" for index, (name, first, last) in enumerate(questions))
        low, high = min(first for _, first, _ in questions), max(last for _, _, last in questions)
        return self._spread(f"""
            SELECT customer, {columns} FROM {self.name}
            WHERE month BETWEEN {int(low)} AND {int(high)} GROUP BY customer""", 0.0, float)

    def month_totals(self, m: int) -> dict:
        revenue, purchases, orders, profit = self.cursor.execute(f"""
            SELECT CAST(coalesce(sum(purchases - returned), 0) AS DOUBLE), CAST(coalesce(sum(purchases), 0) AS DOUBLE),
                   CAST(coalesce(sum(orders), 0) AS BIGINT), CAST(coalesce(sum(profit), 0) AS DOUBLE)
            FROM {self.name} WHERE month = {int(m)}""").fetchone()
        return {"revenue": revenue, "purchases": purchases, "orders": int(orders),
                "profit": profit if self.has_profit else None}

    def cohort_grid(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        size = last - first + 1
        cells = self._query(f"""
            WITH cohorts AS (SELECT customer, min(month) FILTER (WHERE purchase_days > 0) AS cohort
                             FROM {self.name} GROUP BY customer)
            SELECT (cohort - {int(first)}) * {size} + month - cohort AS cell,
                   CAST(count(*) FILTER (WHERE purchase_days > 0) AS DOUBLE) AS active,
                   CAST(sum(purchases - returned) AS DOUBLE) AS revenue
            FROM {self.name} JOIN cohorts USING (customer)
            WHERE cohort >= {int(first)} AND month >= cohort AND month <= {int(last)} GROUP BY cell""")
        grids = []
        for name in ("active", "revenue"):
            grid = np.zeros(size * size)
            grid[np.asarray(cells["cell"], dtype=np.int64)] = cells[name]
            grids.append(grid.reshape(size, size))
        return grids[0], grids[1]

    def purchase_history(self, last_month: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        days, net, last = self._spread(f"""
            SELECT customer, CAST(sum(purchase_days) AS DOUBLE) AS days, CAST(sum(purchases - returned) AS DOUBLE) AS net,
                   max(last_purchase_day) AS last
            FROM {self.name} WHERE month <= {int(last_month)} GROUP BY customer""", [0.0, 0.0, NO_DAY],
            [float, float, np.int64])
        return days, np.round(net, 2), last

    def last_purchase_day(self) -> np.ndarray:
        return self._spread(f"SELECT customer, max(last_purchase_day) AS last FROM {self.name} GROUP BY customer",
                            NO_DAY, np.int32)[0]

    @cached_property
    def _purchase_bits(self) -> tuple[np.ndarray | None, int, int]:
        first, last = self._months
        if first is None:
            return np.zeros(self.customer_count, dtype=np.uint64), 0, 0
        span = last - first + 1
        if span > 64:
            return None, first, span
        bits, = self._spread(f"""
            SELECT customer, bit_or(CASE WHEN purchase_days > 0 THEN CAST(1 AS UBIGINT) << (month - {first})
                                         ELSE CAST(0 AS UBIGINT) END) AS bits
            FROM {self.name} GROUP BY customer""", 0, np.uint64)
        return bits, first, span

    def _active_by_rows(self, first: int, last: int) -> np.ndarray:
        active = np.zeros(self.customer_count, dtype=bool)
        found = self._query(f"""
            SELECT DISTINCT customer FROM {self.name} WHERE purchase_days > 0 AND month BETWEEN {int(first)} AND {int(last)}""")
        active[np.asarray(found["customer"], dtype=np.int64)] = True
        return active
