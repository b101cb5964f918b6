"""Parquet sales read, cleaned and classified by Spark's executors, by the reader's rules.

With ``--engine spark`` the per-row pass over the input runs on the cluster: Spark reads
the Parquet files (CSV files first written as Parquet under the CSV reader's rules), lists
each column's distinct raw values, which the rules clean in Python on the driver
(:mod:`retention_xl.read.scan.scan_columns`, in Spark's dialect), joins the results back, and writes
every row with its clean values and reason (:func:`retention_xl.read.scan.duckdb_scan.classified_rows`)
as Parquet. DuckDB reads those classified rows as its ``scanned`` table, so the accounting,
the customer numbering and the groups follow from the same SQL as after its own scan, and
Spark's executors build the customer x month table from the same files.

Files whose columns differ in type are read a kind at a time and given the types DuckDB gives
the columns of all of them (:func:`raw_view`). The files must be reachable under the same path
by the driver and every executor (a local folder in local mode, a shared file system on a cluster).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd

from ...errors import EngineError
from ...table.spark_engine import local_url
from .scan_columns import SPARK, Mapper, base_type

# Timestamps without a time zone stay as they are written; nanosecond timestamps (which Spark
# cannot read as such) come as whole nanoseconds (:meth:`.SparkDialect.timestamp`); partition
# values come as text and are cast to the types DuckDB gives them; "x" names a column.
SETTINGS = {"spark.sql.session.timeZone": "UTC", "spark.sql.legacy.parquet.nanosAsLong": "true",
            "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
            "spark.sql.ansi.enabled": "true", "spark.sql.ansi.doubleQuotedIdentifiers": "true",
            # The mapping tables (one row per distinct value) go to every executor rather than every row to them.
            "spark.sql.autoBroadcastJoinThreshold": "512m"}
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


def check_files(files: list[Path]) -> tuple[int, list[list[Path]]]:
    """The number of rows in the Parquet ``files``, and the files by the columns they hold (names and types), each
    group as Spark reads it in one pass."""
    import pyarrow.parquet as pq

    groups: dict[frozenset, list[Path]] = {}
    rows = 0
    for file in files:
        metadata = pq.ParquetFile(file)
        groups.setdefault(frozenset((field.name, _comparable(field.type)) for field in metadata.schema_arrow),
                          []).append(file)
        rows += metadata.metadata.num_rows
    return rows, list(groups.values())


def _comparable(arrow_type) -> str:
    """An Arrow type as Spark reads it: large and dictionary-encoded text are text."""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_large_string(arrow_type):
        return "string"
    return str(arrow_type)


def raw_view(spark, connection, groups: list[list[Path]], firsts: dict[Path, int], numbered_by: str | None,
             hive_root: Path | None, types: dict[str, str], row_column: str) -> None:
    """The ``raw`` view in Spark: the data columns as DuckDB's view of the same files has them (``types``), and
    each row's number in ``row_column``, counted as DuckDB's view counts them (``firsts[file]`` plus the file's
    ``numbered_by`` column, or plus its record number).

    Spark reads each group of files whose columns agree (:func:`check_files`) on its own and gives the columns
    DuckDB's types: where DuckDB reads a column typed in some files and text in others as text, the typed values
    are written as DuckDB writes them (their distinct values pass through ``connection``, a DuckDB connection).
    """
    from pyspark.sql import functions as F

    by_path = {str(file.resolve()): first for file, first in firsts.items()}
    read = []
    for files in groups:
        reader = spark.read.option("basePath", local_url(hive_root, pattern=False)) if hive_root else spark.read
        frame = reader.parquet(*[local_url(file) for file in files])
        partitions = _partition_columns(files[0], hive_root)
        read.append((files, frame, {field.name: field.dataType.simpleString() for field in frame.schema
                                    if field.name not in partitions}))
    # A column of one type in every file is taken as Spark reads it, as where there is one group.
    agreed = {name for name in types if len({written.get(name) for _, _, written in read} - {None}) == 1
              and all(name in written for _, _, written in read)}
    frames = []
    for files, frame, written in read:
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
        columns = []
        for name, duckdb_type in types.items():
            if name in agreed:
                columns.append(F.col(_quoted(name)))
                continue
            column, frame = _as_duckdb_reads(spark, connection, frame, name, written.get(name), duckdb_type,
                                             in_folder_name=name not in written and name in frame.columns)
            columns.append(column)
        frames.append(frame.select(*columns, (F.col("rx_first") + F.col("rx_in_file")).alias(row_column)))
    raw = frames[0]
    for frame in frames[1:]:
        raw = raw.unionByName(frame)
    raw.createOrReplaceTempView("raw")


def _as_duckdb_reads(spark, connection, frame, name: str, spark_type: str | None, duckdb_type: str,
                     in_folder_name: bool):
    """Column ``name`` of ``frame`` (of ``spark_type`` in these files, None where they lack it) as DuckDB reads
    it into its view (``duckdb_type``), and the frame to select it from."""
    from pyspark.sql import functions as F

    wanted = _SPARK_TYPES.get(base_type(duckdb_type))
    if in_folder_name:  # a partition value, read as text
        if wanted is None:
            raise SparkCannotRead(f"the folder name {name} is read as {duckdb_type}")
        return F.col(_quoted(name)).cast(wanted).alias(name), frame
    if spark_type is None:  # DuckDB gives a column some files lack as empty in them
        if wanted is None:
            raise SparkCannotRead(f"the column {name}, missing from some files, is read as {duckdb_type}")
        return F.lit(None).cast(wanted).alias(name), frame
    if spark_type == wanted:
        return F.col(_quoted(name)), frame
    if wanted == "string" and spark_type in _AS_TEXT:
        return F.col(f"rx_text_{len(frame.columns)}").alias(name), _with_duckdb_text(
            spark, connection, frame, name, f"rx_text_{len(frame.columns)}")
    if spark_type in _WIDENS_TO.get(wanted, ()):
        return F.col(_quoted(name)).cast(wanted).alias(name), frame
    raise SparkCannotRead(f"the column {name} is {spark_type} in some files and {duckdb_type} as DuckDB reads them all")


def _with_duckdb_text(spark, connection, frame, name: str, text_column: str):
    """``frame`` with ``text_column``: the values of column ``name`` written as text as DuckDB writes them."""
    from pyspark.sql import functions as F

    values = frame.select(F.col(_quoted(name)).alias("rx_value")).where("rx_value IS NOT NULL").distinct().toArrow()
    connection.register("rx_values", values)
    try:
        mapping = connection.sql(f"SELECT rx_value, CAST(rx_value AS VARCHAR) AS {text_column} "
                                 "FROM rx_values").to_arrow_table()
    finally:
        connection.unregister("rx_values")
    texts = spark.createDataFrame(mapping)
    return frame.join(F.broadcast(texts), frame[_quoted(name)] == texts["rx_value"], "left").drop("rx_value")


# DuckDB's type of a column -> Spark's type that holds the same values.
_SPARK_TYPES = {"BIGINT": "bigint", "INTEGER": "int", "SMALLINT": "smallint", "TINYINT": "tinyint", "DOUBLE": "double",
                "FLOAT": "float", "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMP": "timestamp_ntz",
                "VARCHAR": "string"}
# Types DuckDB and Spark both turn into the wider one exactly (whole numbers, floats, dates at midnight).
_WIDENS_TO = {"bigint": ("int", "smallint", "tinyint"), "int": ("smallint", "tinyint"), "smallint": ("tinyint",),
              "double": ("bigint", "int", "smallint", "tinyint", "float"), "timestamp_ntz": ("date",)}
# Spark's types whose values DuckDB writes as text through the same values Spark lists.
_AS_TEXT = {"bigint", "int", "smallint", "tinyint", "double", "float", "boolean", "date", "timestamp_ntz"}


def _partition_columns(file: Path, hive_root: Path | None) -> set[str]:
    """The names of the ``name=value`` folders between ``hive_root`` and ``file``."""
    if hive_root is None:
        return set()
    return {part.split("=", 1)[0] for part in file.relative_to(hive_root).parts[:-1] if "=" in part}


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class SparkMapper(Mapper):
    """Mapping tables in Spark, built as :class:`~retention_xl.read.scan.scan_columns.Mapper` builds them in DuckDB.

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

