"""Streaming the rows of one large worksheet into a workbook openpyxl has saved.

openpyxl builds a Python object per cell, which costs about 20 microseconds a cell:
half a minute for a Customers sheet of 100,000 rows. Measured side by side (see the
README), neither its normal nor its write-only mode comes near the 15-second target
at Excel's row limit. So the Customers sheet lets openpyxl lay out the sheet --
header, widths, frozen panes, filter, print set-up and one styled template row --
and then this module replaces the template row with every data row, built a column
at a time with vectorised string operations and streamed into the .xlsx archive.
The cell XML is what openpyxl itself writes (inline strings, the template row's
style ids), so the result opens the same way in Excel, WPS and LibreOffice.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..columns import column_index
from ..values import EXCEL_EPOCH
from ..xlsxhead import sheet_member

CHUNK_ROWS = 50_000
_ILLEGAL_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"


class StreamError(RuntimeError):
    """The saved workbook does not have the shape the streamed rows need (a defect, never the user's data)."""


@dataclass
class Column:
    """One column of the streamed rows: its letter, kind (``text``, ``number``, ``date``) and values."""

    letter: str
    kind: str
    values: pd.Series


def _sheet_member(package: zipfile.ZipFile, title: str) -> str:
    try:
        return sheet_member(package, title)
    except KeyError:
        raise StreamError(f"the saved workbook has no sheet {title!r}") from None


def _escape(text: pd.Series) -> pd.Series:
    text = text.astype("string")
    if text.str.contains(_ILLEGAL_XML, regex=True).fillna(False).any():
        text = text.str.replace(_ILLEGAL_XML, "", regex=True)
    if text.str.contains(r"[&<>]", regex=True).fillna(False).any():
        text = text.str.replace("&", "&amp;", regex=False).str.replace("<", "&lt;", regex=False).str.replace(">", "&gt;", regex=False)
    return text


def _cells(column: Column, rows: pd.Series, style: str) -> pd.Series:
    """The ``<c>`` elements of one column for the given row numbers (as text)."""
    start = '<c r="' + column.letter + rows + '"' + style
    values = column.values
    if column.kind == "text":
        text = _escape(values)
        cells = start + ' t="inlineStr"><is><t xml:space="preserve">' + text + "</t></is></c>"
        return cells.fillna("")  # a missing value is an empty cell: no element at all
    if column.kind == "date":
        serial = (values.to_numpy(dtype="datetime64[D]") - EXCEL_EPOCH.to_datetime64().astype("datetime64[D]"))
        numbers = pd.Series(serial.astype(np.int64), index=values.index).astype("string")
    else:
        numbers = pd.Series(values.to_numpy(), index=values.index).astype("string")
    return (start + ' t="n"><v>' + numbers + "</v></c>").fillna("")


def row_xml(columns: list[Column], first_row: int, styles: dict[str, str], start: int, stop: int) -> str:
    """The ``<row>`` elements for table rows ``start`` .. ``stop - 1`` (sheet rows from ``first_row``)."""
    rows = pd.Series(np.arange(first_row + start, first_row + stop)).astype("string")
    xml = '<row r="' + rows + '">'
    for column in columns:
        part = Column(column.letter, column.kind, column.values.iloc[start:stop].reset_index(drop=True))
        xml = xml + _cells(part, rows, styles.get(column.letter, ""))
    return "".join((xml + "</row>").tolist())


def _template_styles(template: str, columns: list[Column], first_row: int) -> dict[str, str]:
    """Each column's style attribute, from its cell in the template row (a cell without one has style 0)."""
    styles = {}
    for letter, attributes in re.findall(rf'<c r="([A-Z]+){first_row}"([^>]*?)/?>', template):
        style = re.search(r' s="(\d+)"', attributes)
        styles[letter] = style.group(0) if style else ""
    missing = [column.letter for column in columns if column.letter not in styles]
    if missing:
        raise StreamError(f"the template row {first_row} has no cell for columns {', '.join(missing)}")
    return styles


def _last_column(head: str, columns: list[Column]) -> str:
    """The rightmost column used: the streamed table's, or a cell openpyxl wrote beyond it (a link)."""
    found = re.search(r'<dimension ref="[A-Z]+\d+:([A-Z]+)\d+"/>', head)
    letters = [columns[-1].letter if columns else "A"] + ([found.group(1)] if found else [])
    return max(letters, key=column_index)


def stream_rows(source_path: str | Path, target_path: str | Path, title: str, columns: list[Column],
                first_row: int = 2) -> None:
    """Copy the workbook ``source_path`` to ``target_path``, with the template row ``first_row`` of sheet
    ``title`` replaced by every row of ``columns``."""
    count = len(columns[0].values) if columns else 0
    with zipfile.ZipFile(source_path) as source, \
            zipfile.ZipFile(target_path, "w", zipfile.ZIP_DEFLATED, compresslevel=3) as target:
        member = _sheet_member(source, title)
        for info in source.infolist():
            if info.filename != member:
                target.writestr(info, source.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
                continue
            sheet = source.read(member).decode("utf-8")
            template_start = sheet.index(f'<row r="{first_row}"')
            template_end = sheet.index("</row>", template_start) + len("</row>")
            styles = _template_styles(sheet[template_start:template_end], columns, first_row)
            head, tail = sheet[:template_start], sheet[template_end:]
            head = re.sub(r'<dimension ref="[^"]*"/>',
                          f'<dimension ref="A1:{_last_column(head, columns)}{first_row + count - 1}"/>', head)
            streamed = zipfile.ZipInfo(member, date_time=info.date_time)
            streamed.compress_type = zipfile.ZIP_DEFLATED
            with target.open(streamed, "w") as stream:
                stream.write(head.encode("utf-8"))
                for start in range(0, count, CHUNK_ROWS):
                    stream.write(row_xml(columns, first_row, styles, start, min(start + CHUNK_ROWS, count)).encode("utf-8"))
                stream.write(tail.encode("utf-8"))
