"""What `retention-xl report` imports on a small sheet: only what the run uses.

The budget, checked from ``python -X importtime`` of the command itself: on a small
.xlsx sheet whose data are too short for the customer-value models, none of the
heavy packages a run may not need is imported (SciPy comes with the models, DuckDB
with a scan, Spark and the PostgreSQL driver with their sources, xlwings with the
worksheet functions), and at most :data:`MODULES_BUDGET` modules are imported in all
(909 when the budget was set), so that a new heavy import shows up here. Module
names are asserted rather than times, which vary with how busy the machine is.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import openpyxl

NOT_FOR_A_SMALL_REPORT = ("scipy", "duckdb", "pyspark", "adbc_driver_postgresql", "adbc_driver_manager", "xlwings",
                          "threadpoolctl", "charset_normalizer", "polars")
MODULES_BUDGET = 1_000
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$")


def small_sheet(path):
    """Three months of sales of 30 customers: a report, but too short for the customer-value models."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["订单号", "客户编号", "订单日期", "金额"])
    for customer in range(30):
        for month in (1, 2, 3):
            if month == 1 or (customer + month) % 3:
                sheet.append([f"O{customer}-{month}", f"C{customer:03d}", dt.datetime(2024, month, 10 + customer % 15),
                              100.5 + customer])
    book.save(path)
    return path


def imported_modules(*argv: str) -> list[str]:
    """The modules a fresh ``python -X importtime -m retention_xl.cli ARGV`` imports, in order."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "retention_xl.cli", *argv],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return [match.group(1) for line in done.stderr.splitlines() if (match := _IMPORTED.match(line))]


def test_a_small_report_imports_only_what_it_uses(tmp_path):
    sales = small_sheet(tmp_path / "sales.xlsx")
    modules = imported_modules("report", str(sales), "-o", str(tmp_path / "r.xlsx"), "--json",
                               str(tmp_path / "r.json"), "--quiet")
    packages = {name.split(".")[0] for name in modules}
    assert {"retention_xl", "pandas", "openpyxl", "fastexcel"} <= packages  # the measure sees the run's imports
    assert sorted(packages & set(NOT_FOR_A_SMALL_REPORT)) == []
    assert len(modules) <= MODULES_BUDGET, f"{len(modules)} modules imported"
    assert '"available": false' in (tmp_path / "r.json").read_text(encoding="utf-8")  # no models ran
