"""The first rows of an .xlsx worksheet, and how far its cells reach, read straight from its XML.

Finding the header row needs only the top of a sheet, but calamine parses a
whole worksheet before handing out any row: at Excel's row limit that is seconds
spent twice. This reads the package's XML incrementally and stops after the rows
it needs, resolving only the shared strings those rows use.

calamine also holds a sheet as a grid from its first cell to its last: one value
addressed XFD1048576 makes a grid of seventeen billion cells. :func:`sheet_extent`
measures the grid a sheet's references make against the cells it holds, a chunk of
XML at a time, before calamine is asked to read it.
"""

from __future__ import annotations

import re
from array import array
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

try:
    from isal import isal_zlib as _fast_zlib
except ImportError:  # a platform without ISA-L's wheels: zlib, about three times slower
    _fast_zlib = None

from ..xlsx_format import MAIN, SAFE_PARSING, column_index, column_letter, sheet_member

_REFERENCE = re.compile(r"([A-Z]+)(\d+)")


def _text(node) -> str:
    return "".join(t.text or "" for t in node.iter(f"{MAIN}t"))


def _shared_strings(package: zipfile.ZipFile, needed: set[int]) -> dict[int, str]:
    if not needed or "xl/sharedStrings.xml" not in package.namelist():
        return {}
    last, found = max(needed), {}
    with package.open("xl/sharedStrings.xml") as stream:
        for index, (_, node) in enumerate(etree.iterparse(stream, tag=f"{MAIN}si", **SAFE_PARSING)):
            if index in needed:
                found[index] = _text(node)
            node.clear()
            if index >= last:
                break
    return found


def xlsx_head(path: str | Path, sheet: str, rows: int) -> list[list[object]]:
    """Cells of the first ``rows`` rows of ``sheet``: ``result[row][column]``, both 0-based and absolute."""
    with zipfile.ZipFile(path) as package:
        cells: dict[tuple[int, int], object] = {}
        shared: dict[tuple[int, int], int] = {}
        with package.open(sheet_member(package, sheet)) as stream:
            for _, row in etree.iterparse(stream, tag=f"{MAIN}row", **SAFE_PARSING):
                for cell in row.iter(f"{MAIN}c"):
                    match = _REFERENCE.fullmatch(cell.get("r", ""))
                    if not match:  # references are optional in the format; calamine copes without
                        raise ValueError("a cell without a reference")
                    position = (int(match.group(2)) - 1, column_index(match.group(1)))
                    if position[0] >= rows:  # a cell claiming a row further down is not in the head
                        continue
                    kind = cell.get("t")
                    if kind == "inlineStr":
                        cells[position] = _text(cell)
                        continue
                    value = cell.findtext(f"{MAIN}v")
                    if value is None:
                        continue
                    if kind == "s":
                        shared[position] = int(value)
                    else:
                        cells[position] = value
                number = int(row.get("r", "0") or 0)
                row.clear()
                if number >= rows:
                    break
        strings = _shared_strings(package, set(shared.values()))
        for position, index in shared.items():
            cells[position] = strings.get(index)
    if not cells:
        return []
    height = max(r for r, _ in cells) + 1
    width = max(c for _, c in cells) + 1
    grid = [[None] * width for _ in range(height)]
    for (r, c), value in cells.items():
        grid[r][c] = value
    return grid


def _contains(stream, needle: bytes, chunk: int = 1 << 22) -> bool:
    """Whether a stream holds ``needle``, read a chunk at a time."""
    tail = b""
    while block := stream.read(chunk):
        if needle in tail + block:
            return True
        tail = block[-len(needle) + 1:]
    return False


def formulas_without_values(path: str | Path, sheet: str, columns: set[int]) -> set[int]:
    """Rows (1-based) where a cell in ``columns`` (0-based) holds a formula but no saved value.

    A program that writes workbooks without a calculation engine leaves formula cells
    empty until Excel opens and saves the file: the value is not wrong, it is not there.
    """
    rows: set[int] = set()
    with zipfile.ZipFile(path) as package:
        member = sheet_member(package, sheet)
        with package.open(member) as stream:
            if not _contains(stream, b"<f"):  # most sheets: no formula at all
                return rows
        with package.open(member) as stream:
            for _, cell in etree.iterparse(stream, tag=f"{MAIN}c", **SAFE_PARSING):
                if cell.find(f"{MAIN}f") is not None and not (cell.findtext(f"{MAIN}v") or "").strip():
                    match = _REFERENCE.fullmatch(cell.get("r", ""))
                    if match and column_index(match.group(1)) in columns:
                        rows.add(int(match.group(2)))
                cell.clear()
    return rows


# A reference beyond column Z or row 1,049,999; any other reaches at most NEAR_ROWS x NEAR_COLUMNS (27 million
# cells, within the limit), so a sheet of Excel's full height and up to 26 columns matches none.
_FAR_REFERENCE = re.compile(rb'r="([A-Z]{2,}|[A-Z](?=[0-9]{8}|[2-9][0-9]{6}"|1[1-9][0-9]{5}"|10[5-9][0-9]{4}"))([0-9]+)"')
_ANY_REFERENCE = re.compile(rb'r="([A-Z]+)([0-9]+)"')
# Every far reference begins with one of these. Arrow's RE2 tells whether a piece holds one at about four times
# the speed of Python's search, so the search runs only on the pieces that do (in a sheet of Excel's full
# height, those of rows 1,000,000 on).
_FAR_SCREEN = r'r="[A-Z][A-Z]|r="[A-Z][0-9]{7}'
NEAR_ROWS, NEAR_COLUMNS = 1_049_999, 26


@dataclass
class SheetExtent:
    """The grid a worksheet's cell references make (from A1 to ``corner``) and the cells it holds."""

    rows: int
    columns: int
    cells: int

    @property
    def corner(self) -> str:
        """The grid's last cell, as Excel names it."""
        return f"{column_letter(self.columns - 1)}{self.rows}" if self.rows and self.columns else "A1"

    @property
    def empty_cells(self) -> int:
        """Cells of the grid that hold nothing."""
        return max(self.rows * self.columns - self.cells, 0)


def _inflated(path: str | Path, package: zipfile.ZipFile, member: str, size: int = 1 << 22):
    """The member's bytes, about ``size`` at a time: a deflated member inflated with ISA-L where it is installed
    (about three times zlib's speed), any other member read through ``zipfile``."""
    info = package.getinfo(member)
    if _fast_zlib is None or info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1:
        with package.open(member) as stream:
            while block := stream.read(size):
                yield block
        return
    with open(path, "rb") as raw:
        raw.seek(info.header_offset)  # the data follow the local header, its name and its extra field
        header = raw.read(30)
        if header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"no local header for {member}")
        raw.seek(info.header_offset + 30 + int.from_bytes(header[26:28], "little")
                 + int.from_bytes(header[28:30], "little"))
        left, inflater = info.compress_size, _fast_zlib.decompressobj(-15)
        while left or inflater.unconsumed_tail:
            compressed = inflater.unconsumed_tail
            if not compressed:
                compressed = raw.read(min(left, max(size // 8, 1)))
                if not compressed:
                    raise zipfile.BadZipFile(f"{member} ends before its compressed size")
                left -= len(compressed)
            try:
                block = inflater.decompress(compressed, size)
            except _fast_zlib.error as error:  # damaged data: the workbook reader says what is wrong
                raise zipfile.BadZipFile(f"{member}: {error}") from None
            if block:
                yield block
        if block := inflater.flush():
            yield block


def _pieces(blocks):
    """The ``blocks`` as (bytes, start, end) pieces that each begin and end between tags (never inside one),
    mostly whole blocks as read, not copied; the next block is inflated on another thread meanwhile (zlib
    lets go of the interpreter while it works)."""
    with ThreadPoolExecutor(max_workers=1) as reader:
        carry, pending = b"", reader.submit(next, blocks, b"")
        while block := pending.result():
            pending = reader.submit(next, blocks, b"")
            first, last = block.find(b"<"), block.rfind(b"<")
            if first < 0:  # no tag begins in this block: all of it continues the one before
                carry += block
                continue
            yield carry + block[:first], 0, len(carry) + first
            yield block, first, last
            carry = block[last:]
        yield carry, 0, len(carry)


def _may_hold(screen: str, data: bytes, start: int, end: int) -> bool:
    """Whether ``data[start:end]`` holds a match of the RE2 pattern ``screen``, looked for without a copy."""
    import pyarrow as pa
    import pyarrow.compute as pc

    offsets = pa.py_buffer(array("q", [start, end]))
    piece = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    return pc.match_substring_regex(piece, screen)[0].as_py()


def _extent(blocks, pattern: re.Pattern) -> SheetExtent:
    """The grid the cell references ``pattern`` finds make, and their number."""
    rows = columns = cells = 0
    screen = _FAR_SCREEN if pattern is _FAR_REFERENCE else None
    for data, start, end in _pieces(blocks):
        if screen is not None and not _may_hold(screen, data, start, end):
            continue
        references = pattern.findall(data, start, end)
        if references:
            cells += len(references)
            letters = max({letters for letters, _ in references}, key=lambda text: (len(text), text))
            rows = max(rows, max(int(digits) for _, digits in references))
            columns = max(columns, column_index(letters.decode()) + 1)
    return SheetExtent(rows, columns, cells)


def sheet_extent(path: str | Path, sheet: str, *, limit: int) -> SheetExtent:
    """How far the cells of ``sheet`` reach against how many there are, read without building the grid.

    References within row 1,049,999 and column Z are taken to reach that corner, so most
    sheets are measured by a quick pass over their far references only (a bound, not
    the grid itself: Z1049999 below); a sheet whose bound exceeds ``limit`` cells is
    measured exactly and its cells counted (else ``cells`` counts only the far ones).

    >>> sheet_extent("sample_workbooks/sales_sample.xlsx", "销售明细", limit=50_000_000).corner
    'Z1049999'
    >>> extent = sheet_extent("sample_workbooks/sales_sample.xlsx", "销售明细", limit=0)
    >>> extent.corner, extent.cells
    ('I16078', 144689)
    """
    with zipfile.ZipFile(path) as package:
        member = sheet_member(package, sheet)
        far = _extent(_inflated(path, package, member), _FAR_REFERENCE)
        bound = SheetExtent(max(far.rows, NEAR_ROWS), max(far.columns, NEAR_COLUMNS), far.cells)
        if bound.rows * bound.columns <= limit:
            return bound
        return _extent(_inflated(path, package, member), _ANY_REFERENCE)
