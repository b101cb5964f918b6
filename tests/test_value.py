"""The customer-value models in the report: from the customer x month table to the sheets and --json."""

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from retention_xl import clv, cli
from retention_xl.activity import build_customer_months
from retention_xl.i18n import fill, labels
from retention_xl.reader import read_sales
from retention_xl.report import ReportOptions, analyse, write_workbook
from retention_xl.value import summary_from_table

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_workbooks" / "sales_sample.xlsx"


@pytest.fixture(scope="module")
def sales():
    return read_sales(SAMPLE, as_of="2026-01-01")


def test_the_summary_from_the_table_is_the_summary_from_the_transactions(sales):
    month = pd.Period("2024-09", "M")
    table = build_customer_months(sales.transactions, month)
    end_day = int((month.end_time.normalize() - pd.Timestamp("1970-01-01")).days)
    from_table = summary_from_table(table, month.year * 12 + month.month - 1, end_day).sort_index()
    direct = clv.rfm_summary(sales.transactions, month.end_time.normalize()).sort_index()
    assert list(from_table.index) == list(direct.index)
    for column in ("frequency", "recency", "T"):
        assert np.allclose(from_table[column], direct[column]), column
    # Equal wherever no return falls on a day without a purchase (the table's documented exception).
    kept = sales.transactions[sales.transactions["date"] <= month.end_time]
    day = kept.assign(day=kept["date"].dt.normalize())
    bought = day[day["amount"] > 0].groupby(["customer_id", "day"]).size()
    returns = day[day["amount"] < 0].set_index(["customer_id", "day"]).index
    exception = set(returns[~returns.isin(bought.index)].get_level_values(0))
    plain = [c for c in direct.index if c not in exception]
    assert len(plain) > 100
    assert np.allclose(from_table.loc[plain, "monetary_value"], direct.loc[plain, "monetary_value"])


def test_customers_get_p_alive_expected_purchases_and_value(sales, tmp_path):
    report = analyse(sales.transactions, ReportOptions(language="en", month="2024-12", active_window=12), sales)
    assert report.value.available and report.value.holdout is not None
    customers = report.customers
    assert customers["p_alive"].between(0, 1).all() and (customers["clv"] >= 0).all()
    assert {"probably_gone", "quiet_alive"} <= {action.key for action in report.actions}
    gone = next(a for a in report.actions if a.key == "probably_gone")
    assert (gone.who["stake"].diff().dropna() <= 0).all()  # biggest past spenders first

    path = tmp_path / "valued.xlsx"
    write_workbook(report, path)
    words = labels("en")
    sheet = openpyxl.load_workbook(path)[words["sheet.customers"]]
    header = [c.value for c in sheet[1]]
    assert header[-3:] == [words["col.p_alive"], words["col.expected_purchases"],
                           fill(words["col.clv"], horizon=12)]
    assert sheet.cell(row=2, column=len(header) - 2).number_format == "0.0%"

    summary = report.summary()["customer_value"]
    assert summary["available"] and set(summary["bgnbd"]) >= {"r", "alpha", "a", "b"}
    assert len(summary["key_accounts"]) == int(customers["key_account"].sum())
    assert set(summary["holdout"]["by_frequency"]) == {"0", "1", "2", "3", "4", "5", "6", "7+"}


def test_too_little_history_leaves_the_columns_out_and_says_why(sales):
    short = sales.transactions[sales.transactions["date"] < "2023-05-01"]
    report = analyse(short, ReportOptions(language="en", month="2023-04", active_window=1))
    assert not report.value.available and report.value.unavailable == "value.too_short"
    assert "p_alive" not in report.customers
    assert report.summary()["customer_value"] == {"available": False, "reason": "value.too_short"}


def test_switched_off_from_the_command_line(tmp_path, capsys):
    code = cli.main(["report", str(SAMPLE), "-o", str(tmp_path / "r.xlsx"), "--json", str(tmp_path / "r.json"),
                     "--as-of", "2026-01-01", "--no-clv", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "r.json").read_text())["customer_value"]["reason"] == "value.off"


def test_horizon_and_discount_options(sales):
    base = analyse(sales.transactions, ReportOptions(month="2024-12", active_window=12), sales)
    longer = analyse(sales.transactions, ReportOptions(month="2024-12", active_window=12, horizon=24, discount=0), sales)
    assert longer.customers["clv"].sum() > base.customers["clv"].sum()
