"""The figures computed inside DuckDB from a customer x month table left there equal those from the table in memory."""

from dataclasses import asdict

import duckdb
import numpy as np
import pandas as pd
import pytest

from compare import assert_close
from test_engines import _same, source  # noqa: F401  (the sources every engine is compared on)
from retention_xl.table import contract as activity, numpy_builder
from retention_xl.figures import month as analysis
from retention_xl.figures.customers import customer_table
from retention_xl.table.engine_table import EngineTable
from retention_xl.figures.customer_value import customer_value


def _in_duckdb(table: activity.CustomerMonths) -> EngineTable:
    connection = duckdb.connect()
    months = table.months.sample(frac=1, random_state=3)  # DuckDB must not rely on the rows' order
    if "profit" not in months:
        months = months.assign(profit=0.0)
    connection.register("months_frame", months)
    connection.execute("CREATE TABLE months AS SELECT * FROM months_frame")
    return EngineTable(connection, "months", table.customers, table.has_profit)


def test_every_question_has_the_same_answer(source):  # noqa: F811
    sales, month = source
    period = pd.Period(month, "M")
    m = activity.month_number(period)
    in_memory = numpy_builder.build_customer_months(sales.transactions, period)
    in_engine = _in_duckdb(in_memory)
    assert in_engine.first_data_month == in_memory.first_data_month
    for first, last in ((m - 12, m - 1), (m, m), (-1, m), (m + 1, m + 3)):
        assert (in_engine.active_in(first, last) == in_memory.active_in(first, last)).all()
        assert (in_engine._active_by_rows(first, last) == in_memory.active_in(first, last)).all()
        for name in ("net", "purchases", "returned", "orders", "purchase_days"):
            assert np.allclose(in_engine.per_customer(name, first, last), in_memory.per_customer(name, first, last),
                               rtol=0, atol=1e-6), (name, first, last)
    assert (in_engine.last_purchase_day() == in_memory.last_purchase_day()).all()
    for last_month in (m, m - 3):
        for mine, theirs in zip(in_engine.purchase_history(last_month), in_memory.purchase_history(last_month)):
            assert np.allclose(mine, theirs, rtol=0, atol=0.005)
    for grids in zip(in_engine.cohort_grid(m - 23, m), in_memory.cohort_grid(m - 23, m)):
        assert np.allclose(*grids, rtol=0, atol=1e-6)


def test_the_figures_are_identical(source):  # noqa: F811
    sales, month = source
    period = pd.Period(month, "M")
    in_memory = numpy_builder.build_customer_months(sales.transactions, period)
    tables = {"memory": in_memory, "engine": _in_duckdb(in_memory)}
    first_date = sales.transactions["date"].min()
    value = "profit" if in_memory.has_profit else "revenue"
    figures = {}
    for where, table in tables.items():
        figures[where] = {
            "month": asdict(analysis.month_figures(table, period, 6, value=value)),
            "previous": asdict(analysis.month_figures(table, period - 1, 3)),
            "trend": [asdict(f) for f in analysis.trend(table, period, 6, 12, first_date)],
        }
    assert_close(figures["memory"], figures["engine"], rel=1e-12, money=0.005)
    cohorts = [analysis.cohorts(table, period) for table in tables.values()]
    _same(cohorts[0].active, cohorts[1].active)
    _same(cohorts[0].revenue, cohorts[1].revenue)
    customers = [customer_table(table, period, 6, value=value) for table in tables.values()]
    _same(*(frame.fillna({"customer_name": ""}) for frame in customers))
    assert customers[0]["usual_gap"].notna().any()  # the lapse rule's gaps, from either table
    values = [customer_value(table, period) for table in tables.values()]
    assert values[0].available == values[1].available
    if values[0].available:
        pd.testing.assert_frame_equal(values[0].customers, values[1].customers, rtol=1e-6)
        assert values[0].holdout.actual == values[1].holdout.actual


def test_a_table_without_rows(tmp_path):
    empty = activity.CustomerMonths(
        months=pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in
                             {"customer": np.int32, "month": np.int32, "purchases": float, "returned": float,
                              "orders": np.int32, "purchase_days": np.int32, "first_purchase_day": np.int32,
                              "last_purchase_day": np.int32}.items()}),
        customers=pd.DataFrame({"customer_id": [], "customer_name": [], "first_purchase_day": [],
                                "first_day_amount": []}))
    table = _in_duckdb(empty)
    assert table.first_data_month is None
    assert table.active_in(0, 10).size == 0 and table.month_totals(5) == {
        "revenue": 0.0, "purchases": 0.0, "orders": 0, "profit": None}


@pytest.mark.parametrize("months", [70])
def test_more_months_than_bits_hold(months):
    rng = np.random.default_rng(5)
    rows = 3000
    transactions = pd.DataFrame({
        "customer_id": [f"C{c}" for c in rng.integers(0, 200, rows)],
        "date": pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, months * 30, rows), unit="D"),
        "amount": np.round(rng.gamma(2.0, 30.0, rows), 2) * np.where(rng.random(rows) < 0.1, -1, 1),
        "order_id": None})
    period = transactions["date"].max().to_period("M")
    in_memory = numpy_builder.build_customer_months(transactions, period)
    in_engine = _in_duckdb(in_memory)
    assert in_engine._purchase_bits[0] is None and in_memory._purchase_bits[0] is None
    m = activity.month_number(period)
    assert_close(asdict(analysis.month_figures(in_memory, period, 12)),
                 asdict(analysis.month_figures(in_engine, period, 12)), rel=1e-12, money=0.005)
    assert (in_memory.active_in(m - 40, m - 30) == in_engine.active_in(m - 40, m - 30)).all()
