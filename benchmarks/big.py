"""Beyond one sheet: the report from 1M, 10M and 100M rows of Parquet, by engine, with time and peak memory.

    python benchmarks/big.py                          # 1M and 10M rows, every engine that applies
    python benchmarks/big.py --rows 100000000 --engines auto --memory-limit 3GB
    python benchmarks/big.py --rows 10000000 --engines auto --csv   # the same rows as a folder of CSV files
    python benchmarks/big.py --rows 100000000 --engines auto --memory-limit 2GB --figures-in-engine

The generator draws each purchase's customer from a Zipf-like distribution over 24
months (10,000,000 rows: about 290,000 customers; 100,000,000 rows: about 1.8 million)
and writes a folder of Parquet files of 5,000,000 rows each (cached in benchmarks/out/).
Each run is ``retention-xl report FOLDER -o REPORT.xlsx`` in a fresh process, as a user
would run it; printed are its wall time, its stages and the process's peak memory.

Beside each run, its floor: DuckDB's bare customer x month aggregate of the same files
(net amount and lines per customer and month, fetched into Arrow), in a fresh process
of its own right after the run, under the same memory limit (the one given, or the
DuckDB share of the run's default memory budget), and the run's time as a multiple of it.
With ``--repeat N`` each run and its floor go N times, alternately, and the fastest of each counts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PART_ROWS = 5_000_000
CUSTOMERS = {1_000_000: 40_000, 10_000_000: 290_000, 100_000_000: 1_800_000}
STORES = [f"门店{i:02d}" for i in range(1, 51)]


def generate(rows: int) -> Path:
    """A folder of Parquet parts with ``rows`` sales rows (cached)."""
    folder = OUT / f"big_{rows}"
    if (folder / "_DONE").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    customers = CUSTOMERS.get(rows, max(rows // 35, 100))
    rng = np.random.default_rng(rows)
    weights = 1.0 / np.arange(1, customers + 1) ** 0.75  # a few customers buy very often, most rarely
    weights /= weights.sum()
    ids = pa.array([f"M{i:07d}" for i in rng.permutation(customers)])
    stores = pa.array(STORES)
    start = np.datetime64("2023-01-01T00:00:00", "s")
    for part, first in enumerate(range(0, rows, PART_ROWS)):
        size = min(PART_ROWS, rows - first)
        customer = rng.choice(customers, size=size, p=weights).astype(np.int32)
        seconds = rng.integers(0, 730 * 86400, size=size)
        amount = np.round(rng.lognormal(4.0, 0.9, size), 2)
        amount[rng.random(size) < 0.03] *= -1
        table = pa.table({
            "订单号": customer.astype(np.int64) * 1000 + seconds // 86400,  # one order per customer and day
            "订单日期": pa.array(start + seconds.astype("timedelta64[s]")),
            "会员号": pa.DictionaryArray.from_arrays(pa.array(customer), ids),
            "门店": pa.DictionaryArray.from_arrays(pa.array((customer % len(STORES)).astype(np.int32)), stores),
            "金额": amount,
        })
        pq.write_table(table, folder / f"part-{part:03d}.parquet", row_group_size=1_000_000)
    (folder / "_DONE").write_text("")
    return folder


def as_csv(folder: Path) -> Path:
    """The Parquet parts of ``folder`` as a folder of CSV files, one per part (cached)."""
    import pyarrow.csv as pacsv

    target = folder.with_name(folder.name + "_csv")
    if (target / "_DONE").exists():
        return target
    target.mkdir(exist_ok=True)
    for part in sorted(folder.glob("*.parquet")):
        table = pq.read_table(part)
        table = table.cast(pa.schema([pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type)
                                      for f in table.schema]))
        pacsv.write_csv(table, target / part.with_suffix(".csv").name)
    (target / "_DONE").write_text("")
    return target


FLOOR = """
import sys, duckdb
files, limit = sys.argv[1], sys.argv[2]
reader = "read_parquet" if files.endswith(".parquet") else "read_csv"
connection = duckdb.connect(config={"memory_limit": limit})
connection.execute("SET enable_progress_bar = false")
connection.sql(f\"\"\"
    SELECT "会员号" AS customer, date_trunc('month', "订单日期") AS month, sum("金额") AS net, count(*) AS lines
    FROM {reader}('{files}') GROUP BY ALL\"\"\").to_arrow_table()
"""


def floor(folder: Path, memory_limit: str | None) -> tuple[float, float]:
    """Wall seconds and peak MiB of DuckDB's bare customer x month aggregate of the files of ``folder``."""
    from retention_xl.memory_budget import default_budget

    files = str(folder / ("*.csv" if folder.name.endswith("_csv") else "*.parquet"))
    limit = memory_limit or default_budget().duckdb_limit
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", FLOOR, files, limit])
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"the floor's aggregate failed with status {status}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def run(folder: Path, engine: str, extra: list[str]) -> dict:
    """One report in a fresh process: wall time, peak memory (MiB) and the report's own timings."""
    output = OUT / f"report_{folder.name}_{engine}.xlsx"
    summary = output.with_suffix(".json")
    command = [sys.executable, "-m", "retention_xl.cli", "report", str(folder), "-o", str(output), "--json",
               str(summary), "--engine", engine, "--as-of", "2026-01-01", "--quiet", *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        return {"engine": engine, "failed": status}
    figures = json.loads(summary.read_text(encoding="utf-8"))
    return {"engine": engine, "wall": wall, "peak_mib": usage.ru_maxrss / 1024, "timings": figures["timings"],
            "customers": figures["customers"], "E": figures["E"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--engines", nargs="+", default=["auto", "pandas", "spark"])
    parser.add_argument("--memory-limit", dest="memory_limit")
    parser.add_argument("--no-clv", action="store_true")
    parser.add_argument("--figures-in-engine", dest="figures_in_engine", action="store_true",
                        help="leave the customer x month table in DuckDB and compute the figures there")
    parser.add_argument("--csv", action="store_true", help="read the rows from a folder of CSV files instead")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run each report and its floor N times, alternately, and keep the fastest of each")
    args = parser.parse_args()
    extra = ((["--memory-limit", args.memory_limit] if args.memory_limit else []) + (["--no-clv"] if args.no_clv else [])
             + (["--figures-in-engine"] if args.figures_in_engine else []))
    print(f"{os.cpu_count()} cores; {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.1f} GiB memory")
    for rows in args.rows:
        started = time.perf_counter()
        folder = as_csv(generate(rows)) if args.csv else generate(rows)
        print(f"{rows:,} rows in {folder} (generated or found in {time.perf_counter() - started:.0f} s)")
        for engine in args.engines:
            runs, floors = [], []
            for _ in range(args.repeat):
                runs.append(run(folder, engine, extra))
                if "failed" in runs[-1]:
                    break
                floors.append(floor(folder, args.memory_limit))
            if "failed" in runs[-1]:
                print(f"  {engine:7s} failed with status {runs[-1]['failed']}")
                continue
            result, (floor_wall, floor_peak) = min(runs, key=lambda r: r["wall"]), min(floors)
            stages = ", ".join(f"{k} {v:.1f} s" for k, v in result["timings"].items())
            print(f"  {engine:7s} {result['wall']:6.1f} s wall, peak {result['peak_mib']:,.0f} MiB; floor "
                  f"{floor_wall:.1f} s, peak {floor_peak:,.0f} MiB; {result['wall'] / floor_wall:.2f}x the floor "
                  f"({result['customers']:,} customers; {stages})", flush=True)


if __name__ == "__main__":
    main()
