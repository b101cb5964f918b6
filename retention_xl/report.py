"""The Python API: sales rows in, the month's retention tables and workbook out.

>>> from retention_xl.report import ReportOptions, create_report
>>> report = create_report("sample_workbooks/sales_sample.xlsx", "report.xlsx",
...                        ReportOptions(language="en"))          # doctest: +SKIP
>>> report.current.retention, report.customers.head()           # doctest: +SKIP

:func:`analyse` works on any DataFrame of clean transactions (see
:func:`retention_xl.cleaning.clean_transactions`) and returns every table as a
pandas DataFrame; :func:`write_workbook` turns the result into the formatted
workbook; :func:`create_report` does both from a file, as the command line does.
"""

from __future__ import annotations

import importlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from .figures import month as analysis
from . import outputs
from .figures.actions import recommend
from .table.numpy_builder import build_customer_months, with_order_keys
from .figures.groups import chain_groups
from .figures.loyalty import add_loyalty  # loyalty
from .figures.result import RetentionReport
from .workbook.summary_json import write_summary_json
from .figures.customer_value import CustomerValue, customer_value, with_value
from .figures.customers import customer_table
from .errors import UsageError
from .options import ReportOptions, engine_name
from .read.columns import GROUP_ROLES
from .read.answers import with_survey  # loyalty
from .read.reader import Progress, SalesData, read_database, read_sales
from .read.scan.duckdb_scan import ScanUnsupported, scan_database, scan_sales
from .read.survey import survey_beside_sales  # loyalty
from .scanned_report import analyse_scanned, engine_in_memory, scan_wanted
from .split import check_role, write_split, write_split_scanned

def default_month(last_date: pd.Timestamp) -> tuple[pd.Period, bool]:
    """The last complete month ending on or before ``last_date``; True if the data ends mid-month.

    >>> default_month(pd.Timestamp("2010-12-09 12:50"))
    (Period('2010-11', 'M'), True)
    >>> default_month(pd.Timestamp("2024-03-31 18:00"))
    (Period('2024-03', 'M'), False)
    """
    month = last_date.to_period("M")
    if last_date.normalize() == month.end_time.normalize():
        return month, False
    return month - 1, True


def _table(transactions: pd.DataFrame, month: pd.Period, options: ReportOptions):
    """The customer x month table from the chosen engine. ``auto`` is pandas: for data that fit in memory
    it builds the table several times faster than DuckDB (0.08 s against 0.66 s on 525,461 rows)."""
    if options.engine == "duckdb":
        from .table.duckdb_engine import build_customer_months as build_with_duckdb

        return build_with_duckdb(transactions, month, memory=options.memory_limit)
    if options.engine == "spark":
        from .table.spark_engine import build_customer_months as build_with_spark

        return build_with_spark(transactions, month, options.spark_master)
    return build_customer_months(transactions, month)


def _check_profit(transactions: pd.DataFrame) -> None:
    has_profit = "profit" in transactions
    unknown = transactions["profit"].isna().to_numpy() if has_profit else np.zeros(0, dtype=bool)
    check_profit(has_profit, int(unknown.sum()), transactions["row"].to_numpy()[unknown][:5] if has_profit else [])


def check_profit(has_profit: bool, unknown: int, examples) -> None:
    """Profit can rank customers only where the data carry it and every used row has one."""
    if not has_profit:
        raise UsageError("--value profit needs a profit, cost or unit-cost column, and the sales file has none that is "
                         "recognised; name it with --profit, --cost or --unit-cost")
    if unknown:
        rows = ", ".join(str(r) for r in examples)
        raise UsageError(f"--value profit: the profit of {unknown:,} used rows is unknown (e.g. rows {rows}): "
                         "their cost or profit cell is blank or not a number; fill them in, or use --value revenue")


NO_PURCHASES = "the data holds no purchases"


def analyse(transactions: pd.DataFrame, options: ReportOptions | None = None, sales: SalesData | None = None,
            progress: Progress | None = None,
            data_range: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> RetentionReport:
    """Every figure and table of the report, from clean transactions.

    ``data_range`` (first and last date) is the time the data cover where the transactions are part of
    larger data, such as one store's rows of a chain's file; by default their own first and last date.
    """
    options = (options or ReportOptions()).validated()
    started = time.perf_counter()
    if not (transactions["amount"] > 0).any():
        raise UsageError(NO_PURCHASES)
    first_date, last_date = data_range or (transactions["date"].min(), transactions["date"].max())
    month, mid_month = report_month(options, first_date, last_date)
    if options.value == "profit":
        _check_profit(transactions)
    engine_started = time.perf_counter()
    if progress:
        progress(f"The customer x month table ({engine_name(options)})…")
    if options.engine not in ("duckdb", "spark") and any(role in transactions for role in GROUP_ROLES):
        transactions = with_order_keys(transactions)  # for the chain's table and each group's
    table = _table(transactions, month, options)
    engine_seconds = time.perf_counter() - engine_started

    def groups(window: int, detail: dict) -> dict:
        if progress and any(role in transactions for role in GROUP_ROLES):
            progress("The figures of each group…")
        return chain_groups(transactions, month, window, detail)

    source = DataSource(table, first_date, last_date, groups)
    report = analyse_table(source, month, options, sales, mid_month, progress)
    add_loyalty(report, table, transactions)  # loyalty
    report.timings = {"compute": time.perf_counter() - started, f"table_{engine_name(options)}": engine_seconds}
    return report


@dataclass
class DataSource:
    """What the report needs from its data, whoever computed it: the customer x month table up to the
    report month, the first and last transaction, and a function giving the chain's group tables."""

    table: object  # retention_xl.activity.CustomerMonths
    first_date: pd.Timestamp
    last_date: pd.Timestamp
    groups: object  # (active window, figure options) -> {role: figures per group}
    stop_groups: object = None  # where given, the groups are computed in the background; this stops that work


def report_month(options: ReportOptions, first_date: pd.Timestamp, last_date: pd.Timestamp) -> tuple[pd.Period, bool]:
    """The report month (given, or the last complete one) and whether the data end mid-month."""
    if options.month is None:
        month, mid_month = default_month(last_date)
        if month < first_date.to_period("M"):
            raise UsageError(f"the data covers only part of {last_date:%Y-%m}, no complete month; choose one with --month")
        return month, mid_month
    try:
        month = pd.Period(str(options.month), freq="M")
    except ValueError:
        raise UsageError(f"--month must look like 2024-03, got {options.month!r}") from None
    if not first_date.to_period("M") <= month <= last_date.to_period("M"):
        raise UsageError(f"{month} is outside the data, which covers {first_date:%Y-%m} to {last_date:%Y-%m}")
    return month, False


def analyse_table(source: DataSource, month: pd.Period, options: ReportOptions, sales: SalesData | None = None,
                  mid_month: bool = False, progress: Progress | None = None) -> RetentionReport:
    """Every figure and table of the report from its customer x month table (see :class:`DataSource`)."""
    say = progress or (lambda message: None)
    table, first_date, last_date = source.table, source.first_date, source.last_date
    window_reason = analysis.WINDOW_GIVEN
    if options.active_window is None:
        window, window_reason = analysis.default_window(first_date, month)
        options = replace(options, active_window=window)
    window = options.active_window
    detail = {"high": options.high, "low": options.low, "top_fraction": options.top_fraction, "value": options.value}
    # An engine computes the groups' figures beside the rest (its threads need no Python); Python work
    # would only take turns with the rest, so it is not put beside it.
    background = ThreadPoolExecutor(1) if source.stop_groups is not None else None
    groups_pending = background.submit(source.groups, window, detail) if background else None
    try:
        say("The month's figures, the trend and the cohorts…")
        current = analysis.month_figures(table, month, window, **detail)
        has_previous = (month - 1) >= first_date.to_period("M")
        previous = analysis.month_figures(table, month - 1, window, **detail) if has_previous else None
        trend = analysis.trend(table, month, window, options.trend_months, first_date)
        cohorts = analysis.cohorts(table, month, options.cohort_months)
        say(f"The table of {table.customer_count:,} customers…")
        customers = customer_table(table, month, window, options.top_fraction, options.value, options.lapse_days)
        valued = CustomerValue(horizon=options.horizon, discount=options.discount, unavailable="value.off")
        if options.clv is not False:
            say("The customer-value models…")
            valued = customer_value(table, month, options.horizon, options.discount)
            customers = with_value(customers, valued)
        actions = recommend(current, previous, customers, active_window=window, low=options.low,
                            top_fraction=options.top_fraction, value=options.value, lapse_days=options.lapse_days)
        by_group = groups_pending.result() if groups_pending else source.groups(window, detail)
    except BaseException:  # an error, Ctrl-C or a termination: the engine stops now rather than finish first
        if groups_pending is not None:
            source.stop_groups()
        raise
    finally:
        if background is not None:
            background.shutdown(wait=True)
    return RetentionReport(
        month=month, options=options, current=current, previous=previous, trend=trend, cohorts=cohorts,
        customers=customers, actions=actions, first_date=first_date, last_date=last_date,
        month_was_defaulted_mid_month=mid_month, window_reason=window_reason, sales=sales, value=valued,
        groups=by_group,
    )


def write_workbook(report: RetentionReport, path: str | Path, progress: Progress | None = None):
    """Write the formatted workbook to ``path`` atomically; returns the written workbook's record.

    The workbook is first written to a temporary file beside ``path`` and moved into
    place only when complete, so a failure never leaves a half-written report.
    """
    from .workbook import write_workbook as write

    started = time.perf_counter()
    written = write(report, path, progress)
    report.timings["write"] = time.perf_counter() - started
    report.customer_file = written.customer_file
    return written


def create_report(
    sales_file: str | Path | None,
    output: str | Path,
    options: ReportOptions | None = None,
    *,
    sheet: str | None = None,
    columns: dict[str, str] | None = None,
    dayfirst: bool | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
    as_of: str | pd.Timestamp | None = None,
    json_path: str | Path | None = None,
    split_by: str | None = None,
    split_dir: str | Path | None = None,
    source: str | None = None,
    table: str | None = None,
    query: str | None = None,
    survey: str | Path | None = None,  # loyalty
    progress: Progress | None = None,
) -> RetentionReport:
    """Read ``sales_file``, analyse it and write the workbook to ``output`` (and ``json_path``).

    ``split_by`` (``store``, ``salesperson``, ``channel`` or ``region``) also writes one
    complete workbook per group into ``split_dir`` (default: beside ``output``, named
    after it, e.g. ``report_by_store``). ``source`` (a PostgreSQL URL, with ``table`` or
    ``query``) reads the sales from a database instead of ``sales_file``: with the engine
    ``auto`` or ``duckdb`` the rows stream into DuckDB and are cleaned there
    (:func:`retention_xl.duckdb_scan.scan_database`), otherwise they are read into memory
    (:func:`retention_xl.read.reader.read_database`). ``survey`` is a file of the customers' satisfaction
    and recommendation answers (:mod:`retention_xl.read.survey`); with it, the ``satisfaction`` and
    ``recommend`` entries of ``columns`` name its columns rather than the sales file's.
    """
    options = (options or ReportOptions()).validated()
    if (sales_file is None) == (source is None):
        raise UsageError("give a sales file, or a database with --source (not both)")
    if source is None and (table is not None or query is not None):
        raise UsageError("--table and --query go with --source")
    outputs.check_outputs(sales_file and Path(sales_file),
                          {"report": Path(output), "JSON summary": json_path and Path(json_path)})
    started = time.perf_counter()
    if survey is not None:  # loyalty
        outputs.check_outputs(Path(survey), {"report": Path(output), "JSON summary": json_path and Path(json_path)})
    columns, answers = survey_beside_sales(survey, columns, dayfirst, as_of)  # loyalty
    reading = {"columns": columns, "dayfirst": dayfirst, "decimal": decimal, "as_of": as_of, "progress": progress}
    split_folder = split_by and (Path(split_dir) if split_dir else
                                 Path(output).with_name(f"{Path(output).stem}_by_{split_by}"))
    report = None
    if scan_wanted(None if source is not None else Path(sales_file), options.engine, options.figures_in_engine):
        if source is not None:
            scan = partial(scan_database, source, table=table, query=query)
        else:
            scan = partial(scan_sales, Path(sales_file), encoding=encoding, spark=options.engine == "spark",
                           spark_master=options.spark_master)
        report = _from_scan(scan, options, reading, output, split_by, split_folder, answers)  # loyalty: answers
    if report is None:
        if options.figures_in_engine:
            raise UsageError(f"--figures-in-engine works on sales DuckDB scans (Parquet or CSV files, folders, globs "
                             f"and databases); {Path(sales_file).name} is read in memory: save the sheet as CSV or "
                             f"Parquet, or leave the option out")
        _import_ahead(options, sales_file)
        if source is not None:
            sales = read_database(source, table=table, query=query, **reading)
        else:
            sales = read_sales(sales_file, sheet=sheet, encoding=encoding, **reading)
        sales = with_survey(sales, answers)  # loyalty
        read_seconds = time.perf_counter() - started
        if split_by is not None:  # before any figure is computed or any workbook written
            check_role(split_by, split_by in sales.transactions)
        options = replace(options, engine=engine_in_memory(sales_file and Path(sales_file), options.engine))
        report = analyse(sales.transactions, options, sales, progress)
        report.timings["read"] = read_seconds
        _write(report, output, progress)
        if split_by is not None:
            _say_split(progress, split_by, split_folder)
            report.split = write_split(report, sales.transactions, split_by, split_folder, progress)
    if json_path is not None:
        write_summary_json(report, json_path)
    return report


IMPORT_MODELS_AHEAD_FROM = 10_000_000  # bytes of sales file: its reading takes a second or more


def _import_ahead(options: ReportOptions, sales_file) -> None:
    """Import the workbook writer and, where the models will probably run, the models (SciPy) on a thread of
    their own while the sales are read in memory: the reading lets go of the interpreter for seconds
    (calamine, zlib and Arrow work outside it), so on a machine with a core to spare these imports take no
    time of the run's. The models are imported ahead only for a sales file of 10 MB or more, whose reading
    hides their import and whose data nearly always allow them; a small run imports them only if it fits them."""
    big = sales_file is not None and Path(sales_file).is_file() and \
        Path(sales_file).stat().st_size >= IMPORT_MODELS_AHEAD_FROM
    names = ["retention_xl.workbook", *(["retention_xl.clv"] if big and options.clv is not False else [])]
    threading.Thread(target=_import_quietly, args=(names,), name="retention-xl imports", daemon=True).start()


def _import_quietly(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 -- imported again where it is used, which says what is wrong
            return


def _write(report: RetentionReport, output, progress) -> None:
    if progress:
        progress(f"Writing {Path(output).name}…")
    write_workbook(report, output, progress)


def _say_split(progress, split_by: str, folder: Path) -> None:
    if progress:
        progress(f"Writing one workbook per {split_by} into {folder}…")


def _from_scan(scan, options: ReportOptions, reading: dict, output, split_by: str | None,
               split_folder: Path | None, answers=None) -> RetentionReport | None:
    """The report from sales DuckDB scans out of core (``scan(**arguments)`` gives the scanned sales), written
    with its split into workbooks per group, and a survey's ``answers``; None where a column needs the in-memory
    reader."""
    started = time.perf_counter()
    progress = reading["progress"]
    try:
        scanned = scan(memory=options.memory_limit, **reading)
    except ScanUnsupported as reason:
        if options.figures_in_engine:
            raise UsageError(f"--figures-in-engine: DuckDB cannot scan {reason}") from None
        if progress:
            progress(f"DuckDB cannot scan {reason}; reading the rows in memory instead…")
        return None
    try:
        scan_seconds = time.perf_counter() - started
        scanned.sales = with_survey(scanned.sales, answers)  # loyalty
        if split_by is not None:
            check_role(split_by, split_by in scanned.group_labels)
        report = analyse_scanned(scanned, options, progress)
        report.timings["read"] = scan_seconds
        report.timings.update(scanned.timings)
        _write(report, output, progress)
        if split_by is not None:
            _say_split(progress, split_by, split_folder)
            report.split = write_split_scanned(report, scanned, split_by, split_folder, progress)
    finally:
        scanned.close()
    return report
