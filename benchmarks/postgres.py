"""A PostgreSQL table of sales to a report: DuckDB taking the rows as they stream, against reading them in memory.

    PGPASSWORD=... python benchmarks/postgres.py postgresql://user@127.0.0.1:5432/db [--rows 1000000]

Loads the rows of ``benchmarks/big.py``'s generator (a Zipf-like draw of customers over
24 months, 50 stores) into the table ``bench_sales`` through ADBC, then runs
``retention-xl report --source URL --table bench_sales`` once per engine in a fresh process
and prints its wall time, its stages and the process's peak memory.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from big import OUT, generate  # noqa: E402


def load(url: str, rows: int) -> None:
    from adbc_driver_postgresql import dbapi

    table = ds.dataset(str(generate(rows))).to_table()
    table = pa.table({name: column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column
                      for name, column in zip(table.column_names, table.columns)})  # PostgreSQL has no dictionaries
    with dbapi.connect(url) as connection, connection.cursor() as cursor:
        cursor.adbc_ingest("bench_sales", table, mode="replace")
        connection.commit()


def main() -> None:
    import json
    import os
    import subprocess
    import time

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    started = time.perf_counter()
    load(args.url, args.rows)
    print(f"{args.rows:,} rows loaded into bench_sales in {time.perf_counter() - started:.1f} s")
    for engine in ("auto", "pandas"):
        output = OUT / f"report_postgres_{engine}.xlsx"
        command = [sys.executable, "-m", "retention_xl.cli", "report", "--source", args.url, "--table", "bench_sales",
                   "-o", str(output), "--json", str(output.with_suffix(".json")), "--engine", engine,
                   "--as-of", "2026-01-01", "--quiet"]
        began = time.perf_counter()
        process = subprocess.Popen(command)
        _, status, usage = os.wait4(process.pid, 0)
        if status:
            print(f"  {engine:7s} failed with status {status}")
            continue
        timings = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))["timings"]
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        print(f"  {engine:7s} {time.perf_counter() - began:6.1f} s wall, peak {usage.ru_maxrss / 1024:,.0f} MiB ({stages})")


if __name__ == "__main__":
    main()
