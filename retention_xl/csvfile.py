"""Reading the sales table of a CSV file: encoding and separator detected, read by Arrow."""

from __future__ import annotations

import codecs
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import columns as cols
from .errors import InputError
from .rawtable import HEADER_SEARCH_ROWS, TEXT_ROLES, RawTable, first_line, header_help, nan_as_infinite

CSV_ENCODINGS = ("utf-8", "gb18030", "big5")
# A note or address field may be long; Python's csv module refuses fields over 128 KiB by default.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


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


def read_csv_table(path: Path, mapping: dict[str, str], encoding: str | None) -> RawTable:
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
        raise InputError(header_help(rows, mapping), file=path)

    width = len(found.headers)
    names = [f"c{i}" for i in range(width)]
    by_index = {index: role for role, index in found.positions.items()}
    wanted = [names[i] for i in sorted(by_index)]
    letters = {role: cols.column_letter(index) for role, index in found.positions.items()}
    frame = None
    # Arrow skips blank lines and lines with the wrong number of fields without saying where:
    # then the file is read line by line, so that every row keeps its line number.
    if not _has_blank_lines(path):
        frame = _arrow_csv(path, encoding, delimiter, found.header_row + 1, names, wanted, by_index)
    if frame is None:
        table = _csv_by_line(path, encoding, delimiter, found.header_row, width, sorted(by_index))
        table.frame.columns = [by_index[i] for i in sorted(by_index)]
        return RawTable(table.frame, table.lines, found, None, encoding=encoding, letters=letters,
                        malformed_lines=table.malformed[:5], malformed_count=len(table.malformed))
    frame.columns = [by_index[int(name[1:])] for name in frame.columns]
    row_numbers = np.arange(found.header_row + 2, found.header_row + 2 + len(frame))
    return RawTable(frame, row_numbers, found, None, encoding=encoding, letters=letters)


def read_csv_files(files: list[Path], mapping: dict[str, str], encoding: str | None) -> RawTable:
    """The CSV files of a folder or glob as one table, the files in path order.

    Each file is read as a lone CSV file is (its own encoding, separator and header row, its
    own count of malformed lines), and all must map the same columns. Rows are numbered as data
    lines (the lines after each header) across the files, as records are across Parquet files,
    so that examples of set-aside rows point into the files in order.
    """
    tables, numbers, malformed = [], [], []
    offset = 0
    for path in files:
        raw = read_csv_table(path, mapping, encoding)
        if tables and set(raw.frame.columns) != set(tables[0].frame.columns):
            raise InputError(f"its columns ({', '.join(raw.frame.columns)}) are not those of {files[0].name} "
                             f"({', '.join(tables[0].frame.columns)}); the files of a folder or glob are read as "
                             "one table", file=path)
        first_line_number = raw.column_map.header_row + 2
        numbers.append(raw.row_numbers - first_line_number + 1 + offset)
        malformed += [line - first_line_number + 1 + offset for line in raw.malformed_lines]
        last = max([first_line_number - 1, *raw.row_numbers[-1:].tolist(), *raw.malformed_lines])
        offset += last - first_line_number + 1
        tables.append(raw)
    first = tables[0]
    columns = list(first.frame.columns)
    return RawTable(
        pd.concat([table.frame[columns] for table in tables], ignore_index=True), np.concatenate(numbers),
        first.column_map, None,
        encoding=first.encoding if all(t.encoding == first.encoding for t in tables) else None,
        letters=first.letters if all(t.letters == first.letters for t in tables) else None,
        malformed_lines=malformed[:5], malformed_count=sum(t.malformed_count for t in tables),
    )


MALFORMED_SHARE = 0.01
MALFORMED_LIMIT = 1_000


@dataclass
class _Lines:
    frame: pd.DataFrame
    lines: np.ndarray       # the physical line each row starts on
    malformed: list[int]    # lines with the wrong number of fields


def _csv_by_line(path: Path, encoding: str, delimiter: str, header_row: int, width: int, wanted: list[int]) -> _Lines:
    """The wanted fields of every record after the header, with physical line numbers.

    A blank line is an empty row (counted by the cleaning rules); a line with more or
    fewer fields than the header is malformed (extra fields that are all empty are
    allowed). Too many malformed lines and the file is refused: its columns cannot be
    trusted to line up.
    """
    columns: dict[int, list] = {i: [] for i in wanted}
    lines, malformed = [], []
    try:
        with open(path, encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            end = 0
            for index, record in enumerate(reader):
                start, end = end + 1, reader.line_num
                if index <= header_row:
                    continue
                fits = len(record) == width or (len(record) > width and not "".join(record[width:]).strip())
                if record and not fits:
                    malformed.append(start)
                    continue
                for i in wanted:
                    columns[i].append(record[i] if record and record[i] != "" else None)
                lines.append(start)
    except UnicodeDecodeError as error:
        raise InputError(f"cannot be read as {encoding} CSV ({first_line(error)}); "
                         "save it as UTF-8 CSV or give --encoding", file=path) from None
    except csv.Error as error:
        raise InputError(f"cannot be read as CSV ({first_line(error)}); save it again from Excel as CSV",
                         file=path) from None
    total = len(lines) + len(malformed)
    if len(malformed) > MALFORMED_LIMIT or len(malformed) > MALFORMED_SHARE * total:
        raise InputError(
            f"{len(malformed):,} of {total:,} data lines do not have the header's {width} fields "
            f"(lines {', '.join(map(str, malformed[:5]))}); the columns cannot be trusted to line up. "
            "Fix those lines, or open the file in Excel and save it again as CSV",
            file=path,
        )
    frame = pd.DataFrame({i: pd.Series(values, dtype="string") for i, values in columns.items()})
    return _Lines(frame, np.asarray(lines, dtype=np.int64), malformed)


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
               by_index: dict[int, str]) -> pd.DataFrame | None:
    """Read the wanted CSV columns with Arrow: ids as text, the rest typed where Arrow can.

    None when a line has the wrong number of fields: the caller then reads line by line.

    Typed columns (dates, numbers) keep ten million rows within memory; when a
    column's values do not fit the type Arrow guessed from the first block, the read
    is repeated with every column as text (the cleaning rules then read the text).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    text_columns = [n for n in wanted if by_index[int(n[1:])] in TEXT_ROLES]
    read_options = pacsv.ReadOptions(encoding=encoding.replace("-sig", ""), skip_rows=skip, column_names=names,
                                     block_size=1 << 24)
    invalid = []

    def skip(row):
        invalid.append(row)
        return "skip"

    parse_options = pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=skip)
    attempts = (
        {n: pa.string() for n in text_columns},
        {n: pa.string() for n in wanted},
    )
    failure: Exception | None = None
    for column_types in attempts:
        try:
            table = pacsv.read_csv(
                path, read_options=read_options, parse_options=parse_options,
                # Only an empty field is missing: "NaN" or "N/A" are values the cleaning rules judge.
                convert_options=pacsv.ConvertOptions(include_columns=wanted, column_types=column_types,
                                                     null_values=[""], strings_can_be_null=True,
                                                     timestamp_parsers=[pacsv.ISO8601]),
            )
            return None if invalid else nan_as_infinite(table).to_pandas(self_destruct=True, split_blocks=True, date_as_object=False)
        except (pa.ArrowInvalid, UnicodeDecodeError) as error:
            failure = error
    raise InputError(f"cannot be read as {encoding} CSV ({first_line(failure)}); "
                     "save it as UTF-8 CSV or give --encoding", file=path)
