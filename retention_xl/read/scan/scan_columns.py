"""How each column of a Parquet scan becomes clean values inside DuckDB, by the reader's own rules.

The cleaning rules live in :mod:`retention_xl.read.cells` and work on pandas Series. A
scan of a hundred million rows cannot hand every cell to them, but it does not need
to: a column holds far fewer distinct values than rows. For each column DuckDB lists
the distinct raw values, the rules clean those in Python, and the result -- a small
table from raw value to clean value and flags -- is joined back inside DuckDB. Typed
columns (real timestamps, numbers) follow the rules in SQL, which for them are a range
check and a test for infinity. Order numbers, which can be as many as the rows, are
cleaned in SQL where the value is plain ASCII text without a total word (the rule is
then: strip spaces, ``12.0`` is ``12``, empty is missing) and in Python otherwise.

Each :class:`ColumnSql` says how to read one role: ``value`` (an SQL expression of the
clean value), ``blank`` and ``total`` (flags of the raw cell) and any rule-specific flags.
The same expressions run in DuckDB or in Spark SQL: the few functions the two dialects
spell differently come from a :class:`Dialect`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import cells as values
from .. import dates as date_cells
from ..cleaning import blank_cells, group_labels

NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL")
TIMESTAMP_TYPES = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE", "TIMESTAMP_US")
TEXT_TYPES = ("VARCHAR", "BOOLEAN", "NULL")  # NULL: a column with no value at all
_PYTHON_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # what str.strip() removes from ASCII text
# What str.strip() removes from any text (every character Python counts as a space), for blank cells.
_ANY_WHITESPACE = "".join(character for character in map(chr, range(0x3001)) if character.isspace())
LAST_DATE = "2262-04-11"  # nanosecond timestamps end here: later dates are out of range, as in pandas


class Dialect:
    """The SQL functions DuckDB and Spark SQL spell differently, in DuckDB's spelling (:data:`DUCKDB`).

    >>> SPARK.full_match("x", "[0-9]+")
    "(x RLIKE '^(?:[0-9]+)$')"
    """

    hash_type = "UBIGINT"

    def hash(self, value: str) -> str:
        return f"hash({value})"

    def byte_length(self, text: str) -> str:
        return f"strlen({text})"

    def trim(self, text: str, characters: str) -> str:
        return f"trim({text}, '{characters}')"

    def full_match(self, text: str, pattern: str) -> str:
        return f"regexp_full_match({text}, '{pattern}')"

    def epoch_day(self, stamp: str) -> str:
        """Whole days from 1970-01-01 to the day of timestamp ``stamp``."""
        return f"date_diff('day', DATE '1970-01-01', CAST({stamp} AS DATE))"

    def timestamp(self, column: str, sql_type: str) -> str:
        """A date or timestamp column of ``sql_type`` (as DuckDB reads the file) as a timestamp without time zone."""
        return f"CAST({column} AS TIMESTAMP)"


class SparkDialect(Dialect):
    """Spark SQL's spelling; timestamps are ``TIMESTAMP_NTZ`` (no time zone), as DuckDB's are."""

    hash_type = "BIGINT"  # xxhash64 is signed

    def hash(self, value: str) -> str:
        return f"xxhash64({value})"

    def byte_length(self, text: str) -> str:
        return f"octet_length({text})"

    def trim(self, text: str, characters: str) -> str:
        return f"trim(BOTH '{characters}' FROM {text})"

    def full_match(self, text: str, pattern: str) -> str:
        return f"({text} RLIKE '^(?:{pattern})$')"

    def epoch_day(self, stamp: str) -> str:
        return f"unix_date(CAST({stamp} AS DATE))"

    def timestamp(self, column: str, sql_type: str) -> str:
        if base_type(sql_type) == "TIMESTAMP_NS":  # read as nanoseconds since 1970 (Spark has no such type)
            return f"CAST(timestamp_micros(({column} - pmod({column}, 1000)) div 1000) AS TIMESTAMP_NTZ)"
        return f"CAST({column} AS TIMESTAMP_NTZ)"


DUCKDB, SPARK = Dialect(), SparkDialect()
INFINITY = "CAST('Infinity' AS DOUBLE)"


def is_finite(number: str) -> str:
    """Neither NaN nor infinite, in both dialects (Spark has no ``isfinite``)."""
    return f"(NOT isnan({number}) AND abs({number}) < {INFINITY})"


def is_infinite(number: str) -> str:
    return f"(abs({number}) = {INFINITY})"


class ScanUnsupported(Exception):
    """A column of a type the scan does not read (time zones, binary ...): read the file in memory instead."""


@dataclass
class ColumnSql:
    value: str
    blank: str = "false"
    total: str = "false"
    flags: dict[str, str] = field(default_factory=dict)  # rule-specific flags: date_like, spelled_nan ...
    joins: list[str] = field(default_factory=list)       # LEFT JOINs of mapping tables this column needs
    # Per-row expressions of the raw cells computed once, beneath the joins, as columns the others read (r.name):
    # an engine does not always notice that an expression repeated in several places is the same.
    prepared: dict[str, str] = field(default_factory=dict)


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def base_type(sql_type: str) -> str:
    return sql_type.split("(")[0].strip().strip('"').upper()


def raw_expression(column: str, sql_type: str) -> str:
    """The raw cell as the in-memory reader sees it: a float NaN counts as infinity (``nan_as_infinite``)."""
    quoted = f"r.{identifier(column)}"
    if base_type(sql_type) in ("FLOAT", "DOUBLE", "REAL"):
        return f"(CASE WHEN isnan({quoted}) THEN {INFINITY} ELSE {quoted} END)"
    return quoted


def blank_cell(column: str, sql_type: str, sql: "Dialect") -> str:
    """Whether the raw cell is blank (missing, or text of spaces only), as the reader's cleaning judges it."""
    quoted = f"r.{identifier(column)}"
    if base_type(sql_type) not in TEXT_TYPES:
        return f"({quoted} IS NULL)"
    return f"({quoted} IS NULL OR {sql.trim(f'CAST({quoted} AS STRING)', _ANY_WHITESPACE)} = '')"


class Mapper:
    """Builds mapping tables in a DuckDB connection: distinct raw values -> what the rules make of them."""

    sql: Dialect = DUCKDB

    def __init__(self, connection, relation: str):
        self.connection = connection
        self.relation = relation
        self.count = 0

    def distinct(self, column: str, sql_type: str, where: str = "true") -> pd.Series:
        """The distinct raw values of ``column`` among the rows ``where`` holds, as the rules take them."""
        series = self._distinct(raw_expression(column, sql_type), sql_type, where)
        if base_type(sql_type) in TEXT_TYPES and series.dtype != object:
            series = series.astype(object)
        return series

    def _distinct(self, raw: str, sql_type: str, where: str) -> pd.Series:
        return self.connection.execute(f"SELECT DISTINCT {raw} AS raw FROM {self.relation} r WHERE {where}").df()["raw"]

    def table(self, column: str, sql_type: str, mapping: pd.DataFrame) -> tuple[str, str]:
        """Register ``mapping`` (a ``raw`` column plus results) and return (its alias, the LEFT JOIN)."""
        self.count += 1
        name = f"map_{self.count}"
        self._register(name, mapping)
        alias = f"m{self.count}"
        join = f"LEFT JOIN {name} {alias} ON {alias}.raw IS NOT DISTINCT FROM {raw_expression(column, sql_type)}"
        return alias, join

    def _register(self, name: str, mapping: pd.DataFrame) -> None:
        self.connection.register(name, mapping)


def _codes(clean: pd.Series) -> tuple[np.ndarray, list]:
    """Integer codes of clean text values (-1 for missing), and the texts they stand for."""
    codes, uniques = pd.factorize(clean.reset_index(drop=True), use_na_sentinel=True)
    return codes.astype(np.int64), list(uniques)


def key_column(mapper: Mapper, column: str, sql_type: str, *, total: bool, visible: bool) -> tuple[ColumnSql, list]:
    """A customer id or name: clean text as an integer code into the returned texts, blank, total and,
    with ``visible``, the control-character and too-long flags of the adjustments."""
    raw = mapper.distinct(column, sql_type)
    clean = values.customer_ids(raw)
    frame = pd.DataFrame({"raw": raw, "blank": blank_cells(raw).to_numpy(dtype=bool),
                          "total": values.is_total_label(raw).to_numpy(dtype=bool) if total else False})
    if visible:
        frame["control"] = values.has_control_characters(clean).to_numpy(dtype=bool)
        frame["cut"] = values.too_long_for_a_cell(clean).to_numpy(dtype=bool)
        if frame["control"].any() or frame["cut"].any():
            clean = values.visible_text(clean)
    frame["code"], labels = _codes(clean)
    alias, join = mapper.table(column, sql_type, frame)
    flags = {"control": f"{alias}.control", "cut": f"{alias}.cut"} if visible else {}
    return ColumnSql(f"NULLIF({alias}.code, -1)", f"{alias}.blank", f"{alias}.total", flags, [join]), labels


def group_column(mapper: Mapper, column: str, sql_type: str) -> tuple[ColumnSql, list]:
    """A store (salesperson ...) column: its label as an integer code into the returned labels."""
    raw = mapper.distinct(column, sql_type)
    codes, labels = _codes(group_labels(raw))
    alias, join = mapper.table(column, sql_type, pd.DataFrame({"raw": raw, "code": codes}))
    return ColumnSql(f"NULLIF({alias}.code, -1)", joins=[join]), labels


def date_column(mapper: Mapper, column: str, sql_type: str,
                dayfirst: bool | None) -> tuple[ColumnSql, bool | None, str | None]:
    """The date: a range check for real timestamps, the reader's date rules for anything else; also the
    day order used and the first eight-digit date (YYYYMMDD) read, if any."""
    kind = base_type(sql_type)
    quoted = f"r.{identifier(column)}"
    if kind in TIMESTAMP_TYPES:
        stamp = mapper.sql.timestamp(quoted, sql_type)
        value = f"(CASE WHEN {stamp} >= TIMESTAMP '1900-01-01' AND {stamp} < TIMESTAMP '{LAST_DATE}' THEN {stamp} END)"
        return ColumnSql(value, f"({quoted} IS NULL)", flags={"date_like": f"({quoted} IS NOT NULL)"}), None, None
    if kind not in TEXT_TYPES + NUMERIC_TYPES:
        raise ScanUnsupported(f"a date column of type {sql_type}")
    raw = mapper.distinct(column, sql_type)
    parsed, used = date_cells.dates(raw, dayfirst)
    frame = pd.DataFrame({"raw": raw, "date": parsed.to_numpy(dtype="datetime64[us]"),
                          "date_like": date_cells.looks_like_date(raw).to_numpy(dtype=bool),
                          "blank": blank_cells(raw).to_numpy(dtype=bool),
                          "total": values.is_total_label(raw).to_numpy(dtype=bool)})
    alias, join = mapper.table(column, sql_type, frame)
    return ColumnSql(mapper.sql.timestamp(f"{alias}.date", "TIMESTAMP"), f"{alias}.blank", f"{alias}.total",
                     {"date_like": f"{alias}.date_like"}, [join]), used, date_cells.eight_digit_example(raw)


def number_column(mapper: Mapper, column: str, sql_type: str, decimal: str | None) -> ColumnSql:
    """An amount, quantity, price, cost or profit: a DOUBLE that may be NULL, NaN or infinite."""
    kind = base_type(sql_type)
    quoted = f"r.{identifier(column)}"
    if kind in NUMERIC_TYPES:
        return ColumnSql(f"CAST({raw_expression(column, sql_type)} AS DOUBLE)", f"({quoted} IS NULL)",
                         flags={"spelled_nan": "false"})
    if kind not in TEXT_TYPES:
        raise ScanUnsupported(f"a number column of type {sql_type}")
    raw = mapper.distinct(column, sql_type)
    frame = pd.DataFrame({"raw": raw, "number": values.amounts(raw, decimal).to_numpy(dtype=float),
                          "spelled_nan": values.says_not_a_number(raw).to_numpy(dtype=bool),
                          "blank": blank_cells(raw).to_numpy(dtype=bool)})
    alias, join = mapper.table(column, sql_type, frame)
    return ColumnSql(f"{alias}.number", f"{alias}.blank", flags={"spelled_nan": f"{alias}.spelled_nan"}, joins=[join])


def order_column(mapper: Mapper, column: str, sql_type: str) -> ColumnSql:
    """The order number as a 64-bit key (only which lines share an order matters), blank and total."""
    kind = base_type(sql_type)
    quoted = f"r.{identifier(column)}"
    if kind in NUMERIC_TYPES:
        return ColumnSql(mapper.sql.hash(f"CAST({raw_expression(column, sql_type)} AS DOUBLE)"), f"({quoted} IS NULL)")
    if kind not in TEXT_TYPES:
        raise ScanUnsupported(f"an order column of type {sql_type}")
    text = f"CAST({quoted} AS STRING)"
    # Non-ASCII text, or text with a total word, goes to the rules; ILIKE is the regex (?i)total|sum for ASCII.
    needs_python = (f"({mapper.sql.byte_length(text)} <> length({text}) "
                    f"OR {text} ILIKE '%total%' OR {text} ILIKE '%sum%')")
    raw = mapper.distinct(column, sql_type, needs_python)
    clean = values.customer_ids(raw)
    frame = pd.DataFrame({"raw": raw, "clean": clean.astype(object).where(clean.notna(), None).to_numpy(),
                          "blank": blank_cells(raw).to_numpy(dtype=bool),
                          "total": values.is_total_label(raw).to_numpy(dtype=bool)})
    alias, join = mapper.table(column, sql_type, frame.astype({"raw": object, "clean": object}))
    stripped = mapper.sql.trim(text, _PYTHON_WHITESPACE)
    whole = f"({stripped} LIKE '%.0%' AND {mapper.sql.full_match(stripped, '-?[0-9]+[.]0+')})"  # 12.0 is 12
    plain = f"NULLIF(CASE WHEN {whole} THEN regexp_replace({stripped}, '[.]0+$', '') ELSE {stripped} END, '')"
    prepared = {"rx_order_needs": needs_python, "rx_order_plain": plain}  # plain: the ASCII rule's result
    clean_text = f"(CASE WHEN r.rx_order_needs THEN {alias}.clean ELSE r.rx_order_plain END)"
    value = f"(CASE WHEN {clean_text} IS NULL THEN NULL ELSE {mapper.sql.hash(clean_text)} END)"
    blank = f"(CASE WHEN r.rx_order_needs THEN {alias}.blank ELSE r.rx_order_plain IS NULL END)"
    total = f"coalesce(r.rx_order_needs AND {alias}.total, false)"
    return ColumnSql(value, blank, total, joins=[join], prepared=prepared)


def says_not_utf8(error: BaseException) -> bool:
    """Whether DuckDB stopped at text that is not UTF-8 (it names the value, not the column)."""
    import duckdb

    text = str(error).lower()
    return isinstance(error, duckdb.Error) and ("utf8" in text or "utf-8" in text or "unicode" in text)
