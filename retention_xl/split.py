"""One workbook per store, salesperson, channel or region: each manager's own report.

Each workbook is the complete report computed on that group's transactions alone,
for the chain's report month and activity window, so it holds no other group's
customers, names or example rows. File names are made safe from any group name and
never collide, also on file systems that fold letter case and Unicode forms.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from .columns import GROUP_ROLES
from .errors import RetentionXLError, UsageError
from .i18n import labels

NAME_LIMIT = 100
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)


def safe_file_stem(name: str) -> str:
    """A file name stem from any group name: Chinese kept, separators and reserved names made harmless.

    >>> safe_file_stem("上海/徐汇"), safe_file_stem(".."), safe_file_stem("CON"), safe_file_stem("店 . ")
    ('上海_徐汇', '_', '_CON', '店')
    """
    text = _UNSAFE.sub("_", unicodedata.normalize("NFC", str(name)))
    text = text.strip().rstrip(". ")
    if not text or set(text) <= {".", "_"}:
        text = "_"
    if _RESERVED.match(text):
        text = "_" + text
    return text[:NAME_LIMIT].rstrip(". ") or "_"


def _folded(stem: str) -> str:
    """How a case-folding, normalising file system (Windows, macOS) sees a name."""
    return unicodedata.normalize("NFKC", stem).casefold()


def file_names(groups: list[str]) -> dict[str, str]:
    """A distinct ``.xlsx`` file name per group display name, in order.

    >>> file_names(["Store x", "store X", "Store x/"])
    {'Store x': 'Store x.xlsx', 'store X': 'store X (2).xlsx', 'Store x/': 'Store x_.xlsx'}
    """
    taken: set[str] = set()
    names = {}
    for group in groups:
        stem = safe_file_stem(group)
        candidate, number = stem, 1
        while _folded(candidate) in taken:
            number += 1
            candidate = f"{stem} ({number})"
        taken.add(_folded(candidate))
        names[group] = candidate + ".xlsx"
    return names


@dataclass
class SplitResult:
    folder: Path
    files: dict[str, str] = field(default_factory=dict)      # file name -> group
    failed: dict[str, str] = field(default_factory=dict)     # group -> reason

    def as_dict(self) -> dict:
        return {"folder": str(self.folder), "files": self.files, "failed": self.failed}


def _write_one(rows: pd.DataFrame, options, path: Path, sales=None) -> str | None:
    """One group's workbook (``sales``: the file as that group sees it); the reason it could not be made, or None."""
    from .report import analyse, write_workbook

    try:
        write_workbook(analyse(rows, options, sales), path)
    except RetentionXLError as error:  # one group's failure loses none of the others
        return str(error)
    return None


def check_role(role: str, present: bool) -> None:
    """Raise the usage error for ``--split-by role`` where ``role`` is no group column, or the sales have no such
    column (``present``).

    >>> check_role("store", present=True)
    """
    if role not in GROUP_ROLES:
        raise UsageError(f"--split-by must be one of {', '.join(GROUP_ROLES)}, got {role!r}")
    if not present:
        raise UsageError(f"--split-by {role}: the sales file has no {role} column; name it with --{role}")


def _plan(report, role: str, values: list, folder: Path) -> tuple[list[tuple[str, object]], dict[str, str], object]:
    """(display name, value) of each group in order, their file names, and the options of every group's report."""
    folder.mkdir(parents=True, exist_ok=True)
    words = labels(report.options.language)
    groups = [(words[f"group.missing.{role}"] if pd.isna(value) else str(value), value) for value in values]
    # The window is already the chain's; a salesperson's Actions sheet is their call list.
    options = replace(report.options, month=str(report.month), call_list=role == "salesperson")
    return groups, file_names([display for display, _ in groups]), options


def _result(folder: Path, names: dict[str, str], outcomes, progress) -> SplitResult:
    result = SplitResult(folder)
    for display, failure in outcomes:
        if progress:
            progress(f"  {names[display]}")
        if failure is None:
            result.files[names[display]] = display
        else:
            result.failed[display] = failure
    return result


def write_split(report, transactions: pd.DataFrame, role: str, folder: Path, progress=None,
                workers: int | None = None) -> SplitResult:
    """One workbook per value of column ``role`` in ``folder``, each the report of that group's rows alone.

    The workbooks are written by ``workers`` processes (default: one per core); each is
    written atomically, as the chain's own report is.
    """
    check_role(role, role in transactions)
    keys = transactions[role]
    groups, names, options = _plan(report, role, keys.drop_duplicates().tolist(), folder)

    def work(display, value) -> tuple:
        """The arguments of :func:`_write_one` for one group."""
        rows = transactions[keys.isna()] if pd.isna(value) else transactions[keys == value]
        rows = rows.drop(columns=[role]).reset_index(drop=True)
        sales = report.sales and report.sales.of_group(role, value, display, rows.iloc[:0])
        return rows, options, folder / names[display], sales

    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(groups) == 1:
        outcomes = ((display, _write_one(*work(display, value))) for display, value in groups)
    else:
        with _processes(workers) as pool:
            futures = [(display, pool.submit(_write_one, *work(display, value))) for display, value in groups]
            outcomes = [(display, future.result()) for display, future in futures]
    return _result(folder, names, outcomes, progress)


def write_split_scanned(report, scanned, role: str, folder: Path, progress=None,
                        workers: int | None = None) -> SplitResult:
    """:func:`write_split` for sales DuckDB scanned (:class:`~retention_xl.scanned_tables.ScannedSales`): each
    group's report is computed from its rows in DuckDB, one group after another, the rows never in Python,
    while ``workers`` processes (default: one per core) write the workbooks of the groups computed so far."""
    from .scanned_report import analyse_scanned

    check_role(role, role in scanned.group_labels)
    codes = scanned.groups_in_order(role)
    group_labels = scanned.group_labels[role]
    groups, names, options = _plan(report, role, [None if code is None else group_labels[code] for code in codes],
                                   folder)
    if progress:
        progress(f"  DuckDB: ordering the rows by {role}…")
    scanned.cluster_by(role)
    with _processes(workers or os.cpu_count() or 1) as pool:
        pending = []
        for code, (display, _) in zip(codes, groups):
            if progress:
                progress(f"  {names[display]}")
            try:
                group_report = analyse_scanned(scanned.of_group(role, code, display), options)
            except RetentionXLError as error:  # one group's failure loses none of the others
                pending.append((display, str(error)))
                continue
            pending.append((display, pool.submit(_write_report, group_report, folder / names[display])))
        outcomes = [(display, job if isinstance(job, str) else job.result()) for display, job in pending]
    return _result(folder, names, outcomes, None)


def _write_report(report, path: Path) -> str | None:
    """Write one group's workbook; the reason it could not be written, or None."""
    from .report import write_workbook

    try:
        write_workbook(report, path)
    except RetentionXLError as error:
        return str(error)
    return None


@contextmanager
def _processes(count: int):
    """A pool of ``count`` worker processes that, on an error or interruption, starts no new work."""
    # Fresh interpreters rather than forks: a fork of a process whose Arrow threads hold a lock can hang.
    pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
