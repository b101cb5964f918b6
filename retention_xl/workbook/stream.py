"""Finishing a workbook openpyxl has saved: each formula's value filled in, one large sheet's rows streamed.

The workbook is copied once, member by member, into a new archive (:func:`finish`):
every worksheet's formula cells get the values the writer recorded (:mod:`.cached`),
and one worksheet can have its template row replaced by streamed rows.

openpyxl builds a Python object per cell, which costs about 20 microseconds a cell:
half a minute for a Customers sheet of 100,000 rows. Measured side by side (see the
README), neither its normal nor its write-only mode comes near the 15-second target
at Excel's row limit. So the Customers sheet lets openpyxl lay out the sheet --
header, widths, frozen panes, filter, print set-up and one styled template row --
and then this module replaces the template row with every data row, built a column
at a time with Arrow's string functions (a chunk of rows is one Arrow array, whose
data buffer is the XML text) and streamed into the .xlsx archive while a second
thread compresses the chunk before. The cell XML is what openpyxl itself writes
(inline strings, the template row's style ids; ``xml:space`` only on text with
leading or trailing spaces, and no ``t="n"``, which is the default), so the result
opens the same way in Excel, WPS and LibreOffice.
"""

from __future__ import annotations

import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

try:
    from isal import isal_zlib as _fast_zlib
except ImportError:  # a platform without ISA-L's wheels: zipfile's own zlib
    _fast_zlib = None

from ..xlsx_format import EXCEL_EPOCH, column_index, sheet_member
from .cached import FormulaValues

CHUNK_ROWS = 50_000
BLOCK_BYTES = 1 << 20  # a sheet without streamed rows is copied a megabyte at a time
COMPRESS_LEVEL = 3  # measured on 250 MB of sheet XML: 1.7 s and 34 MB, against 3.7 s and 29 MB at zlib's default 6
ISAL_LEVEL = 2  # on the 91 MB of XML of 103,000 customers' rows: 0.09 s and 13.1 MB; zlib at 3: 0.73 s and 11.8 MB
_ILLEGAL_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]"  # RE2 syntax (Arrow)
_PADDED = r"^\s|\s$"
_NOT_PLAIN = rf"{_ILLEGAL_XML}|[&<>]|{_PADDED}"


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


def _escape(text: pa.Array) -> pa.Array:
    text = pc.replace_substring_regex(text, _ILLEGAL_XML, "")
    for character, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = pc.replace_substring(text, character, entity)
    return text


def _plain(text: pa.Array) -> bool:
    """Whether no text needs escaping or keeps spaces at an end: one pass, where escaping takes four copies."""
    return not pc.any(pc.match_substring_regex(text, _NOT_PLAIN)).as_py()


def _as_text(values: pd.Series) -> pa.Array:
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # text mixed with numbers: each as pandas writes it
        return pa.array(values.astype("string"), type=pa.string(), from_pandas=True)


def _cells(column: Column, rows: pa.Array, style: str) -> pa.Array:
    """The ``<c>`` elements of one column for the given row numbers (as text); empty for a missing value."""
    values = column.values
    if column.kind == "text":
        content = _as_text(values)
        if _plain(content):
            opening = ' t="inlineStr"><is><t>'
        else:
            content = _escape(content)
            padded = pc.fill_null(pc.match_substring_regex(content, _PADDED), False)  # only these need xml:space
            opening = pc.if_else(padded, ' t="inlineStr"><is><t xml:space="preserve">', ' t="inlineStr"><is><t>')
        closing = "</t></is></c>"
    else:
        if column.kind == "date":
            epoch = EXCEL_EPOCH.to_datetime64().astype("datetime64[D]")
            serial = pd.Series(values.to_numpy(dtype="datetime64[D]") - epoch).dt.days  # missing dates stay missing
            numbers = pa.array(serial, type=pa.int64(), from_pandas=True)
        else:
            numbers = pa.array(pd.Series(values.to_numpy()), from_pandas=True)
        opening, content, closing = "><v>", numbers.cast(pa.string()), "</v></c>"  # t="n" is the default
    cells = pc.binary_join_element_wise('<c r="' + column.letter, rows, '"' + style, opening, content, closing, "")
    return pc.fill_null(cells, "")  # a missing value is an empty cell: no element at all


def row_xml(columns: list[Column], first_row: int, styles: dict[str, str], start: int, stop: int) -> bytes:
    """The ``<row>`` elements for table rows ``start`` .. ``stop - 1`` (sheet rows from ``first_row``), as UTF-8."""
    rows = pa.array(np.arange(first_row + start, first_row + stop)).cast(pa.string())
    cells = [_cells(Column(column.letter, column.kind, column.values.iloc[start:stop].reset_index(drop=True)),
                    rows, styles.get(column.letter, "")) for column in columns]
    xml = pc.binary_join_element_wise('<row r="', rows, '">', *cells, "</row>", "")
    # The rows lie end to end in the array's data buffer: that buffer, between the first and last offset, is the text.
    offsets = np.frombuffer(xml.buffers()[1], dtype=np.int32)[xml.offset:xml.offset + len(xml) + 1]
    return xml.buffers()[2][offsets[0]:offsets[-1]].to_pybytes() if len(xml) else b""


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


@dataclass
class Rows:
    """Rows to stream into sheet ``title`` in place of its template row ``first_row``."""

    title: str
    columns: list[Column]
    first_row: int = 2

    @property
    def count(self) -> int:
        return len(self.columns[0].values) if self.columns else 0


def _stream_sheet(sheet: str, target: zipfile.ZipFile, member: str, rows: Rows, formulas: FormulaValues) -> None:
    """Write ``sheet`` (the member's XML) to ``target`` with its template row replaced by every row of ``rows``."""
    columns, first_row, count = rows.columns, rows.first_row, rows.count
    template_start = sheet.index(f'<row r="{first_row}"')
    template_end = sheet.index("</row>", template_start) + len("</row>")
    styles = _template_styles(sheet[template_start:template_end], columns, first_row)
    head, tail = sheet[:template_start], sheet[template_end:]
    head = re.sub(r'<dimension ref="[^"]*"/>',
                  f'<dimension ref="A1:{_last_column(head, columns)}{first_row + count - 1}"/>', head)
    # Opened by name, the member takes the archive's compression level (a ZipInfo would bring zlib's default).
    with target.open(member, "w") as stream, ThreadPoolExecutor(1) as compressor:
        _deflate_fast(stream)
        # zlib lets go of the interpreter while it compresses: one chunk is compressed while the next is built.
        pending = compressor.submit(stream.write, formulas.fill(head.encode("utf-8")))
        for start in range(0, count, CHUNK_ROWS):
            chunk = row_xml(columns, first_row, styles, start, min(start + CHUNK_ROWS, count))
            pending.result()
            pending = compressor.submit(stream.write, chunk)
        pending.result()
        stream.write(formulas.fill(tail.encode("utf-8")))


def _deflate_fast(stream) -> None:
    """Have ISA-L compress what is written to ``stream`` (a member of a ``zipfile`` archive open for writing),
    where it is installed: the streamed rows compress about six times as fast as with zlib, into a file about
    a tenth larger. ``zipfile`` has no choice of compressor, so its own is replaced."""
    if _fast_zlib is not None and getattr(stream, "_compressor", None) is not None:
        stream._compressor = _fast_zlib.compressobj(ISAL_LEVEL, _fast_zlib.DEFLATED, -15)


def _copy_sheet(source: zipfile.ZipFile, target: zipfile.ZipFile, member: str, formulas: FormulaValues) -> None:
    """Copy a sheet a block at a time, its formulas filled in; a block is cut after its last whole cell."""
    with source.open(member) as reading, target.open(member, "w") as writing:
        rest = b""
        while block := reading.read(BLOCK_BYTES):
            text = rest + block
            end = text.rfind(b"</c>") + len(b"</c>")
            if end < len(b"</c>"):  # no whole cell yet
                rest = text
                continue
            writing.write(formulas.fill(text[:end]))
            rest = text[end:]
        writing.write(formulas.fill(rest))


def _check_filled(title: str, formulas: FormulaValues) -> None:
    """A formula saved without its value, or a value recorded for a cell without a formula, is a defect."""
    if formulas.unknown:
        cells = ", ".join(formulas.unknown[:5])
        raise StreamError(f"sheet {title!r}: no value was recorded for the formulas in {cells}")
    if formulas.missing():
        cells = ", ".join(formulas.missing()[:5])
        raise StreamError(f"sheet {title!r}: no formula to hold the values recorded for {cells}")


def finish(source_path: str | Path, target_path: str | Path, values: dict[tuple[str, str], object],
           rows: Rows | None = None) -> None:
    """Copy the workbook ``source_path`` (as openpyxl saved it) to ``target_path``: every formula cell with
    its value from ``values`` (``{(sheet title, "B7"): value}``) and, with ``rows``, every row streamed in.

    Every formula must have its value and every value its formula: a difference is a :class:`StreamError`.
    """
    by_sheet: dict[str, dict[str, object]] = {}
    for (title, coordinate), value in values.items():
        by_sheet.setdefault(title, {})[coordinate] = value
    with zipfile.ZipFile(source_path) as source, \
            zipfile.ZipFile(target_path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as target:
        titles = {_sheet_member(source, title): title for title in [*by_sheet, *([rows.title] if rows else [])]}
        for info in source.infolist():
            member = info.filename
            if member not in titles and not member.startswith("xl/worksheets/sheet"):
                target.writestr(info, source.read(member), compress_type=zipfile.ZIP_DEFLATED)
                continue
            title = titles.get(member, member)  # a sheet without formulas is checked for none
            formulas = FormulaValues(by_sheet.get(title, {}))
            if rows and title == rows.title:
                _stream_sheet(source.read(member).decode("utf-8"), target, member, rows, formulas)
            else:
                _copy_sheet(source, target, member, formulas)
            _check_filled(title, formulas)
