"""Clean sales held in DuckDB after a scan (:mod:`retention_xl.read.scan.duckdb_scan`), and the tables the report
needs.

:class:`ScannedSales` keeps the DuckDB connection with the ``used`` rows and the customer
codes, and builds from them the customer x month table (to the contract of
:mod:`retention_xl.table.contract`) and each group's table, with the SQL shared with Spark.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ...memory_budget import table_allowance
from ...reasons import ADJUSTMENTS, EXCLUSION_REASONS, PROFIT_UNKNOWN
from ...table.contract import CustomerMonths, CustomerTable, month_number
from ...table.duckdb_engine import available_memory, memory_part
from ...table.engine_sql import FIRST_DAYS_SQL, MONTHS_SQL, customers_frame, months_sql, table_from_results
from ...table.engine_table import EngineTable
from ...table.order_keys import order_key_sql
from ..accounting import Accounting, Exclusion
from ..sales import Progress, Provenance, Sales
from .scan_fetch import (MONTH_TYPES, TABLE_PEAK_FACTOR, Chunks, TableTooLarge, fetched, joined_parts,
                         single_group_parts)

# DuckDB's share of the memory limit once it keeps the table and answers the figures' questions: the stores' tables
# are built beside them, and with a sixth (as where Python holds the table) they ran out of memory at 100M rows.
DUCKDB_SHARE_WITH_TABLE = 1 / 2
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
class ScannedSales(Sales):
    """Clean sales held in DuckDB (:class:`~retention_xl.read.sales.Sales`): the accounting, the date range, and the
    tables the report needs, built by DuckDB or Spark."""

    scanned = True
    portable = False  # the rows stay in the scan's DuckDB database
    computes_beside = True

    connection: object
    provenance: Provenance
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
    group_codes: dict = field(default_factory=dict)  # per group column: the code of each label, once asked for

    @property
    def has_purchases(self) -> bool:
        return self.provenance.accounting.purchases > 0

    @property
    def data_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.first_date, self.last_date

    def unknown_profit(self) -> tuple[int, list[int]]:
        unknown = self.provenance.accounting.adjustments.get(PROFIT_UNKNOWN)
        return (unknown.count, unknown.example_rows) if unknown else (0, [])

    @property
    def group_roles(self) -> list[str]:
        return list(self.group_labels)

    def groups(self, role: str) -> list:
        labels = self.group_labels[role]
        return [None if code is None else labels[code] for code in self.groups_in_order(role)]

    def prepare_split(self, role: str, progress: Progress | None = None) -> None:
        if progress:
            progress(f"  DuckDB: ordering the rows by {role}…")
        self.cluster_by(role)

    def customer_table(self, until: pd.Period, options, progress: Progress | None = None) -> CustomerTable:
        spark = options.engine == "spark"  # Spark aggregates the rows it (or DuckDB) classified
        if progress:
            progress(f"{'Spark' if spark else 'DuckDB'}: building the customer x month table…")
        return self.customer_months(until, spark, options.spark_master, options.figures_in_engine, progress)

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

    def of_group(self, role: str, value, display: str) -> ScannedSales:
        """The same scan seen from one group (see :meth:`.Sales.of_group`), as the in-memory reader sees it.

        The group's views replace the chain's on the connection, so the chain's tables must be done;
        groups are taken one after another. The group shares the chain's connection and temporary
        folder: only the chain's scan is closed.
        """
        if role not in self.group_codes:
            self.group_codes[role] = {label: code for code, label in enumerate(self.group_labels[role])}
        code = None if value is None else self.group_codes[role][value]
        condition = f"g_{role} IS NULL" if code is None else f"g_{role} = {int(code)}"
        self.connection.execute(
            f"CREATE OR REPLACE TEMP VIEW used AS SELECT * FROM counted WHERE reason = -1 AND {condition}")
        order = customer_codes(self.connection)
        accounting = scanned_accounting(self.connection, self.provenance.accounting.as_of, self.has_profit, condition)
        classified = self.classified and (self.classified[0], f"{self.classified[1]} AND {condition}")
        return replace(self, provenance=self.provenance.of_group(role, value, display, accounting),
                       classified=classified,
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
                   {order_key_sql('order_key', 'day', 'hash')} AS order_key{groups}
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
            return fetched(result, budget=allowed)
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

        A group's figures (:func:`retention_xl.figures.groups.group_figures`) read the months from
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
            alone_groups, alone = single_group_parts(chain, home, since, last)
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
            yield (None if group < 0 else labels[group]), joined_parts(parts, since)

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
            months = Chunks(self.connection.execute(f"{months_sql(since, 'pair_rows')} ORDER BY 1, 2"))
            for start, stop in zip(bounds[:-1], bounds[1:]):
                # Pairs are sorted by group and customer key, rows by pair and month: a group's rows come
                # together, and are taken from the result as it is fetched, one group at a time.
                table = months.until(pair_key[stop - 1]).astype(MONTH_TYPES)
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
