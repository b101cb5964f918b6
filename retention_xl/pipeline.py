"""One path from sales to the report: :func:`analyse` any :class:`~retention_xl.read.sales.Sales`, then
:func:`write_workbook`.

The rows may be held in memory or scanned in DuckDB: the checks of the purchases, the month
and the profit, the figures of the month, the groups' figures and the chain's buyers are
computed here once, from what :class:`~retention_xl.read.sales.Sales` answers.

>>> default_month(pd.Timestamp("2024-03-31 18:00"))
(Period('2024-03', 'M'), False)
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pandas as pd

from .engine_choice import with_table_engine
from .errors import UsageError
from .figures import month as analysis
from .figures.actions import recommend
from .figures.customer_value import CustomerValue, customer_value, with_value
from .figures.customers import customer_table
from .figures.groups import MISSING, group_figures
from .figures.loyalty import add_loyalty
from .figures.result import RetentionReport
from .options import ReportOptions
from .read.sales import Progress, Sales, SalesData, in_memory
from .table.contract import CustomerTable, month_number

NO_PURCHASES = "the data holds no purchases"


def default_month(last_date: pd.Timestamp) -> tuple[pd.Period, bool]:
    """The last complete month ending on or before ``last_date``; True if the data ends mid-month.

    >>> default_month(pd.Timestamp("2010-12-09 12:50"))
    (Period('2010-11', 'M'), True)
    """
    month = last_date.to_period("M")
    if last_date.normalize() == month.end_time.normalize():
        return month, False
    return month - 1, True


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


def check_profit(sales: Sales) -> None:
    """Profit can rank customers only where the data carry it and every used row has one."""
    if not sales.has_profit:
        raise UsageError("--value profit needs a profit, cost or unit-cost column, and the sales file has none that is "
                         "recognised; name it with --profit, --cost or --unit-cost")
    unknown, examples = sales.unknown_profit()
    if unknown:
        rows = ", ".join(str(r) for r in examples)
        raise UsageError(f"--value profit: the profit of {unknown:,} used rows is unknown (e.g. rows {rows}): "
                         "their cost or profit cell is blank or not a number; fill them in, or use --value revenue")


def analyse(sales: Sales | pd.DataFrame, options: ReportOptions | None = None,
            progress: Progress | None = None) -> RetentionReport:
    """Every figure and table of the report, from ``sales`` (or a DataFrame of clean transactions).

    >>> rows = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [5.0, 3.0, 4.0], "order_id": None,
    ...                      "date": pd.to_datetime(["2024-01-05", "2024-02-07", "2024-02-09"]), "row": [2, 3, 4]})
    >>> report = analyse(rows, ReportOptions(month="2024-02", clv=False, language="en"))
    >>> report.current.retention, report.options.engine
    (1.0, 'pandas')
    """
    sales = in_memory(sales)
    options = (options or ReportOptions()).validated()
    started = time.perf_counter()
    if not sales.has_purchases:  # one group's rows may hold returns only
        raise UsageError(NO_PURCHASES)
    first_date, last_date = sales.data_range
    month, mid_month = report_month(options, first_date, last_date)
    if options.value == "profit":
        check_profit(sales)
    options = with_table_engine(options, sales, progress)
    table_started = time.perf_counter()
    table = sales.customer_table(month, options, progress)
    table_seconds = time.perf_counter() - table_started
    report = _figures(sales, table, month, options, mid_month, progress)
    # Each store's retention by answer needs the rows; scanned sales give the chain's alone.
    add_loyalty(report, table, sales.transactions if isinstance(sales, SalesData) else None)
    report.timings = {"compute": time.perf_counter() - started, f"table_{options.engine}": table_seconds}
    return report


def groups_figures(sales: Sales, chain: CustomerTable, month: pd.Period, window: int, detail: dict,
                   progress: Progress | None = None) -> dict[str, pd.DataFrame]:
    """Per group column of ``sales`` (store, salesperson, channel, region), the figures of each of its groups
    (:func:`retention_xl.figures.groups.group_figures`); ``chain`` is the chain's customer x month table."""
    roles = sales.group_roles
    if not roles:
        return {}
    if progress:
        progress(f"{'DuckDB: the' if sales.scanned else 'The'} figures of each group ({', '.join(roles)})…")
    m = month_number(month)
    chain_buyers = set(chain.customers["customer_id"].to_numpy()[chain.active_in(m, m)])
    return {role: group_figures(((MISSING if value is None else value, table)
                                 for value, table in sales.group_tables(role, month, window, chain)),
                                month, window, detail, chain_buyers)
            for role in roles}


def _figures(sales: Sales, table: CustomerTable, month: pd.Period, options: ReportOptions, mid_month: bool,
             progress: Progress | None) -> RetentionReport:
    """Every figure and table of the report from the chain's customer x month table ``table``."""
    say = progress or (lambda message: None)
    first_date, last_date = sales.data_range
    window_reason = analysis.WINDOW_GIVEN
    if options.active_window is None:
        window, window_reason = analysis.default_window(first_date, month)
        options = replace(options, active_window=window)
    window = options.active_window
    detail = {"high": options.high, "low": options.low, "top_fraction": options.top_fraction, "value": options.value}

    def groups() -> dict:
        return groups_figures(sales, table, month, window, detail, progress)

    # An engine computes the groups' figures beside the rest (its threads need no Python); Python work
    # would only take turns with the rest, so it is not put beside it.
    background = ThreadPoolExecutor(1) if sales.computes_beside else None
    groups_pending = background.submit(groups) if background else None
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
        by_group = groups_pending.result() if groups_pending else groups()
    except BaseException:  # an error, Ctrl-C or a termination: the engine stops now rather than finish first
        if groups_pending is not None:
            sales.stop()
        raise
    finally:
        if background is not None:
            background.shutdown(wait=True)
    return RetentionReport(
        month=month, options=options, current=current, previous=previous, trend=trend, cohorts=cohorts,
        customers=customers, actions=actions, first_date=first_date, last_date=last_date,
        month_was_defaulted_mid_month=mid_month, window_reason=window_reason, sales=sales.provenance, value=valued,
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
