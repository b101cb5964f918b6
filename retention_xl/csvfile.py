"""Reading the sales table of a CSV file: encoding and separator detected, read by Arrow."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

import numpy as np
import pandas as pd

from . import columns as cols
from .errors import InputError
from .rawtable import HEADER_SEARCH_ROWS, TEXT_ROLES, RawTable, first_line, header_help

CSV_ENCODINGS = ("utf-8", "gb18030", "big5")


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
    return RawTable(frame, row_numbers, found, None, encoding=encoding, letters=letters)


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
    raise InputError(f"cannot be read as {encoding} CSV ({first_line(failure)}); "
                     "save it as UTF-8 CSV or give --encoding", file=path)
