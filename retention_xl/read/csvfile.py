"""Reading the sales table of a CSV file: encoding and separator detected, read by Arrow (or line by line
where lines are blank or malformed). :mod:`retention_xl.read.csv_parquet` writes the same rows as Parquet."""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import columns as cols
from .csvencoding import (SAMPLE_BYTES, EncodingChoice, UnclearEncoding, choose_encoding, codec_without_bom,
                          common_encoding, display_name, file_sample)
from ..errors import InputError
from .rawtable import HEADER_SEARCH_ROWS, TEXT_ROLES, RawTable, first_line, header_help, nan_as_infinite

# A note or address field may be long; Python's csv module refuses fields over 128 KiB by default.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def estimated_rows(path: Path, sample_size: int = 1 << 20) -> int:
    """About how many lines a CSV file has, from the mean length of those in its first megabyte.

    >>> estimated_rows(Path("benchmarks/out/sales_10000000.csv"))                     # doctest: +SKIP
    10713003
    """
    with path.open("rb") as handle:
        sample = handle.read(sample_size)
    if len(sample) < sample_size:
        return len(sample.splitlines())
    return round(path.stat().st_size / (len(sample) / max(sample.count(b"\n"), 1)))


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


@dataclass
class CsvLayout:
    """What reading a CSV file's rows needs: its encoding, separator and header, found from its first lines."""

    path: Path
    choice: EncodingChoice
    delimiter: str
    found: cols.ColumnMap

    @property
    def encoding(self) -> str:
        return self.choice.encoding

    @property
    def width(self) -> int:
        return len(self.found.headers)

    @property
    def role_of(self) -> dict[int, str]:
        """Column position -> role, in column order."""
        return {index: role for role, index in sorted(self.found.positions.items(), key=lambda item: item[1])}

    @property
    def first_line(self) -> int:
        """The line number of the first data line (the line after the header)."""
        return self.found.header_row + 2


def csv_layout(path: Path, mapping: dict[str, str], encoding: str | None) -> CsvLayout:
    choice = _encoding_of(path, mapping, encoding)
    text = choice.text.lstrip("\ufeff")
    lines = text.splitlines()
    delimiter = _sniff_delimiter(lines[:HEADER_SEARCH_ROWS])
    rows = _csv_rows(text, delimiter)
    if not any(any(cell.strip() for cell in row) for row in rows):
        raise InputError("the file has no text rows to read", file=path)
    found = cols.find_header(rows, mapping)
    if found is None:
        raise InputError(header_help(rows, mapping), file=path)
    return CsvLayout(path, choice, delimiter, found)


def _encoding_of(path: Path, mapping: dict[str, str], encoding: str | None) -> EncodingChoice:
    """The encoding given, or the one :func:`retention_xl.read.csvencoding.choose_encoding` finds."""
    if encoding:
        with path.open("rb") as handle:
            return EncodingChoice(encoding, handle.read(SAMPLE_BYTES).decode(encoding, errors="replace"))
    head, further = file_sample(path)
    try:
        return choose_encoding(head, further, lambda text: cols.find_header(_csv_rows(text), mapping) is not None,
                               complete=len(head) < SAMPLE_BYTES)
    except UnclearEncoding as error:
        raise InputError(str(error), file=path) from None


def _letters(layout: CsvLayout) -> dict[str, str]:
    return {role: cols.column_letter(index) for role, index in layout.found.positions.items()}


def read_csv_table(path: Path, mapping: dict[str, str], encoding: str | None) -> RawTable:
    layout = csv_layout(path, mapping, encoding)
    role_of = layout.role_of
    frame = None
    # Arrow skips blank lines and lines with the wrong number of fields without saying where:
    # then the file is read line by line, so that every row keeps its line number.
    if not has_blank_lines(path, layout.encoding):
        table = _arrow_csv(layout, arrow_types(layout))
        frame = None if table is None else nan_as_infinite(table).to_pandas(
            self_destruct=True, split_blocks=True, date_as_object=False)
    if frame is None:
        malformed: list[int] = []
        (columns, lines), = records_by_line(layout, malformed)  # one chunk: the whole file
        frame = pd.DataFrame({role: pd.Series(columns[index], dtype="string") for index, role in role_of.items()})
        return RawTable(frame, np.asarray(lines, dtype=np.int64), layout.found, None,
                        encoding=layout.choice.without_text(), letters=_letters(layout),
                        malformed_lines=malformed, malformed_count=len(malformed))
    frame.columns = [role_of[int(name[1:])] for name in frame.columns]
    row_numbers = np.arange(layout.first_line, layout.first_line + len(frame))
    return RawTable(frame, row_numbers, layout.found, None, encoding=layout.choice.without_text(),
                    letters=_letters(layout))


def check_same_roles(path: Path, roles: list[str], first: Path, first_roles: list[str]) -> None:
    if set(roles) != set(first_roles):
        raise InputError(f"its columns ({', '.join(roles)}) are not those of {first.name} "
                         f"({', '.join(first_roles)}); the files of a folder or glob are read as one table", file=path)


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
        if tables:
            check_same_roles(path, list(raw.frame.columns), files[0], list(tables[0].frame.columns))
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
        encoding=common_encoding([t.encoding for t in tables]),
        letters=first.letters if all(t.letters == first.letters for t in tables) else None,
        malformed_lines=malformed, malformed_count=sum(t.malformed_count for t in tables),
    )


ARROW_BLOCK_BYTES = 1 << 24  # Arrow reads a CSV file in blocks of this size and guesses its types from the first
MALFORMED_SHARE = 0.01
MALFORMED_LIMIT = 1_000


def records_by_line(layout: CsvLayout, malformed: list[int], chunk_rows: int | None = None):
    """The wanted fields of every record after the header, a chunk at a time: (fields by column position, the
    physical line each record starts on).

    A blank line is an empty row (counted by the cleaning rules) unless only blank lines follow it; a line with more or
    fewer fields than the header is malformed (extra fields that are all empty are
    allowed) and its line goes into ``malformed``. Too many malformed lines and the file
    is refused: its columns cannot be trusted to line up.
    """
    path, width, wanted = layout.path, layout.width, list(layout.role_of)

    def empty():
        return {i: [] for i in wanted}, []

    columns, lines = empty()
    try:
        with open(path, encoding=layout.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=layout.delimiter)
            end, blank_lines = 0, []
            for index, record in enumerate(reader):
                start, end = end + 1, reader.line_num
                if index <= layout.found.header_row:
                    continue
                if not record:  # a row only once a record follows: blank lines that end a file are not rows
                    blank_lines.append(start)
                    continue
                fits = len(record) == width or (len(record) > width and not "".join(record[width:]).strip())
                if not fits:
                    malformed.append(start)
                    continue
                for line in blank_lines:
                    for i in wanted:
                        columns[i].append(None)
                    lines.append(line)
                blank_lines.clear()
                for i in wanted:
                    columns[i].append(record[i] if record[i] != "" else None)
                lines.append(start)
                if chunk_rows and len(lines) >= chunk_rows:
                    yield columns, lines
                    columns, lines = empty()
    except UnicodeDecodeError as error:
        raise InputError(f"cannot be read as {display_name(layout.encoding)} CSV ({first_line(error)}); "
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
    yield columns, lines


def has_blank_lines(path: Path, encoding: str, chunk: int = 1 << 24) -> bool:
    """Whether the file holds an empty line, scanned in chunks rather than read whole."""
    with path.open("rb") as handle:
        codec = codec_without_bom(encoding, handle.read(2))
        handle.seek(0)
        patterns = ["\n\n".encode(codec), "\n\r\n".encode(codec)]
        tail = b""
        while block := handle.read(chunk):
            data = tail + block
            if any(pattern in data for pattern in patterns):
                return True
            tail = data[-len(patterns[1]):]
    return False


def arrow_types(layout: CsvLayout) -> list[dict]:
    """The column types to try in turn: ids and labels as text, the rest as Arrow guesses them; then all text.

    Typed columns (dates, numbers) keep ten million rows within memory; when a
    column's values do not fit the type Arrow guessed from the first block, the read
    is repeated with every column as text (the cleaning rules then read the text).
    """
    import pyarrow as pa

    names = {index: f"c{index}" for index in layout.role_of}
    text = {names[i]: pa.string() for i, role in layout.role_of.items() if role in TEXT_ROLES}
    return [text, {name: pa.string() for name in names.values()}]


def arrow_options(layout: CsvLayout, column_types: dict, invalid: list):
    """Arrow's read, parse and convert options for the wanted columns of ``layout``'s file; lines with the
    wrong number of fields go into ``invalid``."""
    import pyarrow.csv as pacsv

    def skip(row):
        invalid.append(row)
        return "skip"

    read_options = pacsv.ReadOptions(encoding=layout.encoding.replace("-sig", ""),
                                     skip_rows=layout.found.header_row + 1, column_names=[f"c{i}" for i in range(layout.width)], block_size=ARROW_BLOCK_BYTES)
    parse_options = pacsv.ParseOptions(delimiter=layout.delimiter, invalid_row_handler=skip)
    # Only an empty field is missing: "NaN" or "N/A" are values the cleaning rules judge.
    convert_options = pacsv.ConvertOptions(include_columns=[f"c{i}" for i in layout.role_of],
                                           column_types=column_types, null_values=[""], strings_can_be_null=True,
                                           timestamp_parsers=[pacsv.ISO8601])
    return {"read_options": read_options, "parse_options": parse_options, "convert_options": convert_options}


def zoned_as_text(schema) -> dict:
    """The columns Arrow read as times with a UTC offset, to be read again as text: Arrow turns
    "2023-01-01T02:00+08:00" into 2022-12-31 18:00 UTC, while the reader's rules keep the wall-clock
    time the text shows (the shop's own day and month)."""
    import pyarrow as pa

    return {field.name: pa.string() for field in schema
            if pa.types.is_timestamp(field.type) and field.type.tz is not None}


def cannot_read(layout: CsvLayout, error: Exception | None) -> InputError:
    return InputError(f"cannot be read as {display_name(layout.encoding)} CSV ({first_line(error)}); "
                      "save it as UTF-8 CSV or give --encoding", file=layout.path)


def _arrow_csv(layout: CsvLayout, attempts: list[dict]):
    """The wanted CSV columns as an Arrow table (columns ``c<position>``), typed by the first of ``attempts``
    that fits; None when a line has the wrong number of fields: the caller then reads line by line."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    failure: Exception | None = None
    for column_types in attempts:
        invalid: list = []
        try:
            table = pacsv.read_csv(layout.path, **arrow_options(layout, column_types, invalid))
            if zoned := zoned_as_text(table.schema):
                table = pacsv.read_csv(layout.path, **arrow_options(layout, {**column_types, **zoned}, invalid))
            return None if invalid else table
        except (pa.ArrowInvalid, UnicodeDecodeError) as error:
            failure = error
    raise cannot_read(layout, failure)
