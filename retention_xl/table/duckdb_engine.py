"""The customer x month table built by DuckDB, to the contract of :mod:`retention_xl.table.contract`.

The same clean transactions, the same definitions (:mod:`retention_xl.table.engine_sql`),
another engine: DuckDB aggregates out of core and on every core. Customers keep the
codes pandas gives them (order of first appearance), so every figure computed from
the table is the same whichever engine built it; money sums may differ far below a
cent, which the contract allows.

>>> import pandas as pd
>>> rows = pd.DataFrame({"customer_id": ["a", "a", "b"], "order_id": ["1", "1", None], "amount": [5.0, 2.0, 3.0],
...                      "date": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-02-03"])})
>>> build_customer_months(rows, pd.Period("2024-02", "M")).months[["customer", "month", "orders", "purchase_days"]].values.tolist()
[[0, 24288, 1, 1], [1, 24289, 1, 1]]
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pandas as pd

from .contract import CustomerMonths
from .engine_sql import FIRST_DAYS_SQL, MONTHS_SQL, customer_months, engine_rows
from ..errors import UsageError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


def memory_limit(text: str) -> str:
    """A DuckDB memory limit from ``4GB``-style text (a run given none takes DuckDB's share of its memory budget:
    :func:`retention_xl.engine_choice.duckdb_memory`).

    >>> memory_limit("4GB"), memory_limit("512 mib")
    ('4GB', '512MIB')
    """
    match = _SIZE.match(str(text))
    if not match:
        raise UsageError(f"the memory limit must be a size such as 4GB or 512MB, got {text!r}")
    return f"{match.group(1)}{match.group(2).upper()}"


_UNIT_BYTES = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30,
               "TIB": 2**40}


def available_memory() -> int | None:
    """The bytes of memory this program can still take without swapping, where the system says (Linux): the
    machine's ``MemAvailable``, or less where a container's limit (cgroup v2) leaves less; None elsewhere.

    >>> available_memory() is None or available_memory() >= 0
    True
    """
    found = []
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            found += [int(line.split()[1]) * 1024 for line in info if line.startswith("MemAvailable:")]
    except OSError:
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text(encoding="ascii").strip()
        if limit != "max":
            found.append(int(limit) - int(Path("/sys/fs/cgroup/memory.current").read_text(encoding="ascii")))
    except (OSError, ValueError):
        pass
    return max(min(found), 0) if found else None


def memory_part(limit: str, share: float) -> str:
    """``share`` of a memory limit as :func:`memory_limit` gives it, in whole MiB (at least 256 MiB).

    >>> memory_part("3GB", 1 / 3), memory_part("512MIB", 0.1)
    ('953MiB', '256MiB')
    """
    number, unit = _SIZE.match(limit).groups()
    return f"{max(int(float(number) * _UNIT_BYTES[unit.upper()] * share / 2**20), 256)}MiB"


def build_customer_months(transactions: pd.DataFrame, until: pd.Period, connection=None,
                          memory: str | None = None, spill_dir: str | None = None) -> CustomerMonths:
    """The customer x month table of the transactions up to the end of month ``until``, aggregated by DuckDB.

    ``connection`` is a DuckDB connection to use (default: a new in-memory one, limited to
    ``memory`` -- see :func:`memory_limit`; None: DuckDB's own default -- and spilling to ``spill_dir``,
    default a temporary folder removed afterwards).
    """
    import duckdb

    rows, ids = engine_rows(transactions, until)
    with tempfile.TemporaryDirectory(prefix="retention_xl_duckdb_", dir=spill_dir) as spill:
        limit = {} if memory is None else {"memory_limit": memory_limit(memory)}
        con = connection or duckdb.connect(config={**limit, "temp_directory": spill})
        try:
            con.register("rows", rows)
            months = con.execute(MONTHS_SQL).df()
            firsts = con.execute(FIRST_DAYS_SQL).df()
            con.unregister("rows")
        finally:
            if connection is None:
                con.close()
    return customer_months(months, firsts, transactions, ids)
