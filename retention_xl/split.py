"""One workbook per store, salesperson, channel or region: each manager's own report.

Each workbook is the complete report computed on that group's transactions alone,
for the chain's report month, activity window and data range, so it holds no other
group's customers, names or example rows. A group that sold nothing in the month but
had customers at its start or end gets its workbook all the same: it is the one a
manager most needs to see. A group with no customer at either end is skipped, with
the reason. File names are made safe from any group name and never collide, also on
file systems that fold letter case and Unicode forms.
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

from .read.columns import GROUP_ROLES
from .errors import RetentionXLError, UsageError
from .figures.groups import MISSING

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
    skipped: dict[str, str] = field(default_factory=dict)    # group -> why it needs no workbook

    def as_dict(self) -> dict:
        return {"folder": str(self.folder), "files": self.files, "failed": self.failed, "skipped": self.skipped}

    def skipped_line(self, shown: int = 10) -> str | None:
        """One line naming the skipped groups (the first ``shown`` of them) and why; None if there are none.

        >>> SplitResult(Path("by_store"), skipped={"RSA": "no customer in the 3 months before 2010-11"}).skipped_line()
        'No workbook for RSA: no customer in the 3 months before 2010-11'
        """
        if not self.skipped:
            return None
        names = ", ".join(list(self.skipped)[:shown])
        more = f" and {len(self.skipped) - shown:,} more (--json lists them)" if len(self.skipped) > shown else ""
        reasons = " / ".join(dict.fromkeys(self.skipped.values()))
        return f"No workbook for {names}{more}: {reasons}"


def no_customer_reason(month: pd.Period, window: int) -> str:
    """Why a group without a customer at the start or the end of ``month`` gets no workbook.

    >>> no_customer_reason(pd.Period("2011-11", "M"), 3), no_customer_reason(pd.Period("2024-03", "M"), 1)
    ('no customer in the 3 months before 2011-11', 'no customer in the month before 2024-03')
    """
    months = "the month" if window == 1 else f"the {window} months"
    return f"no customer in {months} before {month}"


def _has_customers(figures: pd.DataFrame, value) -> bool:
    """Whether the group ``value`` had a customer at the start or the end of the month: S or E above 0 in the
    chain's ``figures`` for its groups. A group without a row there sold only later, or took only returns."""
    key = MISSING if pd.isna(value) else value
    return key in figures.index and bool(figures.at[key, "S"] > 0 or figures.at[key, "E"] > 0)


def _write_one(rows: pd.DataFrame, options, path: Path, sales=None, data_range=None) -> str | None:
    """One group's workbook (``sales``: the file as that group sees it, ``data_range``: the chain's first and last
    date); the reason it could not be made, or None."""
    from .report import analyse, write_workbook

    try:
        write_workbook(analyse(rows, options, sales, data_range=data_range), path)
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


@dataclass
class _Plan:
    """The groups that get a workbook, as (display name, value) in order; every group's file name (a skipped
    group keeps its name, so that a name does not depend on the month); the skipped groups with their reason; and
    the options of every group's report."""

    groups: list[tuple[str, object]]
    names: dict[str, str]
    skipped: dict[str, str]
    options: object


def _plan(report, role: str, values: list, folder: Path) -> _Plan:
    """What :func:`write_split` and :func:`write_split_scanned` write for the groups with ``values``, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    words = report.labels()
    groups = [(words[f"group.missing.{role}"] if pd.isna(value) else str(value), value) for value in values]
    reason = no_customer_reason(report.month, report.options.active_window)
    written, skipped = [], {}
    for display, value in groups:
        if _has_customers(report.groups[role], value):
            written.append((display, value))
        else:
            skipped[display] = reason
    # The window is already the chain's; a salesperson's Actions sheet is their call list.
    options = replace(report.options, month=str(report.month), call_list=role == "salesperson")
    return _Plan(written, file_names([display for display, _ in groups]), skipped, options)


def _result(folder: Path, plan: _Plan, outcomes, progress) -> SplitResult:
    result = SplitResult(folder, skipped=plan.skipped)
    for display, failure in outcomes:
        if progress:
            progress(f"  {plan.names[display]}")
        if failure is None:
            result.files[plan.names[display]] = display
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
    plan = _plan(report, role, keys.drop_duplicates().tolist(), folder)
    data_range = (report.first_date, report.last_date)

    def work(display, value) -> tuple:
        """The arguments of :func:`_write_one` for one group."""
        rows = transactions[keys.isna()] if pd.isna(value) else transactions[keys == value]
        rows = rows.drop(columns=[role]).reset_index(drop=True)
        sales = report.sales and report.sales.of_group(role, value, display, rows.iloc[:0])
        return rows, plan.options, folder / plan.names[display], sales, data_range

    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(plan.groups) <= 1:
        outcomes = ((display, _write_one(*work(display, value))) for display, value in plan.groups)
    else:
        with _processes(workers) as pool:
            futures = [(display, pool.submit(_write_one, *work(display, value))) for display, value in plan.groups]
            outcomes = [(display, future.result()) for display, future in futures]
    return _result(folder, plan, outcomes, progress)


def write_split_scanned(report, scanned, role: str, folder: Path, progress=None,
                        workers: int | None = None) -> SplitResult:
    """:func:`write_split` for sales DuckDB scanned (:class:`~retention_xl.scanned_tables.ScannedSales`): each
    group's report is computed from its rows in DuckDB, one group after another, the rows never in Python,
    while ``workers`` processes (default: one per core) write the workbooks of the groups computed so far."""
    from .scanned_report import analyse_scanned

    check_role(role, role in scanned.group_labels)
    group_labels = scanned.group_labels[role]
    code_of = {None if code is None else group_labels[code]: code for code in scanned.groups_in_order(role)}
    plan = _plan(report, role, list(code_of), folder)
    if progress:
        progress(f"  DuckDB: ordering the rows by {role}…")
    scanned.cluster_by(role)
    with _processes(workers or os.cpu_count() or 1) as pool:
        pending = []
        for display, value in plan.groups:
            if progress:
                progress(f"  {plan.names[display]}")
            try:
                group_report = analyse_scanned(scanned.of_group(role, code_of[value], display), plan.options)
            except RetentionXLError as error:  # one group's failure loses none of the others
                pending.append((display, str(error)))
                continue
            pending.append((display, pool.submit(_write_report, group_report, folder / plan.names[display])))
        outcomes = [(display, job if isinstance(job, str) else job.result()) for display, job in pending]
    return _result(folder, plan, outcomes, None)


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
