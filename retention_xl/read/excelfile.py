"""Reading the sales table of an Excel workbook (.xlsx, .xlsm, .xls) with calamine, through fastexcel."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from . import columns as cols
from ..errors import InputError
from .rawtable import HEADER_SEARCH_ROWS, TEXT_ROLES, RawTable, first_line, header_help, quoted
from .xlsxhead import etree, formulas_without_values, sheet_extent, xlsx_head

# calamine holds a sheet as a grid of 32-byte cells from A1 to its farthest cell: beyond this many empty
# cells in that grid (about 1.6 GB), a sheet is refused rather than read.
EMPTY_CELLS_LIMIT = 50_000_000


_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")


def _refuse_xml_declarations(path: Path) -> None:
    """Excel never writes a DOCTYPE or an entity declaration; a package with one is damaged or an attack
    (an external entity, or entities that expand a billion times), so it is refused before any XML is parsed."""
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as package:
            for info in package.infolist():
                if info.filename.endswith((".xml", ".rels", ".vml")):
                    with package.open(info) as part:
                        head = part.read(4096)
                    if any(mark in head for mark in _DECLARATIONS):
                        raise InputError(f"part {info.filename} declares XML entities, which Excel never writes: the "
                                         "file is damaged or unsafe; open it in Excel and save it again", file=path)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as error:
        raise InputError(f"cannot be opened as a workbook ({first_line(error)}); "
                         "open it in Excel and save it again as .xlsx", file=path) from None


NUMBERS_ADVICE = ("is an Apple Numbers document, which Excel cannot read and neither can this program: open it in "
                  "Numbers, choose File > Export To > Excel, and report on the .xlsx file it writes")
_SALES_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".csv", ".tsv", ".parquet")


def _refuse_other_packages(path: Path) -> None:
    """A ZIP file that is no workbook (a Numbers document, an archive renamed) gets advice that works, rather
    than the reading library's complaint about a part it lacks."""
    if path.suffix.lower() == ".numbers":
        raise InputError(NUMBERS_ADVICE, file=path)
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as package:
            names = package.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError):
        return  # damaged: the workbook reader says so
    if any(name.startswith("Index/") and name.endswith(".iwa") for name in names) or "Index.zip" in names:
        raise InputError(NUMBERS_ADVICE, file=path)
    if "[Content_Types].xml" in names or "mimetype" in names:  # a workbook (or an OpenDocument sheet)
        return
    inside = [name for name in names if name.lower().endswith(_SALES_SUFFIXES)]
    if inside:
        raise InputError(f"is a ZIP archive, not a workbook; it holds {quoted(inside[:3])}: unpack it and report on "
                         "the sales file inside", file=path)
    raise InputError("is a ZIP archive, not a workbook, and holds no workbook or CSV file: open the sales file in "
                     "Excel and save it as .xlsx", file=path)


def read_excel_table(path: Path, sheet: str | int | None, mapping: dict[str, str]) -> RawTable:
    import fastexcel

    _refuse_other_packages(path)
    _refuse_xml_declarations(path)
    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as error:  # calamine reports damaged files in many ways
        raise InputError(f"cannot be opened as a workbook ({first_line(error)}); "
                         "open it in Excel and save it again as .xlsx", file=path) from None
    names = reader.sheet_names
    if sheet is not None:
        if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
            position = int(sheet)
            if not 0 <= position < len(names):
                raise InputError(f"has no sheet number {position}; its sheets are {quoted(names)}", file=path)
            candidates = [names[position]]
        elif sheet in names:
            candidates = [sheet]
        else:
            raise InputError(f'has no sheet "{sheet}"; its sheets are {quoted(names)}', file=path)
    else:
        candidates = names

    samples = {}
    for name in candidates:
        rows = _head_rows(path, reader, name)
        samples[name] = rows
        found = cols.find_header(rows, mapping)
        if found is not None:
            return _load_excel_table(path, reader, name, found)

    if all(not any(any(v not in (None, "") for v in row) for row in rows) for rows in samples.values()):
        where = f'sheet "{candidates[0]}"' if sheet is not None else "every sheet"
        raise InputError(f"{where} is empty: there is no table to read", file=path)
    first = candidates[0]
    raise InputError(header_help(samples[first], mapping), file=path, sheet=first)


def _refuse_a_sparse_grid(path: Path, sheet: str) -> None:
    """Refuse a sheet whose farthest cell would make calamine's grid far larger than the cells it holds."""
    if not zipfile.is_zipfile(path):
        return  # .xls and .xlsb: binary records this check cannot read
    try:
        extent = sheet_extent(path, sheet, limit=EMPTY_CELLS_LIMIT)
    except (KeyError, zipfile.BadZipFile):
        return  # an unusual package layout: calamine says what is wrong with it
    if extent.empty_cells > EMPTY_CELLS_LIMIT:
        raise InputError(
            f"its cells reach {extent.corner}, a grid of {extent.rows:,} rows x {extent.columns:,} columns that holds "
            f"only {extent.cells:,} cells: reading it would take {extent.rows * extent.columns * 32 / 1e9:,.0f} GB "
            "of memory for empty cells. Delete the cells far from the table (in Excel, Ctrl+End goes to the last one) "
            "or copy the table to a new sheet, and save again", file=path, sheet=sheet)


def _head_rows(path: Path, reader, sheet: str) -> list[list[object]]:
    """The first rows of a sheet, indexed by absolute row and column (0-based)."""
    if zipfile.is_zipfile(path):
        try:
            return xlsx_head(path, sheet, HEADER_SEARCH_ROWS)
        except (KeyError, ValueError, etree.XMLSyntaxError):
            _refuse_a_sparse_grid(path, sheet)  # an unusual package layout: let calamine read it
    sample = reader.load_sheet(sheet, header_row=None, skip_rows=0, n_rows=HEADER_SEARCH_ROWS, dtypes="string")
    offset = min((c.absolute_index for c in sample.available_columns()), default=0)
    return [[None] * offset + [None if pd.isna(v) else v for v in row] for row in sample.to_pandas().itertuples(index=False)]


def _load_excel_table(path: Path, reader, sheet: str, found: cols.ColumnMap) -> RawTable:
    positions = found.positions
    by_index = {index: role for role, index in positions.items()}
    indices = sorted(by_index)
    _refuse_a_sparse_grid(path, sheet)
    # Ids and order numbers are text even when they look like numbers; letting
    # calamine guess would turn "00123" into 123.
    table = reader.load_sheet(
        sheet,
        header_row=None,
        skip_rows=found.header_row + 1,
        use_columns=indices,  # absolute column positions
        dtypes={i: "string" for i in indices if by_index[i] in TEXT_ROLES},
        schema_sample_rows=None,
    )
    frame = table.to_pandas()
    frame.columns = [by_index[i] for i in indices]
    row_numbers = np.arange(found.header_row + 2, found.header_row + 2 + len(frame))
    letters = {role: cols.column_letter(index) for role, index in positions.items()}
    raw = RawTable(frame, row_numbers, found, sheet, letters=letters)
    raw.unsaved_formulas = _unsaved_formulas(path, sheet, raw)
    return raw


_AMOUNT_ROLES = (cols.AMOUNT, cols.QUANTITY, cols.UNIT_PRICE)


def _unsaved_formulas(path: Path, sheet: str, raw: RawTable) -> np.ndarray | None:
    """Per row: an amount cell holds a formula with no saved value. Looked for only where amounts are missing."""
    roles = [role for role in _AMOUNT_ROLES if role in raw.frame]
    if not zipfile.is_zipfile(path) or not any(raw.frame[role].isna().any() for role in roles):
        return None
    try:
        rows = formulas_without_values(path, sheet, {raw.column_map.positions[role] for role in roles})
    except (KeyError, ValueError, etree.XMLSyntaxError):
        return None
    return np.isin(raw.row_numbers, list(rows)) if rows else None
