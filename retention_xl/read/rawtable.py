"""What each file format's reader hands to the cleaning rules, and the messages they share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import columns as cols
from . import dates as date_cells
from .accounting import Accounting
from .csvencoding import EncodingChoice
from ..errors import InputError

HEADER_SEARCH_ROWS = 40
TEXT_ROLES = {cols.CUSTOMER_ID, cols.CUSTOMER_NAME, cols.ORDER_ID, *cols.GROUP_ROLES}


EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
PARQUET_SUFFIXES = {".parquet", ".pq"}


@dataclass
class RawTable:
    """The mapped columns of a sales table, before cleaning."""

    frame: pd.DataFrame  # one column per mapped role, named by the role
    row_numbers: np.ndarray
    column_map: cols.ColumnMap
    sheet: str | None
    encoding: EncodingChoice | None = None  # a CSV file's
    letters: dict[str, str] | None = None  # role -> column letter, for messages
    malformed_lines: list[int] = field(default_factory=list)  # the lines with the wrong number of fields
    malformed_count: int = 0
    unsaved_formulas: np.ndarray | None = None  # per row: an amount cell is a formula without a saved value


def nan_as_infinite(table):
    """An Arrow table with NaN in its float columns turned into infinity.

    pandas has one marker, NaN, for both a blank cell and a value that spells "NaN";
    the cleaning rules must tell them apart (no amount, against an amount that is not a
    finite number), and an infinite amount is counted as the latter.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    for index, column in enumerate(table.columns):
        if pa.types.is_floating(column.type):
            nan = pc.fill_null(pc.is_nan(column), False)
            if pc.any(nan).as_py():
                table = table.set_column(index, table.field(index).name,
                                         pc.if_else(nan, pa.scalar(float("inf"), column.type), column))
    return table


def quoted(names) -> str:
    return ", ".join(f'"{n}"' for n in names)


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__


NOT_UTF8 = "holds text that is not valid UTF-8: the file is damaged or was written with another encoding; " \
           "write it again with UTF-8 text"


def parquet_error(error: Exception, path, what: str = "Parquet") -> InputError:
    r"""The one line for a Parquet file (or folder of them) that cannot be opened; a column name that is
    not UTF-8 is named, its bytes shown escaped.

    >>> str(parquet_error(UnicodeDecodeError("utf-8", b"\xe9tat", 0, 1, "invalid"), "s.parquet"))
    's.parquet, column "\\xe9tat": the name of the column is not valid UTF-8: the file is damaged or was written with another encoding; write it again with UTF-8 column names'
    """
    if isinstance(error, UnicodeDecodeError) and isinstance(error.object, bytes):
        name = error.object.decode("utf-8", errors="backslashreplace")
        return InputError("the name of the column is not valid UTF-8: the file is damaged or was written with "
                          "another encoding; write it again with UTF-8 column names", file=path, column=f'"{name}"')
    return InputError(f"cannot be read as {what} ({first_line(error)})", file=path)


def invalid_text_column(table) -> str | None:
    """The first text column of an Arrow ``table`` holding bytes that are not UTF-8, or None: Arrow's
    readers take text as they find it, and only a later step would fail on it."""
    import pyarrow as pa

    for name in table.column_names:
        column = table.column(name)
        value_type = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if pa.types.is_string(value_type) or pa.types.is_large_string(value_type):
            try:
                for chunk in column.chunks:
                    (chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk).validate(full=True)
            except pa.ArrowInvalid:
                return name
    return None


def column_not_utf8(files: list, types: dict[str, str]):
    """(file, column): the first of the Parquet ``files`` and of its text columns (``types``: column -> SQL
    type) holding bytes that are not UTF-8, read a batch at a time by Arrow, which can tell; or None."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    text_columns = [name for name, sql_type in types.items() if sql_type.upper().startswith("VARCHAR")]
    for file in files:
        parquet = pq.ParquetFile(file)
        present = [name for name in text_columns if name in parquet.schema_arrow.names]
        for batch in parquet.iter_batches(columns=present) if present else ():
            invalid = invalid_text_column(pa.Table.from_batches([batch]))
            if invalid is not None:
                return file, invalid
    return None


def header_help(rows, mapping: dict[str, str]) -> str:
    """Why no header row was found among ``rows``: a name given by hand that is no header, or what is missing."""
    not_found = cols.no_column_named(rows, mapping)
    if not_found:
        return f"{not_found}. Give the header as it is written, or its column letter"
    wanted = cols.TABLE_KIND.get().wanted
    message = f"cannot find the header row: need {wanted}. Headers seen: {cols.describe_headers(rows)}. "
    if _columns_in_spaces(rows):
        return message + ("The columns seem to be lined up with spaces, which is no separator this reader knows: "
                          "open the file in Excel or LibreOffice, split the text into columns at the spaces "
                          "(Data > Text to Columns), and save it as .xlsx, or as CSV with commas, semicolons or tabs")
    if mapping:
        message += "Check that the names given with --customer/--date/--amount/... match these headers exactly. "
    return message + f"Name the columns, e.g. {example_options(rows)}, or put them in a --config file"


def _columns_in_spaces(rows) -> bool:
    """Whether every row read is one cell of several words lined up by runs of spaces, as a text report
    printed in columns is: ``" 00001 19970101  1   11.77"``.

    >>> _columns_in_spaces([[" customer_id  date number_of_cds  dollar_value"], [" 00001 19970101  1   11.77"]])
    True
    >>> _columns_in_spaces([["Kunde"], ["K 07"]])
    False
    """
    filled = [[cell for cell in row if cell is not None and str(cell).strip()] for row in rows]
    filled = [row for row in filled if row]
    return bool(filled) and all(len(row) == 1 and len(str(row[0]).split()) >= 3 for row in filled)


def example_options(rows) -> str:
    """Options that would name the customer, date and amount among ``rows``, in the file's own headers: the
    header each role was detected in, else the first whose values below look like that role's (date-like text,
    numbers, other text), else the first header not taken.

    >>> example_options([["Beleg", "Kd", "Tag", "Wert"], ["A1", "K7", "03.01.2019", "16,4"]])
    '--customer "Beleg" --date "Tag" --amount "Wert"'
    >>> example_options([["VBELN", "ERDAT", "Partner", "Summe"]])
    '--customer "VBELN" --date "ERDAT" --amount "Partner"'
    """
    header_row = cols.most_header_like(rows)
    if header_row is None:
        return '--customer "…" --date "…" --amount "…"'
    headers = [str(cell).strip() if cell is not None else "" for cell in rows[header_row]]
    below = [list(row) + [None] * (len(headers) - len(row)) for row in rows[header_row + 1:]]
    kinds = [_kind_of_cells([row[position] for row in below]) for position in range(len(headers))]
    found = cols.detect_roles(headers)
    chosen: dict[str, int] = {}
    for option, roles, kind in (("date", [cols.DATE], "date"), ("customer", [cols.CUSTOMER_ID, cols.CUSTOMER_NAME],
                                "text"), ("amount", [cols.AMOUNT], "number")):
        free = [p for p, header in enumerate(headers) if header and p not in chosen.values()]
        detected = [found[role] for role in roles if role in found and found[role] in free]
        likely = [p for p in free if kinds[p] == kind]
        if detected or likely or free:
            chosen[option] = (detected or likely or free)[0]
    return " ".join(f'--{option} "{headers[chosen[option]]}"' for option in ("customer", "date", "amount")
                    if option in chosen)


def _kind_of_cells(cells) -> str | None:
    """"date", "number" or "text" where every filled cell of a column is of that kind, else None."""
    filled = pd.Series([cell for cell in cells if cell is not None and str(cell).strip() != ""], dtype=object)
    if filled.empty:
        return None
    if filled.map(lambda cell: hasattr(cell, "year")).all() or (
            filled.map(lambda cell: isinstance(cell, str)).all() and date_cells.looks_like_date(filled).all()):
        return "date"
    numbers = pd.to_numeric(filled.map(lambda cell: str(cell).strip().replace(",", ".")), errors="coerce")
    return "number" if numbers.notna().all() else "text"


DATE_REASONS = ("invalid_date", "date_out_of_range")
_BEFORE_DATES = ("malformed_line", "empty_row", "total_row", "missing_customer")


def no_usable_rows(accounting: Accounting, date_column: str, date_examples: list[str] = (),
                   column_map: cols.ColumnMap | None = None) -> str:
    """Why a file has no purchase to report on: each reason with example rows, and what to check; when no
    date of the column could be read, what its values look like (``date_examples``) and which option helps;
    when no row has a customer, the next customer column of ``column_map`` to name instead."""
    if accounting.rows_read == 0:
        return "the table has a header row but no data rows below it"
    reasons = [
        f"{reason.replace('_', ' ')}: {e.count:,} (e.g. rows {', '.join(map(str, e.example_rows))})"
        for reason, e in accounting.exclusions.items()
        if e.count
    ]
    hint = ""
    failed = sum(accounting.exclusions[reason].count for reason in DATE_REASONS)
    filled = accounting.rows_read - sum(accounting.exclusions[r].count for r in _BEFORE_DATES if r != "missing_customer")
    if column_map is not None and filled > 0 and accounting.exclusions["missing_customer"].count == filled:
        hint = "; " + empty_customer_column(column_map)
    elif failed and failed == accounting.rows_read - sum(accounting.exclusions[r].count for r in _BEFORE_DATES):
        hint = "; " + unreadable_dates(date_column, date_examples)
    elif accounting.exclusions["formula_without_value"].count:
        hint = "; the amounts are formulas the file holds no values for: open the file in Excel, save it, and try again"
    elif accounting.exclusions["invalid_date"].count:
        hint = f"; check that column {date_column} holds dates"
    return f"no usable sales rows among {accounting.rows_read:,} read ({'; '.join(reasons)}){hint}"


def empty_customer_column(column_map: cols.ColumnMap) -> str:
    """What to do when the customer column read is empty in every row: name the next one the header rule ranks.

    >>> headers = ["order_id", "customer_id", "order_purchase_timestamp", "payment_value", "customer_unique_id"]
    >>> empty_customer_column(cols.find_header([headers]))
    'column "customer_unique_id" is empty in every row: name the customer column with --customer "customer_id"'
    """
    role = cols.CUSTOMER_ID if cols.CUSTOMER_ID in column_map.positions else cols.CUSTOMER_NAME
    taken = [column_map.positions[role]]
    others = cols.detect_roles(column_map.headers, taken)
    other = next((others[key] for key in (cols.CUSTOMER_ID, cols.CUSTOMER_NAME) if key in others), None)
    advice = f'--customer "{column_map.headers[other]}"' if other is not None else "--customer"
    return f'column "{column_map.header_of(role)}" is empty in every row: name the customer column with {advice}'


def unreadable_dates(date_column: str, examples: list[str]) -> str:
    """A date column none of whose values could be read: what they look like, and which option helps.

    >>> unreadable_dates('"Posting"', [None, " "]).split(". ")[0]
    'no date could be read in column "Posting": its cells are blank'
    >>> unreadable_dates('"Posting"', ["2018-13-45", "2018-13-46"])
    'no date could be read in column "Posting": its values look like "2018-13-45", "2018-13-46". Dates are read from date cells, Excel serial numbers, eight-digit numbers (20180111) and text such as 2024-03-05, 2024/3/5, 05/03/2024 or 2024年3月5日; if another column holds the dates, name it with --date'
    """
    filled = [value for value in examples if value is not None and value.strip()]
    shown = ", ".join(f'"{value}"' for value in list(dict.fromkeys(filled))[:3])
    looks = f"its values look like {shown}" if shown else "its cells are blank"
    message = (f"no date could be read in column {date_column}: {looks}. "
               "Dates are read from date cells, Excel serial numbers, eight-digit numbers (20180111) and text such as "
               "2024-03-05, 2024/3/5, 05/03/2024 or 2024年3月5日; if another column holds the dates, name it with --date")
    if any(re.match(r"\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b", value) for value in filled):
        message += "; --dayfirst or --monthfirst says how to read 05/03/2024"
    return message
