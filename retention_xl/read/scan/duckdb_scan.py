"""Parquet or CSV sales (or a database's rows) read, cleaned and aggregated inside DuckDB, out of core.

The in-memory reader turns every row into pandas objects; ten million rows take
gigabytes, a hundred million do not fit. Here the rows never leave DuckDB: it scans the
files (one file, a glob or a Hive-partitioned folder; CSV files first written as Parquet
a block at a time under the CSV reader's rules) or takes a PostgreSQL table's rows
as they stream from the server (:func:`scan_database`), applies the reader's cleaning
rules (:mod:`retention_xl.read.scan.scan_columns` -- the same rules, run on each column's distinct
values and joined back; with Spark, run by its executors, :mod:`retention_xl.read.scan.spark_scan`),
counts every row under its reason, and keeps the clean rows for
:class:`~retention_xl.read.scan.scanned_tables.ScannedSales`, which builds the customer x month table
with the SQL shared with Spark (:mod:`retention_xl.table.engine_sql`). Only that
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
from ..csv_parquet import ROW_COLUMN, csv_as_parquet
from ..csvencoding import EncodingChoice
from ..rawtable import NOT_UTF8, column_not_utf8, header_help, no_usable_rows, parquet_error
from ..reader import check_reading_options, role_mapping
from ..row_rules import as_of_day
from ..sales import Provenance
from ...errors import InputError
from ...engine_choice import duckdb_memory
from ...memory_budget import DUCKDB_SHARE_AFTER_TABLE
from ...table.duckdb_engine import memory_part
from .scan_classify import classify, classify_with_spark, column_roles, date_examples
from .scan_columns import Mapper, ScanUnsupported, says_not_utf8
from .scanned_tables import ScannedSales, customer_codes, scanned_accounting

__all__ = ["ScanUnsupported", "ScannedSales", "scan_database", "scan_sales"]
_FILE, _ROW = "rx_file", ROW_COLUMN


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


def scan_sales(path: str | Path, *, columns=None, dayfirst: bool | None = None, encoding: str | None = None,
               decimal: str | None = None, as_of=None, memory: str | None = None, spill_dir: str | None = None,
               progress=None, spark: bool = False, spark_master: str | None = None) -> ScannedSales:
    """Scan, clean and account for the sales at ``path`` inside DuckDB: a Parquet or CSV file, or a glob or
    folder of either.

    The arguments are those of :func:`retention_xl.read.reader.read_sales`, plus DuckDB's
    ``memory`` limit and the folder it spills to. CSV files are first written as Parquet into
    that folder, a chunk at a time, under the reader's rules for CSV. With ``spark``, Spark
    (local mode, or the cluster at ``spark_master``) reads, cleans and classifies the rows
    instead (:mod:`retention_xl.read.scan.spark_scan`) and DuckDB counts them. Raises
    :class:`ScanUnsupported` for a column type it does not read (the caller then reads the file in memory).
    For example, ``scan_sales("sales/", memory="2GB", spark=True)`` has Spark read a folder of Parquet files;
    the result's ``sales.accounting`` counts every row, and it must be closed.
    """
    path = Path(path)
    files = _files(path)
    check_reading_options(encoding, None, None)
    if sources.are_csv(files):
        def source(connection, spill):
            return _csv_source(connection, spill, files, path.is_file(), role_mapping(columns), encoding,
                               progress or (lambda message: None))
    else:
        def source(connection, spill):
            return _source(connection, files, path if path.is_dir() else None)
    return _scan(source, path, None, columns=columns, dayfirst=dayfirst, decimal=decimal, as_of=as_of,
                 memory=memory, spill_dir=spill_dir, progress=progress, spark=spark, spark_master=spark_master)


def scan_database(url: str, *, table: str | None = None, query: str | None = None, columns=None,
                  dayfirst: bool | None = None, decimal: str | None = None, as_of=None, memory: str | None = None,
                  spill_dir: str | None = None, progress=None) -> ScannedSales:
    """:func:`scan_sales` for a PostgreSQL ``table`` or ``query`` (see :func:`retention_xl.read.reader.read_database`).

    The rows stream from the server into DuckDB as Arrow record batches, numbered in the order
    they come, so that a table larger than memory is held by DuckDB within its limit, never by Python.
    """
    say = progress or (lambda message: None)
    names, _, _ = sources.read_postgres(url, table, query)
    found = cols.find_header([names], role_mapping(columns))  # only the columns the report reads come over
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


def _classified(connection, spill: Path, raw: _RawRows, where, found, reading: tuple, spark: bool,
                spark_master: str | None, say):
    """The ``scanned`` rows, classified by Spark's executors (local mode, or the cluster at ``spark_master``) where
    ``spark`` and they can read the files, else by DuckDB; ``reading`` is (dayfirst, decimal, as_of). Returns the
    columns' roles, Spark's Parquet files of the classified rows (or None) and the stage's time."""
    dayfirst, decimal, as_of = reading
    by_spark, started = None, time.perf_counter()
    if spark and raw.files:
        by_spark = classify_with_spark(connection, spill, raw, where, found, dayfirst, decimal, as_of, spark_master,
                                       say)
    if by_spark:
        roles, classified = by_spark
    else:
        say("DuckDB: cleaning the distinct values of each column…")
        roles = column_roles(Mapper(connection, "raw"), where, raw.headers, raw.types, found, dayfirst, decimal)
        say("DuckDB: reading and classifying every row…")
        classify(connection, roles, as_of)
        classified = None
    return roles, classified, {f"classify_{'spark' if by_spark else 'duckdb'}": time.perf_counter() - started}


def _scan(open_source, path: Path | None, label: str | None, *, columns, dayfirst, decimal, as_of, memory, spill_dir,
          progress, spark: bool = False, spark_master: str | None = None) -> ScannedSales:
    """The scan of the ``raw`` relation ``open_source(connection, spill folder)`` makes; ``path`` or ``label``
    names it. With ``spark``, Spark classifies the rows of a source of files."""
    where = path if path is not None else label
    say = progress or (lambda message: None)
    mapping = role_mapping(columns)
    check_reading_options(None, decimal, as_of)
    limit, budget = duckdb_memory(memory, say)
    spill = tempfile.mkdtemp(prefix="retention_xl_duckdb_", dir=spill_dir)
    connection = _connected(Path(spill), limit)
    raw = None
    try:
        raw = open_source(connection, Path(spill))
        found = raw.found or cols.find_header([raw.headers], mapping)
        if found is None:
            raise InputError(header_help([raw.headers], mapping), file=where)
        roles, classified, stage = _classified(connection, Path(spill), raw, where, found, (dayfirst, decimal, as_of),
                                               spark, spark_master, say)
        accounting = _counted(connection, raw, found, where, as_of, roles.profit is not None)
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
    provenance = Provenance(accounting=accounting, file=path, sheet=None, header_row=raw.header_row,
                            columns={role: raw.headers[index] for role, index in found.positions.items()},
                            dayfirst=roles.dayfirst, label=label, encoding=raw.encoding and raw.encoding.encoding,
                            encoding_choice=raw.encoding, eight_digit_example=roles.eight_digit_example,
                            shared_orders=order_numbers.in_scan(connection) if roles.order else None)
    return ScannedSales(connection, provenance, pd.Timestamp(first_date), pd.Timestamp(last_date),
                        [labels["customer"][key] for key in order], labels["customer"], labels["name"],
                        {role: labels[role] for role in roles.groups}, roles.profit is not None, spill,
                        memory_limit=limit, memory_after_table=memory_part(limit, DUCKDB_SHARE_AFTER_TABLE),
                        budget=budget, classified=classified and (classified, "reason = -1"), timings=stage)


def _connected(spill: Path, limit: str):
    """A DuckDB connection for the scan, within ``limit`` and spilling into ``spill``.

    A database file in the spill folder, not an in-memory one: DuckDB compresses the tables of a file
    (day and month numbers, keys and flags shrink several times over), so the classified rows are
    read back many times faster than uncompressed ones spilled beyond the memory limit.
    """
    import duckdb

    connection = duckdb.connect(str(spill / "scan.duckdb"), config={
        "memory_limit": limit, "temp_directory": str(spill), "preserve_insertion_order": False})
    connection.execute("SET enable_progress_bar = false")  # it would write into the program's output
    return connection


def _counted(connection, raw: _RawRows, found, where, as_of, has_profit: bool):
    """The accounting of every row the source holds; an :class:`InputError` where none is a purchase."""
    accounting = scanned_accounting(connection, str(as_of_day(as_of).date()), has_profit)
    if raw.malformed_count:
        accounting.add_malformed(raw.malformed_lines, raw.malformed_count)
    if accounting.purchases == 0:
        date_header = raw.headers[found.positions[cols.DATE]]
        examples = date_examples(connection, accounting, date_header)
        raise InputError(no_usable_rows(accounting, f'"{date_header}"', examples, found), file=where)
    return accounting
