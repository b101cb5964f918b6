"""A customer x month table kept in DuckDB where the table in memory has its edge cases: no rows, and more months
than the bits of a month mask hold. The questions every table answers are in test_customer_table_contract.py."""

from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from compare import assert_close
from test_customer_table_contract import in_duckdb
from retention_xl.figures import month as analysis
from retention_xl.table import contract, numpy_builder


def test_a_table_without_rows(tmp_path):
    empty = contract.CustomerMonths(
        months=pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in
                             {"customer": np.int32, "month": np.int32, "purchases": float, "returned": float,
                              "orders": np.int32, "purchase_days": np.int32, "first_purchase_day": np.int32,
                              "last_purchase_day": np.int32}.items()}),
        customers=pd.DataFrame({"customer_id": [], "customer_name": [], "first_purchase_day": [],
                                "first_day_amount": []}))
    table = in_duckdb(empty)
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
    in_engine = in_duckdb(in_memory)
    assert in_engine._purchase_bits[0] is None and in_memory._purchase_bits[0] is None
    m = contract.month_number(period)
    assert_close(asdict(analysis.month_figures(in_memory, period, 12)),
                 asdict(analysis.month_figures(in_engine, period, 12)), rel=1e-12, money=0.005)
    assert (in_memory.active_in(m - 40, m - 30) == in_engine.active_in(m - 40, m - 30)).all()
