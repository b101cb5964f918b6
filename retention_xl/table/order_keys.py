"""The key of an order line, in each form the customer x month table's builders read, side by side.

An order is counted once per customer and key. A line with an order id is keyed by the id; a line
without one is an order of its own day: a customer's lines of one day without an id make one order
(the sheet has no order ids, or these lines lack one). Each builder holds the key its own way:

* numpy (:mod:`retention_xl.table.numpy_builder`): 64 bits, a hash of the id's text, or (day + 1) x :data:`MIX`;
* DuckDB and Spark from rows in memory (:func:`retention_xl.table.engine_sql.engine_rows`): text, the id, or
  ``"\\x00day N"`` (an id read from a sheet never holds a NUL);
* the scan (:mod:`retention_xl.read.scan.scanned_tables`, and Spark over the rows it classified): the dialect's hash of the
  cleaned id, or of ``-1 - day`` (a whole number, where an id's hash is of text).

>>> orders, days = pd.Series(["A1", None, None]), np.array([19000, 19000, 19001], dtype=np.int32)
>>> keys = hashed_order_keys(orders, days)
>>> bool(keys[1] != keys[2]), bool(keys[1] == hashed_order_keys(pd.Series([None]), days[:1])[0])
(True, True)
>>> text_order_keys(orders, days).tolist()
['A1', '\\x00day 19000', '\\x00day 19001']
>>> order_key_sql("order_key", "day", "hash")
'coalesce(order_key, hash(-1 - day))'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HASH_CHUNK = 1_000_000
MIX = np.uint64(0x9E3779B97F4A7C15)  # spreads day numbers over the 64-bit key space


def hashed_order_keys(orders: pd.Series, day: np.ndarray) -> np.ndarray:
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
        part[~known] = (day[start:start + HASH_CHUNK][~known].astype(np.uint64) + np.uint64(1)) * MIX
        keys[start:start + HASH_CHUNK] = part
    return keys


def text_order_keys(orders: pd.Series, day_number: np.ndarray) -> np.ndarray:
    """A text key per row for its order, for an SQL engine given the rows: the order id, or its day's."""
    return orders.astype("string").fillna("\x00day " + pd.Series(day_number.astype(str))).to_numpy(dtype=object)


def order_key_sql(order_key: str, day: str, hash_function: str) -> str:
    """The key in SQL, from the column of the id's hash ``order_key`` (NULL without an id) and the day number
    ``day``; ``hash_function`` is the dialect's (``hash`` in DuckDB, ``xxhash64`` in Spark)."""
    return f"coalesce({order_key}, {hash_function}(-1 - {day}))"
