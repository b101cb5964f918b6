"""Clean sales held in DuckDB after a scan (:mod:`retention_xl.duckdb_scan`), and the tables the report needs.

:class:`ScannedSales` keeps the DuckDB connection with the ``used`` rows and the customer
codes, and builds from them the customer x month table (to the contract of
:mod:`retention_xl.activity`) and each group's table, with the SQL shared with Spark.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ...reasons import ADJUSTMENTS, EXCLUSION_REASONS, PROFIT_UNKNOWN
from ..accounting import Accounting, Exclusion
from ...table.contract import NO_DAY, CustomerMonths, CustomerTable, month_number
from ...table.duckdb_engine import available_memory, memory_part
from ...table.engine_sql import (FIRST_DAYS_SQL, MONTH_DTYPES, MONTHS_SQL, customers_frame, months_sql,
                                 table_from_results)
from ...table.engine_table import EngineTable
from ...errors import EngineError
from ...memory_budget import TABLE_PEAK_FACTOR, table_allowance

_MONTH_TYPES = {column: dtype for column, dtype in MONTH_DTYPES.items() if column != "customer"}
# DuckDB's share of the memory limit once it keeps the table and answers the figures' questions: the stores' tables
# are built beside them, and with a sixth (as where Python holds the table) they ran out of memory at 100M rows.
DUCKDB_SHARE_WITH_TABLE = 1 / 2
TABLE_TOO_LARGE = ("the customer x month table does not fit in memory: it passed {rows:,} customer-months "
                   "({size:.1f} GiB) with {available:.1f} GiB available, and the report would hold about {factor}× "
                   "the table")
_SEVERAL, _NO_ROWS = -2, -3  # a customer's group code where they bought at several groups; where they have no rows


def scanned_accounting(connection, as_of: str, has_profit: bool, where: str = "true") -> Accounting:
    """The accounting of the ``counted`` rows (those ``where`` holds): each reason's count and first rows."""
    found = {reason: (count, examples) for reason, count, examples in connection.execute(
        f"SELECT reason, count(*), min(row, 5) FROM counted WHERE {where} GROUP BY reason").fetchall()}
    read = sum(count for count, _ in found.values())
    purchases, returns = connection.execute(f"""
        SELECT count(*) FILTER (WHERE amount > 0), count(*) FILTER (WHERE amount < 0)
        FROM counted WHERE reason = -1 AND {where}""").fetchone()
    exclusions = {reason: Exclusion(*found.get(position, (0, []))) for position, reason in enumerate(EXCLUSION_REASONS)}
    flags = dict(zip(ADJUSTMENTS, ("control", "cut"))) | ({PROFIT_UNKNOWN: "profit IS NULL"} if has_profit else {})
    adjustments = {}
    for name, condition in flags.items():
        count, examples = connection.execute(f"""
            SELECT count(*), coalesce(min(row, 5), []) FROM counted
            WHERE reason = -1 AND {where} AND {condition}""").fetchone()
        adjustments[name] = Exclusion(count, [int(r) for r in examples])
    for exclusion in exclusions.values():
        exclusion.example_rows = sorted(int(r) for r in exclusion.example_rows)
    return Accounting(read, purchases, returns, exclusions, adjustments, as_of=as_of)


def customer_codes(connection) -> np.ndarray:
    """Number the customers of the ``used`` rows in order of their first row (the ``codes`` table); returns
    their keys in that order."""
    connection.execute("""
        CREATE OR REPLACE TEMP TABLE codes AS
        SELECT customer_key, (row_number() OVER (ORDER BY first_row) - 1)::INTEGER AS code
        FROM (SELECT customer_key, min(row) AS first_row FROM used GROUP BY customer_key)""")
    return connection.execute("SELECT customer_key FROM codes ORDER BY code").df()["customer_key"].to_numpy()


@dataclass
class ScannedSales:
    """Clean sales held in DuckDB: the accounting, the date range, and the tables the report needs."""

    connection: object
    sales: object                      # retention_xl.reader.SalesData, without transactions
    first_date: pd.Timestamp
    last_date: pd.Timestamp
    customer_ids: list                 # by customer code: order of first appearance among the used rows
    customer_labels: list              # by customer key: the cleaned ids as the scan numbered them
    customer_names: list | None
    group_labels: dict[str, list] = field(default_factory=dict)
    has_profit: bool = False
    spill: str | None = None
    rows_until: pd.Period | None = None  # the month up to which the ``rows`` view reads
    memory_limit: str | None = None  # DuckDB's memory limit while it builds the customer x month table
    memory_after_table: str | None = None  # DuckDB's memory limit once Python holds the customer x month table
    budget: object = None  # retention_xl.memory_budget.MemoryBudget of a run given no memory limit
    # Where Spark classified the rows: its Parquet files of the ``scanned`` rows, and the condition (in the SQL
    # both engines read) that picks the ``used`` ones.
    classified: tuple[str, str] | None = None
    timings: dict[str, float] = field(default_factory=dict)  # the scan's own stages, in seconds, for --json
    engine_tables: list = field(default_factory=list)  # the tables left in DuckDB, whose cursors close with the scan
    stopped: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        """Make work in progress on another thread end soon: the running query, and any group tables to come."""
        self.stopped.set()
        self.connection.interrupt()

    def close(self) -> None:
        for table in self.engine_tables:
            table.cursor.close()
        self.connection.close()
        if self.spill:
            shutil.rmtree(self.spill, ignore_errors=True)

    def groups_in_order(self, role: str) -> list:
        """The codes of group column ``role`` among the used rows (None: rows without one), in order of their
        first row."""
        found = self.connection.execute(f"""
            SELECT g_{role} FROM used GROUP BY g_{role} ORDER BY min(row)""").fetchall()
        return [code for code, in found]

    def cluster_by(self, role: str) -> None:
        """Keep the counted rows ordered by group column ``role``, so that the queries of :meth:`of_group` read
        that group's rows alone: DuckDB skips the blocks of rows whose least and greatest code exclude it."""
        self.connection.execute(f"CREATE OR REPLACE TABLE by_group AS SELECT * FROM counted ORDER BY g_{role}")
        self.connection.execute("CREATE OR REPLACE TEMP VIEW counted AS SELECT * FROM by_group")

    def of_group(self, role: str, code: int | None, display: str) -> ScannedSales:
        """The same scan seen from one group: the rows whose ``role`` has ``code`` (None: none), their accounting
        and customers, as the in-memory reader sees that group (:meth:`.SalesData.of_group`). The dates the data
        cover stay the chain's: a store that sold nothing for months was still open to buyers in them.

        The group's views replace the chain's on the connection, so the chain's tables must be done;
        groups are taken one after another. The group shares the chain's connection and temporary
        folder: only the chain's scan is closed.
        """
        condition = f"g_{role} IS NULL" if code is None else f"g_{role} = {int(code)}"
        self.connection.execute(
            f"CREATE OR REPLACE TEMP VIEW used AS SELECT * FROM counted WHERE reason = -1 AND {condition}")
        order = customer_codes(self.connection)
        accounting = scanned_accounting(self.connection, self.sales.accounting.as_of, self.has_profit, condition)
        classified = self.classified and (self.classified[0], f"{self.classified[1]} AND {condition}")
        return replace(self, sales=replace(self.sales, accounting=accounting, group=display), classified=classified,
                       customer_ids=[self.customer_labels[key] for key in order],
                       group_labels={other: labels for other, labels in self.group_labels.items() if other != role},
                       rows_until=None)

    def _rows(self, until: pd.Period) -> None:
        """The view the shared SQL reads: used rows up to the end of ``until``, keyed by customer key, with groups.

        A view, not a table: the scan already stored each row's day and month, and the customer
        codes are joined to the aggregated table rather than to every row.
        """
        if self.rows_until == until:
            return
        end = (until + 1).start_time.strftime("%Y-%m-%d")
        groups = "".join(f", g_{role}" for role in self.group_labels)
        self.connection.execute(f"""
            CREATE OR REPLACE TEMP VIEW rows AS
            SELECT customer_key AS customer, day, month, amount, coalesce(profit, 0) AS profit,
                   coalesce(order_key, hash(-1 - day)) AS order_key{groups}
            FROM used WHERE ts < TIMESTAMP '{end}'""")
        self.rows_until = until

    def customer_months(self, until: pd.Period, spark: bool = False, spark_master: str | None = None,
                        in_engine: bool = False, progress=None) -> CustomerTable:
        """The customer x month table up to the end of month ``until``, to the contract of :mod:`.activity`,
        aggregated by DuckDB, or with ``spark`` by Spark (local mode, or the cluster at ``spark_master``).

        With ``in_engine``, or where the table would not fit in memory (``progress`` then says so), the table
        stays in DuckDB and the figures are computed there (:class:`.EngineTable`). Once per scan: afterwards
        DuckDB's share of memory shrinks, and only the groups' tables can follow.
        """
        self._rows(until)
        if spark:
            months, firsts = self._aggregated_by_spark(spark_master, until)
        else:
            months, firsts = f"({MONTHS_SQL})", self.connection.execute(f"""
                SELECT c.code AS customer, f.* EXCLUDE (customer)
                FROM ({FIRST_DAYS_SQL}) f JOIN codes c ON c.customer_key = f.customer""").df()
        coded = f"SELECT c.code AS customer, m.* EXCLUDE (customer) FROM {months} m JOIN codes c ON c.customer_key = m.customer"
        ids, names = np.asarray(self.customer_ids, dtype=object), self._names()
        if not in_engine:
            try:
                return table_from_results(self._fetched_table(coded), firsts, ids, names, self.has_profit)
            except TableTooLarge as error:
                if progress:
                    progress(f"{error}: DuckDB keeps the table and computes the figures from it…")
        # Ordered by month, so that a question about some months reads only their blocks of rows.
        self.connection.execute(f"CREATE OR REPLACE TABLE customer_months AS {coded} ORDER BY month, customer")
        self._set_memory(self.memory_limit and memory_part(self.memory_limit, DUCKDB_SHARE_WITH_TABLE), self.connection)
        table = EngineTable(self.connection, "customer_months", customers_frame(firsts, ids, names), self.has_profit)
        self.engine_tables.append(table)
        return table

    def _fetched_table(self, coded: str) -> pd.DataFrame:
        """The table of the query ``coded`` in Python, by customer and month; :class:`TableTooLarge` where it
        would not fit in memory."""
        result = self.connection.execute(f"{coded} ORDER BY 1, 2")
        # Once the first rows can be fetched, DuckDB has aggregated and sorted them all. From here Python holds
        # the table, and DuckDB only hands it over and builds smaller ones: its share of memory shrinks (it spills
        # what no longer fits), so that the two together stay near the limit given rather than twice it. Set
        # through a cursor: a statement on the connection itself would end the result being fetched.
        self._set_memory(self.memory_after_table, self.connection.cursor())
        available = available_memory()
        allowed = available and available // TABLE_PEAK_FACTOR
        if self.budget is not None:  # the run's memory budget (retention_xl.memory_budget)

            allowed = min(allowed or table_allowance(self.budget), table_allowance(self.budget))
        try:
            return _fetched(result, budget=allowed)
        except TableTooLarge:
            self._set_memory(self.memory_limit, self.connection)  # DuckDB keeps the table after all
            raise

    def _set_memory(self, limit: str | None, connection) -> None:
        """DuckDB's memory limit set to ``limit``, or as near it as DuckDB can go.

        Buffers DuckDB cannot spill (the sorted table being fetched) may already exceed a
        smaller share: it then keeps the memory it holds and the share on top of it, since the
        queries still to come (the stores' tables) need room of their own, rather than fail the report.
        """
        import duckdb

        if not limit:
            return
        try:
            connection.execute(f"SET memory_limit = '{limit}'")
        except duckdb.OutOfMemoryException:
            held = connection.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0] or 0
            share = int(memory_part(limit, 1.0)[:-len("MiB")])
            try:
                connection.execute(f"SET memory_limit = '{int(held) // 2**20 + 1 + share}MiB'")
            except duckdb.OutOfMemoryException:
                pass  # still above it: DuckDB keeps the limit it has

    def _aggregated_by_spark(self, master: str | None, until: pd.Period) -> tuple[str, pd.DataFrame]:
        """The shared SQL run by Spark over the clean rows: the table DuckDB reads the months from (files Spark's
        executors wrote into the scan's temporary folder) and the first days, with customers by code.

        The rows reach Spark's executors as Parquet they read themselves: the rows they classified,
        or else the ``rows`` DuckDB cleaned, written into the scan's temporary folder. Nothing
        passes through the driver on the way in, nor the table on the way out.
        """
        from ...table.spark_engine import aggregate_classified, aggregate_parquet

        months_folder = Path(self.spill) / "months"
        if self.classified:
            firsts = aggregate_classified(*self.classified, (until + 1).start_time.strftime("%Y-%m-%d"),
                                          months_folder, master)
        else:
            path = str(Path(self.spill) / "rows.parquet").replace("'", "''")
            # Spark has no unsigned 64-bit integer: the order keys are shifted into the signed range, one to one.
            self.connection.execute(f"""
                COPY (SELECT customer, day, month, amount, profit,
                             (order_key::HUGEINT - 9223372036854775808)::BIGINT AS order_key FROM rows)
                TO '{path}' (FORMAT parquet)""")
            firsts = aggregate_parquet(path, months_folder, master)
        codes = self.connection.execute("SELECT customer_key, code FROM codes").df()
        code_of_key = np.zeros(int(codes["customer_key"].max()) + 1, dtype=np.int32)
        code_of_key[codes["customer_key"].to_numpy()] = codes["code"].to_numpy()
        firsts["customer"] = code_of_key[firsts["customer"].to_numpy()]
        pattern = str(months_folder / "*.parquet").replace("'", "''")
        return f"read_parquet('{pattern}')", firsts

    def _names(self) -> np.ndarray:
        """Per customer code: the name on their latest transaction (ties: the later row), or missing."""
        names = np.full(len(self.customer_ids), pd.NA, dtype=object)
        if self.customer_names is None:
            return names
        latest = self.connection.execute("""
            SELECT c.code, l.name_key
            FROM (SELECT customer_key, arg_max(name_key, struct_pack(t := ts, r := row)) AS name_key
                  FROM used WHERE name_key IS NOT NULL GROUP BY customer_key) l JOIN codes c USING (customer_key)""").df()
        labels = np.asarray(self.customer_names, dtype=object)
        names[latest["code"].to_numpy()] = labels[latest["name_key"].to_numpy(dtype=np.int64)]
        return names

    def group_tables(self, role: str, until: pd.Period, window: int, chain: CustomerTable):
        """(group label or None, the group's customer x month table) for each value of group column ``role``.

        A group's figures (:func:`retention_xl.groups.group_figures`) read the months from
        ``window`` before ``until`` to ``until`` and each customer's first purchase, so only
        those months are built -- a sixth of a two-year table for a three-month window. A group
        whose transactions all lie before them keeps one empty row earlier still, so that it is
        listed as it is from the whole table.

        Most customers buy at one store only: all their rows are that store's, so their part of
        its table is their part of the chain's table ``chain`` (built up to ``until``), taken in
        Python. DuckDB aggregates only the rows of customers with several values, or with some
        rows without one -- or every customer's, where the chain's table stayed in DuckDB.
        """
        column = f"g_{role}"
        self._check_stopped()
        self._rows(until)
        since, last = month_number(until) - window, month_number(until)
        homes = self.connection.execute(f"""
            SELECT c.code, h.customer AS customer_key, CASE WHEN h.low = h.high THEN h.low ELSE {_SEVERAL} END AS home
            FROM (SELECT customer, min(coalesce({column}, -1)) AS low, max(coalesce({column}, -1)) AS high
                  FROM rows GROUP BY customer) h JOIN codes c ON c.customer_key = h.customer""").df()
        if isinstance(chain, CustomerMonths):
            home = np.full(chain.customer_count, _NO_ROWS, dtype=np.int32)
            home[homes["code"].to_numpy()] = homes["home"].to_numpy()
            alone_groups, alone = _single_group_parts(chain, home, since, last)
            several = homes["customer_key"].to_numpy()[homes["home"].to_numpy() == _SEVERAL]
        else:
            alone_groups, several = set(), homes["customer_key"].to_numpy()
        spread_groups, spread = self._spread_parts(column, since, several) if several.size else ([], iter(()))
        labels = self.group_labels[role]
        for group in sorted(set(alone_groups) | set(spread_groups)):
            self._check_stopped()
            parts = [alone(group)] if group in alone_groups else []
            if group in spread_groups:
                parts.append(next(spread))
            yield (None if group < 0 else labels[group]), _joined(parts, since)

    def _spread_parts(self, column: str, since: int, keys: np.ndarray):
        """The group codes the customers with ``keys`` bought at, ascending, and for each of them in turn
        (people, months) of those customers at that group, from months ``since``."""
        self.connection.register("rx_several", pd.DataFrame({"customer": keys}))
        # A customer at a group is one pair: the group's code + 1 (0: no group) above the customer's key.
        self.connection.execute(f"""
            CREATE OR REPLACE TEMP VIEW pair_rows AS
            SELECT (coalesce({column} + 1, 0)::BIGINT << 32) | customer::BIGINT AS customer,
                   day, month, amount, profit, order_key
            FROM rows WHERE customer IN (SELECT customer FROM rx_several)""")
        pairs = self.connection.execute("""
            SELECT customer, coalesce(min(CASE WHEN amount > 0 THEN day END), -1)::INTEGER AS first_day
            FROM pair_rows GROUP BY customer ORDER BY customer""").df()
        pair_key = pairs["customer"].to_numpy(dtype=np.int64)
        pair_group = (pair_key >> 32) - 1
        bounds = np.flatnonzero(np.r_[True, np.diff(pair_group) != 0, True])
        ids = np.asarray(self.customer_labels, dtype=object)

        def parts():
            months = _Chunks(self.connection.execute(f"{months_sql(since, 'pair_rows')} ORDER BY 1, 2"))
            for start, stop in zip(bounds[:-1], bounds[1:]):
                # Pairs are sorted by group and customer key, rows by pair and month: a group's rows come
                # together, and are taken from the result as it is fetched, one group at a time.
                table = months.until(pair_key[stop - 1]).astype(_MONTH_TYPES)
                if not self.has_profit:
                    table = table.drop(columns="profit")
                table["customer"] = np.searchsorted(pair_key[start:stop], table["customer"].to_numpy()).astype(np.int32)
                people = pd.DataFrame({"customer_id": ids[pair_key[start:stop] & 0xFFFFFFFF], "customer_name": None,
                                       "first_purchase_day": pairs["first_day"].to_numpy()[start:stop],
                                       "first_day_amount": 0.0})
                yield people, table

        return set(pair_group[bounds[:-1]].tolist()), parts()

    def _check_stopped(self) -> None:
        if self.stopped.is_set():
            raise InterruptedError("the group tables were stopped")


class TableTooLarge(EngineError):
    """The customer x month table would not fit in memory."""


class _Chunks:
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


def _fetched(result, vectors: int = 100, budget: int | None = None) -> pd.DataFrame:
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


def _single_group_parts(chain: CustomerMonths, home: np.ndarray, since: int, last: int):
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


def _joined(parts: list, since: int) -> CustomerMonths:
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
        months = _empty_row(months.columns.drop("customer"), since - 1)
    return CustomerMonths(months=months, customers=people)


def _empty_row(columns, month: int) -> pd.DataFrame:
    """One row of customer 0 in ``month`` with nothing bought or returned."""
    row = {"customer": 0, **{name: 0 for name in columns}, "month": month,
           "first_purchase_day": NO_DAY, "last_purchase_day": NO_DAY}
    return pd.DataFrame([row]).astype({name: MONTH_DTYPES[name] for name in row})
