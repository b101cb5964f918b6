"""Read a sales file (.xlsx/.xlsm/.xls, .csv, .parquet) into clean transactions.

>>> sales = read_sales("sample_workbooks/sales_sample.xlsx")        # doctest: +SKIP
>>> sales.transactions.head()                                       # doctest: +SKIP
>>> sales.accounting.rows_read == sales.accounting.purchases + sales.accounting.returns + sales.accounting.excluded  # doctest: +SKIP
True

The file is only ever opened for reading. Excel files are read by calamine (a
Rust reader, through fastexcel), CSV and Parquet by Arrow, so a sheet at Excel's
row limit reads in seconds. The header row is found among the first rows (titles
and notes above it are skipped) and its columns are recognised by
:mod:`retention_xl.read.columns`; ``columns=`` maps them by hand.
"""

from __future__ import annotations

import codecs
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from . import columns as cols
from . import order_numbers, sources
from .accounting import Accounting
from .cleaning import clean_transactions
from ..errors import InputError, UsageError
from .csvfile import read_csv_files, read_csv_table
from .excelfile import read_excel_table
from .file_kind import file_kind
from .answers import answers_in_sales
from .row_rules import UNIT_COST_WITHOUT_QUANTITY, unit_cost_lacks_quantity
from .sales import Provenance, SalesData
from .rawtable import (DATE_REASONS, NOT_UTF8, RawTable, first_line, header_help, invalid_text_column,
                       nan_as_infinite, no_usable_rows, parquet_error)
from .cells import AmbiguousDecimal
from .dates import AmbiguousDates, eight_digit_example

Progress = Callable[[str], None]
__all__ = ["Progress", "SalesData", "read_database", "read_sales"]
# The messages for what only the user can settle; the DuckDB scan gives the same ones.
SAY_DAY_ORDER = "; say which with --dayfirst or --monthfirst"
SAY_DECIMAL = "; say which with --decimal , or --decimal ."


def read_sales(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    dayfirst: bool | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
    as_of: str | pd.Timestamp | None = None,
    progress: Progress | None = None,
) -> SalesData:
    """Read and clean the sales rows of ``path``.

    ``sheet`` picks a worksheet by name or 0-based position (default: the first
    with a recognisable table). ``columns`` maps roles to header text or column
    letters, overriding detection: keys ``customer``, ``name``, ``date``,
    ``amount``, ``quantity``, ``price``, ``order``, ``store``, ``salesperson``,
    ``channel``, ``region``, ``cost``, ``unit-cost``, ``profit``. ``dayfirst`` settles dates
    such as 05/03/2024. ``encoding`` forces a CSV encoding; ``decimal`` (``"."`` or
    ``","``) the decimal mark of amounts written as text. Dates after the day
    ``as_of`` (default: today) are set aside as in the future.

    Raises :class:`retention_xl.errors.InputError` with the file, sheet, row and
    column concerned for anything that makes the file unusable.
    """
    path = Path(path)
    say = progress or (lambda message: None)
    mapping = role_mapping(columns)
    check_reading_options(encoding, decimal, as_of)
    started = time.perf_counter()
    raw = read_raw_table(path, sheet, mapping, encoding, say)
    return _finish(raw, path, None, dayfirst, decimal, as_of, say, started)


def read_raw_table(path: Path, sheet: str | int | None, mapping: dict[str, str], encoding: str | None,
                   say: Progress) -> RawTable:
    """The mapped columns of the table at ``path`` (a file, a folder or a glob), before cleaning."""
    if sources.several_files(path):
        files = sources.dataset_files(path)
        if sources.are_csv(files):
            say(f"Reading the {len(files):,} CSV files of {path}…")
            raw = read_csv_files(files, mapping, encoding)
        else:
            say(f"Reading the Parquet files of {path}…")
            headers, read = sources.read_dataset(path, files)
            raw = _raw_from_arrow(headers, read, mapping, path)
    else:
        kind = file_kind(path)
        say(f"Reading {path.name} ({path.stat().st_size / 1e6:,.1f} MB)…")
        if kind == "excel":
            raw = read_excel_table(path, sheet, mapping)
        elif kind == "csv":
            raw = read_csv_table(path, mapping, encoding)
        else:
            raw = _read_parquet(path, mapping)
    return raw


def read_database(
    url: str,
    *,
    table: str | None = None,
    query: str | None = None,
    columns: Mapping[str, str] | None = None,
    dayfirst: bool | None = None,
    decimal: str | None = None,
    as_of: str | pd.Timestamp | None = None,
    progress: Progress | None = None,
) -> SalesData:
    """Read and clean the sales rows of a PostgreSQL ``table`` or ``query`` (see :mod:`retention_xl.read.sources`).

    ``url`` is ``postgresql://user@host:port/database``, without a password (libpq takes it
    from ``PGPASSWORD`` or ``~/.pgpass``). The other arguments are those of :func:`read_sales`;
    example rows are record numbers in the order the database returned them.
    """
    say = progress or (lambda message: None)
    mapping = role_mapping(columns)
    check_reading_options(None, decimal, as_of)
    started = time.perf_counter()
    headers, read, what = sources.read_postgres(url, table, query)
    say(f"Reading {what}…")
    raw = _raw_from_arrow(headers, read, mapping, what)
    return _finish(raw, None, what, dayfirst, decimal, as_of, say, started)


def _finish(raw: RawTable, path: Path | None, label: str | None, dayfirst, decimal, as_of, say, started) -> SalesData:
    """Clean ``raw`` and account for every row; ``path`` is the file read, or ``label`` names a database source."""
    where = path if path is not None else label
    say(f"Read {len(raw.frame):,} rows in {time.perf_counter() - started:.1f} s; cleaning…")
    result = _clean(raw, where, dayfirst, decimal, as_of)
    if raw.malformed_count:
        result.accounting.add_malformed(raw.malformed_lines, raw.malformed_count)
    accounting = result.accounting
    columns = {role: raw.column_map.header_of(role) for role in raw.column_map.positions}
    answers = answers_in_sales(raw.frame, raw.row_numbers, result.transactions, accounting, columns)
    if accounting.purchases == 0:
        raise InputError(_no_usable_rows(accounting, raw), file=where, sheet=raw.sheet)
    say(
        f"{accounting.purchases:,} purchases, {accounting.returns:,} returns, "
        f"{accounting.excluded:,} rows excluded ({time.perf_counter() - started:.1f} s)"
    )
    return SalesData(result.transactions, Provenance(
        accounting=accounting,
        file=path,
        sheet=raw.sheet,
        header_row=raw.column_map.header_row + 1,
        columns=columns,
        dayfirst=result.dayfirst,
        encoding=raw.encoding.encoding if raw.encoding else None,
        label=label,
        encoding_choice=raw.encoding,
        eight_digit_example=eight_digit_example(raw.frame[cols.DATE]),
        shared_orders=order_numbers.in_transactions(result.transactions),
        answers=answers,
    ))


def check_reading_options(encoding: str | None, decimal: str | None, as_of) -> None:
    """Refuse an unknown ``encoding``, a decimal mark other than a point or a comma, and an as-of day that is not
    a date, before anything is read (the scan checks them the same way)."""
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(f"unknown encoding {encoding!r}; use e.g. utf-8, gb18030 or big5") from None
    if decimal not in (None, ".", ","):
        raise UsageError(f'the decimal mark must be "." or ",", got {decimal!r}')
    if as_of is not None:
        try:
            pd.Timestamp(as_of)
        except (ValueError, TypeError):
            raise UsageError(f"the as-of day must look like 2024-03-31, got {as_of!r}") from None


def _clean(raw: RawTable, path: Path, dayfirst: bool | None, decimal: str | None, as_of):
    """The cleaning rules applied to the mapped columns of ``raw``."""
    positions = raw.column_map.positions
    profit_roles = [role for role in cols.PROFIT_ROLES if role in positions]
    uses_unit_cost = profit_roles[:1] == [cols.UNIT_COST]
    if unit_cost_lacks_quantity(profit_roles[0] if profit_roles else None, positions):
        raise InputError(UNIT_COST_WITHOUT_QUANTITY.format(column=_where(raw, cols.UNIT_COST)), file=path, sheet=raw.sheet)
    try:
        return clean_transactions(
            raw.frame,
            customer_id_col=cols.CUSTOMER_ID if cols.CUSTOMER_ID in positions else None,
            customer_name_col=cols.CUSTOMER_NAME if cols.CUSTOMER_NAME in positions else None,
            datetime_col=cols.DATE,
            amount_col=cols.AMOUNT if cols.AMOUNT in positions else None,
            quantity_col=cols.QUANTITY if cols.AMOUNT not in positions or uses_unit_cost else None,
            unit_price_col=cols.UNIT_PRICE if cols.AMOUNT not in positions else None,
            order_id_col=cols.ORDER_ID if cols.ORDER_ID in positions else None,
            row_numbers=raw.row_numbers,
            dayfirst=dayfirst,
            decimal=decimal,
            as_of=as_of,
            unsaved_formulas=raw.unsaved_formulas,
            group_cols={role: role for role in cols.GROUP_ROLES if role in positions},
            **{f"{role}_col": role for role in profit_roles[:1]},
        )
    except AmbiguousDates as error:
        raise InputError(f"{error}{SAY_DAY_ORDER}", file=path, sheet=raw.sheet, column=_where(raw, cols.DATE)) from None
    except AmbiguousDecimal as error:
        amount_role = cols.AMOUNT if cols.AMOUNT in positions else cols.UNIT_PRICE
        raise InputError(f"{error}{SAY_DECIMAL}", file=path, sheet=raw.sheet, column=_where(raw, amount_role)) from None


def role_mapping(columns: Mapping[str, str] | None) -> dict[str, str]:
    """The roles of ``columns`` as given (by option name or role) mapped to header text or column letters.

    >>> role_mapping({"customer": "会员号", "order": "B", "store": ""})
    {'customer_id': '会员号', 'order_id': 'B'}
    """
    by_option = {option: role for role, option in cols.ROLE_OPTIONS.items()}
    mapping = {}
    for key, header in (columns or {}).items():
        role = by_option.get(key, key if key in cols.ROLES else None)
        if role is None:
            raise InputError(f"unknown column role {key!r}: use {', '.join(cols.ROLE_OPTIONS.values())}")
        if header not in (None, ""):
            mapping[role] = str(header)
    return mapping


def _where(raw: RawTable, role: str) -> str:
    letter = (raw.letters or {}).get(role)
    header = raw.column_map.header_of(role)
    return f'{letter} ("{header}")' if letter else f'"{header}"'


def _no_usable_rows(accounting: Accounting, raw: RawTable) -> str:
    rows = [row for reason in DATE_REASONS for row in accounting.exclusions[reason].example_rows]
    examples = raw.frame[cols.DATE][np.isin(raw.row_numbers, rows)]
    return no_usable_rows(accounting, _where(raw, cols.DATE), [_as_text(value) for value in examples],
                          raw.column_map)


def _as_text(value) -> str | None:
    """A raw cell as the user typed it: 20180111 rather than 20180111.0; None for a blank cell."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- Parquet -----------------------------------------------------------------------------


def _text_as_utf8(table, path: Path):
    """Binary columns as text, and every text column checked to be UTF-8; a column that is not is refused by name."""
    import pyarrow.compute as pc

    for index, column in enumerate(table.columns):
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            name = table.field(index).name
            try:
                table = table.set_column(index, name, pc.cast(column, pa.string()))
            except pa.ArrowInvalid:
                raise InputError(NOT_UTF8, file=path, column=f'"{name}"') from None
    invalid = invalid_text_column(table)
    if invalid is not None:
        raise InputError(NOT_UTF8, file=path, column=f'"{invalid}"')
    return table


def _read_parquet(path: Path, mapping: dict[str, str]) -> RawTable:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:
        raise parquet_error(error, path) from None
    return _raw_from_arrow(parquet.schema_arrow.names, lambda columns: parquet.read(columns=columns), mapping, path)


def _raw_from_arrow(headers: list[str], read, mapping: dict[str, str], path) -> RawTable:
    """The mapped columns of an Arrow source (Parquet, a folder of it, a database): ``read(names)`` reads them."""
    found = cols.find_header([headers], mapping)
    if found is None:
        raise InputError(header_help([headers], mapping), file=path)
    by_index = {index: role for role, index in found.positions.items()}
    try:
        table = nan_as_infinite(_text_as_utf8(read([headers[i] for i in sorted(by_index)]), path))
        frame = table.to_pandas(self_destruct=True, split_blocks=True, date_as_object=False)
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise InputError(f"holds text that is not valid UTF-8 ({first_line(error)}): the file is damaged or was "
                         "written with another encoding; write it again with UTF-8 text", file=path) from None
    del table
    frame.columns = [by_index[i] for i in sorted(by_index)]
    # Arrow sources have no header row: row N is the N-th record.
    return RawTable(frame, np.arange(1, len(frame) + 1), found, None)
