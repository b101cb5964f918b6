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

from .errors import RetentionXLError, UsageError
from .figures.groups import MISSING
from .pipeline import analyse, write_workbook
from .read.sales import Sales, SalesData
from .roles import GROUP_ROLES

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
    """What :func:`write_split` writes for the groups with ``values``, in order."""
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


def write_split(report, sales: Sales | pd.DataFrame, role: str, folder: Path, progress=None,
                workers: int | None = None) -> SplitResult:
    """One workbook per value of column ``role`` of ``sales`` in ``folder``, each the report of that group's
    rows alone (:meth:`.Sales.of_group`), for the chain's month, window and data range. ``sales`` are those
    ``report`` was made from, or their transactions.

    Sales held in memory travel to ``workers`` processes (default: one per core), each of which computes
    and writes a group's workbook; sales scanned in DuckDB are computed one group after another, their rows
    never in Python, while the processes write the workbooks of the groups computed so far. Each workbook is
    written atomically, as the chain's own report is.
    """
    if isinstance(sales, pd.DataFrame):  # the rows of the sales the report was made from
        sales = SalesData.of_rows(sales, report.sales)
    check_role(role, role in sales.group_roles)
    plan = _plan(report, role, sales.groups(role), folder)
    sales.prepare_split(role, progress)
    workers = workers or os.cpu_count() or 1
    if sales.portable and (workers == 1 or len(plan.groups) <= 1):
        outcomes = ((display, _analysed_and_written(sales.of_group(role, value, display), plan.options,
                                                    folder / plan.names[display]))
                    for display, value in plan.groups)
        return _result(folder, plan, outcomes, progress)
    with _processes(workers) as pool:
        pending = [(display, _submitted(pool, sales, role, value, display, plan.options, folder / plan.names[display],
                                        None if sales.portable else progress))
                   for display, value in plan.groups]
        outcomes = [(display, job if isinstance(job, str) else job.result()) for display, job in pending]
    return _result(folder, plan, outcomes, progress if sales.portable else None)


def _submitted(pool, sales: Sales, role: str, value, display: str, options, path: Path, progress):
    """One group's workbook handed to ``pool``: its sales, where they travel, to be analysed there; else its
    report, analysed here. The reason it could not be made, where that is known at once."""
    if progress:
        progress(f"  {path.name}")
    group = sales.of_group(role, value, display)
    if group.portable:
        return pool.submit(_analysed_and_written, group, options, path)
    try:
        report = analyse(group, options)
    except RetentionXLError as error:  # one group's failure loses none of the others
        return str(error)
    return pool.submit(_written, report, path)


def _analysed_and_written(sales: Sales, options, path: Path) -> str | None:
    """One group's workbook from its sales; the reason it could not be made, or None."""
    try:
        write_workbook(analyse(sales, options), path)
    except RetentionXLError as error:  # one group's failure loses none of the others
        return str(error)
    return None


def _written(report, path: Path) -> str | None:
    """Write one group's workbook; the reason it could not be written, or None."""
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
