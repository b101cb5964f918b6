"""The same report whichever engine builds the customer x month table: pandas or DuckDB (embedded, real)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_xl import activity, duckdb_engine
from retention_xl.reader import read_sales
from retention_xl.report import ReportOptions, analyse

REPO = Path(__file__).resolve().parents[1]
SOURCES = {
    "sample": (REPO / "sample_workbooks" / "sales_sample.xlsx", "2024-12"),
    "online-retail": (REPO.parent / "shared" / "data" / "online_retail_II_2009-2010.parquet", "2010-11"),
}


@pytest.fixture(scope="module", params=sorted(SOURCES))
def source(request):
    path, month = SOURCES[request.param]
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return read_sales(path, as_of="2026-01-01"), month


def _same(left: pd.DataFrame, right: pd.DataFrame):
    assert list(left.columns) == list(right.columns)
    for column in left.columns:
        a, b = left[column].to_numpy(), right[column].to_numpy()
        if a.dtype.kind == "f":
            assert np.allclose(a, b, rtol=0, atol=0.005, equal_nan=True), column  # money to the cent
        else:
            assert (a == b).all(), column


def test_the_tables_are_equal(source):
    sales, month = source
    period = pd.Period(month, "M")
    by_pandas = activity.build_customer_months(sales.transactions, period)
    by_duckdb = duckdb_engine.build_customer_months(sales.transactions, period)
    assert {k: str(v) for k, v in by_duckdb.months.dtypes.items()} == {k: str(v) for k, v in by_pandas.months.dtypes.items()}
    _same(by_pandas.months, by_duckdb.months)
    _same(by_pandas.customers.drop(columns=["customer_id", "customer_name"]),
          by_duckdb.customers.drop(columns=["customer_id", "customer_name"]))


def test_the_reports_are_identical(source):
    sales, month = source
    reports = {engine: analyse(sales.transactions, ReportOptions(month=month, engine=engine, clv=False), sales)
               for engine in ("pandas", "duckdb")}
    summaries = {engine: report.summary() for engine, report in reports.items()}
    for summary in summaries.values():
        summary.pop("timings"), summary.pop("engine")
    counts = ("S", "N", "E", "R", "L", "orders", "customers", "key_accounts", "cohorts", "repeat_tier")
    assert {k: summaries["pandas"][k] for k in counts} == {k: summaries["duckdb"][k] for k in counts}
    for rate in ("retention", "strict_retention", "txn_growth", "repeat_rate", "pareto_share", "repurchase_rate",
                 "return_rate"):
        assert summaries["duckdb"][rate] == pytest.approx(summaries["pandas"][rate], rel=1e-12, abs=1e-12), rate
    assert summaries["duckdb"]["revenue"] == pytest.approx(summaries["pandas"]["revenue"], abs=0.005)
    _same(reports["pandas"].customers.drop(columns=["customer_name"]).astype({"customer_id": str}),
          reports["duckdb"].customers.drop(columns=["customer_name"]).astype({"customer_id": str}))
    assert reports["duckdb"].summary()["engine"] == "duckdb"
