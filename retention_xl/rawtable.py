"""What each file format's reader hands to the cleaning rules, and the messages they share."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import columns as cols

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
    encoding: str | None = None
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


def header_help(rows, mapping: dict[str, str]) -> str:
    """Why no header row was found among ``rows``: a name given by hand that is no header, or what is missing."""
    not_found = cols.no_column_named(rows, mapping)
    if not_found:
        return f"{not_found}. Give the header as it is written, or its column letter"
    wanted = "a customer id or name, an order date, and an amount (or a quantity and a unit price)"
    message = f"cannot find the header row: need {wanted}. Headers seen: {cols.describe_headers(rows)}. "
    if mapping:
        message += "Check that the names given with --customer/--date/--amount/... match these headers exactly. "
    return message + ('Name the columns, e.g. --customer "会员号" --date "日期" --amount "实付金额", '
                      "or put them in a --config file")
