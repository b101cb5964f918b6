"""One suite over the customer x month table (:class:`retention_xl.table.contract.CustomerTable`), run against every
builder: numpy, DuckDB and Spark from rows in memory, and the table kept in DuckDB (:class:`.EngineTable`).

Every figure reads the table only through its questions, so each builder must answer them as the contract
says: on a small table with the answers written out, and on real and generated sales as the numpy table does."""

from dataclasses import asdict

import duckdb
import numpy as np
import pandas as pd
import pytest

from compare import assert_close
from test_engines import _same, source  # noqa: F401  (the sources every builder is run on)
from test_sales_contract import CUSTOMERS, MONTHS, ROWS
from retention_xl.figures import month as analysis
from retention_xl.figures.customer_value import customer_value
from retention_xl.figures.customers import customer_table
from retention_xl.read.reader import read_sales
from retention_xl.table import contract, duckdb_engine, numpy_builder
from retention_xl.table.engine_table import EngineTable

MARCH = contract.month_number(pd.Period("2024-03", "M"))


def in_duckdb(table: contract.CustomerMonths) -> EngineTable:
    """``table`` kept in DuckDB, its rows shuffled: DuckDB must not rely on their order."""
    connection = duckdb.connect()
    months = table.months.sample(frac=1, random_state=3)
    if "profit" not in months:
        months = months.assign(profit=0.0)
    connection.register("months_frame", months)
    connection.execute("CREATE TABLE months AS SELECT * FROM months_frame")
    return EngineTable(connection, "months", table.customers, table.has_profit)


def _by_spark(transactions, until):
    from retention_xl.table import spark_engine

    return spark_engine.build_customer_months(transactions, until)


BUILDERS = {
    "numpy": numpy_builder.build_customer_months,
    "duckdb": duckdb_engine.build_customer_months,
    "spark": _by_spark,
    "kept-in-duckdb": lambda transactions, until: in_duckdb(numpy_builder.build_customer_months(transactions, until)),
}


@pytest.fixture(scope="module", params=["numpy", "duckdb", "kept-in-duckdb",
                                        pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow])])
def build(request):
    return BUILDERS[request.param]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The clean transactions of the sales contract's rows."""
    path = tmp_path_factory.mktemp("table") / "sales.parquet"
    pd.DataFrame(ROWS, columns=["Order", "Date", "Customer", "Name", "Amount", "Store", "Cost"]).to_parquet(path)
    return read_sales(path, as_of="2026-01-01").transactions


def test_the_questions_of_a_small_table(build, small):
    table = build(small, pd.Period("2024-03", "M"))
    assert table.customers.to_dict("list") == CUSTOMERS
    assert table.first_data_month == MONTHS["month"][0] and table.has_profit
    assert table.per_customer("net", 0, MARCH).tolist() == [120.0, 100.0, 70.0, 40.0]
    assert table.per_customer("orders", MARCH - 1, MARCH - 1).tolist() == [0, 2, 0, 0]
    assert table.month_totals(MARCH - 1) == {"revenue": 70.0, "purchases": 100.0, "orders": 2, "profit": 38.0}
    assert table.active_in(MARCH - 1, MARCH - 1).tolist() == [False, True, False, False]  # a return is no purchase
    assert table.active_in(MARCH + 1, MARCH + 5).tolist() == [False] * 4
    days, net, last = table.purchase_history(MARCH - 1)
    assert (days.tolist(), net.tolist(), last.tolist()) == ([1, 2, 0, 0], [120.0, 100.0, 0.0, 0.0],
                                                            [19727, 19764, -1, -1])
    assert table.last_purchase_day().tolist() == [19727, 19764, 19785, 19788]
    active, revenue = table.cohort_grid(MARCH - 2, MARCH)
    assert active.tolist() == [[1, 0, 0], [1, 0, 0], [2, 0, 0]]
    assert revenue.tolist() == [[150.0, -30.0, 0.0], [100.0, 0.0, 0.0], [110.0, 0.0, 0.0]]


def test_every_question_has_the_same_answer(source, build):  # noqa: F811
    sales, month = source
    period = pd.Period(month, "M")
    m = contract.month_number(period)
    expected = numpy_builder.build_customer_months(sales.transactions, period)
    table = build(sales.transactions, period)
    assert table.first_data_month == expected.first_data_month
    for first, last in ((m - 12, m - 1), (m, m), (-1, m), (m + 1, m + 3)):
        assert (table.active_in(first, last) == expected.active_in(first, last)).all()
        assert (table._active_by_rows(first, last) == expected.active_in(first, last)).all()
        for name in ("net", "purchases", "returned", "orders", "purchase_days"):
            assert np.allclose(table.per_customer(name, first, last), expected.per_customer(name, first, last),
                               rtol=0, atol=1e-6), (name, first, last)
    assert (table.last_purchase_day() == expected.last_purchase_day()).all()
    for last_month in (m, m - 3):
        for mine, theirs in zip(table.purchase_history(last_month), expected.purchase_history(last_month)):
            assert np.allclose(mine, theirs, rtol=0, atol=0.005)
    for grids in zip(table.cohort_grid(m - 23, m), expected.cohort_grid(m - 23, m)):
        assert np.allclose(*grids, rtol=0, atol=1e-6)


def test_the_frames_are_those_of_the_contract(source, build):  # noqa: F811
    sales, month = source
    period = pd.Period(month, "M")
    table = build(sales.transactions, period)
    if not isinstance(table, contract.CustomerMonths):
        pytest.skip("the table is kept in the engine: only its questions are answered")
    expected = numpy_builder.build_customer_months(sales.transactions, period)
    assert {k: str(v) for k, v in table.months.dtypes.items()} == {k: str(v) for k, v in expected.months.dtypes.items()}
    _same(expected.months, table.months)
    _same(expected.customers.drop(columns=["customer_id", "customer_name"]),
          table.customers.drop(columns=["customer_id", "customer_name"]))


def test_the_figures_are_identical(source, build):  # noqa: F811
    sales, month = source
    period = pd.Period(month, "M")
    tables = {"numpy": numpy_builder.build_customer_months(sales.transactions, period),
              "built": build(sales.transactions, period)}
    first_date = sales.transactions["date"].min()
    value = "profit" if tables["numpy"].has_profit else "revenue"
    figures = {}
    for where, table in tables.items():
        figures[where] = {
            "month": asdict(analysis.month_figures(table, period, 6, value=value)),
            "previous": asdict(analysis.month_figures(table, period - 1, 3)),
            "trend": [asdict(f) for f in analysis.trend(table, period, 6, 12, first_date)],
        }
    assert_close(figures["numpy"], figures["built"], rel=1e-12, money=0.005)
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
