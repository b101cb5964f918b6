"""The one place that chooses the engine: whether the sales are scanned in DuckDB or read in memory, and what
builds the customer x month table.

``--engine duckdb`` scans Parquet and CSV input (and a database's rows) in DuckDB; ``--engine spark`` has
Spark's executors read, clean and classify the files' rows by the same rules (a database's rows: DuckDB),
DuckDB count them, and Spark aggregate them; ``--engine auto`` scans a folder or glob, a Parquet or CSV file
of more than :data:`AUTO_SCAN_ROWS` rows and a database, and reads everything else in memory (a workbook is
always read in memory). Below that size both are quick and the in-memory path has the least start-up (at
1,000,000 rows the scan measured 7.4 s against 9.6 s in memory, ``benchmarks/big.py``); above it, memory decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .memory_budget import MemoryBudget, default_budget
from .read import sources
from .read.csvfile import estimated_rows
from .read.rawtable import CSV_SUFFIXES, PARQUET_SUFFIXES
from .table.duckdb_engine import memory_limit

AUTO_SCAN_ROWS = 2_000_000


def scan_wanted(path: Path | None, engine: str, figures_in_engine: bool = False) -> bool:
    """Whether the sales at ``path`` (None: a database) are scanned in DuckDB rather than read into memory;
    ``figures_in_engine`` scans every file DuckDB can.

    >>> scan_wanted(Path("sales.xlsx"), "duckdb"), scan_wanted(None, "auto"), scan_wanted(None, "pandas")
    (False, True, False)
    """
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


def table_engine(engine: str, *, scanned: bool, several_files: bool = False) -> str:
    """What builds the customer x month table for the ``engine`` asked for: from scanned rows, Spark where asked
    for and DuckDB otherwise; from rows in memory, ``auto`` is DuckDB for a folder or glob (read in memory only
    where the scan cannot read a column) and pandas otherwise -- for data that fit in memory it builds the table
    several times faster than DuckDB (0.08 s against 0.66 s on 525,461 rows).

    >>> table_engine("auto", scanned=True), table_engine("auto", scanned=False), table_engine("spark", scanned=False)
    ('duckdb', 'pandas', 'spark')
    """
    if scanned:
        return "spark" if engine == "spark" else "duckdb"
    if engine == "auto":
        return "duckdb" if several_files else "pandas"
    return engine


def duckdb_memory(limit: str | None, progress: Callable[[str], None] | None = None
                  ) -> tuple[str, MemoryBudget | None]:
    """DuckDB's memory limit for a run, and the run's memory budget where it is given no ``limit``
    (``--memory-limit``): then the budget is built here, once a run, stated in the progress line, and DuckDB
    takes its share of it (the scan also fetches the customer x month table into Python only where it fits in
    :func:`retention_xl.memory_budget.table_allowance` of it).

    >>> duckdb_memory("4GB")
    ('4GB', None)
    """
    if limit is not None:
        return memory_limit(limit), None
    budget = default_budget()
    if progress:
        progress(f"DuckDB: {budget.describe()}…")
    return budget.duckdb_limit, budget


def with_table_engine(options, sales, progress: Callable[[str], None] | None = None):
    """``options`` with the engine that builds the table of ``sales`` (see :func:`table_engine`); rows held in
    memory keep their table in memory. Rows in memory whose table DuckDB builds give it the run's memory limit
    (:func:`duckdb_memory`); scanned rows have theirs from the scan."""
    engine = table_engine(options.engine, scanned=sales.scanned, several_files=sales.several_files)
    options = replace(options, engine=engine, figures_in_engine=options.figures_in_engine and sales.scanned)
    if engine == "duckdb" and not sales.scanned and options.memory_limit is None:
        options = replace(options, memory_limit=duckdb_memory(None, progress)[0])
    return options
