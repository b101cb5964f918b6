"""Parquet sales read, cleaned and classified by Spark's executors, by the reader's rules.

With ``--engine spark`` the per-row pass over the input runs on the cluster: Spark reads
the Parquet files (CSV files first written as Parquet under the CSV reader's rules), lists
each column's distinct raw values, which the rules clean in Python on the driver
(:mod:`retention_xl.scan_columns`, in Spark's dialect), joins the results back, and writes
every row with its clean values and reason (:func:`retention_xl.duckdb_scan.classified_rows`)
as Parquet. DuckDB reads those classified rows as its ``scanned`` table, so the accounting,
the customer numbering and the groups follow from the same SQL as after its own scan, and
Spark's executors build the customer x month table from the same files.

The files must be reachable under the same path by the driver and every executor (a local
folder in local mode, a shared file system on a cluster).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd

from .errors import EngineError
from .spark_engine import local_url
from .scan_columns import SPARK, Mapper, base_type

# Timestamps without a time zone stay as they are written; nanosecond timestamps (which Spark
# cannot read as such) come as whole nanoseconds (:meth:`.SparkDialect.timestamp`); partition
# values come as text and are cast to the types DuckDB gives them; "x" names a column.
SETTINGS = {"spark.sql.session.timeZone": "UTC", "spark.sql.legacy.parquet.nanosAsLong": "true",
            "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
            "spark.sql.ansi.enabled": "true", "spark.sql.ansi.doubleQuotedIdentifiers": "true",
            # The mapping tables (one row per distinct value) go to every executor rather than every row to them.
            "spark.sql.autoBroadcastJoinThreshold": "512m"}
# DuckDB's type of a partition column -> the Spark type that reads the same values.
_PARTITION_TYPES = {"BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP_NTZ",
                    "VARCHAR": "STRING"}
_SCHEME = r"^file:/+"  # Spark names a file file:/path or file:///path


def _spark_errors() -> tuple[type, ...]:
    try:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException
    except ImportError:  # no pyspark: nothing of Spark's can be raised
        return ()
    return PySparkException, Py4JError


SPARK_ERRORS = _spark_errors()  # what Spark raises when a job fails (its message starts with the reason)


class SparkCannotRead(Exception):
    """Spark would not read these files as DuckDB does: DuckDB cleans the rows, Spark only aggregates them."""


@contextlib.contextmanager
def settings(spark):
    """The session's settings for the scan (:data:`SETTINGS`), restored afterwards."""
    saved = {key: spark.conf.get(key, None) for key in SETTINGS}
    for key, value in SETTINGS.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def check_files(files: list[Path]) -> int:
    """The number of rows in the Parquet ``files``; raises :class:`SparkCannotRead` where their columns differ in
    name or type (DuckDB makes such a column text; Spark would read every file with one file's types)."""
    import pyarrow.parquet as pq

    schemas, rows = set(), 0
    for file in files:
        metadata = pq.ParquetFile(file)
        schemas.add(frozenset((field.name, _comparable(field.type)) for field in metadata.schema_arrow))
        rows += metadata.metadata.num_rows
    if len(schemas) > 1:
        raise SparkCannotRead("the files' columns differ in type")
    return rows


def _comparable(arrow_type) -> str:
    """An Arrow type as Spark reads it: large and dictionary-encoded text are text."""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_large_string(arrow_type):
        return "string"
    return str(arrow_type)


def raw_view(spark, files: list[Path], firsts: list[int], numbered_by: str | None, hive_root: Path | None,
             types: dict[str, str], row_column: str) -> None:
    """The ``raw`` view in Spark: the data columns with DuckDB's names and each row's number in ``row_column``,
    counted as DuckDB's view counts them (``firsts[file]`` plus the file's ``numbered_by`` column, or plus its
    record number)."""
    from pyspark.sql import functions as F

    reader = spark.read.option("basePath", local_url(hive_root, pattern=False)) if hive_root else spark.read
    frame = reader.parquet(*[local_url(file) for file in files])
    written = set(frame.columns) - _partition_columns(files[0], hive_root)
    by_path = {str(file.resolve()): first for file, first in zip(files, firsts)}
    listed = frame.inputFiles()
    firsts_by_name = pd.DataFrame({"rx_path": [re.sub(_SCHEME, "/", name) for name in listed],
                                   "rx_first": [by_path.get(unquote(urlparse(name).path)) for name in listed]})
    if firsts_by_name["rx_first"].isna().any():
        raise SparkCannotRead("Spark lists the files under other names")
    first_rows = spark.createDataFrame(firsts_by_name.astype({"rx_first": "int64"}))
    in_file = F.col(_quoted(numbered_by)) if numbered_by else F.col("_metadata.row_index") + 1
    frame = frame.select("*", F.regexp_replace(F.col("_metadata.file_path"), _SCHEME, "/").alias("rx_path"),
                         in_file.alias("rx_in_file"))
    frame = frame.join(F.broadcast(first_rows), "rx_path")

    def column(name: str):
        if name in written:
            return F.col(_quoted(name))
        spark_type = _PARTITION_TYPES.get(base_type(types[name]))
        if spark_type is None:
            raise SparkCannotRead(f"the folder name {name} is read as {types[name]}")
        return F.col(_quoted(name)).cast(spark_type).alias(name)

    frame.select(*[column(name) for name in types],
                 (F.col("rx_first") + F.col("rx_in_file")).alias(row_column)).createOrReplaceTempView("raw")


def _partition_columns(file: Path, hive_root: Path | None) -> set[str]:
    """The names of the ``name=value`` folders between ``hive_root`` and ``file``."""
    if hive_root is None:
        return set()
    return {part.split("=", 1)[0] for part in file.relative_to(hive_root).parts[:-1] if "=" in part}


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class SparkMapper(Mapper):
    """Mapping tables in Spark, built as :class:`~retention_xl.scan_columns.Mapper` builds them in DuckDB.

    Each column's distinct values come from Spark's executors and reach the rules through
    DuckDB (``connection``), so that they arrive as the same pandas values as after DuckDB's
    own scan; the mapping tables go back to Spark as Arrow.
    """

    sql = SPARK

    def __init__(self, spark, connection):
        super().__init__(connection, "raw")
        self.spark = spark

    def _distinct(self, raw: str, sql_type: str, where: str) -> pd.Series:
        if base_type(sql_type) == "TIMESTAMP_NS":  # Spark reads it as whole nanoseconds, not as a timestamp
            raise SparkCannotRead("a column other than the date holds nanosecond timestamps")
        found = self.spark.sql(f"SELECT DISTINCT {raw} AS raw FROM raw r WHERE {where}").toArrow()
        self.connection.register("rx_distinct", found)
        try:
            return self.connection.execute(f"SELECT CAST(raw AS {_duckdb_type(sql_type)}) AS raw "
                                           "FROM rx_distinct").df()["raw"]
        finally:
            self.connection.unregister("rx_distinct")

    def _register(self, name: str, mapping: pd.DataFrame) -> None:
        import pyarrow as pa

        self.spark.createDataFrame(pa.Table.from_pandas(mapping, preserve_index=False)).createOrReplaceTempView(name)


def _duckdb_type(sql_type: str) -> str:
    """DuckDB's type of a raw column, for the values Spark lists (Spark may widen: unsigned to signed ...)."""
    return "VARCHAR" if base_type(sql_type) == "NULL" else sql_type


def classify(spark, query: str, folder: Path, expected_rows: int) -> str:
    """Run the classifying ``query`` over Spark's ``raw`` view and write its rows as Parquet into ``folder``;
    returns the path DuckDB reads them from."""
    import pyarrow.parquet as pq

    spark.sql(query).write.mode("overwrite").parquet(local_url(folder, pattern=False))
    parts = sorted(folder.glob("*.parquet"))
    written = sum(pq.ParquetFile(part).metadata.num_rows for part in parts)
    if written != expected_rows:  # every row is counted, or the report is not written
        raise EngineError(f"Spark classified {written:,} rows of the {expected_rows:,} in the files")
    return str(folder / "*.parquet")

