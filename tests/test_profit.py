"""Profit from a profit, cost or unit-cost column, and customers valued by profit (``--value profit``)."""

import json
import subprocess
import sys

import numpy as np
import openpyxl
import pandas as pd
import pytest

from retention_xl.figures.actions import render_action
from retention_xl.read.cleaning import clean_transactions
from retention_xl.read.columns import detect_roles
from retention_xl.errors import UsageError
from retention_xl.figures.groups import MISSING
from retention_xl.i18n import labels, labels_for
from retention_xl.metrics import pareto_share
from retention_xl.report import ReportOptions, analyse, write_workbook


def test_cost_and_profit_headers_match_whole_names_only():
    roles = detect_roles(["客户编号", "订单日期", "销售金额", "成本金额", "毛利率", "利润率"])
    assert roles["amount"] == 2 and roles["cost"] == 3  # 成本金额 is a cost, though it contains 金额
    assert "profit" not in roles  # a margin in percent is not profit
    roles = detect_roles(["Customer", "Date", "Quantity", "Price", "Unit cost", "Gross profit"])
    assert (roles["unit_cost"], roles["profit"]) == (4, 5)
    assert "cost" not in detect_roles(["Customer", "Date", "Amount", "Cost centre"])


def _clean(frame, **columns):
    return clean_transactions(frame, "c", "d", columns.pop("amount", "a"), as_of="2026-01-01", **columns)


def test_profit_is_amount_minus_the_lines_cost_and_a_return_gives_its_cost_back():
    frame = pd.DataFrame({"c": ["x", "x", "y", "y"], "d": ["2024-01-02"] * 4, "a": [100, -40, 50, 30],
                          "cost": [60, 25, None, "n/a"]})
    result = _clean(frame, cost_col="cost")
    # The return's cost is negative whatever sign the sheet gives it: -40 - (-25) = -15.
    assert result.transactions["profit"].tolist()[:2] == [40.0, -15.0]
    assert result.transactions["profit"].isna().tolist() == [False, False, True, True]
    unknown = result.accounting.adjustments["profit_unknown"]
    assert (unknown.count, unknown.example_rows) == (2, [4, 5])
    assert result.accounting.balances()


def test_unit_cost_times_quantity_and_a_profit_column_as_it_stands():
    frame = pd.DataFrame({"c": ["x", "x"], "d": ["2024-01-02"] * 2, "q": [3, -1], "p": [10, 10], "uc": [6, 6],
                          "gp": [12.5, -4]})
    by_unit_cost = clean_transactions(frame, "c", "d", quantity_col="q", unit_price_col="p", unit_cost_col="uc",
                                      as_of="2026-01-01")
    assert by_unit_cost.transactions["profit"].tolist() == [12.0, -4.0]  # 30 - 18; -10 - (-6)
    by_profit = clean_transactions(frame, "c", "d", quantity_col="q", unit_price_col="p", profit_col="gp",
                                   as_of="2026-01-01")
    assert by_profit.transactions["profit"].tolist() == [12.5, -4.0]
    assert "profit_unknown" not in clean_transactions(frame, "c", "d", quantity_col="q", unit_price_col="p",
                                                      as_of="2026-01-01").accounting.adjustments


# Six customers, all in the base of March (window 3 months). Window profit by hand:
# A 300-100=200, B 500-450=50, C 120-20=100, D 80-130=-50 (a loss), E 40-10=30, F 200-205 + 30-0 = 25.
PROFIT_ROWS = [
    ("A", "2024-03-05", 300, 100, "东店", "王"), ("B", "2024-03-06", 500, 450, "东店", "王"),
    ("C", "2024-02-07", 120, 20, "西店", "李"), ("D", "2024-03-08", 80, 130, "西店", "李"),
    ("E", "2024-01-09", 40, 10, "东店", None), ("F", "2024-03-10", 200, 205, None, "李"),
    ("F", "2024-03-11", 30, 0, "西店", "李"),
]


def profit_rows() -> pd.DataFrame:
    frame = pd.DataFrame(PROFIT_ROWS, columns=["c", "d", "a", "cost", "store", "staff"])
    return _clean(frame, cost_col="cost", group_cols={"store": "store", "salesperson": "staff"}).transactions


@pytest.fixture(scope="module")
def by_profit():
    return analyse(profit_rows(), ReportOptions(month="2024-03", active_window=3, clv=False, value="profit",
                                                language="en", top_fraction=1 / 3))


def test_key_accounts_ranking_and_pareto_by_profit(by_profit):
    customers = by_profit.customers
    assert customers["customer_id"].tolist() == ["A", "C", "B", "E", "F", "D"]
    assert customers["window_profit"].tolist() == [200, 100, 50, 30, 25, -50]
    assert customers.loc[customers["key_account"], "customer_id"].tolist() == ["A", "C"]
    profits = np.array([200, 100, 50, 30, 25, 0])  # the loss counts as 0
    assert by_profit.current.pareto_share == pytest.approx(pareto_share(profits, 1 / 3))
    assert by_profit.current.profit == pytest.approx(200 + 50 - 50 + 25)  # March only: A, B, D, F
    by_revenue = analyse(profit_rows(), ReportOptions(month="2024-03", active_window=3, clv=False, top_fraction=1 / 3))
    assert by_revenue.customers["customer_id"].tolist()[:2] == ["B", "A"]  # revenue ranks otherwise
    assert by_revenue.current.profit == by_profit.current.profit


def test_loss_making_customers_are_listed_with_the_total_loss(by_profit):
    summary = by_profit.summary()
    assert summary["loss_making"] == {"customers": 1, "loss": 50.0}
    assert summary["value"] == "profit" and summary["profit"] == pytest.approx(225)
    action = next(a for a in by_profit.actions if a.key == "loss_making")
    assert action.who["customer_id"].tolist() == ["D"] and action.who["stake"].tolist() == [50]
    for language in ("zh-CN", "zh-TW", "en"):
        assert "50.00" in render_action(action, language).why
    key_text = render_action(next(a for a in by_profit.actions if a.key == "champions"), "en").why
    assert "window profit" in key_text


def test_store_profit_is_its_own_rows_alone(by_profit):
    rows = profit_rows()
    stores = by_profit.groups["store"]
    for name, figures in stores.iterrows():
        own = rows[rows["store"].isna()] if name is MISSING else rows[rows["store"] == name]
        in_march = pd.to_datetime(own["date"]).dt.to_period("M") == pd.Period("2024-03", "M")
        assert figures["profit"] == pytest.approx(own.loc[in_march, "profit"].sum()), name
    assert json.loads(json.dumps(by_profit.summary()["stores"]))["东店"]["profit"] == pytest.approx(250)


def test_value_profit_refuses_unknown_profit_and_data_without_cost():
    frame = pd.DataFrame(PROFIT_ROWS, columns=["c", "d", "a", "cost", "store", "staff"])
    frame.loc[3, "cost"] = None
    rows = _clean(frame, cost_col="cost").transactions
    with pytest.raises(UsageError, match=r"1 used rows is unknown \(e\.g\. rows 5\)"):
        analyse(rows, ReportOptions(month="2024-03", value="profit", clv=False))
    assert analyse(rows, ReportOptions(month="2024-03", clv=False)).current.profit is not None
    without = _clean(frame).transactions
    with pytest.raises(UsageError, match="needs a profit, cost or unit-cost column"):
        analyse(without, ReportOptions(month="2024-03", value="profit", clv=False))


def test_without_cost_nothing_about_profit_appears(tmp_path):
    frame = pd.DataFrame(PROFIT_ROWS, columns=["c", "d", "a", "cost", "store", "staff"])
    report = analyse(_clean(frame).transactions, ReportOptions(month="2024-03", clv=False, language="en"))
    assert "profit" not in report.customers and "profit" not in report.summary()
    assert "profit" not in report.trend_frame() and "profit" not in report.summary()["previous_month"]


@pytest.mark.libreoffice
@pytest.mark.slow
def test_profit_workbook_recalculates_in_libreoffice(by_profit, tmp_path):
    from libreoffice import recalculated_values
    from test_workbook import assert_no_error_cells, assert_recalculates_to_python

    path = tmp_path / "profit.xlsx"
    written = write_workbook(by_profit, path)
    values = recalculated_values(path, tmp_path)
    assert_recalculates_to_python(written, values)
    assert_no_error_cells(values)
    words = labels_for("en", "profit")
    summary = values[words["sheet.summary"]]
    pareto_label = words["kpi.pareto_share"].format(top="33.3333%")
    assert any(str(v).startswith("Profit share of the top") for v in summary.values()), pareto_label
    headers = [c.value for c in openpyxl.load_workbook(path)[words["sheet.customers"]][1]]
    assert words["col.profit"] in headers and words["col.window_profit"] in headers
    assert labels("en")["kpi.pareto_share"] != words["kpi.pareto_share"]


def test_the_command_line_names_cost_columns_and_refuses_a_unit_cost_without_quantity(tmp_path):
    frame = pd.DataFrame(PROFIT_ROWS, columns=["客户", "日期", "金额", "进价", "门店", "导购"])
    sales = tmp_path / "sales.csv"
    frame.to_csv(sales, index=False)
    result = subprocess.run([sys.executable, "-m", "retention_xl.cli", "report", sales, "-o", tmp_path / "r.xlsx",
                             "--value", "profit", "--as-of", "2026-01-01", "--month", "2024-03"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "unit cost" in result.stderr and "--cost" in result.stderr
    result = subprocess.run([sys.executable, "-m", "retention_xl.cli", "report", sales, "-o", tmp_path / "r.xlsx",
                             "--value", "profit", "--as-of", "2026-01-01", "--month", "2024-03", "--cost", "进价",
                             "--json", tmp_path / "r.json", "--no-clv"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert summary["loss_making"] == {"customers": 1, "loss": 50.0}


def test_duckdb_sums_the_same_profit():
    from retention_xl.table import duckdb_engine, numpy_builder

    frame = pd.DataFrame(PROFIT_ROWS, columns=["c", "d", "a", "cost", "store", "staff"])
    frame.loc[2, "cost"] = None  # a line of unknown profit adds nothing, in both engines
    rows = _clean(frame, cost_col="cost").transactions
    by_pandas = numpy_builder.build_customer_months(rows, pd.Period("2024-03", "M")).months
    by_duckdb = duckdb_engine.build_customer_months(rows, pd.Period("2024-03", "M")).months
    assert by_duckdb["profit"].tolist() == pytest.approx(by_pandas["profit"].tolist())
    assert by_pandas["profit"].tolist() == [200, 50, 0, -50, 30, 25]
