"""The report from sales DuckDB scanned out of core (:mod:`retention_xl.duckdb_scan`).

``--engine duckdb`` scans Parquet and CSV input (and a database's rows) in DuckDB; ``--engine spark`` has
Spark's executors read, clean and classify the files' rows by the same rules (a database's rows: DuckDB), DuckDB
count them, and Spark aggregate them; ``--engine auto`` scans a folder
or glob, a Parquet or CSV file of more than :data:`AUTO_SCAN_ROWS` rows and a database, and reads
everything else in memory (:func:`engine_in_memory` says which engine then builds the table; a
workbook is always read in memory). Below that size both are quick and the
in-memory path has the least start-up (at 1,000,000 rows the scan measured 7.4 s against
9.6 s in memory, ``benchmarks/big.py``); above it, memory decides.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from .read import sources
from .table.contract import month_number
from .reasons import PROFIT_UNKNOWN
from .read.csvfile import estimated_rows
from .errors import UsageError
from .figures.groups import MISSING, group_figures
from .figures.loyalty import add_loyalty  # loyalty
from .read.rawtable import CSV_SUFFIXES, PARQUET_SUFFIXES

AUTO_SCAN_ROWS = 2_000_000


def scan_wanted(path: Path | None, engine: str, figures_in_engine: bool = False) -> bool:
    """Whether the sales at ``path`` (None: a database) are scanned in DuckDB rather than read into memory;
    ``figures_in_engine`` scans every file DuckDB can."""
    if figures_in_engine and engine == "auto":
        engine = "duckdb"
    if engine == "pandas":
        return False
    if path is None:  # a database's rows may be any number: DuckDB takes them as they stream
        return True
    if sources.several_files(path):
        return True
    suffix = path.suffix.lower()
    if not path.is_file() or suffix not in PARQUET_SUFFIXES | CSV_SUFFIXES:
        return False
    if engine != "auto":
        return True
    if suffix in CSV_SUFFIXES:
        return estimated_rows(path) > AUTO_SCAN_ROWS
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows > AUTO_SCAN_ROWS
    except Exception:  # a damaged file: the in-memory reader says what is wrong with it
        return False


def engine_in_memory(path: Path | None, engine: str) -> str:
    """The engine that builds the table from rows read in memory: ``auto`` is DuckDB for a folder or glob
    (read in memory only where the scan cannot read a column) and pandas otherwise; any other engine is itself."""
    if engine == "auto" and path is not None and sources.several_files(path):
        return "duckdb"
    return engine


def analyse_scanned(scanned, options, progress=None):
    """Every figure and table of the report from scanned sales (see :func:`retention_xl.report.analyse`)."""
    from .report import NO_PURCHASES, DataSource, analyse_table, check_profit, report_month

    if scanned.sales.accounting.purchases == 0:  # one group's rows may hold returns only
        raise UsageError(NO_PURCHASES)
    say = progress or (lambda message: None)
    started = time.perf_counter()
    options = options.validated()
    spark = options.engine == "spark"  # Spark aggregates the rows it (or DuckDB) classified
    options = replace(options, engine="spark" if spark else "duckdb")
    month, mid_month = report_month(options, scanned.first_date, scanned.last_date)
    if options.value == "profit":
        unknown = scanned.sales.accounting.adjustments.get(PROFIT_UNKNOWN)
        check_profit(scanned.has_profit, unknown.count if unknown else 0, unknown.example_rows if unknown else [])
    say(f"{'Spark' if spark else 'DuckDB'}: building the customer x month table…")
    table = scanned.customer_months(month, spark, options.spark_master, options.figures_in_engine, progress)
    engine_seconds = time.perf_counter() - started

    def groups(window: int, detail: dict) -> dict:
        if scanned.group_labels:
            say(f"DuckDB: the figures of each {' and each '.join(scanned.group_labels)}…")
        m = month_number(month)
        chain_buyers = set(table.customers["customer_id"].to_numpy()[table.active_in(m, m)])
        return {role: group_figures(((MISSING if name is None else name, group_table)
                                     for name, group_table in scanned.group_tables(role, month, window, table)),
                                    month, window, detail, chain_buyers)
                for role in scanned.group_labels}

    source = DataSource(table, scanned.first_date, scanned.last_date, groups, stop_groups=scanned.stop)
    report = analyse_table(source, month, options, scanned.sales, mid_month, progress)
    add_loyalty(report, table)  # loyalty
    report.timings = {"compute": time.perf_counter() - started, f"table_{options.engine}": engine_seconds}
    return report
