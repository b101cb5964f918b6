"""Parquet or CSV sales (or a database's rows) read, cleaned and aggregated inside DuckDB, out of core.

The in-memory reader turns every row into pandas objects; ten million rows take
gigabytes, a hundred million do not fit. Here the rows never leave DuckDB: it scans the
files (one file, a glob or a Hive-partitioned folder; CSV files first written as Parquet
a block at a time under the CSV reader's rules) or takes a PostgreSQL table's rows
as they stream from the server (:func:`scan_database`), applies the reader's cleaning
rules (:mod:`retention_xl.scan_columns` -- the same rules, run on each column's distinct
values and joined back; with Spark, run by its executors, :mod:`retention_xl.spark_scan`),
counts every row under its reason, and keeps the clean rows for
:class:`~retention_xl.scanned_tables.ScannedSales`, which builds the customer x month table
with the SQL shared with Spark (:mod:`retention_xl.engine_sql`). Only that
table -- one row per customer and month -- comes back to Python, where the report is
computed as always. Within ``--memory-limit`` DuckDB spills to a temporary folder.

The same rows are used or set aside for the same reasons as in memory; the tests
compare both readers on the same files. Record numbers (the example rows) count across
the files in path order, as the in-memory reader of a folder does.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .. import columns as cols
from .. import order_numbers, sources
from ...reasons import EXCLUSION_REASONS
from ..cleaning import as_of_day as _day
from ..csvencoding import EncodingChoice
from ..csv_parquet import ROW_COLUMN, csv_as_parquet
from ...table.duckdb_engine import memory_limit, memory_part
from ...errors import InputError
from ..rawtable import DATE_REASONS, NOT_UTF8, column_not_utf8, header_help, no_usable_rows, parquet_error
from ..reader import SAY_DAY_ORDER, SAY_DECIMAL, UNIT_COST_WITHOUT_QUANTITY, SalesData, no_usable_rows
from ..reader import check_reading_options as _check_reading_options, role_mapping as _role_mapping
from .scan_columns import (DUCKDB, SPARK, ColumnSql, Dialect, Mapper, ScanUnsupported, blank_cell, date_column,
                           group_column, identifier, is_finite, is_infinite, key_column, number_column, order_column,
                           says_not_utf8)
from ...memory_budget import DUCKDB_SHARE_AFTER_TABLE, default_budget
from .scanned_tables import ScannedSales, customer_codes, scanned_accounting
from ..cells import AmbiguousDecimal
from ..dates import AmbiguousDates

__all__ = ["ScanUnsupported", "ScannedSales", "scan_database", "scan_sales"]
_FILE, _ROW = "rx_file", ROW_COLUMN
_REASON = {reason: position for position, reason in enumerate(EXCLUSION_REASONS)}


def _files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sources.dataset_files(path)


@dataclass
class _RawRows:
    """The ``raw`` relation a source made: its data columns, their types, and what its reader found."""

    headers: list[str]
    types: dict[str, str]
    found: cols.ColumnMap | None = None  # the columns' roles, where the reader has found them (CSV files)
    header_row: int = 1
    malformed_lines: list[int] = field(default_factory=list)
    malformed_count: int = 0
    encoding: EncodingChoice | None = None  # CSV files': the encoding they were read in
    # The Parquet files the view reads (none for a database's rows), the number of each one's first row
    # less one, whether their rows are numbered by their own row column, and the root of a Hive-partitioned
    # folder: Spark reads the same files, numbered the same way.
    files: list[Path] = field(default_factory=list)
    firsts: list[int] = field(default_factory=list)
    numbered: bool = False
    hive_root: Path | None = None


def _described(connection) -> _RawRows:
    """The data columns of the ``raw`` relation (all but the row number) and their types."""
    described = connection.execute("DESCRIBE SELECT * FROM raw").fetchall()
    types = {name: sql_type for name, sql_type, *_ in described if name != _ROW}
    return _RawRows(list(types), types)


def _source(connection, files: list[Path], hive: Path | None) -> _RawRows:
    """The ``raw`` view over the Parquet files, their records numbered across them."""
    import pyarrow.parquet as pq

    counts = []
    for file in files:
        try:
            counts.append(pq.ParquetFile(file).metadata.num_rows)
        except Exception as error:  # pyarrow raises several kinds for a damaged file
            raise parquet_error(error, file) from None
    firsts = np.cumsum([0] + counts[:-1], dtype=np.int64).tolist()
    _parquet_view(connection, files, firsts, hive is not None, numbered=False)
    return replace(_described(connection), files=files, firsts=firsts, hive_root=hive)


def _parquet_view(connection, files: list[Path], firsts: list[int], hive: bool, numbered: bool) -> None:
    """The ``raw`` view over Parquet ``files``: each row numbered ``firsts[file]`` plus its number in the file
    (its :data:`_ROW` column where the files are ``numbered``, else its record number)."""
    connection.register("rx_files", pd.DataFrame({"name": [str(f) for f in files], "first": firsts}))
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    in_file, hidden = (f"s.{_ROW}", f"{_ROW}, {_FILE}") if numbered else \
        ("s.file_row_number + 1", f"file_row_number, {_FILE}")
    # By name: a column typed in one file and text in another becomes text, as in memory.
    connection.execute(f"""
        CREATE TEMP VIEW raw AS
        SELECT s.* EXCLUDE ({hidden}), f.first + {in_file} AS {_ROW}
        FROM read_parquet([{listed}], filename = '{_FILE}', file_row_number = {str(not numbered).lower()},
                          hive_partitioning = {str(hive).lower()}, union_by_name = true) s
        JOIN rx_files f ON f.name = s.{_FILE}""")


def _csv_source(connection, spill: Path, files: list[Path], lone_file: bool, mapping, encoding: str | None,
                say) -> _RawRows:
    """The ``raw`` view over CSV files, written as Parquet under the reader's rules (:func:`csv_as_parquet`)."""
    say(f"Reading {'the CSV file' if len(files) == 1 else f'the {len(files):,} CSV files'} into Parquet for DuckDB…")
    folder = spill / "csv"
    folder.mkdir()
    written = csv_as_parquet(files, mapping, encoding, folder, lone_file=lone_file, progress=say)
    _parquet_view(connection, written.files, written.offsets, hive=False, numbered=True)
    described = _described(connection)
    found = cols.ColumnMap(0, {role: described.headers.index(name) for role, name in written.columns.items()},
                           described.headers)
    return replace(described, found=found, header_row=written.header_row, malformed_lines=written.malformed_lines,
                   malformed_count=written.malformed_count, encoding=written.encoding, files=written.files,
                   firsts=written.offsets, numbered=True)


@dataclass
class _Roles:
    """The SQL of every mapped column, and what the scan keeps of each."""

    customer: ColumnSql
    name: ColumnSql | None
    date: ColumnSql
    amount: str
    used: list[ColumnSql]
    other_blanks: list[str]  # per mapped column the rules do not read (a store, a cost ...): its cell is blank
    spelled: list[ColumnSql]
    order: ColumnSql | None
    groups: dict[str, ColumnSql]
    profit: str | None
    labels: dict[str, list]
    dayfirst: bool | None
    joins: list[str]  # every mapping table the columns need, once
    prepared: dict[str, str]  # the columns' per-row expressions computed once beneath the joins
    eight_digit_example: str | None  # an eight-digit date of the file, where they were read as YYYYMMDD


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
    return f"(CASE WHEN {is_finite(profit)} THEN {profit} END)"


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
        date, used_dayfirst, eight_digits = date_column(mapper, roles[cols.DATE], types[roles[cols.DATE]], dayfirst)
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
    used_headers = {roles[role] for role in [key_role, cols.DATE, *wanted, cols.ORDER_ID]
                    + ([cols.CUSTOMER_NAME] if name else []) if role in roles}
    other_blanks = [blank_cell(header, types[header], mapper.sql) for header in dict.fromkeys(roles.values())
                    if header not in used_headers]
    everything = used + list(numbers.values()) + list(groups.values())
    joins = list(dict.fromkeys(join for column in everything for join in column.joins))
    prepared = {name: sql for column in everything for name, sql in column.prepared.items()}
    return _Roles(customer, name, date, amount, used, other_blanks, amount_columns, order, groups,
                  _profit_sql(roles, numbers, amount), labels, used_dayfirst, joins, prepared, eight_digits)


def classified_rows(roles: _Roles, as_of, sql: Dialect = DUCKDB) -> str:
    """The query of every row of ``raw`` with its clean values and its reason (the first that applies, in the
    documented order; -1 when used), in DuckDB's or Spark's dialect ``sql``."""
    empty = " AND ".join([f"coalesce({c.blank}, true)" for c in roles.used] + roles.other_blanks)
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
    return f"""
        SELECT row, customer_key, name_key, ts, amount, order_key, profit, control, cut{''.join(f', g_{r}' for r in roles.groups)},
               -- whole day and month numbers, as the customer x month table's SQL reads them
               CAST({sql.epoch_day('ts')} AS INT) AS day,
               CAST(year(ts) * 12 + month(ts) - 1 AS INT) AS month,
               CAST(CASE WHEN empty THEN {_REASON['empty_row']} WHEN total THEN {_REASON['total_row']}
                    WHEN customer_key IS NULL THEN {_REASON['missing_customer']}
                    WHEN ts IS NULL AND NOT date_like THEN {_REASON['invalid_date']}
                    WHEN ts IS NULL THEN {_REASON['date_out_of_range']}
                    WHEN {future} THEN {_REASON['future_date']}
                    WHEN (amount IS NULL OR isnan(amount)) AND NOT spelled THEN {_REASON['invalid_amount']}
                    WHEN {is_infinite('amount')} OR spelled THEN {_REASON['non_finite_amount']}
                    WHEN amount = 0 THEN {_REASON['zero_amount']}
                    ELSE -1 END AS TINYINT) AS reason
        FROM (SELECT r.{_ROW} AS row, {roles.customer.value} AS customer_key,
                     {roles.name.value if roles.name else 'CAST(NULL AS BIGINT)'} AS name_key, {roles.date.value} AS ts,
                     {roles.amount} AS amount,
                     {roles.order.value if roles.order else f'CAST(NULL AS {sql.hash_type})'} AS order_key,
                     {roles.profit or 'CAST(NULL AS DOUBLE)'} AS profit, ({empty}) AS empty, ({total}) AS total,
                     coalesce({roles.date.flags['date_like']}, false) AS date_like, ({spelled}) AS spelled,
                     ({control}) AS control, ({cut}) AS cut{group_columns}
              FROM {source} r {' '.join(roles.joins)}) classified"""


def _classify(connection, roles: _Roles, as_of) -> None:
    """The ``scanned`` table: every row with its clean values and its reason (see :func:`_counted_views`)."""
    connection.execute(f"CREATE TABLE scanned AS {classified_rows(roles, as_of)}")
    _counted_views(connection)


def _classify_with_spark(connection, spill: Path, raw: _RawRows, where, found, dayfirst, decimal, as_of,
                         master: str | None, say) -> tuple[_Roles, str] | None:
    """The ``scanned`` rows classified by Spark's executors from the same files (:mod:`.spark_scan`): the roles
    and the classified Parquet files; None where Spark cannot read the files as DuckDB does."""
    from ...table import spark_engine
    from . import spark_scan

    try:
        expected, groups = spark_scan.check_files(raw.files)
        say(f"Spark: starting its session ({master or 'local mode'})…")
        spark = spark_engine.session(master)
        with spark_scan.settings(spark):
            spark_scan.raw_view(spark, connection, groups, dict(zip(raw.files, raw.firsts)),
                                _ROW if raw.numbered else None, raw.hive_root, raw.types, _ROW)
            say("Spark: cleaning the distinct values of each column…")
            roles = _roles(spark_scan.SparkMapper(spark, connection), where, raw.headers, raw.types, found,
                           dayfirst, decimal)
            say("Spark: reading and classifying every row…")
            parquet = spark_scan.classify(spark, classified_rows(roles, as_of, SPARK), spill / "classified", expected)
    except spark_scan.SparkCannotRead as reason:
        say(f"Spark cannot read these files as DuckDB does ({reason}): "
            "DuckDB cleans the rows, Spark aggregates them…")
        return None
    except spark_scan.SPARK_ERRORS as error:  # a Java stack trace: the user needs its first line and where the rest is
        raise spark_engine.failed("reading and cleaning the rows", error) from None
    # Spark's order keys are signed; shifted one to one into DuckDB's unsigned ones.
    connection.execute(f"""
        CREATE VIEW scanned AS
        SELECT * REPLACE ((order_key::HUGEINT + 9223372036854775808)::UBIGINT AS order_key)
        FROM read_parquet('{parquet.replace("'", "''")}')""")
    _counted_views(connection)
    return roles, parquet


def _counted_views(connection) -> None:
    """The ``counted`` and ``used`` views over the ``scanned`` rows: every row the source holds is counted,
    trailing ones too (a CSV file's blank lines at its end are not rows: its reader leaves them out)."""
    connection.execute("CREATE TEMP VIEW counted AS SELECT * FROM scanned")
    connection.execute("CREATE TEMP VIEW used AS SELECT * FROM counted WHERE reason = -1")


def _date_examples(connection, accounting, header: str) -> list[str]:
    """The raw values of the date column in the example rows of the rows set aside for their date."""
    rows = [int(row) for reason in DATE_REASONS for row in accounting.exclusions[reason].example_rows]
    if not rows:
        return []
    found = connection.execute(f"SELECT {_ROW}, CAST({identifier(header)} AS VARCHAR) FROM raw "
                               f"WHERE {_ROW} IN ({', '.join(map(str, rows))}) ORDER BY {_ROW}").fetchall()
    return [text[:-2] if text and text.endswith(".0") else text for _, text in found]


def scan_sales(path: str | Path, *, columns=None, dayfirst: bool | None = None, encoding: str | None = None,
               decimal: str | None = None, as_of=None, memory: str | None = None, spill_dir: str | None = None,
               progress=None, spark: bool = False, spark_master: str | None = None) -> ScannedSales:
    """Scan, clean and account for the sales at ``path`` inside DuckDB: a Parquet or CSV file, or a glob or
    folder of either.

    The arguments are those of :func:`retention_xl.reader.read_sales`, plus DuckDB's
    ``memory`` limit and the folder it spills to. CSV files are first written as Parquet into
    that folder, a chunk at a time, under the reader's rules for CSV. With ``spark``, Spark
    (local mode, or the cluster at ``spark_master``) reads, cleans and classifies the rows
    instead (:mod:`retention_xl.spark_scan`) and DuckDB counts them. Raises
    :class:`ScanUnsupported` for a column type it does not read (the caller then reads the file in memory).
    For example, ``scan_sales("sales/", memory="2GB", spark=True)`` has Spark read a folder of Parquet files;
    the result's ``sales.accounting`` counts every row, and it must be closed.
    """
    path = Path(path)
    files = _files(path)
    _check_reading_options(encoding, None, None)
    if sources.are_csv(files):
        def source(connection, spill):
            return _csv_source(connection, spill, files, path.is_file(), _role_mapping(columns), encoding,
                               progress or (lambda message: None))
    else:
        def source(connection, spill):
            return _source(connection, files, path if path.is_dir() else None)
    return _scan(source, path, None, columns=columns, dayfirst=dayfirst, decimal=decimal, as_of=as_of,
                 memory=memory, spill_dir=spill_dir, progress=progress, spark=spark, spark_master=spark_master)


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

        def source(connection, spill):
            return _stream_source(connection, batches, lambda error: sources.database_error(error, url, what))

        return _scan(source, None, what, columns=columns, dayfirst=dayfirst, decimal=decimal, as_of=as_of,
                     memory=memory, spill_dir=spill_dir, progress=progress)


def _stream_source(connection, batches, failure) -> _RawRows:
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
    return _described(connection)


def _scan(open_source, path: Path | None, label: str | None, *, columns, dayfirst, decimal, as_of, memory, spill_dir,
          progress, spark: bool = False, spark_master: str | None = None) -> ScannedSales:
    """The scan of the ``raw`` relation ``open_source(connection, spill folder)`` makes; ``path`` or ``label``
    names it. With ``spark``, Spark classifies the rows of a source of files."""
    import duckdb

    where = path if path is not None else label
    say = progress or (lambda message: None)
    mapping = _role_mapping(columns)
    _check_reading_options(None, decimal, as_of)
    spill = tempfile.mkdtemp(prefix="retention_xl_duckdb_", dir=spill_dir)
    limit = memory_limit(memory)
    budget = None
    if memory is None:  # the run's memory budget (retention_xl.memory_budget), stated
        budget = default_budget()
        say(f"DuckDB: {budget.describe()}…")
    # A database file in the spill folder, not an in-memory one: DuckDB compresses the tables of a file
    # (day and month numbers, keys and flags shrink several times over), so the classified rows are
    # read back many times faster than uncompressed ones spilled beyond the memory limit.
    connection = duckdb.connect(str(Path(spill) / "scan.duckdb"), config={
        "memory_limit": limit, "temp_directory": spill, "preserve_insertion_order": False})
    connection.execute("SET enable_progress_bar = false")  # it would write into the program's output
    raw = None
    try:
        raw = open_source(connection, Path(spill))
        headers, types = raw.headers, raw.types
        found = raw.found or cols.find_header([headers], mapping)
        if found is None:
            raise InputError(header_help([headers], mapping), file=where)
        by_spark, started = None, time.perf_counter()
        if spark and raw.files:
            by_spark = _classify_with_spark(connection, Path(spill), raw, where, found, dayfirst, decimal, as_of,
                                            spark_master, say)
        if by_spark:
            roles, classified = by_spark
        else:
            say("DuckDB: cleaning the distinct values of each column…")
            roles = _roles(Mapper(connection, "raw"), where, headers, types, found, dayfirst, decimal)
            say("DuckDB: reading and classifying every row…")
            _classify(connection, roles, as_of)
            classified = None
        stage = {f"classify_{'spark' if by_spark else 'duckdb'}": time.perf_counter() - started}
        accounting = scanned_accounting(connection, str(_day(as_of).date()), roles.profit is not None)
        if raw.malformed_count:
            accounting.add_malformed(raw.malformed_lines, raw.malformed_count)
        if accounting.purchases == 0:
            date_header = headers[found.positions[cols.DATE]]
            raise InputError(no_usable_rows(accounting, f'"{date_header}"', _date_examples(connection, accounting,
                                                                                           date_header), found),
                             file=where)
        order = customer_codes(connection)
        first_date, last_date = connection.execute("SELECT min(ts), max(ts) FROM used").fetchone()
    except BaseException as error:
        connection.close()
        shutil.rmtree(spill, ignore_errors=True)
        invalid = column_not_utf8(raw.files, raw.types) if raw is not None and says_not_utf8(error) else None
        if invalid is not None:
            raise InputError(NOT_UTF8, file=invalid[0], column=f'"{invalid[1]}"') from None
        raise
    labels = roles.labels
    sales = SalesData(transactions=pd.DataFrame(), accounting=accounting, file=path, sheet=None,
                      header_row=raw.header_row,
                      columns={role: headers[index] for role, index in found.positions.items()},
                      dayfirst=roles.dayfirst, label=label, encoding=raw.encoding and raw.encoding.encoding,
                      encoding_choice=raw.encoding, eight_digit_example=roles.eight_digit_example,
                      shared_orders=order_numbers.in_scan(connection) if roles.order else None)
    return ScannedSales(connection, sales, pd.Timestamp(first_date), pd.Timestamp(last_date),
                        [labels["customer"][key] for key in order], labels["customer"], labels["name"],
                        {role: labels[role] for role in roles.groups}, roles.profit is not None, spill,
                        memory_limit=limit, memory_after_table=memory_part(limit, DUCKDB_SHARE_AFTER_TABLE),
                        budget=budget,
                        classified=classified and (classified, "reason = -1"), timings=stage)
