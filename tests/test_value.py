"""The customer-value models in the report: from the customer x month table to the sheets and --json."""

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from retention_xl.figures.models import clv
from retention_xl import cli
from retention_xl.table.numpy_builder import build_customer_months
from retention_xl.i18n import fill, labels
from retention_xl.report import ReportOptions, analyse, write_workbook
from retention_xl.figures.customer_value import summary_from_table

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_workbooks" / "sales_sample.xlsx"


@pytest.fixture(scope="module")
def sales(sample_sales):
    return sample_sales


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
    report = analyse(sales, ReportOptions(language="en", month="2024-12", active_window=12))
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
    base = analyse(sales, ReportOptions(month="2024-12", active_window=12))
    longer = analyse(sales, ReportOptions(month="2024-12", active_window=12, horizon=24, discount=0))
    assert longer.customers["clv"].sum() > base.customers["clv"].sum()


def steady_buyers(customers=600, months=24, growth_from=None, growth=1.0, q=3.0, seed=7) -> pd.DataFrame:
    """Customers who never leave: each buys as a Poisson process (about monthly) from a first day to the end
    of the data; from ``growth_from`` on everyone buys ``growth`` times as often. Spend per purchase is
    Gamma(3, nu) with nu ~ Gamma(q, 100): q <= 1 gives a spend with no finite mean."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2022-01-01")
    days = (start + pd.DateOffset(months=months) - start).days
    rate = rng.gamma(2.0, 1 / 60.0, customers)
    nu = rng.gamma(q, 1 / 100.0, customers)
    first = rng.integers(0, days - 60, customers)
    boost_day = (pd.Timestamp(growth_from) - start).days if growth_from else days
    rows = []
    for customer in range(customers):
        day = float(first[customer])
        while day < days:
            rows.append((f"c{customer:04d}", int(day), rng.gamma(3.0, 1 / nu[customer])))
            day += rng.exponential(1 / (rate[customer] * (growth if day >= boost_day else 1.0)))
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    frame["date"] = start + pd.to_timedelta(frame.pop("day"), unit="D")
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    return frame


@pytest.fixture(scope="module")
def nobody_leaves():
    transactions = steady_buyers()
    return analyse(transactions, ReportOptions(language="en", month="2023-12", active_window=12))


def test_no_drop_out_is_detected_and_no_p_alive_is_shown(nobody_leaves, tmp_path):
    report = nobody_leaves
    value = report.value
    assert value.available and not value.dropout_detected
    assert value.bgnbd.log_likelihood - value.nbd.log_likelihood < clv.DROPOUT_GAIN
    assert report.customers["p_alive"].isna().all()
    assert report.customers["expected_purchases"].gt(0).all() and report.customers["clv"].gt(0).all()
    keys = {action.key for action in report.actions}
    assert not keys & {"probably_gone", "quiet_alive"}

    summary = report.summary()["customer_value"]
    assert summary["dropout_detected"] is False and summary["bgnbd"] is None
    assert set(summary["nbd"]) == {"r", "alpha", "log_likelihood"}
    assert all(account["p_alive"] is None or np.isnan(account["p_alive"]) for account in summary["key_accounts"])

    path = tmp_path / "steady.xlsx"
    write_workbook(report, path)
    words = labels("en")
    book = openpyxl.load_workbook(path)
    assert book[words["sheet.summary"]]["A4"].value == words["value.no_dropout"]
    sheet = book[words["sheet.customers"]]
    header = [c.value for c in sheet[1]]
    column = header.index(words["col.p_alive"]) + 1
    assert sheet.cell(row=1, column=column).comment.text.startswith(words["col.p_alive_no_dropout"][:20])
    assert all(sheet.cell(row=row, column=column).value is None for row in range(2, 50))
    definitions = "\n".join(str(c.value) for row in book[words["sheet.definitions"]].iter_rows() for c in row if c.value)
    assert words["value.nbd"] in definitions and words["value.bgnbd"] not in definitions
    # What is shown instead of P(alive) is said; P(alive) and the BG/NBD model for it are not explained.
    assert words["value.def_p_alive_no_dropout"] in definitions and words["value.def_p_alive"] not in definitions
    assert "BG/NBD model for purchase days and P(alive)" not in definitions


def test_where_drop_out_is_detected_nothing_of_it_appears(sales, tmp_path):
    report = analyse(sales, ReportOptions(language="en", month="2024-12", active_window=12))
    assert report.value.dropout_detected and not report.value.holdout_missed and not report.value.spend_refused
    summary = report.summary()["customer_value"]
    assert summary["dropout_detected"] is True and summary["spend_model"] == "gamma_gamma"
    assert report.customers["p_alive"].notna().all()
    path = tmp_path / "valued.xlsx"
    write_workbook(report, path)
    assert openpyxl.load_workbook(path)[labels("en")["sheet.summary"]]["A4"].value is None


@pytest.mark.parametrize("language", ["en", "zh-CN", "zh-TW"])
def test_a_missed_holdout_and_a_refused_spend_model_are_said_on_the_summary(language, tmp_path):
    """A business whose customers buy 2.5 times as often in the last 3 months, with spends of no finite mean."""
    transactions = steady_buyers(growth_from="2023-10-01", growth=2.5, q=0.7)
    report = analyse(transactions, ReportOptions(language=language, month="2023-12", active_window=12))
    value = report.value
    assert value.holdout.error < -0.25 and value.holdout_missed
    assert value.gamma_gamma.q <= 1 and value.spend_refused
    summary = report.summary()["customer_value"]
    assert summary["holdout_missed"] is True and summary["spend_model"] == "observed_mean"
    spent = transactions.groupby("customer_id")["amount"].sum()
    assert np.isfinite(report.customers["clv"]).all() and (report.customers["clv"] >= 0).all()
    assert report.customers["clv"].sum() < 10 * spent.sum()  # a projection of what was spent, not a runaway mean

    path = tmp_path / "growing.xlsx"
    write_workbook(report, path)
    words = labels(language)
    line = openpyxl.load_workbook(path)[words["sheet.summary"]]["A4"].value
    assert words["value.no_dropout"] in line
    assert f"{value.holdout.error:+.0%}" in line and f"{value.gamma_gamma.q:.2f}" in line
    lead = {"en": "Customer values:", "zh-CN": "客户价值：", "zh-TW": "客戶價值："}[language]
    assert line.count(lead) == 0 and line.count(words["value.no_dropout"]) == 1  # no two sentences open alike


@pytest.mark.parametrize("language", ["en", "zh-CN", "zh-TW"])
def test_a_spend_model_with_q_just_above_one_is_refused_and_said_why(language, tmp_path):
    """Spends drawn with q = 1.05: the fit's q is above 1, but its mean spend is many times the observed one, so
    the values use the observed spends, and the Summary gives both means."""
    report = analyse(steady_buyers(q=1.05, seed=8), ReportOptions(language=language, month="2023-12",
                                                                 active_window=12))
    value = report.value
    assert 1 < value.gamma_gamma.q < 1.1 and value.spend_refused
    assert clv.mean_spend(value.gamma_gamma) > 3 * value.observed_mean_spend
    assert report.summary()["customer_value"]["spend_model"] == "observed_mean"
    path = tmp_path / "heavy.xlsx"
    write_workbook(report, path)
    words = labels(language)
    note = fill(words["value.spend_refused_mean"], q=f"{value.gamma_gamma.q:.2f}",
                model_mean=f"{clv.mean_spend(value.gamma_gamma):,.2f}", observed=f"{value.observed_mean_spend:,.2f}",
                multiple=3)
    assert note in openpyxl.load_workbook(path)[words["sheet.summary"]]["A4"].value


def _definitions_text(path, words) -> list[str]:
    sheet = openpyxl.load_workbook(path)[words["sheet.definitions"]]
    return [str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None]


@pytest.mark.parametrize("language", ["en", "zh-CN", "zh-TW"])
def test_the_definitions_of_a_refused_spend_model_name_no_gamma_gamma_estimate(language, tmp_path):
    """Spends of no finite mean, and nobody leaving: the Definitions sheet says the spend is each customer's own
    average, and prints no p, q, v as estimates; where the spend model is used, they are printed as before."""
    words = labels(language)
    refused = analyse(steady_buyers(q=0.7), ReportOptions(language=language, month="2023-12", active_window=12))
    assert refused.value.spend_refused and not refused.value.dropout_detected
    write_workbook(refused, tmp_path / "refused.xlsx")
    text = _definitions_text(tmp_path / "refused.xlsx", words)
    assert fill(words["value.about_no_dropout_observed_spend"], as_of="2023-12-31") in text
    assert words["value.gamma_gamma"] not in text and not any("Gamma-Gamma" in line for line in text)

    used = analyse(steady_buyers(), ReportOptions(language=language, month="2023-12", active_window=12))
    assert not used.value.spend_refused
    write_workbook(used, tmp_path / "used.xlsx")
    text = _definitions_text(tmp_path / "used.xlsx", words)
    assert fill(words["value.about_no_dropout"], as_of="2023-12-31") in text and words["value.gamma_gamma"] in text


def test_a_correlation_without_spread_is_said_not_measurable(tmp_path):
    """Every repeat customer buys exactly twice: frequency has no spread, so no correlation exists (not NaN)."""
    rng = np.random.default_rng(7)
    start, customers = pd.Timestamp("2022-01-01"), 400
    first = rng.integers(0, 600, customers)
    gap = rng.integers(5, 120, customers)
    rows = [(f"c{c:04d}", start + pd.Timedelta(days=int(first[c] + k * gap[c])), float(rng.gamma(3.0, 20.0)))
            for c in range(customers) for k in range(2 if c % 3 else 1)]
    transactions = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    transactions["order_id"] = [f"o{i}" for i in range(len(transactions))]
    report = analyse(transactions, ReportOptions(language="en", month="2023-11", active_window=12))
    assert report.value.available and report.value.spend_correlation is None
    json.dumps(report.summary(), allow_nan=False)
    path = tmp_path / "twice.xlsx"
    write_workbook(report, path)
    words = labels("en")
    definitions = [c.value for row in openpyxl.load_workbook(path)[words["sheet.definitions"]].iter_rows() for c in row]
    assert words["value.correlation_undefined"] in definitions
