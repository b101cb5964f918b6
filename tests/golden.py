"""Fingerprints of a generated workbook, for comparing it with a golden copy kept in the repository.

Each sheet is reduced to its cells (address, value or formula text, number format),
with the generation time left out and numbers written to 12 significant digits so
that summing the same amounts in another order does not count as a change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import openpyxl

_GENERATED = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


def _shown(value) -> str:
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, float):
        return format(value, ".12g")
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, str):
        return _GENERATED.sub("<generated>", value)
    return repr(value)


def cell_lines(path) -> dict[str, list[str]]:
    """Per sheet title: one line per non-empty cell, ``A1\\tvalue\\tnumber format``."""
    book = openpyxl.load_workbook(path)
    sheets = {}
    for sheet in book.worksheets:
        lines = []
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                lines.append(f"{cell.coordinate}\t{_shown(cell.value)}\t{cell.number_format}")
        sheets[sheet.title] = lines
    return sheets


def fingerprints(path) -> dict[str, str]:
    """Per sheet title: the SHA-256 of its cell lines."""
    return {title: hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
            for title, lines in cell_lines(path).items()}
