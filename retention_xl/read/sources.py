"""Sales that are not one file: a folder or glob of Parquet files, or a PostgreSQL table or query.

Both arrive as Arrow tables and go through the same header detection and cleaning as
a single file, so the same rows are used or set aside for the same reasons.

* **Several files** -- ``sales/*.parquet``, or a folder (searched recursively; names
  starting with ``.`` or ``_`` such as ``_SUCCESS`` are skipped). A Hive-partitioned
  folder (``store=东店/year=2024/part-0.parquet``) adds its partition keys as columns,
  so ``store=...`` folders give a chain's stores. Records are numbered across the files
  in the order of their paths; examples of set-aside rows use those numbers. A folder or
  glob of CSV files (``exports/*.csv``) is read file by file, each as a lone CSV file is,
  its data lines numbered across the files in the same way (in memory, or written as
  Parquet for DuckDB's scan by :func:`retention_xl.read.csv_parquet.csv_as_parquet`).
* **PostgreSQL** -- ``postgresql://user@host:5432/db`` with a table or a query, read
  through ADBC (the ``[postgres]`` extra) as Arrow, never row by row. The password never
  goes on the command line: libpq takes it from ``PGPASSWORD`` or the password file
  (``~/.pgpass``, ``PGPASSFILE``). Messages show the source without any password.
"""

from __future__ import annotations

import glob
import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..errors import InputError, UsageError
from .rawtable import CSV_SUFFIXES, PARQUET_SUFFIXES, first_line, parquet_error

GLOB_CHARACTERS = re.compile(r"[*?\[]")


def is_glob(text: str) -> bool:
    """Whether a SALES argument is a pattern such as ``sales/*.parquet`` rather than a path."""
    return bool(GLOB_CHARACTERS.search(text)) and not Path(text).exists()


def several_files(path: Path) -> bool:
    """Whether a SALES argument names several files: a folder or a glob."""
    return path.is_dir() or is_glob(str(path))


def dataset_files(path: Path) -> list[Path]:
    """The Parquet files of a folder or glob, in path order; one clear error when there are none or other kinds."""
    pattern = str(path)
    if is_glob(pattern):
        files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    else:
        files = sorted(p for p in path.rglob("*") if p.is_file()
                       and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts))
    if not files:
        raise InputError("no files match" if is_glob(pattern) else "the folder holds no files", file=path)
    parquet = [p for p in files if p.suffix.lower() in PARQUET_SUFFIXES]
    others = [p for p in files if p.suffix.lower() not in PARQUET_SUFFIXES]
    if parquet and others:
        raise InputError(f"a folder or glob is read as files of one kind: {parquet[0].name} is Parquet, but "
                         f"{others[0]} is not one; put the files of each kind in a folder of their own", file=path)
    neither = [p for p in others if p.suffix.lower() not in CSV_SUFFIXES]
    if neither:
        raise InputError(f"a folder or glob is read as Parquet or CSV files, but {neither[0]} is neither; "
                         "give Excel workbooks one at a time, or save their sheets as CSV", file=path)
    return files


def are_csv(files: list[Path]) -> bool:
    """Whether the files of a folder or glob (:func:`dataset_files`) are CSV files rather than Parquet."""
    return files[0].suffix.lower() in CSV_SUFFIXES


def read_dataset(path: Path, files: list[Path]):
    """(column names, a function reading the named columns as one Arrow table) for the Parquet ``files``
    of the folder or glob ``path`` (:func:`dataset_files`)."""
    import pyarrow.dataset as ds

    root = path if path.is_dir() else None
    try:
        dataset = ds.dataset([str(f) for f in files], format="parquet",
                             partitioning=ds.HivePartitioning.discover(infer_dictionary=False) if root else None,
                             partition_base_dir=str(root) if root else None)
        names = dataset.schema.names
    except Exception as error:  # pyarrow raises several kinds for damaged or mismatched files
        raise parquet_error(error, path, "Parquet files") from None

    def read(columns: list[str]):
        try:
            return dataset.to_table(columns=columns)
        except Exception as error:
            raise parquet_error(error, path, "Parquet files") from None

    return names, read


def without_password(url: str) -> str:
    """A database URL as it may be shown: any password removed.

    >>> without_password("postgresql://ana:s3cret@db.example:5432/shop?sslmode=require")
    'postgresql://ana@db.example:5432/shop?sslmode=require'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quoted_name(table: str) -> str:
    """A table name, optionally schema-qualified, quoted as an SQL identifier.

    >>> _quoted_name('sales'), _quoted_name('shop.Sales 2024'), _quoted_name('a"b')
    ('"sales"', '"shop"."Sales 2024"', '"a""b"')
    """
    return ".".join(_identifier(part) for part in table.split("."))


def _postgres_target(url: str, table: str | None, query: str | None):
    """(the driver's module, the FROM clause, how messages name the source), after checking the arguments."""
    shown = without_password(url)
    if urlsplit(url).password is not None:
        raise UsageError(f"{shown}: put no password in the URL, where others can read it; set PGPASSWORD or use "
                         "a password file (~/.pgpass)")
    if (table is None) == (query is None):
        raise UsageError("--source needs either --table NAME or --query SQL")
    try:
        from adbc_driver_postgresql import dbapi
    except ImportError:
        raise UsageError("reading PostgreSQL needs its driver: pip install 'retention-xl[postgres]'") from None
    source = f"({query}) AS sales" if query is not None else _quoted_name(table)
    return dbapi, source, f"{shown} ({'query' if query is not None else 'table ' + table})"


def read_postgres(url: str, table: str | None = None, query: str | None = None):
    """(column names, a function reading the named columns as one Arrow table) for a table or query."""
    dbapi, source, what = _postgres_target(url, table, query)

    def fetch(sql: str):
        try:
            with dbapi.connect(url) as connection, connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetch_arrow_table()
        except Exception as error:  # the driver's errors: wrong password, no such table, connection lost
            raise database_error(error, url, what) from None

    names = fetch(f"SELECT * FROM {source} LIMIT 0").schema.names

    def read(columns: list[str]):
        return fetch(f"SELECT {', '.join(_identifier(c) for c in columns)} FROM {source}")

    return names, read, what


@contextmanager
def postgres_stream(url: str, table: str | None = None, query: str | None = None, columns: list[str] | None = None):
    """The rows of a table or query (only ``columns``, where given) as a stream of Arrow record batches, and how
    messages name the source.

    The stream is read while the ``with`` block lasts; an error while reading it (a dropped
    connection) reaches the reader of the stream, which turns it into :func:`database_error`.
    """
    dbapi, source, what = _postgres_target(url, table, query)
    opened = []
    try:
        opened.append(dbapi.connect(url))
        opened.append(opened[0].cursor())
        opened[1].execute(f"SELECT {', '.join(map(_identifier, columns)) if columns else '*'} FROM {source}")
        batches = opened[1].fetch_record_batch()
    except Exception as error:  # wrong password, no such table ...
        _close(opened)
        raise database_error(error, url, what) from None
    try:
        yield batches, what
    finally:
        _close(opened)


def _close(opened: list) -> None:
    """Close a cursor and its connection, the cursor first; one the server dropped cannot close politely."""
    for thing in reversed(opened):
        try:
            thing.close()
        except Exception:  # nothing is lost: the rows read so far are in DuckDB or discarded with the error
            pass


def database_error(error: Exception, url: str, what: str) -> InputError:
    """The one-line error for a failure of the database at ``url``, with any password removed."""
    return InputError(_database_message(error, url), file=what)


def _database_message(error: Exception, url: str) -> str:
    """The driver's reason in one line, with any password in it removed."""
    text = first_line(error)
    if "password" in text:
        text += "; check PGPASSWORD or the password file (~/.pgpass)"
    elif "does not exist" in text:
        text += "; check --table or --query"
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text
