"""Parquet sales (or a database's rows) read, cleaned and aggregated inside DuckDB, out of core.

The in-memory reader turns every row into pandas objects; ten million rows take
gigabytes, a hundred million do not fit. Here the rows never leave DuckDB: it scans the
files (one file, a glob or a Hive-partitioned folder) or takes a PostgreSQL table's rows
as they stream from the server (:func:`scan_database`), applies the reader's cleaning
rules (:mod:`retention_xl.scan_columns` -- the same rules, run on each column's distinct
values and joined back), counts every row under its reason, and builds the customer x
month table with the SQL shared with Spark (:mod:`retention_xl.engine_sql`). Only that
table -- one row per customer and month -- comes back to Python, where the report is
computed as always. Within ``--memory-limit`` DuckDB spills to a temporary folder.

The same rows are used or set aside for the same reasons as in memory; the tests
compare both readers on the same files. Record numbers (the example rows) count across
the files in path order, as the in-memory reader of a folder does.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import columns as cols
from . import sources
from .activity import NO_DAY, CustomerMonths, month_number
from .accounting import ADJUSTMENTS, EXCLUSION_REASONS, PROFIT_UNKNOWN, Accounting, Exclusion
from .cleaning import _day
from .duckdb_engine import memory_limit
from .engine_sql import FIRST_DAYS_SQL, MONTH_DTYPES, MONTHS_SQL, months_sql, table_from_results
from .errors import InputError
from .rawtable import header_help
from .reader import (SAY_DAY_ORDER, SAY_DECIMAL, UNIT_COST_WITHOUT_QUANTITY, SalesData, _check_reading_options,
                     _role_mapping, no_usable_rows)
from .scan_columns import (ColumnSql, Mapper, ScanUnsupported, date_column, group_column, key_column, number_column,
                           order_column)
from .values import AmbiguousDates, AmbiguousDecimal

__all__ = ["ScanUnsupported", "ScannedSales", "scan_database", "scan_sales"]
_FILE, _ROW = "rx_file", "rx_row"
_REASON = {reason: position for position, reason in enumerate(EXCLUSION_REASONS)}
_MONTH_TYPES = {column: dtype for column, dtype in MONTH_DTYPES.items() if column != "customer"}


@dataclass
class ScannedSales:
    """Clean sales held in DuckDB: the accounting, the date range, and the tables the report needs."""

    connection: object
    sales: object                      # retention_xl.reader.SalesData, without transactions
    first_date: pd.Timestamp
    last_date: pd.Timestamp
    customer_ids: list
    customer_names: list | None
    group_labels: dict[str, list] = field(default_factory=dict)
    has_profit: bool = False
    spill: str | None = None
    stopped: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        """Make work in progress on another thread end soon: the running query, and any group tables to come."""
        self.stopped.set()
        self.connection.interrupt()

    def close(self) -> None:
        self.connection.close()
        if self.spill:
            shutil.rmtree(self.spill, ignore_errors=True)

    def _rows(self, until: pd.Period, customer: str) -> None:
        """The table the shared SQL reads: used rows up to the end of ``until``, keyed by ``customer``.

        A table, not a view: the SQL reads it four times, and the join behind it is the costly part.
        """
        end = (until + 1).start_time.strftime("%Y-%m-%d")
        self.connection.execute("DROP TABLE IF EXISTS rows")
        self.connection.execute(f"""
            CREATE TEMP TABLE rows AS
            SELECT {customer} AS customer, day, month, amount, coalesce(profit, 0) AS profit,
                   coalesce(order_key, hash(-1 - day)) AS order_key
            FROM (SELECT *, CAST(date_diff('day', DATE '1970-01-01', CAST(ts AS DATE)) AS INT) AS day,
                         CAST(year(ts) * 12 + month(ts) - 1 AS INT) AS month
                  FROM used WHERE ts < TIMESTAMP '{end}') u
            JOIN codes c USING (customer_key)""")

    def customer_months(self, until: pd.Period) -> CustomerMonths:
        """The customer x month table up to the end of month ``until``, to the contract of :mod:`.activity`."""
        self._rows(until, "c.code")
        months = self.connection.execute(f"{MONTHS_SQL} ORDER BY 1, 2").df()
        firsts = self.connection.execute(FIRST_DAYS_SQL).df()
        names = self._names()
        ids = np.asarray(self.customer_ids, dtype=object)
        return table_from_results(months, firsts, ids, names, self.has_profit)

    def _names(self) -> np.ndarray:
        """Per customer code: the name on their latest transaction (ties: the later row), or missing."""
        names = np.full(len(self.customer_ids), pd.NA, dtype=object)
        if self.customer_names is None:
            return names
        latest = self.connection.execute("""
            SELECT c.code, arg_max(u.name_key, struct_pack(t := u.ts, r := u.row)) AS name_key
            FROM used u JOIN codes c USING (customer_key) WHERE u.name_key IS NOT NULL GROUP BY c.code""").df()
        labels = np.asarray(self.customer_names, dtype=object)
        names[latest["code"].to_numpy()] = labels[latest["name_key"].to_numpy(dtype=np.int64)]
        return names

    def group_tables(self, role: str, until: pd.Period, window: int):
        """(group label or None, the group's customer x month table) for each value of group column ``role``.

        A group's figures (:func:`retention_xl.groups.group_figures`) read the months from
        ``window`` before ``until`` to ``until`` and each customer's first purchase, so only
        those months are built -- a sixth of a two-year table for a three-month window. A group
        whose transactions all lie before them keeps one empty row earlier still, so that it is
        listed as it is from the whole table.
        """
        column = f"g_{role}"
        self._check_stopped()
        self._rows(until, f"(coalesce(u.{column} + 1, 0)::BIGINT << 32) | c.code::BIGINT")
        since = month_number(until) - window
        pairs = self.connection.execute("""
            SELECT customer, coalesce(min(CASE WHEN amount > 0 THEN day END), -1)::INTEGER AS first_day
            FROM rows GROUP BY customer ORDER BY customer""").df()
        months = self.connection.execute(f"{months_sql(since)} ORDER BY 1, 2").df().astype(_MONTH_TYPES)
        if not self.has_profit:
            months = months.drop(columns="profit")
        pair_key = pairs["customer"].to_numpy(dtype=np.int64)
        row_pair = np.searchsorted(pair_key, months.pop("customer").to_numpy(dtype=np.int64))
        pair_group = (pair_key >> 32) - 1
        ids = np.asarray(self.customer_ids, dtype=object)
        labels = self.group_labels[role]
        bounds = np.flatnonzero(np.r_[True, np.diff(pair_group) != 0, True])
        row_bounds = np.searchsorted(row_pair, bounds)
        for start, stop, row_start, row_stop in zip(bounds[:-1], bounds[1:], row_bounds[:-1], row_bounds[1:]):
            # Pairs are sorted by group and customer code, rows by pair and month: a group's slice of each.
            self._check_stopped()
            table = months.iloc[row_start:row_stop].reset_index(drop=True)
            table.insert(0, "customer", (row_pair[row_start:row_stop] - start).astype(np.int32))
            if table.empty:
                table = _empty_row(months.columns, since - 1)
            people = pd.DataFrame({"customer_id": ids[pair_key[start:stop] & 0xFFFFFFFF], "customer_name": None,
                                   "first_purchase_day": pairs["first_day"].to_numpy()[start:stop],
                                   "first_day_amount": 0.0})
            group = int(pair_group[start])
            yield (None if group < 0 else labels[group]), CustomerMonths(months=table, customers=people)

    def _check_stopped(self) -> None:
        if self.stopped.is_set():
            raise InterruptedError("the group tables were stopped")


def _empty_row(columns, month: int) -> pd.DataFrame:
    """One row of customer 0 in ``month`` with nothing bought or returned."""
    row = {"customer": 0, **{name: 0 for name in columns}, "month": month,
           "first_purchase_day": NO_DAY, "last_purchase_day": NO_DAY}
    return pd.DataFrame([row]).astype({name: MONTH_DTYPES[name] for name in row})


def _files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sources.dataset_files(path)


def _source(connection, files: list[Path], hive: bool) -> tuple[list[str], dict[str, str]]:
    """The ``raw`` view over the files, numbered across them; returns its data columns and their types."""
    import pyarrow.parquet as pq

    counts = []
    for file in files:
        try:
            counts.append(pq.ParquetFile(file).metadata.num_rows)
        except Exception as error:  # pyarrow raises several kinds for a damaged file
            raise InputError(f"cannot be read as Parquet ({str(error).splitlines()[0][:200]})", file=file) from None
    offsets = pd.DataFrame({"name": [str(f) for f in files], "first": np.cumsum([0] + counts[:-1], dtype=np.int64)})
    connection.register("rx_files", offsets)
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    connection.execute(f"""
        CREATE TEMP VIEW raw AS
        SELECT s.*, f.first + s.file_row_number + 1 AS {_ROW}
        FROM read_parquet([{listed}], filename = '{_FILE}', file_row_number = true,
                          hive_partitioning = {str(hive).lower()}, union_by_name = true) s
        JOIN rx_files f ON f.name = s.{_FILE}""")
    described = connection.execute("DESCRIBE SELECT * FROM raw").fetchall()
    types = {name: sql_type for name, sql_type, *_ in described if name not in (_FILE, _ROW, "file_row_number")}
    return list(types), types


@dataclass
class _Roles:
    """The SQL of every mapped column, and what the scan keeps of each."""

    customer: ColumnSql
    name: ColumnSql | None
    date: ColumnSql
    amount: str
    used: list[ColumnSql]
    spelled: list[ColumnSql]
    order: ColumnSql | None
    groups: dict[str, ColumnSql]
    profit: str | None
    labels: dict[str, list]
    dayfirst: bool | None
    joins: list[str]  # every mapping table the columns need, once
    prepared: dict[str, str]  # the columns' per-row expressions computed once beneath the joins


def _profit_sql(roles: dict, numbers: dict[str, ColumnSql], amount: str) -> str | None:
    """The line's profit: the profit column, or amount minus the line's cost (negative on a return)."""
    if cols.PROFIT in roles:
        profit = numbers[cols.PROFIT].value
    elif cols.COST in roles or cols.UNIT_COST in roles:
        cost = numbers[cols.COST].value if cols.COST in roles else \
            f"({numbers[cols.UNIT_COST].value} * {numbers[cols.QUANTITY].value})"
        profit = f"({amount} - CASE WHEN {amount} < 0 THEN -abs({cost}) ELSE {cost} END)"
    else:
        return None
    return f"(CASE WHEN isfinite({profit}) THEN {profit} END)"


def _roles(mapper: Mapper, path: Path, headers: list[str], types: dict[str, str], found, dayfirst, decimal) -> _Roles:
    positions = found.positions
    roles = {role: headers[index] for role, index in positions.items()}
    profit_role = next((role for role in cols.PROFIT_ROLES if role in roles), None)
    with_amount = cols.AMOUNT in roles
    if profit_role == cols.UNIT_COST and cols.QUANTITY not in roles:
        raise InputError(UNIT_COST_WITHOUT_QUANTITY.format(column=f'"{roles[cols.UNIT_COST]}"'), file=path)
    key_role = cols.CUSTOMER_ID if cols.CUSTOMER_ID in roles else cols.CUSTOMER_NAME
    customer, customer_labels = key_column(mapper, roles[key_role], types[roles[key_role]], total=True, visible=True)
    name = name_labels = None
    if key_role == cols.CUSTOMER_ID and cols.CUSTOMER_NAME in roles:
        name, name_labels = key_column(mapper, roles[cols.CUSTOMER_NAME], types[roles[cols.CUSTOMER_NAME]],
                                       total=True, visible=True)
    try:
        date, used_dayfirst = date_column(mapper, roles[cols.DATE], types[roles[cols.DATE]], dayfirst)
    except AmbiguousDates as error:
        raise InputError(f"{error}{SAY_DAY_ORDER}", file=path, column=f'"{roles[cols.DATE]}"') from None
    wanted = [cols.AMOUNT] if with_amount else [cols.QUANTITY, cols.UNIT_PRICE]
    if profit_role == cols.UNIT_COST and cols.QUANTITY not in wanted:
        wanted.append(cols.QUANTITY)
    numbers = {}
    for role in wanted + ([profit_role] if profit_role else []):
        try:
            numbers[role] = number_column(mapper, roles[role], types[roles[role]], decimal)
        except AmbiguousDecimal as error:
            raise InputError(f"{error}{SAY_DECIMAL}", file=path, column=f'"{roles[role]}"') from None
    amount = numbers[cols.AMOUNT].value if with_amount else \
        f"({numbers[cols.QUANTITY].value} * {numbers[cols.UNIT_PRICE].value})"
    order = order_column(mapper, roles[cols.ORDER_ID], types[roles[cols.ORDER_ID]]) if cols.ORDER_ID in roles else None
    groups, labels = {}, {"customer": customer_labels, "name": name_labels}
    for role in cols.GROUP_ROLES:
        if role in roles:
            groups[role], labels[role] = group_column(mapper, roles[role], types[roles[role]])
    amount_columns = [numbers[role] for role in wanted]
    used = [customer] + ([name] if name else []) + [date] + amount_columns + ([order] if order else [])
    everything = used + list(numbers.values()) + list(groups.values())
    joins = list(dict.fromkeys(join for column in everything for join in column.joins))
    prepared = {name: sql for column in everything for name, sql in column.prepared.items()}
    return _Roles(customer, name, date, amount, used, amount_columns, order, groups,
                  _profit_sql(roles, numbers, amount), labels, used_dayfirst, joins, prepared)


def _classify(connection, roles: _Roles, as_of) -> None:
    """Every row with its reason (the first that applies, in the documented order; -1 when used)."""
    empty = " AND ".join(f"coalesce({c.blank}, true)" for c in roles.used)
    total = " OR ".join(f"coalesce({c.total}, false)" for c in (roles.customer, roles.name, roles.date, roles.order) if c)
    spelled = " OR ".join(f"coalesce({c.flags['spelled_nan']}, false)" for c in roles.spelled)
    end = _day(as_of) + pd.Timedelta(days=1)
    future = "false" if end > pd.Timestamp("2262-04-11") else f"ts >= TIMESTAMP '{end:%Y-%m-%d}'"
    visible = [roles.customer] + ([roles.name] if roles.name else [])
    control = " OR ".join(f"coalesce({c.flags['control']}, false)" for c in visible)
    cut = " OR ".join(f"coalesce({c.flags['cut']}, false)" for c in visible)
    group_columns = "".join(f", {c.value} AS g_{role}" for role, c in roles.groups.items())
    prepared = "".join(f", {sql} AS {name}" for name, sql in roles.prepared.items())
    source = f"(SELECT r.*{prepared} FROM raw r)" if prepared else "raw"
    connection.execute(f"""
        CREATE TEMP TABLE scanned AS
        SELECT row, customer_key, name_key, ts, amount, order_key, profit, control, cut{''.join(f', g_{r}' for r in roles.groups)},
               CASE WHEN empty THEN {_REASON['empty_row']} WHEN total THEN {_REASON['total_row']}
                    WHEN customer_key IS NULL THEN {_REASON['missing_customer']}
                    WHEN ts IS NULL AND NOT date_like THEN {_REASON['invalid_date']}
                    WHEN ts IS NULL THEN {_REASON['date_out_of_range']}
                    WHEN {future} THEN {_REASON['future_date']}
                    WHEN (amount IS NULL OR isnan(amount)) AND NOT spelled THEN {_REASON['invalid_amount']}
                    WHEN isinf(amount) OR spelled THEN {_REASON['non_finite_amount']}
                    WHEN amount = 0 THEN {_REASON['zero_amount']}
                    ELSE -1 END::TINYINT AS reason,
               empty
        FROM (SELECT r.{_ROW} AS row, {roles.customer.value} AS customer_key,
                     {roles.name.value if roles.name else 'NULL::BIGINT'} AS name_key, {roles.date.value} AS ts,
                     {roles.amount} AS amount, {roles.order.value if roles.order else 'NULL::UBIGINT'} AS order_key,
                     {roles.profit or 'NULL::DOUBLE'} AS profit, ({empty}) AS empty, ({total}) AS total,
                     coalesce({roles.date.flags['date_like']}, false) AS date_like, ({spelled}) AS spelled,
                     ({control}) AS control, ({cut}) AS cut{group_columns}
              FROM {source} r {' '.join(roles.joins)})""")
    # Blank rows after the last filled one are formatting, not data, as for a sheet.
    connection.execute("""
        CREATE TEMP VIEW counted AS
        SELECT * FROM scanned WHERE row <= (SELECT coalesce(max(row), 0) FROM scanned WHERE NOT empty)""")
    connection.execute("CREATE TEMP VIEW used AS SELECT * FROM counted WHERE reason = -1")


def _accounting(connection, as_of, has_profit: bool) -> Accounting:
    found = {reason: (count, examples) for reason, count, examples in connection.execute(
        "SELECT reason, count(*), min(row, 5) FROM counted GROUP BY reason").fetchall()}
    read = sum(count for count, _ in found.values())
    purchases, returns = connection.execute(
        "SELECT count(*) FILTER (WHERE amount > 0), count(*) FILTER (WHERE amount < 0) FROM used").fetchone()
    exclusions = {reason: Exclusion(*found.get(position, (0, []))) for reason, position in _REASON.items()}
    flags = dict(zip(ADJUSTMENTS, ("control", "cut"))) | ({PROFIT_UNKNOWN: "profit IS NULL"} if has_profit else {})
    adjustments = {}
    for name, condition in flags.items():
        count, examples = connection.execute(
            f"SELECT count(*), coalesce(min(row, 5), []) FROM used WHERE {condition}").fetchone()
        adjustments[name] = Exclusion(count, [int(r) for r in examples])
    for exclusion in exclusions.values():
        exclusion.example_rows = sorted(int(r) for r in exclusion.example_rows)
    return Accounting(read, purchases, returns, exclusions, adjustments, as_of=str(_day(as_of).date()))


def scan_sales(path: str | Path, *, columns=None, dayfirst: bool | None = None, decimal: str | None = None,
               as_of=None, memory: str | None = None, spill_dir: str | None = None, progress=None) -> ScannedSales:
    """Scan, clean and account for the Parquet sales at ``path`` (a file, a glob or a folder) inside DuckDB.

    The arguments are those of :func:`retention_xl.reader.read_sales`, plus DuckDB's
    ``memory`` limit and the folder it spills to. Raises :class:`ScanUnsupported` for a
    column type it does not read (the caller then reads the file in memory).
    """
    path = Path(path)
    return _scan(lambda connection: _source(connection, _files(path), path.is_dir()), path, None,
                 columns=columns, dayfirst=dayfirst, decimal=decimal, as_of=as_of, memory=memory,
                 spill_dir=spill_dir, progress=progress)


def scan_database(url: str, *, table: str | None = None, query: str | None = None, columns=None,
                  dayfirst: bool | None = None, decimal: str | None = None, as_of=None, memory: str | None = None,
                  spill_dir: str | None = None, progress=None) -> ScannedSales:
    """:func:`scan_sales` for a PostgreSQL ``table`` or ``query`` (see :func:`retention_xl.reader.read_database`).

    The rows stream from the server into DuckDB as Arrow record batches, numbered in the order
    they come, so that a table larger than memory is held by DuckDB within its limit, never by Python.
    """
    say = progress or (lambda message: None)
    names, _, _ = sources.read_postgres(url, table, query)
    found = cols.find_header([names], _role_mapping(columns))  # only the columns the report reads come over
    wanted = [names[index] for index in sorted(found.positions.values())] if found else None
    with sources.postgres_stream(url, table, query, wanted) as (batches, what):
        say(f"Reading {what} into DuckDB…")

        def source(connection):
            return _stream_source(connection, batches, lambda error: sources.database_error(error, url, what))

        return _scan(source, None, what, columns=columns, dayfirst=dayfirst, decimal=decimal, as_of=as_of,
                     memory=memory, spill_dir=spill_dir, progress=progress)


def _stream_source(connection, batches, failure) -> tuple[list[str], dict[str, str]]:
    """The ``raw`` table from a stream of Arrow record batches, each row numbered in the order it came."""
    import duckdb
    import pyarrow as pa

    def numbered():
        first = 1
        for batch in batches:
            yield batch.append_column(_ROW, pa.array(np.arange(first, first + batch.num_rows, dtype=np.int64)))
            first += batch.num_rows

    stream = pa.RecordBatchReader.from_batches(batches.schema.append(pa.field(_ROW, pa.int64())), numbered())
    connection.register("rx_stream", stream)
    try:
        connection.execute("CREATE TEMP TABLE raw AS SELECT * FROM rx_stream")
    except duckdb.Error as error:  # the stream failed: the connection to the server was lost
        raise failure(error) from None
    finally:
        connection.unregister("rx_stream")
    described = connection.execute("DESCRIBE SELECT * FROM raw").fetchall()
    types = {name: sql_type for name, sql_type, *_ in described if name != _ROW}
    return list(types), types


def _scan(open_source, path: Path | None, label: str | None, *, columns, dayfirst, decimal, as_of, memory, spill_dir,
          progress) -> ScannedSales:
    """The scan of the ``raw`` relation ``open_source(connection)`` makes; ``path`` or ``label`` names it."""
    import duckdb

    where = path if path is not None else label
    say = progress or (lambda message: None)
    mapping = _role_mapping(columns)
    _check_reading_options(None, decimal, as_of)
    spill = tempfile.mkdtemp(prefix="retention_xl_duckdb_", dir=spill_dir)
    connection = duckdb.connect(config={"memory_limit": memory_limit(memory), "temp_directory": spill,
                                        "preserve_insertion_order": False})
    try:
        headers, types = open_source(connection)
        found = cols.find_header([headers], mapping)
        if found is None:
            raise InputError(header_help([headers], mapping), file=where)
        say("DuckDB: cleaning the distinct values of each column…")
        roles = _roles(Mapper(connection, "raw"), where, headers, types, found, dayfirst, decimal)
        say("DuckDB: reading and classifying every row…")
        _classify(connection, roles, as_of)
        accounting = _accounting(connection, as_of, roles.profit is not None)
        if accounting.purchases == 0:
            raise InputError(no_usable_rows(accounting, f'"{headers[found.positions[cols.DATE]]}"'), file=where)
        connection.execute("""
            CREATE TEMP TABLE codes AS
            SELECT customer_key, (row_number() OVER (ORDER BY first_row) - 1)::INTEGER AS code
            FROM (SELECT customer_key, min(row) AS first_row FROM used GROUP BY customer_key)""")
        order = connection.execute("SELECT customer_key FROM codes ORDER BY code").df()["customer_key"].to_numpy()
        first_date, last_date = connection.execute("SELECT min(ts), max(ts) FROM used").fetchone()
    except BaseException:
        connection.close()
        shutil.rmtree(spill, ignore_errors=True)
        raise
    labels = roles.labels
    sales = SalesData(transactions=pd.DataFrame(), accounting=accounting, file=path, sheet=None, header_row=1,
                      columns={role: headers[index] for role, index in found.positions.items()},
                      dayfirst=roles.dayfirst, label=label)
    return ScannedSales(connection, sales, pd.Timestamp(first_date), pd.Timestamp(last_date),
                        [labels["customer"][key] for key in order], labels["name"],
                        {role: labels[role] for role in roles.groups}, roles.profit is not None, spill)
