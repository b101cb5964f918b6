"""Ibis against the hand-written SQL of retention_xl.table.engine_sql, both on DuckDB: time and equal results.

The customer x month aggregation, written once in SQL that DuckDB and Spark SQL both
run, or written once in Ibis, which compiles to either. This measures what the Ibis
layer costs on DuckDB for the same table (3 runs each, median), on a generated Parquet
file of Zipf-like purchases over 24 months.

    pip install 'ibis-framework[duckdb]'
    python benchmarks/ibis_vs_sql.py --rows 10000000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from retention_xl.table.engine_sql import MONTHS_SQL  # noqa: E402


def generate(rows: int, path: Path) -> None:
    rng = np.random.default_rng(1)
    customers = max(rows // 35, 1)
    customer = (rng.zipf(1.3, rows) - 1) % customers
    day = 19358 + rng.integers(0, 730, rows)  # 2023-01-01 + two years
    month = (day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12).astype(np.int32)
    amount = np.round(rng.gamma(2.0, 40.0, rows), 2) * np.where(rng.random(rows) < 0.05, -1, 1)
    order = (customer.astype(np.int64) * 100_000 + day).astype(str)
    pd.DataFrame({"customer": customer.astype(np.int32), "day": day.astype(np.int32), "month": month,
                  "amount": amount, "profit": amount * 0.3, "order_key": order}).to_parquet(path, row_group_size=1_000_000)


def with_sql(path: Path) -> pd.DataFrame:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW rows AS SELECT * FROM read_parquet('{path}')")
    return con.execute(MONTHS_SQL).df()


def with_ibis(path: Path) -> pd.DataFrame:
    import ibis

    con = ibis.duckdb.connect()
    rows = con.read_parquet(str(path))
    purchase = rows.amount > 0
    per_month = rows.group_by(["customer", "month"]).aggregate(
        purchases=ibis.ifelse(purchase, rows.amount, 0).sum(),
        returned=ibis.ifelse(purchase, 0, -rows.amount).sum(),
        purchase_days=rows.day.nunique(where=purchase),
        first_purchase_day=rows.day.min(where=purchase).fill_null(-1),
        last_purchase_day=rows.day.max(where=purchase).fill_null(-1),
        profit=rows.profit.sum(),
    )
    order_months = rows.filter(purchase).group_by(["customer", "order_key"]).aggregate(month=rows.month.min())
    orders = order_months.group_by(["customer", "month"]).aggregate(orders=order_months.count())
    joined = per_month.left_join(orders, ["customer", "month"])
    return joined.select(
        "customer", "month", "purchases", "returned", orders=joined.orders.fill_null(0),
        purchase_days="purchase_days", first_purchase_day="first_purchase_day",
        last_purchase_day="last_purchase_day", profit="profit",
    ).to_pandas()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.parquet"
        generate(args.rows, path)
        times = {"hand-written SQL": [], "Ibis": []}
        results = {}
        for _ in range(args.runs):
            for name, build in (("hand-written SQL", with_sql), ("Ibis", with_ibis)):
                started = time.perf_counter()
                results[name] = build(path).sort_values(["customer", "month"]).reset_index(drop=True)
                times[name].append(time.perf_counter() - started)
    sql, ibis_table = results["hand-written SQL"], results["Ibis"]
    same = all(np.allclose(sql[c].astype(float), ibis_table[c].astype(float), atol=0.005) for c in sql.columns)
    print(f"{args.rows:,} rows, {len(sql):,} customer-months; results equal: {same}")
    for name, seconds in times.items():
        print(f"  {name:17s} median {statistics.median(seconds):6.2f} s  (runs: {', '.join(f'{s:.2f}' for s in seconds)})")


if __name__ == "__main__":
    main()
