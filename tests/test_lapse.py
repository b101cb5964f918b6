"""Lapsing words only for customers who have lapsed: out of the base, or silent longer than the floor and than 3 times
their usual gap; recency words only for customers silent no longer than the floor."""

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from retention_xl.figures import month as analysis
from retention_xl.figures.actions import environment, recommend
from retention_xl.table.numpy_builder import build_customer_months
from retention_xl.cli import main
from retention_xl.figures.customers import LAPSE_MULTIPLE, LAPSING_SEGMENTS, RECENT_SEGMENTS, customer_table, segments
from retention_xl.errors import UsageError
from retention_xl.i18n import labels
from retention_xl.read.reader import read_sales
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
# Not lapsing, and quiet for no longer than the floor (recent) or for longer (within their own rhythm).
RECENT = {"cant_lose": "loyal", "at_risk": "loyal", "about_to_sleep": "promising", "hibernating": "promising",
          "lost": "promising"}
WITHIN_RHYTHM = RECENT | {kind: "between_purchases" for kind in ("about_to_sleep", "hibernating", "lost")}


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
    for subject, expected in ((only_the_floor, WITHIN_RHYTHM), (only_the_gaps, RECENT)):
        assert subject[["r_score", "f_score", "m_score"]].tolist() == both[["r_score", "f_score", "m_score"]].tolist()
        assert subject["segment"] == expected[kind]
        assert subject["action"] == expected[kind]
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


def _month_actions(transactions: pd.DataFrame, lapse_days: int, p_alive: float | None = None, month="2024-03",
                   window: int = 1) -> dict:
    month = pd.Period(month, "M")
    table = build_customer_months(transactions, month)
    customers = customer_table(table, month, window, lapse_days=lapse_days)
    if p_alive is not None:  # as where the customer-value models ran
        customers = customers.assign(p_alive=p_alive, expected_purchases=0.1, clv=1.0)
    current, previous = (analysis.month_figures(table, m, window) for m in (month, month - 1))
    actions = recommend(current, previous, customers, active_window=window, lapse_days=lapse_days)
    return {action.key: action.who["customer_id"].tolist() for action in actions}


def test_every_customer_who_left_the_base_is_lapsing_and_listed():
    # "slow" is within 3 times its usual gap (31 <= 60), "weekly" is not; both left the base, whatever the floor.
    transactions = _left_the_base()
    for floor in (30, 31, 365):
        assert sorted(_month_actions(transactions, floor)["lost_this_month"]) == ["slow", "weekly"]
    month = pd.Period("2024-03", "M")
    table = customer_table(build_customer_months(transactions, month), month, 1, lapse_days=365)
    left = table[~table["in_base"]]
    assert (left["status"] == "lapsed").all() and left["segment"].isin(LAPSING_SEGMENTS).all()


def _quiet_in_the_base() -> pd.DataFrame:
    """Both "weekly" and "slow" last bought on 29 February, 122 days before the end of June, still in a 6-month base:
    "weekly" bought every 7 days (122 > 3 x 7), "slow" every 50 (122 <= 3 x 50)."""
    rows = _purchases("weekly", "2024-02-29", 9, 7, 9000.0) + _purchases("slow", "2024-02-29", 3, 50, 9000.0)
    rows += _purchases("stays", "2024-06-28", 13, 7, 100.0)
    return _transactions(rows)


def test_probably_gone_lists_only_lapsing_customers():
    transactions = _quiet_in_the_base()
    actions = (lambda floor, p_alive: _month_actions(transactions, floor, p_alive, month="2024-06", window=6))
    assert actions(30, 0.1)["probably_gone"] == ["weekly"]
    assert "probably_gone" not in actions(122, 0.1)
    assert set(actions(122, 0.9)["quiet_alive"]) == {"weekly", "slow"}


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
    report = analyse(sales, ReportOptions(month="2010-11", active_window=6, clv=False))
    customers = report.customers
    lapsing = customers[customers["segment"].isin(LAPSING_SEGMENTS)]
    assert len(lapsing) > 500
    assert (lapsing["days_since_last"] > 30).all()
    past_their_rhythm = lapsing["days_since_last"] > LAPSE_MULTIPLE * lapsing["usual_gap"].fillna(0)
    assert (past_their_rhythm | ~lapsing["in_base"]).all() and not past_their_rhythm.all()
    assert_honest(customers, 30)
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


def assert_honest(customers: pd.DataFrame, floor: int) -> None:
    """Every segment agrees with the customer's own row: recency claimed only of customers in the base and quiet
    for no longer than the floor, a lapse only of customers out of the base or quiet past the floor and 3 gaps."""
    gaps = customers["usual_gap"].fillna(customers["usual_gap"].median().round())
    silence, in_base, segment = customers["days_since_last"], customers["in_base"], customers["segment"]
    past_rhythm = (silence > floor) & (silence > LAPSE_MULTIPLE * gaps)
    recent = segment.isin(RECENT_SEGMENTS)
    assert (in_base[recent] & (silence[recent] <= floor)).all()
    assert (~in_base | past_rhythm)[segment.isin(LAPSING_SEGMENTS)].all()
    between = segment == "between_purchases"
    assert (in_base & (silence > floor) & ~past_rhythm)[between].all()
    assert segment[~in_base].isin(LAPSING_SEGMENTS + ("need_attention", "loyal", "champions")).all()
    assert not customers.loc[~in_base, "action"].isin(RECENT_SEGMENTS + ("between_purchases",)).any()


def test_the_deal_pipeline_segments_agree_with_each_customers_row(deal_pipeline):
    report = analyse(deal_pipeline, ReportOptions(month="2024-06", active_window=3, language="en", clv=False))
    assert_honest(report.customers, 30)


@pytest.fixture(scope="module")
def slow_buyers():
    """A shop whose customers buy every 100 to 300 days, so that ranks call a customer quiet for over a year recent;
    among them "bill", 5 purchases 195 days apart, the last 528 days before the end of 2022-11 (out of a 12-month
    base, but within 3 times his usual gap), and "becky", 4 purchases 301 days apart, quiet for 277 days."""
    rng = np.random.default_rng(11)
    rows = _purchases("bill", "2021-06-20", 5, 195, 10_500.0) + _purchases("becky", "2022-02-26", 4, 301, 11_800.0)
    for customer in range(150):
        gap = int(rng.integers(100, 300))
        last = pd.Timestamp("2022-11-30") - pd.Timedelta(days=int(rng.integers(0, 2 * gap)))
        days = max(1, min(int(rng.integers(1, 8)), (last - pd.Timestamp("2019-01-01")).days // gap))
        rows += _purchases(f"shop{customer:03d}", str(last.date()), days, gap, float(rng.integers(100, 20_000)))
    return _transactions(rows)


def test_no_customer_silent_past_the_floor_is_called_recent(slow_buyers):
    report = analyse(slow_buyers, ReportOptions(month="2022-11", active_window=12, language="en", clv=False))
    customers = report.customers.set_index("customer_id", drop=False)
    ranked = pd.Series(segments(*(customers[f"{s}_score"].to_numpy() for s in "rfm")), index=customers.index)
    assert (ranked.isin(RECENT_SEGMENTS) & (customers["days_since_last"] > 30)).sum() >= 10  # what ranks alone say
    assert_honest(customers, 30)
    bill, becky = customers.loc["bill"], customers.loc["becky"]
    assert (bill["days_since_last"], bill["in_base"], bill["status"]) == (528, False, "lapsed")
    assert bill["segment"] in LAPSING_SEGMENTS and bill["action"] in LAPSING_SEGMENTS
    assert (becky["days_since_last"], becky["usual_gap"], becky["in_base"]) == (277, 301, True)
    assert becky["segment"] == {3: "need_attention", 2: "between_purchases", 1: "between_purchases"}[becky["f_score"]]
    assert (customers["segment"] == "between_purchases").sum() >= 10
    potential = next(action for action in report.actions if action.key == "potential")
    assert potential.listed["days_since_last"].max() <= 30 and "bill" not in potential.listed["customer_id"].tolist()


def test_the_segments_renamed_in_place_are_those_of_the_rules_run_over_every_customer_three_times():
    """honest_segments runs the segment rules once over every customer, then again only over those whose R
    moved: the same segments as running them over everyone after each move, for every scores and flags."""
    import itertools

    from retention_xl.figures.customers import honest_segments

    def over_everyone(r, f, m, lapse, recent):
        r = np.where(np.isin(segments(r, f, m), LAPSING_SEGMENTS) & ~lapse, np.maximum(r, np.where(f >= 3, 3, 4)), r)
        r = np.where(np.isin(segments(r, f, m), RECENT_SEGMENTS) & ~recent, 3, r)
        named = segments(r, f, m)
        return np.where(np.isin(named, LAPSING_SEGMENTS) & ~lapse, "between_purchases", named)

    r, f, m, lapse, recent = np.array(list(itertools.product(range(1, 6), range(1, 6), range(1, 6), [0, 1], [0, 1]))).T
    lapse, recent = lapse.astype(bool), recent.astype(bool) & ~lapse.astype(bool)
    assert honest_segments(r, f, m, lapse, recent).tolist() == over_everyone(r, f, m, lapse, recent).tolist()


@pytest.mark.parametrize("language, term, times, points", [
    ("en", "Lapsing", ("up to 4 times", "beyond 4 times"), "5 to 9 percentage points"),
    ("zh-CN", "流失判定", ("平均间隔 4 倍", "超过 4 倍"), "5 到 9 个百分点"),
    ("zh-TW", "流失判定", ("平均間隔 4 倍", "超過 4 倍"), "5 到 9 個百分點"),
])
def test_the_lapsing_definition_takes_every_number_from_the_rule_and_names_no_data_set(language, term, times,
                                                                                       points):
    """A manager reads why the multiple was chosen in general terms; the data sets are named in the README."""
    from retention_xl.figures.actions import render_definitions

    definitions = dict(render_definitions(
        language, window=12, high=0.5, low=0.2, top=0.2, active_months=3, as_of="2024-12-31", value="revenue",
        has_profit=False, lapse_days=30, lapse_multiple=4, lapse_step=(5, 9), base_gap=None))
    lapsing_text = definitions[term]
    assert all(part in lapsing_text for part in times) and points in lapsing_text
    assert "3 倍" not in lapsing_text and "3 times" not in lapsing_text and "12" not in lapsing_text
    assert not any(name in text for text in definitions.values() for name in ("Online Retail", "CDNOW"))
