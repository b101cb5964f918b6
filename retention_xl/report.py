"""The Python API: sales in, the month's retention tables and workbook out.

>>> from retention_xl.report import ReadOptions, ReportOptions, create_report
>>> report = create_report("sample_workbooks/sales_sample.xlsx", "report.xlsx", ReportOptions(language="en"),
...                        read=ReadOptions(as_of="2026-01-01"))                # doctest: +SKIP
>>> report.current.retention, report.customers.head()                          # doctest: +SKIP

:func:`create_report` reads the sales (a file, a folder or glob of files, or a :class:`Database`), analyses
them and writes the workbook, as the command line does. Step by step: read the sales
(:func:`retention_xl.read.reader.read_sales`, or any DataFrame of clean transactions, see
:func:`retention_xl.read.cleaning.clean_transactions`), :func:`analyse` them into every table as a pandas
DataFrame, and :func:`write_workbook` the result.
"""

from __future__ import annotations

import importlib
import threading
import time
import warnings
from dataclasses import replace
from pathlib import Path

import pandas as pd

from . import outputs, pipeline
from .deprecation import REMOVED_IN, folded_keywords
from .engine_choice import scan_wanted
from .errors import UsageError
from .figures.result import RetentionReport
from .options import Database, ReadOptions, ReportOptions, sales_location
from .pipeline import NO_PURCHASES, default_month, report_month, write_workbook
from .read.answers import Answers, with_survey
from .read.reader import Progress, read_database, read_sales
from .read.sales import Sales, SalesData
from .read.survey import survey_beside_sales
from .read.scan.duckdb_scan import ScanUnsupported, scan_database, scan_sales
from .split import check_role, write_split
from .workbook.summary_json import write_summary_json

__all__ = ["NO_PURCHASES", "Database", "ReadOptions", "ReportOptions", "RetentionReport", "analyse", "create_report",
           "default_month", "report_month", "write_workbook"]


def analyse(sales: Sales | pd.DataFrame, options: ReportOptions | None = None, *old,
            progress: Progress | None = None, data_range: tuple[pd.Timestamp, pd.Timestamp] | None = None
            ) -> RetentionReport:
    """Every figure and table of the report, from ``sales`` read by :func:`~retention_xl.read.reader.read_sales`
    (or scanned), or from any DataFrame of clean transactions (see :func:`retention_xl.pipeline.analyse`).

    The old form ``analyse(transactions, options, sales, progress, data_range)`` keeps working until
    the next release, with a ``DeprecationWarning``.
    """
    if old or data_range is not None:
        warnings.warn(f"analyse(transactions, options, sales, ...) is deprecated and goes in {REMOVED_IN}: "
                      "write analyse(sales, options, progress=...)", DeprecationWarning, stacklevel=2)
        reading = old[0] if old else None
        progress = old[1] if len(old) > 1 else progress
        sales = SalesData.of_rows(sales, reading.provenance if reading is not None else None, data_range)
    return pipeline.analyse(sales, options, progress)


_READ_KEYWORDS = ("sheet", "columns", "dayfirst", "encoding", "decimal", "as_of")


def _folded(old: dict, arguments: dict) -> dict:
    """The arguments of :func:`create_report` from its keywords before :class:`ReadOptions` and :class:`Database`."""
    reading = {name: old[name] for name in _READ_KEYWORDS if name in old}
    if reading:
        arguments["read"] = replace(arguments.get("read") or ReadOptions(), **reading)
    if "sales_file" in old:
        arguments["sales"] = old["sales_file"]
    if old.keys() & {"source", "table", "query"}:
        arguments["sales"] = sales_location(arguments.get("sales"), old.get("source"), old.get("table"),
                                            old.get("query"))
    return arguments


@folded_keywords(("sales_file", *_READ_KEYWORDS, "source", "table", "query"), _folded,
                 "create_report(sales, output, options, read=ReadOptions(...)), with Database(url, table=...) as the "
                 "sales of a database")
def create_report(
    sales: str | Path | Database,
    output: str | Path,
    options: ReportOptions | None = None,
    *,
    read: ReadOptions | None = None,
    json_path: str | Path | None = None,
    split_by: str | None = None,
    split_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> RetentionReport:
    """Read ``sales``, analyse them and write the workbook to ``output`` (and the figures to ``json_path``).

    ``sales`` is a file, a folder or glob of files, or a :class:`Database` (a PostgreSQL table or
    query); ``read`` says how to read them where the reader's own choices are not what is wanted.
    With the engine ``auto`` or ``duckdb``, Parquet and CSV files, folders and databases are scanned in
    DuckDB (:mod:`retention_xl.engine_choice` says which); everything else is read in memory.
    ``split_by`` (``store``, ``salesperson``, ``channel`` or ``region``) also writes one
    complete workbook per group into ``split_dir`` (default: beside ``output``, named
    after it, e.g. ``report_by_store``).
    """
    options = (options or ReportOptions()).validated()
    read = read or ReadOptions()
    if sales is None:
        raise UsageError("give a sales file, or a database with --source (not both)")
    path = None if isinstance(sales, Database) else Path(sales)
    written = {"report": Path(output), "JSON summary": json_path and Path(json_path)}
    outputs.check_outputs(path, written)
    started = time.perf_counter()
    read, answers = _survey_read(read, written)
    split_folder = split_by and (Path(split_dir) if split_dir else
                                 Path(output).with_name(f"{Path(output).stem}_by_{split_by}"))
    held = _scanned(sales, path, options, read, progress)
    if held is None:
        if options.figures_in_engine:
            raise UsageError(f"--figures-in-engine works on sales DuckDB scans (Parquet or CSV files, folders, globs "
                             f"and databases); {path.name} is read in memory: save the sheet as CSV or "
                             f"Parquet, or leave the option out")
        _import_ahead(options, path)
        held = _read(sales, path, read, progress)
    read_seconds = time.perf_counter() - started
    with held:
        held.provenance = with_survey(held.provenance, answers)
        if split_by is not None:  # before any figure is computed or any workbook written
            check_role(split_by, split_by in held.group_roles)
        report = pipeline.analyse(held, options, progress)
        report.timings["read"] = read_seconds
        report.timings.update(held.timings)
        if progress:
            progress(f"Writing {Path(output).name}…")
        write_workbook(report, output, progress)
        if split_by is not None:
            if progress:
                progress(f"Writing one workbook per {split_by} into {split_folder}…")
            report.split = write_split(report, held, split_by, split_folder, progress)
    if json_path is not None:
        write_summary_json(report, json_path)
    return report


def _survey_read(read: ReadOptions, written: dict) -> tuple[ReadOptions, Answers | None]:
    """The answers of the survey file ``read`` names (None without one), read before the sales, and the options
    that read the sales: the answer columns named in ``read.columns`` are then the survey's."""
    if read.survey is None:
        return read, None
    outputs.check_outputs(Path(read.survey), written)
    columns, answers = survey_beside_sales(read.survey, read.columns, read.dayfirst, read.as_of)
    return replace(read, columns=columns), answers


def _scanned(sales, path: Path | None, options: ReportOptions, read: ReadOptions, progress) -> Sales | None:
    """The sales scanned in DuckDB, where :func:`.scan_wanted` and the columns allow; else None."""
    if not scan_wanted(path, options.engine, options.figures_in_engine):
        return None
    arguments = {"memory": options.memory_limit, "progress": progress, **read.reading()}
    try:
        if path is None:
            return scan_database(sales.url, table=sales.table, query=sales.query, **arguments)
        return scan_sales(path, encoding=read.encoding, spark=options.engine == "spark",
                          spark_master=options.spark_master, **arguments)
    except ScanUnsupported as reason:
        if options.figures_in_engine:
            raise UsageError(f"--figures-in-engine: DuckDB cannot scan {reason}") from None
        if progress:
            progress(f"DuckDB cannot scan {reason}; reading the rows in memory instead…")
        return None


def _read(sales, path: Path | None, read: ReadOptions, progress) -> Sales:
    """The sales read in memory."""
    if path is None:
        return read_database(sales.url, table=sales.table, query=sales.query, progress=progress, **read.reading())
    return read_sales(path, sheet=read.sheet, encoding=read.encoding, progress=progress, **read.reading())


IMPORT_MODELS_AHEAD_FROM = 10_000_000  # bytes of sales file: its reading takes a second or more


def _import_ahead(options: ReportOptions, sales_file: Path | None) -> None:
    """Import the workbook writer and, where the models will probably run, the models (SciPy) on a thread of
    their own while the sales are read in memory: the reading lets go of the interpreter for seconds
    (calamine, zlib and Arrow work outside it), so on a machine with a core to spare these imports take no
    time of the run's. The models are imported ahead only for a sales file of 10 MB or more, whose reading
    hides their import and whose data nearly always allow them; a small run imports them only if it fits them."""
    big = sales_file is not None and sales_file.is_file() and sales_file.stat().st_size >= IMPORT_MODELS_AHEAD_FROM
    names = ["retention_xl.workbook", *(["retention_xl.clv"] if big and options.clv is not False else [])]
    threading.Thread(target=_import_quietly, args=(names,), name="retention-xl imports", daemon=True).start()


def _import_quietly(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 -- imported again where it is used, which says what is wrong
            return
