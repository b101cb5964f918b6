"""Read a sales file (.xlsx/.xlsm/.xls, .csv, .parquet) into clean transactions.

>>> sales = read_sales("sample_workbooks/sales_sample.xlsx")        # doctest: +SKIP
>>> sales.transactions.head()                                       # doctest: +SKIP
>>> sales.accounting.rows_read == sales.accounting.purchases + sales.accounting.returns + sales.accounting.excluded  # doctest: +SKIP
True

The file is only ever opened for reading. Excel files are read by calamine (a
Rust reader, through fastexcel), CSV and Parquet by Arrow, so a sheet at Excel's
row limit reads in seconds. The header row is found among the first rows (titles
and notes above it are skipped) and its columns are recognised by
:mod:`retention_xl.columns`; ``columns=`` maps them by hand.
"""

from __future__ import annotations

import codecs
import csv
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import columns as cols
from .cleaning import Accounting, clean_transactions
from .errors import InputError
from .values import AmbiguousDates
from .xlsxhead import etree, xlsx_head

HEADER_SEARCH_ROWS = 40
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
CSV_ENCODINGS = ("utf-8", "gb18030", "big5")
TEXT_ROLES = {cols.CUSTOMER_ID, cols.CUSTOMER_NAME, cols.ORDER_ID}

Progress = Callable[[str], None]


@dataclass
class SalesData:
    """Clean transactions and how they were obtained.

    ``transactions`` has one row per purchase or return: ``customer_id``,
    ``customer_name`` (where the sheet has one), ``date``, ``amount`` (negative for
    returns), ``order_id`` (where the sheet has one) and ``row`` (its row in the file).
    """

    transactions: pd.DataFrame
    accounting: Accounting
    file: Path
    sheet: str | None
    header_row: int
    columns: dict[str, str]
    dayfirst: bool | None
    encoding: str | None = None


@dataclass
class _RawTable:
    frame: pd.DataFrame  # one column per mapped role, named by the role
    row_numbers: np.ndarray
    column_map: cols.ColumnMap
    sheet: str | None
    encoding: str | None = None
    letters: dict[str, str] | None = None  # role -> column letter, for messages


def read_sales(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    dayfirst: bool | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> SalesData:
    """Read and clean the sales rows of ``path``.

    ``sheet`` picks a worksheet by name or 0-based position (default: the first
    with a recognisable table). ``columns`` maps roles to header text or column
    letters, overriding detection: keys ``customer``, ``name``, ``date``,
    ``amount``, ``quantity``, ``price``, ``order``. ``dayfirst`` settles dates
    such as 05/03/2024. ``encoding`` forces a CSV encoding.

    Raises :class:`retention_xl.errors.InputError` with the file, sheet, row and
    column concerned for anything that makes the file unusable.
    """
    path = Path(path)
    say = progress or (lambda message: None)
    mapping = _role_mapping(columns)
    started = time.perf_counter()
    kind = _kind_of(path)
    size_mb = path.stat().st_size / 1e6
    say(f"Reading {path.name} ({size_mb:,.1f} MB)…")
    if kind == "excel":
        raw = _read_excel(path, sheet, mapping)
    elif kind == "csv":
        raw = _read_csv(path, mapping, encoding)
    else:
        raw = _read_parquet(path, mapping)
    say(f"Read {len(raw.frame):,} rows in {time.perf_counter() - started:.1f} s; cleaning…")

    positions = raw.column_map.positions
    try:
        result = clean_transactions(
            raw.frame,
            customer_id_col=cols.CUSTOMER_ID if cols.CUSTOMER_ID in positions else None,
            customer_name_col=cols.CUSTOMER_NAME if cols.CUSTOMER_NAME in positions else None,
            datetime_col=cols.DATE,
            amount_col=cols.AMOUNT if cols.AMOUNT in positions else None,
            quantity_col=cols.QUANTITY if cols.AMOUNT not in positions else None,
            unit_price_col=cols.UNIT_PRICE if cols.AMOUNT not in positions else None,
            order_id_col=cols.ORDER_ID if cols.ORDER_ID in positions else None,
            row_numbers=raw.row_numbers,
            dayfirst=dayfirst,
        )
    except AmbiguousDates as error:
        raise InputError(
            f"{error}; say which with --dayfirst or --monthfirst",
            file=path, sheet=raw.sheet, column=_where(raw, cols.DATE),
        ) from None

    accounting = result.accounting
    if accounting.purchases == 0:
        raise InputError(_no_usable_rows(accounting, raw), file=path, sheet=raw.sheet)
    say(
        f"{accounting.purchases:,} purchases, {accounting.returns:,} returns, "
        f"{accounting.excluded:,} rows excluded ({time.perf_counter() - started:.1f} s)"
    )
    return SalesData(
        transactions=result.transactions,
        accounting=accounting,
        file=path,
        sheet=raw.sheet,
        header_row=raw.column_map.header_row + 1,
        columns={role: raw.column_map.header_of(role) for role in positions},
        dayfirst=result.dayfirst,
        encoding=raw.encoding,
    )


def _role_mapping(columns: Mapping[str, str] | None) -> dict[str, str]:
    by_option = {option: role for role, option in cols.ROLE_OPTIONS.items()}
    mapping = {}
    for key, header in (columns or {}).items():
        role = by_option.get(key, key if key in cols.ROLES else None)
        if role is None:
            raise InputError(f"unknown column role {key!r}: use {', '.join(cols.ROLE_OPTIONS.values())}")
        if header not in (None, ""):
            mapping[role] = str(header)
    return mapping


def _where(raw: _RawTable, role: str) -> str:
    letter = (raw.letters or {}).get(role)
    header = raw.column_map.header_of(role)
    return f'{letter} ("{header}")' if letter else f'"{header}"'


def _no_usable_rows(accounting: Accounting, raw: _RawTable) -> str:
    if accounting.rows_read == 0:
        return "the table has a header row but no data rows below it"
    reasons = [
        f"{reason.replace('_', ' ')}: {e.count:,} (e.g. rows {', '.join(map(str, e.example_rows))})"
        for reason, e in accounting.exclusions.items()
        if e.count
    ]
    hint = ""
    if accounting.exclusions["invalid_date"].count:
        hint = f"; check that column {_where(raw, cols.DATE)} holds dates"
    return f"no usable sales rows among {accounting.rows_read:,} read ({'; '.join(reasons)}){hint}"


# --- what kind of file ---------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


def _kind_of(path: Path) -> str:
    if not path.exists():
        raise InputError("file not found; check the path", file=path)
    if path.is_dir():
        raise InputError("is a folder, not a sales file", file=path)
    with path.open("rb") as handle:
        head = handle.read(8)
        handle.seek(0)
        start = handle.read(2_000_000)
    if not head:
        raise InputError("the file is empty (0 bytes)", file=path)
    suffix = path.suffix.lower()
    if head.startswith(_OLE_MAGIC):
        if _ENCRYPTED_STREAM in start:
            raise InputError("the workbook is password-protected; open it in Excel, remove the password "
                             "(File > Info > Protect Workbook) and save a copy", file=path)
        return "excel"
    if head.startswith(b"PK\x03\x04"):
        if suffix in CSV_SUFFIXES | PARQUET_SUFFIXES:
            raise InputError(f"has a {suffix} name but is a ZIP/Excel file; rename it to .xlsx", file=path)
        return "excel"
    if head.startswith(b"PAR1"):
        return "parquet"
    if suffix in EXCEL_SUFFIXES | PARQUET_SUFFIXES:
        raise InputError(
            f"is not a valid {suffix} file (it may be damaged, or another kind of file renamed); "
            "open it in Excel and save it again as .xlsx or .csv",
            file=path,
        )
    sample = start[:4096]
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError("is not a spreadsheet or CSV file (it contains binary data)", file=path)
    return "csv"


# --- Excel -----------------------------------------------------------------------------


def _read_excel(path: Path, sheet: str | int | None, mapping: dict[str, str]) -> _RawTable:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as error:  # calamine reports damaged files in many ways
        raise InputError(f"cannot be opened as a workbook ({_first_line(error)}); "
                         "open it in Excel and save it again as .xlsx", file=path) from None
    names = reader.sheet_names
    if sheet is not None:
        if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
            position = int(sheet)
            if not 0 <= position < len(names):
                raise InputError(f"has no sheet number {position}; its sheets are {_quoted(names)}", file=path)
            candidates = [names[position]]
        elif sheet in names:
            candidates = [sheet]
        else:
            raise InputError(f'has no sheet "{sheet}"; its sheets are {_quoted(names)}', file=path)
    else:
        candidates = names

    samples = {}
    for name in candidates:
        rows = _head_rows(path, reader, name)
        samples[name] = rows
        found = cols.find_header(rows, mapping)
        if found is not None:
            return _load_excel_table(reader, name, found)

    if all(not any(any(v not in (None, "") for v in row) for row in rows) for rows in samples.values()):
        where = f'sheet "{candidates[0]}"' if sheet is not None else "every sheet"
        raise InputError(f"{where} is empty: there is no table to read", file=path)
    first = candidates[0]
    raise InputError(_header_help(samples[first], mapping), file=path, sheet=first)


def _head_rows(path: Path, reader, sheet: str) -> list[list[object]]:
    """The first rows of a sheet, indexed by absolute row and column (0-based)."""
    if zipfile.is_zipfile(path):
        try:
            return xlsx_head(path, sheet, HEADER_SEARCH_ROWS)
        except (KeyError, ValueError, etree.XMLSyntaxError):
            pass  # an unusual package layout: let calamine read it
    sample = reader.load_sheet(sheet, header_row=None, skip_rows=0, n_rows=HEADER_SEARCH_ROWS, dtypes="string")
    offset = min((c.absolute_index for c in sample.available_columns()), default=0)
    return [[None] * offset + [None if pd.isna(v) else v for v in row] for row in sample.to_pandas().itertuples(index=False)]


def _load_excel_table(reader, sheet: str, found: cols.ColumnMap) -> _RawTable:
    positions = found.positions
    by_index = {index: role for role, index in positions.items()}
    indices = sorted(by_index)
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
    return _RawTable(frame, row_numbers, found, sheet, letters=letters)


def _quoted(names) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__


def _header_help(rows, mapping: dict[str, str]) -> str:
    wanted = "a customer id or name, an order date, and an amount (or a quantity and a unit price)"
    message = f"cannot find the header row: need {wanted}. Headers seen: {cols.describe_headers(rows)}. "
    if mapping:
        message += "Check that the names given with --customer/--date/--amount/... match these headers exactly. "
    return message + ('Name the columns, e.g. --customer "会员号" --date "日期" --amount "实付金额", '
                      "or put them in a --config file")


# --- CSV -------------------------------------------------------------------------------


def _sniff_encoding(sample: bytes, mapping: dict[str, str]) -> tuple[str, str]:
    """(encoding, decoded sample). UTF-8 first; otherwise whichever of GB18030 and Big5 yields a header."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", sample[3:].decode("utf-8", errors="ignore")
    decoded = {}
    for encoding in CSV_ENCODINGS:
        try:
            decoded[encoding] = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8":
            return encoding, decoded[encoding]
    for encoding, text in decoded.items():
        if cols.find_header(_csv_rows(text), mapping) is not None:
            return encoding, text
    if decoded:
        encoding = next(iter(decoded))
        return encoding, decoded[encoding]
    return "gb18030", sample.decode("gb18030", errors="replace")


def _csv_rows(text: str, delimiter: str | None = None) -> list[list[str]]:
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    if delimiter is None:
        delimiter = _sniff_delimiter(lines)
    return [row for row in csv.reader(lines, delimiter=delimiter)]


def _sniff_delimiter(lines: list[str]) -> str:
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _read_csv(path: Path, mapping: dict[str, str], encoding: str | None) -> _RawTable:
    with path.open("rb") as handle:
        sample = handle.read(1 << 20)
    if encoding:
        text = sample.decode(encoding, errors="replace")
        text = text.lstrip("\ufeff")
    else:
        encoding, text = _sniff_encoding(sample, mapping)
    lines = text.splitlines()
    delimiter = _sniff_delimiter(lines[:HEADER_SEARCH_ROWS])
    rows = _csv_rows(text, delimiter)
    if not any(any(cell.strip() for cell in row) for row in rows):
        raise InputError("the file has no text rows to read", file=path)
    found = cols.find_header(rows, mapping)
    if found is None:
        raise InputError(_header_help(rows, mapping), file=path)

    width = len(found.headers)
    names = [f"c{i}" for i in range(width)]
    by_index = {index: role for role, index in found.positions.items()}
    wanted = [names[i] for i in sorted(by_index)]
    # Arrow skips blank lines; count rows by line only when there are none to skip.
    if _has_blank_lines(path):
        frame = pd.read_csv(
            path, encoding=encoding, sep=delimiter, header=None, names=names,
            skiprows=found.header_row + 1, usecols=wanted, dtype=str, skip_blank_lines=False,
            keep_default_na=False, na_values=[""], on_bad_lines="skip", index_col=False,
        )
    else:
        frame = _arrow_csv(path, encoding, delimiter, found.header_row + 1, names, wanted, by_index)
    frame.columns = [by_index[int(name[1:])] for name in frame.columns]
    row_numbers = np.arange(found.header_row + 2, found.header_row + 2 + len(frame))
    letters = {role: cols.column_letter(index) for role, index in found.positions.items()}
    return _RawTable(frame, row_numbers, found, None, encoding=encoding, letters=letters)


def _has_blank_lines(path: Path, chunk: int = 1 << 24) -> bool:
    """Whether the file holds an empty line, scanned in chunks rather than read whole."""
    tail = b""
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            data = tail + block
            if b"\n\n" in data or b"\n\r\n" in data:
                return True
            tail = data[-2:]
    return False


def _arrow_csv(path: Path, encoding: str, delimiter: str, skip: int, names: list[str], wanted: list[str],
               by_index: dict[int, str]) -> pd.DataFrame:
    """Read the wanted CSV columns with Arrow: ids as text, the rest typed where Arrow can.

    Typed columns (dates, numbers) keep ten million rows within memory; when a
    column's values do not fit the type Arrow guessed from the first block, the read
    is repeated with every column as text (the cleaning rules then read the text).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    text_columns = [n for n in wanted if by_index[int(n[1:])] in TEXT_ROLES]
    read_options = pacsv.ReadOptions(encoding=encoding.replace("-sig", ""), skip_rows=skip, column_names=names,
                                     block_size=1 << 24)
    parse_options = pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=lambda row: "skip")
    attempts = (
        {n: pa.string() for n in text_columns},
        {n: pa.string() for n in wanted},
    )
    failure: Exception | None = None
    for column_types in attempts:
        try:
            return pacsv.read_csv(
                path, read_options=read_options, parse_options=parse_options,
                convert_options=pacsv.ConvertOptions(include_columns=wanted, column_types=column_types,
                                                     strings_can_be_null=True, timestamp_parsers=[pacsv.ISO8601]),
            ).to_pandas(self_destruct=True, split_blocks=True)
        except (pa.ArrowInvalid, UnicodeDecodeError) as error:
            failure = error
    raise InputError(f"cannot be read as {encoding} CSV ({_first_line(failure)}); "
                     "save it as UTF-8 CSV or give --encoding", file=path)


# --- Parquet -----------------------------------------------------------------------------


def _read_parquet(path: Path, mapping: dict[str, str]) -> _RawTable:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:
        raise InputError(f"cannot be read as Parquet ({_first_line(error)})", file=path) from None
    headers = parquet.schema_arrow.names
    found = cols.find_header([headers], mapping)
    if found is None:
        raise InputError(_header_help([headers], mapping), file=path)
    by_index = {index: role for role, index in found.positions.items()}
    table = parquet.read(columns=[headers[i] for i in sorted(by_index)])
    frame = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    frame.columns = [by_index[i] for i in sorted(by_index)]
    # Parquet has no header row: row N is the N-th record.
    return _RawTable(frame, np.arange(1, len(frame) + 1), found, None)
