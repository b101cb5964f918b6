"""The customer x month table: the one stage between clean transactions and every figure.

Every figure of the report -- the bridge S/N/E/R/L, cohorts, trend, the customer
table, classes and actions -- is computed from this table, never by rescanning the
transactions. It is also the seam where another engine (a database) can take over
when the data outgrow memory: whatever builds the table must follow this contract.
The figures read the table only through the questions of :class:`CustomerTable`, so
a table too large for memory can stay in the engine and answer them there
(:class:`retention_xl.engine_table.EngineTable`).

**Contract.** :class:`CustomerMonths` holds two DataFrames.

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

DENSE_LIMIT = 50_000_000  # cells of a dense grouping grid; beyond it, sort instead
HASH_CHUNK = 1_000_000
_MIX = np.uint64(0x9E3779B97F4A7C15)  # spreads customer codes over the 64-bit key space
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

    :class:`CustomerMonths` holds it in memory; :class:`retention_xl.engine_table.EngineTable`
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


def _groups(keys: np.ndarray, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """(distinct keys in ascending order, index of each key among them) for keys in 0 .. cells - 1."""
    # A scatter into a grid is linear and sorting ten million keys is not; but a grid much larger than
    # the keys (a store's customers over two years of days) costs more to sweep than the keys to sort.
    if cells <= DENSE_LIMIT and cells <= 16 * len(keys):
        present = np.zeros(cells, dtype=bool)
        present[keys] = True
        position = np.cumsum(present, dtype=np.int32) - 1
        return np.flatnonzero(present), position[keys]
    distinct, inverse = np.unique(keys, return_inverse=True)
    return distinct, inverse.reshape(-1)


def _order_hashes(orders: pd.Series, day: np.ndarray) -> np.ndarray:
    """A 64-bit key per row for its order: a hash of the order id, or of the day where it has none.

    Hashing in chunks needs no table of every distinct order id, which for ten
    million order lines would take a gigabyte. Two different orders share a key
    with a probability of about one in a million even at that size.
    """
    keys = np.empty(len(orders), dtype=np.uint64)
    for start in range(0, len(orders), HASH_CHUNK):
        chunk = orders.iloc[start:start + HASH_CHUNK]
        known = chunk.notna().to_numpy()
        part = np.empty(len(chunk), dtype=np.uint64)
        part[known] = pd.util.hash_pandas_object(chunk[known].astype(str), index=False).to_numpy()
        part[~known] = (day[start:start + HASH_CHUNK][~known].astype(np.uint64) + np.uint64(1)) * _MIX
        keys[start:start + HASH_CHUNK] = part
    return keys


ORDER_KEY = "order_key"


def with_order_keys(transactions: pd.DataFrame) -> pd.DataFrame:
    """The transactions with each row's 64-bit order key as a column, which :func:`build_customer_months`
    then uses rather than hash the order ids again: hashed once for the whole data, not once more for the
    table of each store or salesperson (hashing a million order ids takes about a tenth of a second)."""
    days = transactions["date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    return transactions.assign(**{ORDER_KEY: _order_hashes(transactions["order_id"], days.astype(np.int32))})


def _order_groups(customer, order, month, group_of) -> np.ndarray:
    """Orders per group: each distinct (customer, order) pair counted once, in the group of its earliest month."""
    by_month = np.argsort(month, kind="stable") if month.size and (np.diff(month) < 0).any() else None
    if by_month is not None:
        customer, order, group_of = customer[by_month], order[by_month], group_of[by_month]
    pairs = order ^ (customer.astype(np.uint64) * _MIX)
    # Each pair's first row, found with a hash table: a third of the time of sorting the pairs.
    first = np.flatnonzero(~pd.Series(pairs, copy=False).duplicated(keep="first").to_numpy())
    return group_of[first]


def _latest_names(transactions: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """Per customer code: the name on their most recent transaction, where the sheet has names."""
    if "customer_name" not in transactions or transactions["customer_name"].isna().all():
        return pd.Series(pd.NA, index=range(len(ids)), dtype="object")
    named = transactions[["customer_id", "customer_name", "date"]].dropna(subset=["customer_name"])
    latest = named.sort_values("date", kind="stable").drop_duplicates("customer_id", keep="last")
    return pd.Series(ids).map(latest.set_index("customer_id")["customer_name"])


def build_customer_months(transactions: pd.DataFrame, until: pd.Period) -> CustomerMonths:
    """The customer x month table of the transactions up to the end of month ``until``.

    ``transactions`` has the columns of :func:`retention_xl.cleaning.clean_transactions`
    (``customer_id``, ``date``, ``amount``, ``order_id``, optional ``customer_name``).
    Later transactions are ignored. Columns are reduced to arrays and filtered one at
    a time, so ten million rows are never copied as a whole.
    """
    dates = transactions["date"].to_numpy(dtype="datetime64[ns]")
    keep = dates < np.datetime64((until + 1).start_time.to_datetime64(), "ns")
    everything = bool(keep.all())

    def kept(values: np.ndarray) -> np.ndarray:
        return values if everything else values[keep]

    codes, ids = pd.factorize(transactions["customer_id"], sort=False)
    customer = kept(codes.astype(np.int32))
    all_days = dates.astype("datetime64[D]").astype(np.int64).astype(np.int32)
    day = kept(all_days)
    del dates
    month = (day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12).astype(np.int32)
    amount = kept(transactions["amount"].to_numpy(dtype=float))
    purchase = amount > 0

    first_month = int(month.min()) if month.size else 0
    span = int(month.max()) - first_month + 1 if month.size else 1
    keys, group = _groups(customer.astype(np.int64) * span + (month - first_month), max(len(ids) * span, 1))
    group_customer = (keys // span).astype(np.int32)
    group_month = (keys % span + first_month).astype(np.int32)
    groups = len(keys)

    purchases = np.bincount(group, weights=np.where(purchase, amount, 0.0), minlength=groups)
    returned = np.bincount(group, weights=np.where(purchase, 0.0, -amount), minlength=groups)

    hashed = transactions[ORDER_KEY].to_numpy() if ORDER_KEY in transactions else None
    order_keys = kept(hashed if hashed is not None else _order_hashes(transactions["order_id"], all_days))
    del all_days
    order_group = _order_groups(customer[purchase], order_keys[purchase], month[purchase], group[purchase])
    orders = np.bincount(order_group, minlength=groups).astype(np.int32)
    del order_keys, order_group

    days = _purchase_days(customer[purchase], day[purchase], group[purchase], groups)
    first_day, first_day_amount = _first_days(group_customer, days, customer, day, amount, len(ids))
    months = pd.DataFrame({
        "customer": group_customer, "month": group_month, "purchases": purchases, "returned": returned,
        "orders": orders, "purchase_days": days.count, "first_purchase_day": days.first,
        "last_purchase_day": days.last,
    })
    if "profit" in transactions:
        profit = np.nan_to_num(kept(transactions["profit"].to_numpy(dtype=float)))
        months["profit"] = np.bincount(group, weights=profit, minlength=groups)
    customers = pd.DataFrame({
        "customer_id": np.asarray(ids, dtype=object),
        "customer_name": _latest_names(transactions, ids).to_numpy(dtype=object),
        "first_purchase_day": first_day,
        "first_day_amount": first_day_amount,
    })
    return CustomerMonths(months=months, customers=customers)


def _first_days(group_customer, days, customer, day, amount, customers: int) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: the first purchase day (or -1) and the net amount of every line on it."""
    first_day = np.full(customers, NO_DAY, dtype=np.int32)
    # Rows are sorted by customer and month, so a customer's first purchase row comes first.
    buyer_rows = np.flatnonzero(days.count > 0)
    first_rows = buyer_rows[np.r_[True, np.diff(group_customer[buyer_rows]) != 0]] if buyer_rows.size else buyer_rows
    first_day[group_customer[first_rows]] = days.first[first_rows]
    on_first_day = first_day[customer] == day
    first_day_amount = np.round(np.bincount(customer[on_first_day], weights=amount[on_first_day], minlength=customers), 2)
    return first_day, first_day_amount


@dataclass
class _Days:
    count: np.ndarray
    first: np.ndarray
    last: np.ndarray


def _purchase_days(customer: np.ndarray, day: np.ndarray, group: np.ndarray, groups: int) -> _Days:
    """Distinct purchase days per group, with the first and last of them."""
    count = np.zeros(groups, dtype=np.int32)
    first = np.full(groups, NO_DAY, dtype=np.int32)
    last = np.full(groups, NO_DAY, dtype=np.int32)
    if not day.size:
        return _Days(count, first, last)
    first_day = int(day.min())
    span = int(day.max()) - first_day + 1
    keys, position = _groups(customer.astype(np.int64) * span + (day - first_day), int(customer.max() + 1) * span)
    # One group per distinct (customer, day); keys ascend by customer then day, so within a
    # (customer, month) group the first key is its first day and the last key its last.
    group_of_key = np.empty(len(keys), dtype=group.dtype)
    group_of_key[position] = group
    key_day = (keys % span + first_day).astype(np.int32)
    count[:] = np.bincount(group_of_key, minlength=groups)
    starts = np.r_[True, np.diff(group_of_key) != 0]
    ends = np.r_[starts[1:], True]
    first[group_of_key[starts]] = key_day[starts]
    last[group_of_key[ends]] = key_day[ends]
    return _Days(count, first, last)
