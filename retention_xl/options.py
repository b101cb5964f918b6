"""What a report is asked for: :class:`ReportOptions` (what shapes it besides its data, checked before anything is
read), :class:`ReadOptions` (how to read the sales) and :class:`Database` (sales in a database rather than a file)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from . import metrics
from .figures.customers import DEFAULT_LAPSE_DAYS
from .errors import UsageError
from .i18n import normalize_language

ENGINES = ("auto", "pandas", "duckdb", "spark")
VALUE_MEASURES = ("revenue", "profit")


@dataclass
class ReportOptions:
    """Everything that shapes a report besides the data.

    ``month`` is ``"YYYY-MM"`` (default: the last complete month in the data);
    ``active_window`` the months of purchase that keep a customer in the base
    (default ``None``: the longest of 12, 6, 3 and 1 months the data fully cover, see
    :func:`retention_xl.figures.month.default_window`);
    ``high``/``low`` the repeat-purchase tier lines; ``top_fraction`` the share of
    customers that count as key accounts; ``value`` (``"revenue"`` or ``"profit"``)
    what ranks customers, picks key accounts, gives the Pareto share and orders the
    customers to contact; ``lapse_days`` the days of silence a customer must exceed before any
    segment or action calls them lapsing (see :func:`retention_xl.figures.customers.lapsing`).
    """

    month: str | None = None
    language: str = "zh-CN"
    active_window: int | None = None
    high: float = metrics.DEFAULT_HIGH_REPEAT
    low: float = metrics.DEFAULT_LOW_REPEAT
    top_fraction: float = metrics.DEFAULT_TOP_FRACTION
    lapse_days: int = DEFAULT_LAPSE_DAYS  # the floor of silence before a customer is named or acted on as lapsing
    cohort_months: int = 24
    trend_months: int = 12
    clv: bool | None = None      # customer-value models: None = when the data allow them
    horizon: int = 12            # months of customer lifetime value
    discount: float = 0.01       # monthly discount rate of customer lifetime value
    engine: str = "auto"         # what builds the customer x month table: auto, pandas, duckdb or spark
    memory_limit: str | None = None  # DuckDB's memory limit, e.g. "4GB" (default: its share of the run's memory budget)
    spark_master: str | None = None  # the Spark cluster's master URL (default: local mode on every core)
    # Leave the customer x month table in DuckDB and compute the figures there, holding one row per customer in
    # memory; chosen by itself when the table would not fit in memory. Only for sales DuckDB scans.
    figures_in_engine: bool = False
    value: str = "revenue"       # what ranks customers, picks key accounts and gives the Pareto share: or "profit"
    call_list: bool = False      # the Actions sheet opens with every customer in the order to call them
    customer_file: str | None = None  # also write every customer as "parquet" or "csv" beside the workbook

    def validated(self) -> ReportOptions:
        try:
            language = normalize_language(self.language)
        except ValueError as error:
            raise UsageError(str(error)) from None
        window = self.active_window
        if window is not None and (not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 120):
            raise UsageError(f"the active window must be a whole number of months from 1 to 120, got {self.active_window}")
        if not 0 <= self.low <= self.high <= 1:
            raise UsageError(f"repeat-purchase tiers need 0 <= low <= high <= 1, got low={self.low}, high={self.high}")
        lapse = self.lapse_days
        if not isinstance(lapse, int) or isinstance(lapse, bool) or not 0 <= lapse <= 3650:
            raise UsageError(f"--lapse-days must be a whole number of days from 0 to 3650, got {lapse}")
        if not isinstance(self.horizon, int) or isinstance(self.horizon, bool) or not 1 <= self.horizon <= 120:
            raise UsageError(f"the value horizon must be a whole number of months from 1 to 120, got {self.horizon}")
        if not 0 <= self.discount < 1:
            raise UsageError(f"the monthly discount rate must be at least 0 and below 1, got {self.discount}")
        month = None if self.month is None else report_month_text(self.month)
        if self.memory_limit is not None:
            from .table.duckdb_engine import memory_limit

            memory_limit(self.memory_limit)
        if self.engine not in ENGINES:
            raise UsageError(f"unknown engine {self.engine!r}: use {', '.join(ENGINES)}")
        if self.figures_in_engine and self.engine == "pandas":
            raise UsageError("--figures-in-engine needs an engine that keeps the table: duckdb, spark or auto")
        if self.customer_file not in (None, "parquet", "csv"):
            raise UsageError(f"the customer file format must be parquet or csv, got {self.customer_file!r}")
        if self.value not in VALUE_MEASURES:
            raise UsageError(f"unknown value measure {self.value!r}: use {' or '.join(VALUE_MEASURES)}")
        if not 0 < self.top_fraction <= 1:
            raise UsageError(f"the key-account share must be above 0 and at most 1, got {self.top_fraction}")
        return replace(self, language=language, month=month)


def report_month_text(text: object) -> str:
    """A report month as ``"YYYY-MM"``, from the ways people write one; a year alone is refused, as it names
    no month (it would otherwise be read as January without a word).

    >>> [report_month_text(t) for t in ("2021-05", "05/2021", "2021/05", "2021-5", "May-2021")]
    ['2021-05', '2021-05', '2021-05', '2021-05', '2021-05']
    >>> report_month_text("2021")
    Traceback (most recent call last):
    ...
    retention_xl.errors.UsageError: --month 2021 is a year, not a month: give the month as well, e.g. --month 2021-12
    """
    written = str(text).strip()
    if re.fullmatch(r"\d{4}", written):
        raise UsageError(f"--month {written} is a year, not a month: give the month as well, e.g. --month {written}-12")
    try:
        return str(pd.Period(written, freq="M"))
    except ValueError:
        raise UsageError(f"--month must look like 2024-03, got {text!r}") from None


@dataclass(frozen=True)
class ReadOptions:
    """How to read the sales, where the reader's own choices are not what is wanted.

    ``sheet`` picks a worksheet by name or 0-based position; ``columns`` maps roles (``customer``,
    ``date``, ``amount``, ``store`` ...) to header text or column letters; ``dayfirst`` settles dates
    such as 03/04/2024 (True: 3 April); ``encoding`` is a CSV file's; ``decimal`` the decimal mark
    (``"."`` or ``","``); ``as_of`` the day after which rows count as future dates (default: today).
    ``survey`` is a file of the customers' satisfaction and recommendation answers beside the sales
    (:mod:`retention_xl.read.survey`); with it, the ``satisfaction`` and ``recommend`` entries of ``columns``
    name its columns rather than the sales file's.

    >>> ReadOptions(columns={"customer": "会员号"}, as_of="2026-01-01").reading()["as_of"]
    '2026-01-01'
    """

    sheet: str | int | None = None
    columns: dict[str, str] | None = None
    dayfirst: bool | None = None
    encoding: str | None = None
    decimal: str | None = None
    as_of: str | pd.Timestamp | None = None
    survey: str | Path | None = None

    def reading(self) -> dict:
        """The keywords every reader takes (all but the sheet, the encoding and the survey file, which only some
        sources have or which is read on its own)."""
        return {"columns": self.columns, "dayfirst": self.dayfirst, "decimal": self.decimal, "as_of": self.as_of}


@dataclass(frozen=True)
class Database:
    """Sales in a PostgreSQL ``table``, or the rows of a ``query``, at ``url`` (``postgresql://user@host/db``,
    without a password: libpq takes it from ``PGPASSWORD`` or ``~/.pgpass``).

    >>> Database("postgresql://ana@db/shop", table="sales")
    Database(url='postgresql://ana@db/shop', table='sales', query=None)
    """

    url: str
    table: str | None = None
    query: str | None = None


def sales_location(sales_file: str | Path | None, source: str | None, table: str | None = None,
                   query: str | None = None) -> Path | Database:
    """Where the sales are, from a file and a database's URL, table and query of which only one may be given.

    >>> sales_location("sales.xlsx", None)
    PosixPath('sales.xlsx')
    """
    if (sales_file is None) == (source is None):
        raise UsageError("give a sales file, or a database with --source (not both)")
    if source is None and (table is not None or query is not None):
        raise UsageError("--table and --query go with --source")
    return Path(sales_file) if source is None else Database(source, table, query)
