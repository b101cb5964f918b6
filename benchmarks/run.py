"""Speed of sales sheet -> finished report, at 10,000, 100,000 and 1,048,575 rows.

    python benchmarks/run.py                 # all sizes, with the naive pandas/openpyxl way alongside
    python benchmarks/run.py --sizes 10000 100000 --no-naive
    python benchmarks/run.py --sizes 1048575 --no-naive --no-functions --repeat 3

For each size a deterministic sales sheet (24 months, about one customer per ten
rows) is generated once into benchmarks/out/ and `retention-xl report` is run on
it as a user would, in a fresh process. Printed per run: wall time of the whole
command, its read / compute / write stages, and the process's peak memory. The
naive way -- pandas.read_excel with default settings, the same per-customer
aggregation in pandas, a cell-by-cell openpyxl write -- runs in its own process too,
and our time is given as a ratio to it.

The floor is the fastest read of the sheet there is: fastexcel loading the whole
sheet into Arrow (``fastexcel.read_excel(path).load_sheet(0).to_arrow()``), in a
fresh process of its own in the same run, start-up included. The report's total is
given as a multiple of it, and both processes' CPU time (user + system) beside it:
on a machine busy with other work, CPU time varies far less than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SIZES = (10_000, 100_000, 1_048_575)
SEED = 20261122


def generate(rows: int) -> Path:
    """A deterministic .xlsx sales sheet of ``rows`` data rows (cached)."""
    path = OUT / f"sales_{rows}.xlsx"
    if path.exists():
        return path
    import xlsxwriter

    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(SEED + rows)
    customers = max(rows // 10, 50)
    # Heavy-tailed activity: a few customers buy very often, most rarely.
    weights = rng.pareto(1.2, customers) + 0.05
    customer = rng.choice(customers, size=rows, p=weights / weights.sum())
    customer[:customers] = np.arange(customers)  # every customer buys at least once
    start = np.datetime64("2023-01-01T00:00")
    minutes = rng.integers(0, 730 * 24 * 60, size=rows)
    order_ids = customer.astype(np.int64) * 1000 + minutes // (24 * 60)  # one order per customer and day
    amount = np.round(rng.lognormal(4.0, 0.9, rows), 2)
    amount[rng.random(rows) < 0.02] *= -1
    order = np.argsort(minutes, kind="stable")
    temporary = path.with_suffix(".tmp.xlsx")
    book = xlsxwriter.Workbook(temporary, {"constant_memory": True})
    sheet = book.add_worksheet("销售明细")
    date_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, ["订单号", "订单日期", "客户编号", "门店", "金额"])
    stores = ["上海店", "杭州店", "苏州店", "南京店", "线上"]
    dates = (start + minutes[order].astype("timedelta64[m]")).astype("datetime64[ms]").astype(object)
    for r, i in enumerate(order, start=1):
        sheet.write_number(r, 0, int(order_ids[i]))
        sheet.write_datetime(r, 1, dates[r - 1], date_format)
        sheet.write_string(r, 2, f"C{customer[i]:06d}")
        sheet.write_string(r, 3, stores[customer[i] % 5])
        sheet.write_number(r, 4, float(amount[i]))
    book.close()
    temporary.rename(path)
    return path


def generate_large(rows: int, kind: str) -> Path:
    """A deterministic .csv or .parquet sales file of ``rows`` rows and about ``rows / 8`` customers (cached)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = OUT / f"sales_{rows}.{kind}"
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(SEED + rows)
    customers = rows // 8
    customer = rng.integers(0, customers, size=rows)
    customer[:customers] = np.arange(customers)
    minutes = np.sort(rng.integers(0, 730 * 24 * 60, size=rows))
    amount = np.round(rng.lognormal(4.0, 0.9, rows), 2)
    amount[rng.random(rows) < 0.02] *= -1
    table = pa.table({
        "Invoice": pa.array(customer.astype(np.int64) * 1000 + minutes // (24 * 60)).cast(pa.string()),
        "InvoiceDate": pa.array((np.datetime64("2023-01-01T00:00") + minutes.astype("timedelta64[m]")).astype("datetime64[s]")),
        "Customer ID": pa.array(customer).cast(pa.string()),
        "Amount": pa.array(amount),
    })
    temporary = path.with_suffix(f".tmp.{kind}")
    if kind == "parquet":
        pq.write_table(table, temporary)
    else:
        pacsv.write_csv(table, temporary)
    temporary.rename(path)
    return path


def run_measured(command: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, peak resident MiB, result) of one command in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stdout, stderr = process.stdout.read(), process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr}")
    peak = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
    result = subprocess.CompletedProcess(command, 0, stdout, stderr)
    result.cpu = usage.ru_utime + usage.ru_stime  # on a busy machine a steadier measure of the work than wall time
    return wall, peak, result


NAIVE = textwrap.dedent(
    """
    import sys, time
    import pandas as pd
    from openpyxl import Workbook
    t0 = time.perf_counter()
    frame = pd.read_excel(sys.argv[1])
    t1 = time.perf_counter()
    frame = frame[frame["客户编号"].notna() & (frame["金额"] != 0)]
    frame["月"] = frame["订单日期"].dt.to_period("M")
    buys = frame[frame["金额"] > 0]
    customers = frame.groupby("客户编号").agg(first=("订单日期", "min"), last=("订单日期", "max"),
                                              revenue=("金额", "sum"))
    customers["orders"] = buys.groupby("客户编号")["订单号"].nunique()
    first_month = buys.groupby("客户编号")["月"].min().rename("cohort")
    cohort = buys.join(first_month, on="客户编号").groupby(["cohort", "月"])["客户编号"].nunique().unstack()
    t2 = time.perf_counter()
    book = Workbook()
    sheet = book.active
    for r, (cid, row) in enumerate(customers.iterrows(), start=2):
        sheet.cell(row=r, column=1, value=cid)
        sheet.cell(row=r, column=2, value=row["first"]).number_format = "yyyy-mm-dd"
        sheet.cell(row=r, column=3, value=row["last"]).number_format = "yyyy-mm-dd"
        sheet.cell(row=r, column=4, value=row["orders"])
        sheet.cell(row=r, column=5, value=row["revenue"]).number_format = "#,##0.00"
    cohort_sheet = book.create_sheet("cohorts")
    for r, (month, values) in enumerate(cohort.iterrows(), start=1):
        cohort_sheet.cell(row=r, column=1, value=str(month))
        for c, v in enumerate(values, start=2):
            if v == v:
                cohort_sheet.cell(row=r, column=c, value=int(v))
    book.save(sys.argv[2])
    t3 = time.perf_counter()
    print(f"{t1 - t0:.2f} {t2 - t1:.2f} {t3 - t2:.2f}")
    """
)


FUNCTIONS = textwrap.dedent(
    """
    import asyncio, json, statistics, sys, time
    import numpy as np
    import xlwings as xw
    from xlwings.server import custom_functions_call
    from retention_xl import udfs

    column = [[float(v)] for v in np.random.default_rng(1).lognormal(5, 1, 1_000_000)]
    payload = {"func_name": "PARETO_SHARE", "args": [column, None, None], "caller_address": "Sheet1!B2",
               "version": xw.__version__, "runtime": "1.4", "client": "Office.js"}
    through_xlwings, function_only = [], []
    for _ in range(5):
        started = time.perf_counter()
        asyncio.run(custom_functions_call(payload, udfs))
        through_xlwings.append(time.perf_counter() - started)
        started = time.perf_counter()
        udfs.PARETO_SHARE(column)
        function_only.append(time.perf_counter() - started)
    print(json.dumps({"protocol": statistics.median(through_xlwings), "function": statistics.median(function_only)}))
    """
)


FLOOR = "import sys, fastexcel; fastexcel.read_excel(sys.argv[1]).load_sheet(0).to_arrow()"


def measure_floor(sheet: Path) -> tuple[float, float]:
    """Wall and CPU seconds of a fresh process that only loads ``sheet`` with fastexcel (the floor of any
    report on it)."""
    wall, _, result = run_measured([sys.executable, "-c", FLOOR, str(sheet)])
    return wall, result.cpu


def measure_report(sheet: Path, rows: int) -> dict:
    """One report on ``sheet`` and, right after it, the floor: wall times, peak memory and the report's stages."""
    report, summary = OUT / f"report_{rows}.xlsx", OUT / f"report_{rows}.json"
    wall, peak, result = run_measured([sys.executable, "-m", "retention_xl.cli", "report", str(sheet), "-o",
                                       str(report), "--json", str(summary), "--quiet"])
    figures = json.loads(summary.read_text(encoding="utf-8"))
    floor, floor_cpu = measure_floor(sheet)
    return {"rows": rows, "customers": figures["customers"], "wall": wall, "cpu": result.cpu, "peak": peak,
            "floor": floor, "floor_cpu": floor_cpu, **figures["timings"]}


def import_seconds(statement: str, environment: dict) -> float:
    """Median wall time of a fresh interpreter running ``statement``, over seven runs."""
    times = []
    for _ in range(7):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True, env=environment)
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def measure_functions() -> dict:
    environment = {**os.environ, "XLWINGS_ON_SERVER": "true", "XLWINGS_LICENSE_KEY": "noncommercial"}
    script = OUT / "functions.py"
    OUT.mkdir(exist_ok=True)
    script.write_text(FUNCTIONS, encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], check=True, capture_output=True, text=True, env=environment)
    figures = json.loads(result.stdout)
    xlwings_only = import_seconds("import xlwings", environment)
    with_functions = import_seconds("import xlwings, retention_xl.udfs", environment)
    figures.update(import_xlwings=xlwings_only, import_added=with_functions - xlwings_only)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--no-naive", action="store_true", help="skip the naive pandas/openpyxl way")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run each report and its floor N times, alternately, and keep the medians")
    parser.add_argument("--no-functions", action="store_true", help="skip the worksheet function measures")
    parser.add_argument("--large", type=int, nargs="?", const=10_000_000, default=None, metavar="ROWS",
                        help="also run .csv and .parquet inputs of ROWS rows (default 10,000,000), the .csv also "
                             "with --engine pandas and with --memory-limit 1GB")
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"pandas {pd.__version__}")
    results = []
    for rows in args.sizes:
        started = time.perf_counter()
        sheet = generate(rows)
        print(f"sheet {sheet.name}: {sheet.stat().st_size / 1e6:.1f} MB (ready in {time.perf_counter() - started:.1f} s)",
              flush=True)
        runs = [measure_report(sheet, rows) for _ in range(args.repeat)]
        row = sorted(runs, key=lambda run: run["wall"])[len(runs) // 2]  # the median run, by wall time
        for measure in ("floor", "cpu", "floor_cpu"):
            row[measure] = statistics.median(run[measure] for run in runs)
        row["to_floor"] = row["wall"] / row["floor"]
        if not args.no_naive:
            script = OUT / "naive.py"
            script.write_text(NAIVE, encoding="utf-8")
            naive_wall, naive_peak, result = run_measured([sys.executable, str(script), str(sheet), str(OUT / "naive.xlsx")])
            row.update(naive=naive_wall, naive_peak=naive_peak, naive_stages=result.stdout.split())
        results.append(row)
        print(json.dumps(row), flush=True)

    large = []
    if args.large:
        # The CSV file also read in memory, and scanned within a small memory limit, for comparison.
        for kind, options in (("parquet", []), ("csv", []), ("csv", ["--engine", "pandas"]),
                              ("csv", ["--memory-limit", "1GB"])):
            started = time.perf_counter()
            source = generate_large(args.large, kind)
            print(f"{source.name}: {source.stat().st_size / 1e6:.0f} MB (ready in {time.perf_counter() - started:.1f} s)",
                  flush=True)
            summary = OUT / f"report_{kind}.json"
            wall, peak, _ = run_measured([sys.executable, "-m", "retention_xl.cli", "report", str(source), "-o",
                                          str(OUT / f"report_{kind}.xlsx"), "--json", str(summary), "--quiet",
                                          *options])
            figures = json.loads(summary.read_text(encoding="utf-8"))
            row = {"file": " ".join([source.name, *options]), "rows": args.large, "customers": figures["customers"],
                   "wall": wall, "peak": peak, **figures["timings"]}
            large.append(row)
            print(json.dumps(row), flush=True)

    functions = None if args.no_functions else measure_functions()
    if functions:
        print(json.dumps(functions), flush=True)

    print()
    print("| rows | customers | read s | compute s | write s | total wall s | peak MiB | floor s | × floor "
          "| CPU s (floor's) | naive wall s (read/compute/write) | naive peak MiB | speed-up |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        naive = (f"{r['naive']:.1f} ({'/'.join(r['naive_stages'])})", f"{r['naive_peak']:.0f}", f"{r['naive'] / r['wall']:.1f}×") \
            if "naive" in r else ("—", "—", "—")
        print(f"| {r['rows']:,} | {r['customers']:,} | {r['read']:.2f} | {r['compute']:.2f} | {r['write']:.2f} | "
              f"{r['wall']:.2f} | {r['peak']:.0f} | {r['floor']:.2f} | {r['to_floor']:.2f} | "
              f"{r['cpu']:.2f} ({r['floor_cpu']:.2f}) | {naive[0]} | {naive[1]} | {naive[2]} |")
    if functions:
        print_functions(functions)
    if large:
        print_large(large)


def print_functions(functions: dict) -> None:
    print()
    print("| worksheet function measure | seconds |")
    print("|---|---:|")
    print(f"| PARETO_SHARE over a 1,000,000-cell column, through xlwings' Office.js protocol | {functions['protocol']:.3f} |")
    print(f"| the same, the function's own Python time | {functions['function']:.3f} |")
    print(f"| import xlwings (server mode) | {functions['import_xlwings']:.3f} |")
    print(f"| added by importing retention_xl.udfs | {functions['import_added']:.3f} |")


def print_large(large: list[dict]) -> None:
    print()
    print("| input | rows | customers | read s | compute s | write s | total wall s | peak MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in large:
        print(f"| {r['file']} | {r['rows']:,} | {r['customers']:,} | {r['read']:.2f} | {r['compute']:.2f} | "
              f"{r['write']:.2f} | {r['wall']:.2f} | {r['peak']:.0f} |")


if __name__ == "__main__":
    main()
