"""The customer x month table built in memory with numpy, to the contract of :mod:`retention_xl.table.contract`.

Each row's customer and month (or customer and day) become one integer key, grouped
by a scatter into a grid or by a sort, whichever is cheaper for the data's shape;
the sums are then ``bincount`` over the groups. Orders are counted from 64-bit keys
hashed once per order id (:func:`with_order_keys`).

>>> sales = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, -4.0, 7.0], "order_id": ["1", "2", "3"],
...                       "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-09"])})
>>> table = build_customer_months(sales, pd.Period("2024-02", "M"))
>>> table.months[["customer", "purchases", "returned", "orders"]].values.tolist()
[[0.0, 10.0, 0.0, 1.0], [0.0, 0.0, 4.0, 0.0], [1.0, 7.0, 0.0, 1.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .contract import NO_DAY, CustomerMonths
from .order_keys import hashed_order_keys

DENSE_LIMIT = 50_000_000  # cells of a dense grouping grid; beyond it, sort instead


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


ORDER_KEY = "order_key"


def with_order_keys(transactions: pd.DataFrame) -> pd.DataFrame:
    """The transactions with each row's 64-bit order key as a column, which :func:`build_customer_months`
    then uses rather than hash the order ids again: hashed once for the whole data, not once more for the
    table of each store or salesperson (hashing a million order ids takes about a tenth of a second)."""
    days = transactions["date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    return transactions.assign(**{ORDER_KEY: hashed_order_keys(transactions["order_id"], days.astype(np.int32))})


def _scrambled(codes: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of 64-bit numbers that no XOR of multiples can line up with.

    >>> _scrambled(np.array([0, 1, 2], dtype=np.uint64)).tolist()
    [0, 6238072747940578789, 15839785061582574730]
    """
    mixed = codes ^ (codes >> np.uint64(30))
    mixed = mixed * np.uint64(0xBF58476D1CE4E5B9)
    mixed = mixed ^ (mixed >> np.uint64(27))
    mixed = mixed * np.uint64(0x94D049BB133111EB)
    return mixed ^ (mixed >> np.uint64(31))


def _order_groups(customer, order, month, group_of) -> np.ndarray:
    """Orders per group: each distinct (customer, order) pair counted once, in the group of its earliest month."""
    by_month = np.argsort(month, kind="stable") if month.size and (np.diff(month) < 0).any() else None
    if by_month is not None:
        customer, order, group_of = customer[by_month], order[by_month], group_of[by_month]
    # The customer's code goes through a non-linear mix: XOR with a plain multiple, as the day keys of orders
    # without an id are, made customer c on day d and customer d + 1 on day c - 1 one order.
    pairs = order ^ _scrambled(customer.astype(np.uint64))
    # Each pair's first row, found with a hash table: a third of the time of sorting the pairs.
    first = np.flatnonzero(~pd.Series(pairs, copy=False).duplicated(keep="first").to_numpy())
    return group_of[first]


def latest_names(transactions: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """Per customer code: the name on their most recent transaction, where the sheet has names (every builder
    takes the names from the transactions this way)."""
    if "customer_name" not in transactions or transactions["customer_name"].isna().all():
        return pd.Series(pd.NA, index=range(len(ids)), dtype="object")
    named = transactions[["customer_id", "customer_name", "date"]].dropna(subset=["customer_name"])
    latest = named.sort_values("date", kind="stable").drop_duplicates("customer_id", keep="last")
    return pd.Series(ids).map(latest.set_index("customer_id")["customer_name"])


def build_customer_months(transactions: pd.DataFrame, until: pd.Period) -> CustomerMonths:
    """The customer x month table of the transactions up to the end of month ``until``.

    ``transactions`` has the columns of :func:`retention_xl.read.cleaning.clean_transactions`
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
    order_keys = kept(hashed if hashed is not None else hashed_order_keys(transactions["order_id"], all_days))
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
        "customer_name": latest_names(transactions, ids).to_numpy(dtype=object),
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
