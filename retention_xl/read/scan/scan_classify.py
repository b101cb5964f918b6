"""The scan's classification: every row of the ``raw`` relation a source made, with its clean values and the
reason it is set aside (or none), as SQL that DuckDB runs -- or Spark's executors, from the same files.

The rules are the reader's (:mod:`retention_xl.read.scan.scan_columns` runs them on each column's distinct
values); the reasons, the as-of cut and the profit are those of :mod:`retention_xl.read.row_rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import columns as cols
from ...errors import InputError
from ..cells import AmbiguousDecimal
from ..csv_parquet import ROW_COLUMN
from ..dates import AmbiguousDates
from ..rawtable import DATE_REASONS
from ..reader import SAY_DAY_ORDER, SAY_DECIMAL
from ..row_rules import (UNIT_COST_WITHOUT_QUANTITY, after_as_of_sql, line_profit_sql, reason_sql,
                         unit_cost_lacks_quantity)
from .scan_columns import (DUCKDB, SPARK, ColumnSql, Dialect, Mapper, blank_cell, date_column, group_column,
                           identifier, is_finite, is_infinite, key_column, number_column, order_column)

_ROW = ROW_COLUMN


@dataclass
class Roles:
    """The SQL of every mapped column, and what the scan keeps of each."""

    customer: ColumnSql
    name: ColumnSql | None
    date: ColumnSql
    amount: str
    used: list[ColumnSql]
    other_blanks: list[str]  # per mapped column the rules do not read (a store, a cost ...): its cell is blank
    spelled: list[ColumnSql]
    order: ColumnSql | None
    groups: dict[str, ColumnSql]
    profit: str | None
    labels: dict[str, list]
    dayfirst: bool | None
    joins: list[str]  # every mapping table the columns need, once
    prepared: dict[str, str]  # the columns' per-row expressions computed once beneath the joins
    eight_digit_example: str | None  # an eight-digit date of the file, where they were read as YYYYMMDD


def _profit_sql(roles: dict, numbers: dict[str, ColumnSql], amount: str) -> str | None:
    """The line's profit: the profit column, or amount minus the line's cost (negative on a return)."""
    if cols.PROFIT in roles:
        return line_profit_sql(amount, is_finite, profit=numbers[cols.PROFIT].value)
    if cols.COST in roles or cols.UNIT_COST in roles:
        cost = numbers[cols.COST].value if cols.COST in roles else \
            f"({numbers[cols.UNIT_COST].value} * {numbers[cols.QUANTITY].value})"
        return line_profit_sql(amount, is_finite, cost=cost)
    return None


def column_roles(mapper: Mapper, path: Path, headers: list[str], types: dict[str, str], found, dayfirst, decimal) -> Roles:
    positions = found.positions
    roles = {role: headers[index] for role, index in positions.items()}
    profit_role = next((role for role in cols.PROFIT_ROLES if role in roles), None)
    with_amount = cols.AMOUNT in roles
    if unit_cost_lacks_quantity(profit_role, roles):
        raise InputError(UNIT_COST_WITHOUT_QUANTITY.format(column=f'"{roles[cols.UNIT_COST]}"'), file=path)
    key_role = cols.CUSTOMER_ID if cols.CUSTOMER_ID in roles else cols.CUSTOMER_NAME
    customer, customer_labels = key_column(mapper, roles[key_role], types[roles[key_role]], total=True, visible=True)
    name = name_labels = None
    if key_role == cols.CUSTOMER_ID and cols.CUSTOMER_NAME in roles:
        name, name_labels = key_column(mapper, roles[cols.CUSTOMER_NAME], types[roles[cols.CUSTOMER_NAME]],
                                       total=True, visible=True)
    try:
        date, used_dayfirst, eight_digits = date_column(mapper, roles[cols.DATE], types[roles[cols.DATE]], dayfirst)
    except AmbiguousDates as error:
        raise InputError(f"{error}{SAY_DAY_ORDER}", file=path, column=f'"{roles[cols.DATE]}"') from None
    wanted = [cols.AMOUNT] if with_amount else [cols.QUANTITY, cols.UNIT_PRICE]
    if profit_role == cols.UNIT_COST and cols.QUANTITY not in wanted:
        wanted.append(cols.QUANTITY)
    numbers = {}
    for role in wanted + ([profit_role] if profit_role else []):
        try:
            numbers[role] = number_column(mapper, roles[role], types[roles[role]], decimal)
        except AmbiguousDecimal as error:
            raise InputError(f"{error}{SAY_DECIMAL}", file=path, column=f'"{roles[role]}"') from None
    amount = numbers[cols.AMOUNT].value if with_amount else \
        f"({numbers[cols.QUANTITY].value} * {numbers[cols.UNIT_PRICE].value})"
    order = order_column(mapper, roles[cols.ORDER_ID], types[roles[cols.ORDER_ID]]) if cols.ORDER_ID in roles else None
    groups, labels = {}, {"customer": customer_labels, "name": name_labels}
    for role in cols.GROUP_ROLES:
        if role in roles:
            groups[role], labels[role] = group_column(mapper, roles[role], types[roles[role]])
    amount_columns = [numbers[role] for role in wanted]
    used = [customer] + ([name] if name else []) + [date] + amount_columns + ([order] if order else [])
    used_headers = {roles[role] for role in [key_role, cols.DATE, *wanted, cols.ORDER_ID]
                    + ([cols.CUSTOMER_NAME] if name else []) if role in roles}
    other_blanks = [blank_cell(header, types[header], mapper.sql) for header in dict.fromkeys(roles.values())
                    if header not in used_headers]
    everything = used + list(numbers.values()) + list(groups.values())
    joins = list(dict.fromkeys(join for column in everything for join in column.joins))
    prepared = {name: sql for column in everything for name, sql in column.prepared.items()}
    return Roles(customer, name, date, amount, used, other_blanks, amount_columns, order, groups,
                  _profit_sql(roles, numbers, amount), labels, used_dayfirst, joins, prepared, eight_digits)


def classified_rows(roles: Roles, as_of, sql: Dialect = DUCKDB) -> str:
    """The query of every row of ``raw`` with its clean values and its reason (the first that applies, in the
    documented order; -1 when used), in DuckDB's or Spark's dialect ``sql``."""
    empty = " AND ".join([f"coalesce({c.blank}, true)" for c in roles.used] + roles.other_blanks)
    total = " OR ".join(f"coalesce({c.total}, false)" for c in (roles.customer, roles.name, roles.date, roles.order) if c)
    spelled = " OR ".join(f"coalesce({c.flags['spelled_nan']}, false)" for c in roles.spelled)
    reason = reason_sql({
        "empty_row": "empty", "total_row": "total", "missing_customer": "customer_key IS NULL",
        "invalid_date": "ts IS NULL AND NOT date_like", "date_out_of_range": "ts IS NULL",
        "future_date": after_as_of_sql("ts", as_of), "invalid_amount": "(amount IS NULL OR isnan(amount)) AND NOT spelled",
        "non_finite_amount": f"{is_infinite('amount')} OR spelled", "zero_amount": "amount = 0"})
    visible = [roles.customer] + ([roles.name] if roles.name else [])
    control = " OR ".join(f"coalesce({c.flags['control']}, false)" for c in visible)
    cut = " OR ".join(f"coalesce({c.flags['cut']}, false)" for c in visible)
    group_columns = "".join(f", {c.value} AS g_{role}" for role, c in roles.groups.items())
    prepared = "".join(f", {sql} AS {name}" for name, sql in roles.prepared.items())
    source = f"(SELECT r.*{prepared} FROM raw r)" if prepared else "raw"
    return f"""
        SELECT row, customer_key, name_key, ts, amount, order_key, profit, control, cut{''.join(f', g_{r}' for r in roles.groups)},
               -- whole day and month numbers, as the customer x month table's SQL reads them
               CAST({sql.epoch_day('ts')} AS INT) AS day,
               CAST(year(ts) * 12 + month(ts) - 1 AS INT) AS month,
               CAST({reason} AS TINYINT) AS reason
        FROM (SELECT r.{_ROW} AS row, {roles.customer.value} AS customer_key,
                     {roles.name.value if roles.name else 'CAST(NULL AS BIGINT)'} AS name_key, {roles.date.value} AS ts,
                     {roles.amount} AS amount,
                     {roles.order.value if roles.order else f'CAST(NULL AS {sql.hash_type})'} AS order_key,
                     {roles.profit or 'CAST(NULL AS DOUBLE)'} AS profit, ({empty}) AS empty, ({total}) AS total,
                     coalesce({roles.date.flags['date_like']}, false) AS date_like, ({spelled}) AS spelled,
                     ({control}) AS control, ({cut}) AS cut{group_columns}
              FROM {source} r {' '.join(roles.joins)}) classified"""


def classify(connection, roles: Roles, as_of) -> None:
    """The ``scanned`` table: every row with its clean values and its reason (see :func:`_counted_views`)."""
    connection.execute(f"CREATE TABLE scanned AS {classified_rows(roles, as_of)}")
    counted_views(connection)


def classify_with_spark(connection, spill: Path, raw, where, found, dayfirst, decimal, as_of,
                         master: str | None, say) -> tuple[Roles, str] | None:
    """The ``scanned`` rows classified by Spark's executors from the same files (:mod:`.spark_scan`): the roles
    and the classified Parquet files; None where Spark cannot read the files as DuckDB does."""
    from ...table import spark_engine
    from . import spark_scan

    try:
        expected, groups = spark_scan.check_files(raw.files)
        say(f"Spark: starting its session ({master or 'local mode'})…")
        spark = spark_engine.session(master)
        with spark_scan.settings(spark):
            spark_scan.raw_view(spark, connection, groups, dict(zip(raw.files, raw.firsts)),
                                _ROW if raw.numbered else None, raw.hive_root, raw.types, _ROW)
            say("Spark: cleaning the distinct values of each column…")
            roles = column_roles(spark_scan.SparkMapper(spark, connection), where, raw.headers, raw.types, found,
                           dayfirst, decimal)
            say("Spark: reading and classifying every row…")
            parquet = spark_scan.classify(spark, classified_rows(roles, as_of, SPARK), spill / "classified", expected)
    except spark_scan.SparkCannotRead as reason:
        say(f"Spark cannot read these files as DuckDB does ({reason}): "
            "DuckDB cleans the rows, Spark aggregates them…")
        return None
    except spark_scan.SPARK_ERRORS as error:  # a Java stack trace: the user needs its first line and where the rest is
        raise spark_engine.failed("reading and cleaning the rows", error) from None
    # Spark's order keys are signed; shifted one to one into DuckDB's unsigned ones.
    connection.execute(f"""
        CREATE VIEW scanned AS
        SELECT * REPLACE ((order_key::HUGEINT + 9223372036854775808)::UBIGINT AS order_key)
        FROM read_parquet('{parquet.replace("'", "''")}')""")
    counted_views(connection)
    return roles, parquet


def counted_views(connection) -> None:
    """The ``counted`` and ``used`` views over the ``scanned`` rows: every row the source holds is counted,
    trailing ones too (a CSV file's blank lines at its end are not rows: its reader leaves them out)."""
    connection.execute("CREATE TEMP VIEW counted AS SELECT * FROM scanned")
    connection.execute("CREATE TEMP VIEW used AS SELECT * FROM counted WHERE reason = -1")


def date_examples(connection, accounting, header: str) -> list[str]:
    """The raw values of the date column in the example rows of the rows set aside for their date."""
    rows = [int(row) for reason in DATE_REASONS for row in accounting.exclusions[reason].example_rows]
    if not rows:
        return []
    found = connection.execute(f"SELECT {_ROW}, CAST({identifier(header)} AS VARCHAR) FROM raw "
                               f"WHERE {_ROW} IN ({', '.join(map(str, rows))}) ORDER BY {_ROW}").fetchall()
    return [text[:-2] if text and text.endswith(".0") else text for _, text in found]


