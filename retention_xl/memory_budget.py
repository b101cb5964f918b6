"""The memory a run allows itself where no ``--memory-limit`` is given, and what follows from it.

A run that is given no limit states a budget: a quarter of the memory of the machine,
or of the container it runs in where that has a limit (cgroup v2 ``memory.max``, v1
``memory.limit_in_bytes``), and at most :data:`BUDGET_CAP`. DuckDB works within a share
of it (:attr:`MemoryBudget.duckdb_limit`, spilling to disk beyond), and the customer x
month table is fetched into Python only where it fits in what is left
(:func:`table_allowance`); otherwise DuckDB keeps the table and computes the figures from it.

>>> budget = MemoryBudget(3 * 2**30, 12 * 2**30, "machine")
>>> budget.duckdb_limit, budget.describe()
('2304MiB', 'a memory budget of 3.0 GiB (a quarter of the 12.0 GiB of this machine, at most 3.5 GiB; --memory-limit sets another)')
>>> round(table_allowance(budget) / 2**30, 2)  # GiB of table Python may hold; beyond, DuckDB keeps it
1.12
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

BUDGET_SHARE = 0.25  # of the machine's or container's memory: the rest is the system's and other programs'
# Beyond this a report gains little: DuckDB spills what does not fit, and 100M rows of 1.8M customers run in it.
BUDGET_CAP = 3.5 * 2**30  # the peak stays under 4 GiB: DuckDB and Python each go a little past their shares
LEAST_BUDGET = 512 * 2**20
DUCKDB_SHARE = 0.75  # of the budget, DuckDB's limit while it scans: Python, Arrow and the libraries hold the rest
PYTHON_BASE = 400 * 2**20  # the interpreter, its libraries and the report's other tables
# The report holds about this many times the customer x month table at its peak. At 100,000,000 rows the
# process peaked at 3,723 MiB with a table of 28 million customer-months (1.3 GiB); about 1 GiB of that is
# DuckDB's memory and the interpreter's, already in use (so not counted as available) when the table is fetched.
TABLE_PEAK_FACTOR = 2
DUCKDB_SHARE_AFTER_TABLE = 1 / 6  # of the memory limit, once Python holds the customer x month table
CGROUP = Path("/sys/fs/cgroup")
UNLIMITED = 2**60  # cgroup v1 writes "no limit" as a number near 2**63


@dataclass(frozen=True)
class MemoryBudget:
    """The bytes a run allows itself, out of ``of`` bytes of a ``where`` (``machine`` or ``container``)."""

    total: int
    of: int
    where: str

    @property
    def duckdb_limit(self) -> str:
        """DuckDB's memory limit while it scans, as ``--memory-limit`` takes it."""
        return f"{int(self.total * DUCKDB_SHARE / 2**20)}MiB"

    def describe(self) -> str:
        """The words of the progress line."""
        return (f"a memory budget of {self.total / 2**30:.1f} GiB (a quarter of the {self.of / 2**30:.1f} GiB of this "
                f"{self.where}, at most {BUDGET_CAP / 2**30:.1f} GiB; --memory-limit sets another)")


def container_memory(root: Path | None = None) -> int | None:
    """The memory limit of the container (cgroup v2, else v1) this process runs in, or None where it has none.

    >>> container_memory(Path("/nonexistent")) is None
    True
    """
    for name in ("memory.max", "memory/memory.limit_in_bytes"):
        try:
            text = ((root or CGROUP) / name).read_text(encoding="ascii").strip()
        except OSError:
            continue
        if text != "max" and text.isdigit() and int(text) < UNLIMITED:
            return int(text)
    return None


def machine_memory() -> int:
    """The physical memory of this machine, in bytes."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def default_budget(root: Path | None = None) -> MemoryBudget:
    """The budget of a run given no memory limit: a quarter of the container's limit where there is one below
    the machine's memory, else of the machine's memory; at most :data:`BUDGET_CAP`, at least 512 MiB."""
    machine, container = machine_memory(), container_memory(root)
    of, where = (container, "container") if container is not None and container < machine else (machine, "machine")
    return MemoryBudget(int(min(max(of * BUDGET_SHARE, LEAST_BUDGET), BUDGET_CAP)), of, where)


def table_allowance(budget: MemoryBudget) -> int:
    """The bytes of customer x month table (as DuckDB hands it over) that Python may hold within ``budget``: the
    report holds about :data:`TABLE_PEAK_FACTOR` times the table, beside DuckDB's share once it has handed the
    table over (a sixth of its limit) and the program itself.

    >>> table_allowance(MemoryBudget(3 * 2**30, 12 * 2**30, "machine")) / 2**30
    1.117...
    """
    left = budget.total * (1 - DUCKDB_SHARE * DUCKDB_SHARE_AFTER_TABLE) - PYTHON_BASE
    return max(int(left / TABLE_PEAK_FACTOR), 0)
