"""The customer x month table built by Apache Spark, to the contract of :mod:`retention_xl.table.contract`.

Spark runs the same SQL as DuckDB (:mod:`retention_xl.table.engine_sql`), in local mode by
default (``local[*]``: every core of this machine) or on a cluster given by its master
URL (``spark://host:7077``, ``yarn`` ...). Only SQL runs on the executors, so they need
Java but no Python. The session is reused across reports in one process. Rows read in memory
reach Spark through the driver (:func:`build_customer_months`); rows Spark classified itself
(:mod:`retention_xl.read.scan.spark_scan`) or the DuckDB scan cleaned reach it as Parquet its executors read
(:func:`aggregate_classified`, :func:`aggregate_parquet`).

Spark is an extra: ``pip install 'retention-xl[spark]'`` (pyspark, about 400 MB), and
Java 17 or later from the system (``openjdk-17-jre-headless`` on Debian).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

from .contract import CustomerMonths
from .engine_sql import FIRST_DAYS_SQL, MONTHS_SQL, customer_months, engine_rows
from ..errors import EngineError, UsageError
from .order_keys import order_key_sql

LOCAL = "local[*]"
DRIVER_SHARE = 0.4  # of this machine's memory, for Spark's driver
_log: str | None = None  # Java's log of the running session
_log_named = False  # an error message pointed at the log: keep it


def _pyspark():
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("--engine spark needs pyspark: pip install 'retention-xl[spark]'") from None
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise UsageError("--engine spark needs Java 17 or later: install openjdk-17-jre-headless (Debian) "
                         "or set JAVA_HOME")
    return SparkSession


def session(master: str | None = None):
    """The Spark session for ``master`` (default local mode), started once and reused.

    A session already running elsewhere (``spark-submit``, a notebook) is used as it is
    when no master is asked for.
    """
    spark_session = _pyspark()
    active = spark_session.getActiveSession()
    if active is not None and (master is None or active.sparkContext.master == master):
        return active
    if active is not None:
        active.stop()
    if master is None and "PYSPARK_GATEWAY_PORT" in os.environ:  # under spark-submit: its master and settings
        return spark_session.builder.appName("retention-xl").getOrCreate()
    url = master or LOCAL
    if url.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (spark_session.builder.master(url).appName("retention-xl")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.shuffle.partitions", str(max(2 * (os.cpu_count() or 1), 4)))
               .config("spark.driver.bindAddress", "127.0.0.1" if url.startswith("local") else "0.0.0.0")
               # The rows pass through the driver on their way in; its default of 1 GB is too small at 10M rows.
               .config("spark.driver.memory", f"{max(1, int(_memory_gib() * DRIVER_SHARE))}g"))
    try:
        with _java_output_to_log() as log:
            spark = builder.getOrCreate()
    except Exception as error:  # Py4J and the JVM raise many kinds; the user needs one line
        raise UsageError(f"Spark did not start at {url}: {str(error).splitlines()[0][:300]} "
                         f"(Java's log: {log})") from None
    spark.sparkContext.setLogLevel("ERROR")
    global _log
    _log = log
    return spark


def _memory_gib() -> float:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30


@contextlib.contextmanager
def _java_output_to_log():
    """Java's own output (start-up notices, log lines) into a log file rather than the terminal.

    The command line promises one line on standard error per error and nothing else, and
    the JVM keeps the standard error it starts with. The log is removed at exit unless
    Spark failed to start, when the error names it.
    """
    descriptor, log = tempfile.mkstemp(prefix="retention_xl_spark_", suffix=".log")
    saved = os.dup(2)
    try:
        sys.stderr.flush()
        os.dup2(descriptor, 2)
        yield log
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(descriptor)
    atexit.register(_remove_log, log)


def _remove_log(log: str) -> None:
    """At exit: Java's log goes, unless an error named it."""
    if not _log_named and os.path.exists(log):
        os.unlink(log)


def build_customer_months(transactions: pd.DataFrame, until: pd.Period, master: str | None = None) -> CustomerMonths:
    """The customer x month table of the transactions up to the end of month ``until``, aggregated by Spark."""
    spark = session(master)
    rows, ids = engine_rows(transactions, until)
    months, firsts = _aggregate(lambda: spark.createDataFrame(rows.astype({"order_key": "string"})))
    return customer_months(months, firsts, transactions, ids)


def aggregate_parquet(path: str, months_to: Path, master: str | None = None) -> pd.DataFrame:
    """The result of ``MONTHS_SQL`` over the rows in the Parquet file(s) at ``path`` (the columns of
    :func:`retention_xl.table.engine_sql.engine_rows`), written as Parquet by Spark's executors into the folder
    ``months_to``; returns the result of ``FIRST_DAYS_SQL``. The executors read the rows themselves."""
    spark = session(master)
    return _aggregate(lambda: spark.read.parquet(path), months_to)[1]


def aggregate_classified(path: str, used: str, end: str, months_to: Path, master: str | None = None) -> pd.DataFrame:
    """:func:`aggregate_parquet` over the rows Spark classified (:func:`retention_xl.read.scan.spark_scan.classify`)
    into the Parquet files at ``path``: those the condition ``used`` picks, before the day ``end``
    (``YYYY-MM-DD``)."""
    spark = session(master)
    return _aggregate(lambda: spark.read.parquet(local_url(Path(path).parent)).where(
        f"({used}) AND ts < TIMESTAMP_NTZ '{end}'").selectExpr(
        "customer_key AS customer", "day", "month", "amount", "coalesce(profit, 0) AS profit",
        f"{order_key_sql('order_key', 'day', 'xxhash64')} AS order_key"), months_to)[1]


def local_url(path: Path, pattern: bool = True) -> str:
    """A local path as Spark takes it: a ``file:`` URL, not percent-encoded; as a ``pattern`` to read, with the
    characters of a glob escaped.

    >>> local_url(Path("/data/sales [2024]"))
    'file:///data/sales \\\\[2024\\\\]'
    """
    text = str(path.resolve())
    return "file://" + (re.sub(r"([\\\[\]{}*?])", r"\\\1", text) if pattern else text)


def _aggregate(rows, months_to: Path | None = None) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """The shared SQL run by Spark over the DataFrame ``rows()``: the months in pandas, or with ``months_to``
    written as Parquet into that folder (None in their place); a failure is one line naming Java's log."""
    try:
        frame = rows()
        frame.createOrReplaceTempView("rows")
        months = frame.sparkSession.sql(MONTHS_SQL)
        if months_to is None:
            months = months.toPandas()
        else:
            months.write.mode("overwrite").parquet(local_url(months_to, pattern=False))
            months = None
        firsts = frame.sparkSession.sql(FIRST_DAYS_SQL).toPandas()
        frame.sparkSession.catalog.dropTempView("rows")
    except Exception as error:  # a Java stack trace: the user needs its first line and where the rest is
        raise failed("building the customer x month table", error) from None
    return months, firsts


def failed(doing: str, error: Exception) -> EngineError:
    """The one-line error for Spark failing while ``doing``: the first line of its message, and Java's log, kept."""
    reason = str(error).strip().splitlines()[0][:300] if str(error).strip() else type(error).__name__
    global _log_named
    _log_named = True
    return EngineError(f"Spark failed {doing}: {reason} (Java's log: {_log or 'see the cluster'})")
