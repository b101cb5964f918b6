"""The customer x month table: the one stage between clean transactions and every figure.

Every figure of the report -- the bridge S/N/E/R/L, cohorts, trend, the customer
table, classes and actions -- is computed from this table, never by rescanning the
transactions. It is also the seam where another engine (a database) can take over
when the data outgrow memory: whatever builds the table must follow this contract.
The figures read the table only through the questions of :class:`CustomerTable`, so
a table too large for memory can stay in the engine and answer them there
(:class:`retention_xl.table.engine_table.EngineTable`).

**Contract.** :class:`CustomerMonths` holds two DataFrames
(:func:`retention_xl.table.numpy_builder.build_customer_months` builds them in memory).

``months`` -- one row per customer and calendar month in which the customer has a
transaction (a purchase or a return), sorted by ``customer`` then ``month``:

=====================  ========  ==========================================================
column                 dtype     meaning
=====================  ========  ==========================================================
customer               int32     position of the customer in ``customers``
month                  int32     months since year 0 (``year * 12 + month - 1``)
purchases              float64   sum of the positive amounts
returned               float64   sum of the negative amounts, as a positive number
orders                 int32     distinct purchase orders placed in the month: an order id, or a
                                 purchase day where the sheet has no order ids; an order whose
                                 lines span months belongs to the month of its earliest line
purchase_days          int32     distinct days with a purchase
first_purchase_day     int32     first day with a purchase (days since 1970-01-01), or -1
last_purchase_day      int32     last day with a purchase, or -1
profit                 float64   only where the transactions have a ``profit`` column: the sum
                                 of the known profits of every line (purchases and returns)
=====================  ========  ==========================================================

``customers`` -- one row per customer, in code order (row ``i`` is customer ``i``):
``customer_id`` (text), ``customer_name`` (the name on their latest transaction in
the data, or missing), ``first_purchase_day`` (int32, -1 for a customer with returns
only) and ``first_day_amount`` (float64: the net amount of every line on that day).

Money is float64 as summed; engines that add in another order differ only far below
a cent, so every comparison and ranking (the customer table) uses the sums rounded to
cents, with ties broken by customer id. Derivable from the table alone: monthly activity, revenue,
orders, repeat buyers (``orders >= 2`` in a month) and return rates; the BG/NBD
summary (purchase days - 1, first and last purchase day, and repeat spend as
(total net - first day's amount) / (purchase days - 1)). **Exception:** a return
booked on a day without a purchase reduces that repeat spend, because the table keeps
amounts per month, not per day.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

NO_DAY = -1


def month_number(period: pd.Period) -> int:
    """Months since year 0, so that month arithmetic is integer arithmetic.

    >>> month_number(pd.Period("2024-03", "M")) - month_number(pd.Period("2023-12", "M"))
    3
    """
    return period.year * 12 + period.month - 1


def month_period(number: int) -> pd.Period:
    """The inverse of :func:`month_number`.

    >>> str(month_period(24290))
    '2024-03'
    """
    return pd.Period(year=number // 12, month=number % 12 + 1, freq="M")


class CustomerTable:
    """What every figure reads of a customer x month table, wherever the table is held.

    :class:`CustomerMonths` holds it in memory; :class:`retention_xl.table.engine_table.EngineTable`
    leaves it in DuckDB where it is too large for memory. Both answer the same questions --
    sums and activity per customer over a range of months, a month's totals, the cohort grid --
    so that every figure is computed by one code path from either. Subclasses give ``customers``
    (the contract's per-customer frame), ``has_profit``, ``_purchase_bits`` and the methods that
    raise ``NotImplementedError`` here.
    """

    customers: pd.DataFrame

    @property
    def customer_count(self) -> int:
        return len(self.customers)

    @property
    def has_profit(self) -> bool:
        raise NotImplementedError

    @property
    def first_month(self) -> np.ndarray:
        """Per customer: the month of the first purchase, or -1."""
        days = self.customers["first_purchase_day"].to_numpy()
        months = (days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12).astype(np.int32)
        return np.where(days >= 0, months, -1)

    @property
    def first_data_month(self) -> int | None:
        """The table's earliest month, or None for an empty table."""
        raise NotImplementedError

    def per_customer(self, name: str, first: int, last: int) -> np.ndarray:
        """Column ``name`` (or ``"net"``: purchases minus returns) summed per customer over months ``first`` .. ``last``."""
        raise NotImplementedError

    def sums(self, questions: list[tuple[str, int, int]]) -> list[np.ndarray]:
        """:meth:`per_customer` of each ``(name, first, last)`` of ``questions``, which a table may answer together."""
        return [self.per_customer(*question) for question in questions]

    def month_totals(self, m: int) -> dict:
        """Month ``m``'s net revenue, purchases, purchase orders and (where the table has it) profit."""
        raise NotImplementedError

    def cohort_grid(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Customers with a first purchase in months ``first`` .. ``last``: per (first month, months since), how
        many bought and their net revenue, as two square arrays (row: first month - ``first``; column: offset)."""
        raise NotImplementedError

    def purchase_history(self, last_month: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per customer, up to the end of month ``last_month``: purchase days, net revenue in cents and the last
        purchase day (or -1)."""
        raise NotImplementedError

    def last_purchase_day(self) -> np.ndarray:
        """Per customer: the last day with a purchase, or -1."""
        raise NotImplementedError

    @property
    def _purchase_bits(self) -> tuple[np.ndarray | None, int, int]:
        """Per customer, one bit for each month with a purchase (bit 0: the table's first month), that first
        month and the number of months; None for the bits where the table spans more months than 64 bits hold."""
        raise NotImplementedError

    def _active_by_rows(self, first: int, last: int) -> np.ndarray:
        """:meth:`active_in` for a table too long for :attr:`_purchase_bits`."""
        raise NotImplementedError

    def active_in(self, first: int, last: int) -> np.ndarray:
        """Boolean per customer: bought in months ``first`` .. ``last``."""
        bits, base, span = self._purchase_bits
        if bits is None:
            return self._active_by_rows(first, last)
        low, high = max(first - base, 0), min(last - base, span - 1)
        if low > high:
            return np.zeros(self.customer_count, dtype=bool)
        months = np.uint64((1 << (high + 1)) - (1 << low))
        return (bits & months) != 0

    def revenue_in(self, first: int, last: int) -> np.ndarray:
        """Net revenue per customer in months ``first`` .. ``last``."""
        return self.per_customer("net", first, last)


@dataclass
class CustomerMonths(CustomerTable):
    """The customer x month table and its per-customer companion, in memory (see the module's contract)."""

    months: pd.DataFrame
    customers: pd.DataFrame

    def column(self, name: str) -> np.ndarray:
        return self.months[name].to_numpy()

    @cached_property
    def net(self) -> np.ndarray:
        """Net revenue of each row: purchases minus returns."""
        return self.column("purchases") - self.column("returned")

    @cached_property
    def _by_month(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Row positions in month order, where each month's rows start among them, and the first month.

        The figures ask for a month or a window at a time, dozens of times per report:
        with the rows grouped by month each question reads only the rows of its months.
        """
        month = self.column("month")
        if not month.size:
            return np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64), 0
        first = int(month.min())
        offset = month - first
        # A stable sort of 16-bit keys is a radix sort: linear in the rows.
        order = np.argsort(offset.astype(np.int16) if offset.max() < 2**15 else offset, kind="stable")
        starts = np.r_[0, np.cumsum(np.bincount(offset))]
        return order.astype(np.int32) if order.size < 2**31 else order, starts, first

    def _offsets(self, first: int, last: int) -> tuple[int, int]:
        """Months ``first`` .. ``last`` as offsets from the table's first month, clipped to the months it has
        (``low > high`` where none of them are in it)."""
        _, starts, first_month = self._by_month
        return max(first - first_month, 0), min(last - first_month, len(starts) - 2)

    def rows_in(self, first: int, last: int) -> np.ndarray | slice:
        """The rows of months ``first`` .. ``last``, as positions (or a slice, for every row)."""
        order, starts, _ = self._by_month
        low, high = self._offsets(first, last)
        if low == 0 and high == len(starts) - 2:
            return slice(None)
        if low > high:
            return order[:0]
        return order[starts[low]:starts[high + 1]]

    def per_customer(self, name: str, first: int, last: int) -> np.ndarray:
        rows = self.rows_in(first, last)
        values = self.net if name == "net" else self.column(name)
        return np.bincount(self.column("customer")[rows], weights=values[rows], minlength=self.customer_count)

    def month_totals(self, m: int) -> dict:
        rows = self.rows_in(m, m)
        return {"revenue": float(self.net[rows].sum()), "purchases": float(self.column("purchases")[rows].sum()),
                "orders": int(self.column("orders")[rows].sum()),
                "profit": float(self.column("profit")[rows].sum()) if self.has_profit else None}

    @property
    def first_data_month(self) -> int | None:
        month = self.column("month")
        return int(month.min()) if month.size else None

    def cohort_grid(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        size = last - first + 1
        cohort_of = self.first_month[self.column("customer")]
        row_month = self.column("month")
        in_scope = (cohort_of >= first) & (row_month >= cohort_of) & (row_month <= last)
        cell = (cohort_of[in_scope] - first) * size + row_month[in_scope] - cohort_of[in_scope]
        bought = (self.column("purchase_days")[in_scope] > 0).astype(float)
        active = np.bincount(cell, weights=bought, minlength=size * size).reshape(size, size)
        revenue = np.bincount(cell, weights=self.net[in_scope], minlength=size * size).reshape(size, size)
        return active, revenue

    def purchase_history(self, last_month: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Rows after the month are masked, not cut out: a cut copies every column of the table at once
        # (hundreds of megabytes at a hundred million rows), a mask one column at a time.
        in_range = self.column("month") <= last_month
        everything = bool(in_range.all())

        def upto(values: np.ndarray, outside) -> np.ndarray:
            return values if everything else np.where(in_range, values, outside)

        customer = self.column("customer")
        days = np.bincount(customer, weights=upto(self.column("purchase_days"), 0), minlength=self.customer_count)
        # In cents, as the first day's amount is: engines add in different orders, and the models must be
        # fitted on the same spend whichever engine built the table.
        net = np.round(np.bincount(customer, weights=upto(self.net, 0.0), minlength=self.customer_count), 2)
        last = latest_per_customer(customer, upto(self.column("last_purchase_day"), NO_DAY), self.customer_count)
        return days, net, last.astype(np.int64)

    @cached_property
    def _purchase_bits(self) -> tuple[np.ndarray | None, int, int]:
        _, starts, first = self._by_month
        if len(starts) - 1 > 64:
            return None, first, len(starts) - 1
        customer = self.column("customer")
        bits = np.zeros(self.customer_count, dtype=np.uint64)
        if customer.size:
            month_bit = np.left_shift(np.uint64(1), (self.column("month") - first).astype(np.uint64))
            bought = np.where(self.column("purchase_days") > 0, month_bit, np.uint64(0))
            runs = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])  # rows are sorted by customer
            bits[customer[runs]] = np.bitwise_or.reduceat(bought, runs)
        return bits, first, len(starts) - 1

    def _active_by_rows(self, first: int, last: int) -> np.ndarray:
        rows = self.rows_in(first, last)
        active = np.zeros(self.customer_count, dtype=bool)
        active[self.column("customer")[rows][self.column("purchase_days")[rows] > 0]] = True
        return active

    @property
    def has_profit(self) -> bool:
        return "profit" in self.months

    def last_purchase_day(self) -> np.ndarray:
        return latest_per_customer(self.column("customer"), self.column("last_purchase_day"), self.customer_count)


def latest_per_customer(customer: np.ndarray, day: np.ndarray, count: int) -> np.ndarray:
    """Per customer code ``0 .. count - 1``: the largest ``day`` of its rows, or -1.

    ``customer`` is in ascending order, as the table's rows are, so each customer's rows
    are one run: a reduction per run is many times faster than a scattered maximum.

    >>> latest_per_customer(np.array([0, 0, 2]), np.array([5, 9, 3]), 4).tolist()
    [9, -1, 3, -1]
    """
    latest = np.full(count, NO_DAY, dtype=np.int32)
    if len(customer):
        starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
        latest[customer[starts]] = np.maximum.reduceat(day, starts)
    return latest
