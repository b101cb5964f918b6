"""CSV files written as Parquet for DuckDB's scan, a block of rows at a time, under the CSV reader's rules.

Each file is read as :mod:`retention_xl.read.csvfile` reads it (its own encoding, separator,
header and malformed lines), so the scan uses and counts the same rows as the reader in memory.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import columns as cols
from .csvencoding import EncodingChoice, common_encoding
from .csvfile import (CsvLayout, arrow_options, arrow_types, cannot_read, zoned_as_text, check_same_roles, csv_layout,
                      has_blank_lines, records_by_line)
from .rawtable import nan_as_infinite

ROW_COLUMN = "rx_row"
PARQUET_CHUNK_ROWS = 1 << 20


@dataclass
class CsvAsParquet:
    """CSV files written as Parquet files (:func:`csv_as_parquet`): what the reader found on the way."""

    files: list[Path]
    offsets: list[int]          # per Parquet file: what its rows' numbers add up to across the files
    columns: dict[str, str]     # role -> its Parquet column, named after the first file's header
    header_row: int             # of the first file, counted from 1
    malformed_lines: list[int]  # numbered as the rows are
    malformed_count: int
    encoding: EncodingChoice | None  # the files' encoding, where they share one


def csv_as_parquet(files: list[Path], mapping: dict[str, str], encoding: str | None, folder: Path, *,
                   lone_file: bool, progress=None, workers: int | None = None) -> CsvAsParquet:
    """Write the CSV ``files`` (a ``lone_file``, or a folder's or glob's in path order) as Parquet files in ``folder``.

    The rows are those :func:`read_csv_table` and :func:`read_csv_files` read: each file with
    its own encoding, separator, header row and malformed lines, every value as Arrow or the
    line-by-line reader gives it (typed or text), and a :data:`ROW_COLUMN` which, plus the
    file's offset, is the row's number as those readers give it (a lone file's line; else
    its data line across the files). Only a chunk of rows per file is in memory at a time,
    so that DuckDB can scan files of any size out of core; ``workers`` threads (default: one
    per core) write several files at once.

    >>> files = sorted(Path("exports").glob("*.csv"))                                  # doctest: +SKIP
    >>> written = csv_as_parquet(files, {}, None, Path("tmp"), lone_file=False)       # doctest: +SKIP
    >>> written.files[0].name, written.offsets[:2], written.malformed_count           # doctest: +SKIP
    ('000000.parquet', [0, 70], 0)
    """
    say = progress or (lambda message: None)
    layouts = [csv_layout(path, mapping, encoding) for path in files]
    first = layouts[0]
    for layout in layouts[1:]:
        check_same_roles(layout.path, list(layout.role_of.values()), first.path, list(first.role_of.values()))
    names = _column_names(first)  # every file's columns take the first file's names

    stopping = threading.Event()

    def convert(number: int, layout: CsvLayout) -> tuple[Path, int, list[int]]:
        if layout.path.stat().st_size > 1 << 26:
            say(f"Writing {layout.path.name} ({layout.path.stat().st_size / 1e6:,.0f} MB) as Parquet for DuckDB…")
        target = folder / f"{number:06d}.parquet"
        malformed: list[int] = []
        # A lone file's rows are numbered by line, the files of a folder by data line within each file.
        start = layout.first_line - 1 if lone_file else 0
        last = _write_parquet(layout, target, [names[role] for role in layout.role_of.values()], start, malformed,
                              stopping)
        return target, max([last, *malformed]), malformed

    with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        try:
            results = [job.result() for job in [pool.submit(convert, n, layout) for n, layout in enumerate(layouts)]]
        except BaseException:  # an error, Ctrl-C or SIGTERM: the other files stop at their next block
            stopping.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    written, offsets, malformed = [], [], []
    offset = 0
    for layout, (target, last, lines) in zip(layouts, results):
        start = layout.first_line - 1 if lone_file else 0
        written.append(target)
        offsets.append(offset)
        malformed += [line - layout.first_line + 1 + start + offset for line in lines]
        offset += last - layout.first_line + 1
    return CsvAsParquet(written, offsets, names, first.found.header_row + 1, malformed, len(malformed),
                        common_encoding([layout.choice for layout in layouts]))


def _column_names(layout: CsvLayout) -> dict[str, str]:
    """Role -> the name of its Parquet column: the header's text, told apart where two are the same."""
    names: dict[str, str] = {}
    for index, role in layout.role_of.items():
        header = layout.found.headers[index] or cols.column_letter(index)
        names[role] = header if header not in names.values() else f"{header} ({cols.column_letter(index)})"
    return names


def _write_parquet(layout: CsvLayout, target: Path, names: list[str], offset: int, malformed: list[int],
                   stopping: threading.Event) -> int:
    """Write the rows of ``layout``'s file to ``target``; returns the last line read (malformed lines go into
    ``malformed``). Rows are numbered by data line from ``offset`` + 1. Ends early once ``stopping`` is set."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def numbered(arrays: list, lines: np.ndarray):
        if stopping.is_set():
            raise InterruptedError("stopped")
        return pa.table(arrays + [pa.array(lines - layout.first_line + 1 + offset, pa.int64())],
                        names=names + [ROW_COLUMN])

    if not has_blank_lines(layout.path, layout.encoding):
        rows = _arrow_csv_to_parquet(layout, target, numbered)
        if rows is not None:
            return layout.first_line - 1 + rows
    writer = None
    last = layout.first_line - 1
    for columns, lines in records_by_line(layout, malformed, PARQUET_CHUNK_ROWS):
        table = numbered([pa.array(values, pa.string()) for values in columns.values()], np.asarray(lines, np.int64))
        writer = writer or pq.ParquetWriter(target, table.schema)
        writer.write_table(table)
        last = max([last, *lines[-1:]])
    writer.close()
    return last


def _arrow_csv_to_parquet(layout: CsvLayout, target: Path, numbered) -> int | None:
    """Stream the file through Arrow into ``target``: the number of rows, or None when a line has the wrong
    number of fields (then only the line-by-line reader can number the rows)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    text, all_text = arrow_types(layout)
    try:  # Arrow guesses the types from the first block; a column empty there is read as text
        with pacsv.open_csv(layout.path, **arrow_options(layout, text, [])) as reader:
            guessed = {field.name: pa.string() if pa.types.is_null(field.type) else field.type
                       for field in reader.schema} | zoned_as_text(reader.schema)
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise cannot_read(layout, error) from None
    failure: Exception | None = None
    for column_types in (guessed, all_text):
        invalid: list = []
        rows = 0
        try:
            with pacsv.open_csv(layout.path, **arrow_options(layout, column_types, invalid)) as reader, \
                    pq.ParquetWriter(target, numbered(
                        [pa.array([], field.type) for field in reader.schema], np.empty(0, np.int64)).schema) as writer:
                for batch in reader:
                    if invalid:
                        return None
                    table = nan_as_infinite(pa.Table.from_batches([batch]))
                    lines = np.arange(rows, rows + batch.num_rows) + layout.first_line
                    writer.write_table(numbered(table.columns, lines))
                    rows += batch.num_rows
            return None if invalid else rows
        except (pa.ArrowInvalid, UnicodeDecodeError) as error:
            failure = error
    raise cannot_read(layout, failure)
