"""The same report whichever engine builds the customer x month table: pandas or DuckDB (embedded, real). The
tables themselves are compared in test_customer_table_contract.py."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.data import real_data_slow

from retention_xl.read.cleaning import clean_transactions
from retention_xl.read.reader import SalesData, read_sales
from retention_xl.report import ReadOptions, ReportOptions, analyse

REPO = Path(__file__).resolve().parents[1]
SOURCES = {
    "sample": (REPO / "sample_workbooks" / "sales_sample.xlsx", "2024-12"),
    "online-retail": (REPO.parent / "shared" / "data" / "online_retail_II_2009-2010.parquet", "2010-11"),
}


def generated_sales():
    """Returns, duplicate order lines, customers at several stores, profit: the cases where engines could differ."""
    rng = np.random.default_rng(7)
    count = 6000
    customers = rng.zipf(1.6, count) % 900
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 540, count), unit="D")
    amounts = np.round(rng.gamma(2.0, 40.0, count), 2) * np.where(rng.random(count) < 0.06, -1, 1)
    orders = [f"O{c}-{d:%Y%m%d}" for c, d in zip(customers, days)]  # a customer's lines of a day: one order
    frame = pd.DataFrame({"customer": [f"K{c:04d}" for c in customers], "date": days, "amount": amounts,
                          "order": orders, "store": rng.choice(["东店", "西店", "Online"], count),
                          "cost": np.round(np.abs(amounts) * rng.uniform(0.4, 1.1, count), 2)})
    frame.loc[rng.random(count) < 0.2, "order"] = None  # without an order number: one order a day
    result = clean_transactions(frame, "customer", "date", "amount", order_id_col="order", cost_col="cost",
                                group_cols={"store": "store"}, as_of="2026-01-01")
    return result.transactions


@pytest.fixture(scope="module", params=real_data_slow(sorted(SOURCES) + ["generated"]))
def source(request):
    if request.param == "generated":
        return SalesData.of_rows(generated_sales()), "2024-05"
    path, month = SOURCES[request.param]
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return read_sales(path, as_of="2026-01-01"), month


@pytest.fixture(scope="module", params=["duckdb",
                                        pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow])])
def engine(request):
    if request.param == "spark":
        from retention_xl.table import spark_engine

        spark_engine.session()  # started once for the module; a second start would cost seconds per test
    return request.param


def _same(left: pd.DataFrame, right: pd.DataFrame):
    assert list(left.columns) == list(right.columns)
    for column in left.columns:
        a, b = left[column].to_numpy(), right[column].to_numpy()
        if a.dtype.kind == "f":
            assert np.allclose(a, b, rtol=0, atol=0.005, equal_nan=True), column  # money to the cent
        else:
            assert (a == b).all(), column


def test_the_reports_are_identical(source, engine):
    sales, month = source
    reports = {name: analyse(sales, ReportOptions(month=month, engine=name, clv=False))
               for name in ("pandas", engine)}
    summaries = {name: report.summary() for name, report in reports.items()}
    for summary in summaries.values():
        summary.pop("timings"), summary.pop("engine")
    counts = ("S", "N", "E", "R", "L", "orders", "customers", "key_accounts", "cohorts", "repeat_tier")
    assert {k: summaries["pandas"][k] for k in counts} == {k: summaries[engine][k] for k in counts}
    for rate in ("retention", "strict_retention", "txn_growth", "repeat_rate", "pareto_share", "repurchase_rate",
                 "return_rate"):
        assert summaries[engine][rate] == pytest.approx(summaries["pandas"][rate], rel=1e-12, abs=1e-12), rate
    assert summaries[engine]["revenue"] == pytest.approx(summaries["pandas"]["revenue"], abs=0.005)
    _same(reports["pandas"].customers.drop(columns=["customer_name"]).astype({"customer_id": str}),
          reports[engine].customers.drop(columns=["customer_name"]).astype({"customer_id": str}))
    trends = [report.trend_frame().drop(columns=["repeat_tier"]) for report in reports.values()]
    _same(trends[0].astype(float), trends[1].astype(float))
    _same(reports["pandas"].cohorts.active, reports[engine].cohorts.active)
    _same(reports["pandas"].cohorts.revenue, reports[engine].cohorts.revenue)
    assert reports[engine].summary()["engine"] == engine


@pytest.mark.spark
@pytest.mark.slow
def test_spark_aggregates_the_rows_it_classified(tmp_path, sample_rows_once):
    """For Parquet input Spark's executors read, clean and classify the rows and aggregate them, nothing passing
    through the driver; the report is DuckDB's, figure for figure, and --json times each engine's stages."""
    import json

    from compare import assert_close

    from retention_xl.report import create_report

    path = tmp_path / "sample.parquet"
    sample_rows_once.to_parquet(path, index=False)
    summaries = {}
    for engine in ("duckdb", "spark"):
        output = tmp_path / f"{engine}.xlsx"
        report = create_report(path, output, ReportOptions(engine=engine),
                               json_path=output.with_suffix(".json"), read=ReadOptions(as_of="2026-01-01"))
        summaries[engine] = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
        timings = summaries[engine].pop("timings")
        assert summaries[engine].pop("engine") == engine and {f"classify_{engine}", f"table_{engine}"} <= set(timings)
    assert_close(summaries["spark"], summaries["duckdb"])
