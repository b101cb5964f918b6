"""Errors a user can act on: each says where the problem is and how to fix it."""

from __future__ import annotations


class RetentionXLError(Exception):
    """Base of every error the command line reports as one line instead of a traceback."""

    exit_code = 1


class InputError(RetentionXLError):
    """The sales file cannot be used as it is.

    The message names the file and, where they apply, the sheet, row and column.

    >>> str(InputError("no usable rows", file="sales.xlsx", sheet="2024", row=7, column="C"))
    'sales.xlsx, sheet "2024", row 7, column C: no usable rows'
    """

    exit_code = 2

    def __init__(self, message: str, *, file=None, sheet=None, row=None, column=None):
        self.reason = message
        self.file, self.sheet, self.row, self.column = file, sheet, row, column
        where = [str(file)] if file is not None else []
        if sheet is not None:
            where.append(f'sheet "{sheet}"')
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class UsageError(RetentionXLError):
    """An option or argument is not valid (unknown language, a month with no data ...)."""

    exit_code = 2


class EngineError(RetentionXLError):
    """An engine (Spark, DuckDB) failed while computing; the message says where to look."""

    exit_code = 1


class OutputError(RetentionXLError):
    """The report could not be written where it was asked for."""

    exit_code = 3
