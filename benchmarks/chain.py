"""Speed of a chain's month end: 1,000,000 rows, 100 stores, 400 salespeople.

    python benchmarks/chain.py [--rows 1000000] [--stores 100] [--engine duckdb]

Writes a deterministic Parquet sales file into benchmarks/out/, then runs
`retention-xl report SALES -o chain.xlsx --split-by store --no-clv [--engine ENGINE]` in a
fresh process and prints its wall time, peak memory and the number of store workbooks.
Read in memory (``pandas``, or ``auto`` below 2,000,000 rows), the store workbooks are
written by one process per core; scanned (``duckdb``), one store after another from DuckDB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def generate(rows: int, stores: int) -> Path:
    path = OUT / f"chain_{rows}_{stores}.parquet"
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(13)
    customers = rows // 10
    customer = rng.integers(0, customers, rows)
    home = customer % stores
    store = np.where(rng.random(rows) < 0.9, home, rng.integers(0, stores, rows))  # some buy elsewhere
    staff = store * 4 + rng.integers(0, 4, rows)
    day = np.datetime64("2023-01-01") + rng.integers(0, 730, rows).astype("timedelta64[D]")
    table = pa.table({
        "客户编号": np.char.add("C", customer.astype(str)), "订单日期": pa.array(day.astype("datetime64[s]")),
        "金额": np.round(rng.lognormal(4, 0.9, rows), 2), "门店": np.char.add("门店", store.astype(str)),
        "导购": np.char.add("导购", staff.astype(str)),
    })
    pq.write_table(table, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--engine", default="auto", choices=["auto", "pandas", "duckdb", "spark"])
    args = parser.parse_args()
    sales = generate(args.rows, args.stores)
    output = OUT / "chain.xlsx"
    command = [sys.executable, "-m", "retention_xl.cli", "report", str(sales), "-o", str(output), "--split-by", "store",
               "--no-clv", "--quiet", "--json", str(OUT / "chain.json"), "--as-of", "2026-01-01",
               "--engine", args.engine]
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak = int(done.stderr.strip().splitlines()[-1]) / 1024 if done.returncode == 0 else float("nan")
    summary = json.loads((OUT / "chain.json").read_text()) if done.returncode == 0 else {}
    print(json.dumps({"rows": args.rows, "stores": args.stores, "engine": args.engine, "exit": done.returncode, "wall_s": round(wall, 1),
                      "peak_mib": round(peak), "store_workbooks": len(summary.get("split", {}).get("files", {})),
                      "timings": summary.get("timings")}))


if __name__ == "__main__":
    main()
