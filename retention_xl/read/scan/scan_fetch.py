"""Fetching a scan's tables from DuckDB into Python: the customer x month table a chunk at a time within a
memory budget, and each group's table from its customers' rows
(:class:`~retention_xl.read.scan.scanned_tables.ScannedSales`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import EngineError
from ...memory_budget import TABLE_PEAK_FACTOR
from ...table.contract import NO_DAY, CustomerMonths
from ...table.engine_sql import MONTH_DTYPES

MONTH_TYPES = {column: dtype for column, dtype in MONTH_DTYPES.items() if column != "customer"}
TABLE_TOO_LARGE = ("the customer x month table does not fit in memory: it passed {rows:,} customer-months "
                   "({size:.1f} GiB) with {available:.1f} GiB available, and the report would hold about {factor}× "
                   "the table")


class TableTooLarge(EngineError):
    """The customer x month table would not fit in memory."""


class Chunks:
    """The rows of a query sorted by its first column, taken a run of keys at a time as they are fetched,
    so that the rows of every group are never all held at once."""

    CHUNK_VECTORS = 100  # DuckDB vectors of 2,048 rows per fetch

    def __init__(self, result):
        self.result = result
        self.pending = result.fetch_df_chunk(self.CHUNK_VECTORS)
        self.done = self.pending.empty

    def until(self, last_key: int) -> pd.DataFrame:
        """The rows whose key is at most ``last_key`` (the next ones stay for the next call)."""
        parts = []
        while True:
            keys = self.pending.iloc[:, 0].to_numpy()
            cut = int(np.searchsorted(keys, last_key, side="right"))
            if cut < len(keys) or self.done:
                parts.append(self.pending.iloc[:cut])
                self.pending = self.pending.iloc[cut:]
                break
            parts.append(self.pending)
            self.pending = self.result.fetch_df_chunk(self.CHUNK_VECTORS)
            self.done = self.pending.empty
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)


def fetched(result, vectors: int = 100, budget: int | None = None) -> pd.DataFrame:
    """A query's whole result, fetched a chunk at a time and joined a column at a time, so that the
    result is never held twice over (as one conversion of the whole result would).

    With a ``budget`` (bytes), a result growing beyond it stops the report with one line, rather than
    the system stopping the program for want of memory later on.
    """
    columns: dict[str, list] = {}
    rows = size = 0
    while not (chunk := result.fetch_df_chunk(vectors)).empty:
        for name in chunk.columns:
            columns.setdefault(name, []).append(chunk[name].to_numpy())
        rows += len(chunk)
        size += int(chunk.memory_usage(index=False).sum())
        if budget is not None and size > budget:
            raise TableTooLarge(TABLE_TOO_LARGE.format(rows=rows, size=size / 2**30, factor=TABLE_PEAK_FACTOR,
                                                     available=budget * TABLE_PEAK_FACTOR / 2**30))
    if not columns:
        return result.fetch_df_chunk(vectors)  # empty, with the result's columns
    joined = {}
    for name in list(columns):
        joined[name] = np.concatenate(columns.pop(name))
    return pd.DataFrame(joined, copy=False)


def single_group_parts(chain: CustomerMonths, home: np.ndarray, since: int, last: int):
    """The group codes of customers who bought at one group only (``home``, by customer code), and a
    function giving (people, months) of those customers at a group, from their rows in ``chain``."""
    rows = chain.rows_in(since, last)
    rows = np.arange(len(chain.months))[rows] if isinstance(rows, slice) else np.sort(rows)  # customer, month order
    row_home = home[chain.column("customer")[rows]]
    by_home = np.argsort(row_home, kind="stable")
    rows, row_home = rows[by_home], row_home[by_home]
    customers = np.argsort(home, kind="stable")
    customer_home = home[customers]
    ids = chain.customers["customer_id"].to_numpy()
    first_days = chain.customers["first_purchase_day"].to_numpy()

    def part(group: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        codes = customers[np.searchsorted(customer_home, group):np.searchsorted(customer_home, group, side="right")]
        mine = rows[np.searchsorted(row_home, group):np.searchsorted(row_home, group, side="right")]
        months = chain.months.take(mine).reset_index(drop=True)
        months["customer"] = np.searchsorted(codes, months["customer"].to_numpy()).astype(np.int32)
        people = pd.DataFrame({"customer_id": ids[codes], "customer_name": None,
                               "first_purchase_day": first_days[codes], "first_day_amount": 0.0})
        return people, months

    return set(np.unique(customer_home[customer_home >= -1]).tolist()), part


def joined_parts(parts: list, since: int) -> CustomerMonths:
    """One group's table from its (people, months) parts, each part's customers numbered after the last's."""
    offset, tables = 0, []
    for people, months in parts:
        if offset:
            months = months.assign(customer=(months["customer"].to_numpy() + offset).astype(np.int32))
        tables.append(months)
        offset += len(people)
    people = pd.concat([p for p, _ in parts], ignore_index=True) if len(parts) > 1 else parts[0][0]
    months = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    if months.empty:
        months = empty_row(months.columns.drop("customer"), since - 1)
    return CustomerMonths(months=months, customers=people)


def empty_row(columns, month: int) -> pd.DataFrame:
    """One row of customer 0 in ``month`` with nothing bought or returned."""
    row = {"customer": 0, **{name: 0 for name in columns}, "month": month,
           "first_purchase_day": NO_DAY, "last_purchase_day": NO_DAY}
    return pd.DataFrame([row]).astype({name: MONTH_DTYPES[name] for name in row})
