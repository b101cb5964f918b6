"""Lapsing words only for customers who have lapsed: silent longer than the floor and than 3 times their usual gap."""

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from retention_xl import analysis
from retention_xl.actions import environment, recommend
from retention_xl.activity import build_customer_months
from retention_xl.cli import main
from retention_xl.customers import LAPSE_MULTIPLE, LAPSING_SEGMENTS, customer_table, segments
from retention_xl.errors import UsageError
from retention_xl.i18n import labels
from retention_xl.reader import read_sales
from retention_xl.report import ReportOptions, analyse, write_workbook

ONLINE_RETAIL = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail_II_2009-2010.parquet"

LAPSING_ACTIONS = ("key_quiet", "cant_lose", "at_risk", "lost_this_month", "probably_gone", "hibernating")


def _transactions(rows) -> pd.DataFrame:
    """Cleaned transactions from (customer, day, amount) rows; each purchase day is an order."""
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    return frame.assign(date=pd.to_datetime(frame["date"]), customer_name=pd.NA, order_id=None)


def _purchases(customer: str, last: str, days: int, gap: int, revenue: float) -> list[tuple]:
    """``days`` purchase days ``gap`` days apart ending on ``last``, together worth ``revenue``."""
    end = pd.Timestamp(last)
    return [(customer, end - pd.Timedelta(days=gap * i), revenue / days) for i in range(days)]


@pytest.fixture(scope="module")
def deal_pipeline():
    """Sixty accounts that each buy every 5 to 9 days from January; by the end of June some have been quiet for up
    to 29 days, and the ranks still give the quietest of them R=1."""
    rng = np.random.default_rng(7)
    rows = []
    for account in range(60):
        quiet = int(rng.integers(0, 30))
        day = pd.Timestamp("2024-01-02") + pd.Timedelta(days=int(rng.integers(0, 7)))
        last = pd.Timestamp("2024-06-30") - pd.Timedelta(days=quiet)
        while day < last - pd.Timedelta(days=4):
            rows.append((f"account{account:02d}", day, float(rng.integers(500, 20_000))))
            day += pd.Timedelta(days=int(rng.integers(5, 10)))
        rows.append((f"account{account:02d}", last, float(rng.integers(500, 20_000))))
    return _transactions(rows)


@pytest.mark.parametrize("window", [1, 3])
def test_a_deal_pipeline_has_no_lapsing_customer_under_30_days_of_silence(deal_pipeline, window, tmp_path):
    report = analyse(deal_pipeline, ReportOptions(month="2024-06", active_window=window, language="en", clv=False))
    customers = report.customers
    assert customers["days_since_last"].max() < 30
    ranked = segments(customers["r_score"].to_numpy(), customers["f_score"].to_numpy(), customers["m_score"].to_numpy())
    assert np.isin(ranked, LAPSING_SEGMENTS).sum() >= 10  # what the ranks alone would have called them
    assert not customers["segment"].isin(LAPSING_SEGMENTS).any()
    assert not customers["action"].isin(LAPSING_SEGMENTS + ("key_quiet",)).any()
    assert customers["usual_gap"].between(5, 9).all()
    assert not {action.key for action in report.actions} & set(LAPSING_ACTIONS)

    path = tmp_path / "pipeline.xlsx"
    write_workbook(report, path)
    sheet = openpyxl.load_workbook(path)[labels("en")["sheet.actions"]]
    shown = {cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)}
    macros = environment("en").get_template("actions.j2").module
    for key in LAPSING_ACTIONS:
        assert str(getattr(macros, f"{key}_title")()).strip() not in shown, key
    assert str(macros.champions_title()).strip() in shown  # the sheet read is the Actions sheet


# Nine other customers around one made by hand, so that the subject's R, F and M scores are known: ``longer`` of
# them have been silent for longer than the subject, and the subject has the most or the fewest orders and the
# most or least revenue. The subject's silence is 122 days at the end of 2024-12; its usual gap is 10 days (3 times
# it is well under 122) or 50 days (3 times it is over 122).
KINDS = {  # segment: (others silent longer, subject's orders, subject's revenue)
    "cant_lose": (0, 12, 10_000.0),
    "at_risk": (0, 12, 1.0),
    "about_to_sleep": (4, 2, 1.0),
    "hibernating": (2, 2, 1.0),
    "lost": (0, 2, 1.0),
}
NOT_LAPSING = {"cant_lose": "loyal", "at_risk": "loyal", "about_to_sleep": "promising", "hibernating": "promising",
               "lost": "promising"}


def _base_with(kind: str, gap: int) -> pd.DataFrame:
    longer, orders, revenue = KINDS[kind]
    rows = _purchases("subject", "2024-08-31", orders, gap, revenue)
    for other in range(9):
        silence = 200 + 10 * other if other < longer else 3 + 5 * other
        last = pd.Timestamp("2024-12-31") - pd.Timedelta(days=silence)
        rows += _purchases(f"other{other}", str(last.date()), 3 + other, 7, 100.0 * (other + 2))
    return _transactions(rows)


def _subject(kind: str, gap: int, lapse_days: int) -> pd.Series:
    month = pd.Period("2024-12", "M")
    table = customer_table(build_customer_months(_base_with(kind, gap), month), month, 12, lapse_days=lapse_days)
    return table.set_index("customer_id").loc["subject"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_customer_gets_a_lapsing_segment_only_when_silent_past_the_floor_and_3_gaps(kind):
    both = _subject(kind, gap=10, lapse_days=30)
    assert both["days_since_last"] == 122 and both["usual_gap"] == 10
    assert both["segment"] == kind
    only_the_floor = _subject(kind, gap=50, lapse_days=30)  # 122 days is within 3 gaps of 50
    only_the_gaps = _subject(kind, gap=10, lapse_days=122)  # 122 days is not longer than the floor
    for subject in (only_the_floor, only_the_gaps):
        assert subject[["r_score", "f_score", "m_score"]].tolist() == both[["r_score", "f_score", "m_score"]].tolist()
        assert subject["segment"] == NOT_LAPSING[kind]
        assert subject["action"] == NOT_LAPSING[kind]
    assert LAPSE_MULTIPLE * 50 >= 122 > LAPSE_MULTIPLE * 10


def test_a_key_account_gone_quiet_is_called_only_when_lapsing():
    # The big spender of "cant_lose" is the base's key account, and quiet for over 3 months.
    assert _subject("cant_lose", gap=10, lapse_days=30)["action"] == "key_quiet"
    assert _subject("cant_lose", gap=50, lapse_days=30)["action"] == "loyal"
    assert _subject("cant_lose", gap=10, lapse_days=200)["action"] == "loyal"


def _left_the_base() -> pd.DataFrame:
    """Three customers buying in January and February; in March only "stays" buys, so the base shrinks.
    "weekly" last bought on 29 February, 31 days before the end of March, having bought every 7 days; "slow"
    bought on the same day, having bought every 20 days."""
    rows = _purchases("weekly", "2024-02-29", 9, 7, 9000.0) + _purchases("slow", "2024-02-29", 3, 20, 9000.0)
    rows += _purchases("stays", "2024-03-28", 13, 7, 100.0)
    return _transactions(rows)


def _month_actions(transactions: pd.DataFrame, lapse_days: int, p_alive: float | None = None) -> dict:
    month = pd.Period("2024-03", "M")
    table = build_customer_months(transactions, month)
    customers = customer_table(table, month, 1, lapse_days=lapse_days)
    if p_alive is not None:  # as where the customer-value models ran
        customers = customers.assign(p_alive=p_alive, expected_purchases=0.1, clv=1.0)
    current, previous = (analysis.month_figures(table, m, 1) for m in (month, month - 1))
    actions = recommend(current, previous, customers, active_window=1, lapse_days=lapse_days)
    return {action.key: action.who["customer_id"].tolist() for action in actions}


def test_customers_who_left_the_base_are_listed_only_when_lapsing():
    transactions = _left_the_base()
    assert _month_actions(transactions, 30)["lost_this_month"] == ["weekly"]  # 31 > 30 and > 3 x 7, not > 3 x 20
    assert "lost_this_month" not in _month_actions(transactions, 31)


def test_probably_gone_lists_only_lapsing_customers():
    transactions = _left_the_base()
    assert _month_actions(transactions, 30, p_alive=0.1)["probably_gone"] == ["weekly"]
    assert "probably_gone" not in _month_actions(transactions, 31, p_alive=0.1)
    assert set(_month_actions(transactions, 31, p_alive=0.9)["quiet_alive"]) == {"weekly", "slow"}


def test_one_time_buyers_are_judged_by_the_bases_usual_gap():
    # The base's usual gap is 20 days: a one-time buyer quiet for 50 days is not lapsing (50 <= 60), for 70 days is.
    rows = [row for c in range(5) for row in _purchases(f"regular{c}", "2024-03-30", 4, 20, 400.0)]
    rows += [("once50", "2024-02-10", 50.0), ("once70", "2024-01-21", 50.0)]
    month = pd.Period("2024-03", "M")
    table = customer_table(build_customer_months(_transactions(rows), month), month, 3).set_index("customer_id")
    assert table.loc["once50", "days_since_last"] == 50 and table.loc["once70", "days_since_last"] == 70
    assert table.loc["once50", "segment"] not in LAPSING_SEGMENTS
    assert table.loc["once70", "segment"] in LAPSING_SEGMENTS
    assert np.isnan(table.loc["once50", "usual_gap"]) and table.loc["regular0", "usual_gap"] == 20


def test_the_online_retail_report_still_finds_its_lapsing_customers():
    if not ONLINE_RETAIL.exists():
        pytest.skip(f"{ONLINE_RETAIL} is not here")
    sales = read_sales(ONLINE_RETAIL, as_of="2026-01-01")
    report = analyse(sales.transactions, ReportOptions(month="2010-11", active_window=6, clv=False), sales)
    customers = report.customers
    lapsing = customers[customers["segment"].isin(LAPSING_SEGMENTS)]
    assert len(lapsing) > 500
    assert (lapsing["days_since_last"] > 30).all()
    assert (lapsing["days_since_last"] > LAPSE_MULTIPLE * lapsing["usual_gap"].fillna(0)).all()
    assert {"key_quiet", "cant_lose", "at_risk", "hibernating"} <= {action.key for action in report.actions}


@pytest.mark.parametrize("days", [-1, 3651, 1.5, True])
def test_the_floor_is_checked_before_reading(days):
    with pytest.raises(UsageError, match="lapse-days"):
        ReportOptions(lapse_days=days).validated()


def test_the_floor_from_the_command_line(tmp_path, capsys):
    sales = tmp_path / "sales.csv"
    _left_the_base()[["customer_id", "date", "amount"]].to_csv(sales, index=False)
    assert main(["report", str(sales), "-o", str(tmp_path / "r.xlsx"), "--lapse-days", "x"]) == 2
    assert main(["report", str(sales), "-o", str(tmp_path / "r.xlsx"), "--lapse-days", "-3"]) == 2
    assert "lapse-days" in capsys.readouterr().err
    assert main(["report", str(sales), "-o", str(tmp_path / "r.xlsx"), "--lapse-days", "45", "--quiet"]) == 0
