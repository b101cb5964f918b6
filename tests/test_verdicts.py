"""Verdicts and advice that agree with the customer's own purchases: no P(alive) for a customer with one purchase
day, no "still a customer" for one the lapse rule calls lapsing, and no Champions / Loyal / Need Attention (VIP
perks, loyalty upgrades, a nudge before they fall asleep) for a customer who has left."""

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from retention_xl.figures.actions import environment, recommend
from retention_xl.figures.customers import CURRENT_SEGMENTS, LAPSING_SEGMENTS, honest_segments, lapsing, segments
from retention_xl.i18n import labels
from retention_xl.report import ReportOptions, analyse, write_workbook

CDNOW = Path(__file__).resolve().parent / "data" / "cdnow_sample.txt"


@pytest.fixture(scope="module")
def cdnow():
    """The CDNOW 1/10 sample as of June 1998: three quarters of its customers bought on one day only, in early 1997."""
    frame = pd.read_csv(CDNOW, sep=r"\s+", header=None, dtype={"customer_id": str, "date": str},
                        names=["master_id", "customer_id", "date", "cds", "amount"])
    transactions = pd.DataFrame({"customer_id": frame["customer_id"], "customer_name": pd.NA, "order_id": None,
                                 "date": pd.to_datetime(frame["date"], format="%Y%m%d"), "amount": frame["amount"]})
    return analyse(transactions, ReportOptions(language="en", month="1998-06", active_window=12))


def _members(report, key: str) -> pd.DataFrame:
    action = next((a for a in report.actions if a.key == key), None)
    ids = set() if action is None else set(action.listed["customer_id"])
    return report.customers[report.customers["customer_id"].isin(ids)]


def test_a_customer_with_one_purchase_day_has_no_p_alive_and_no_advice_rests_on_it(cdnow):
    customers = cdnow.customers
    assert cdnow.value.dropout_detected
    one_day = customers["usual_gap"].isna()
    assert one_day.sum() > 1000 and (customers.loc[one_day, "days_since_last"] > 450).all()
    assert customers.loc[one_day, "p_alive"].isna().all()  # BG/NBD would say 1.0 for every one of them
    assert customers.loc[~one_day, "p_alive"].between(0, 1).all()
    assert customers.loc[one_day, ["expected_purchases", "clv"]].notna().all().all()  # the model's, and meaningful
    for key in ("quiet_alive", "probably_gone"):
        assert _members(cdnow, key)["usual_gap"].notna().all(), key


def test_no_customer_the_lapse_rule_calls_lapsing_is_called_still_a_customer(cdnow):
    alive = _members(cdnow, "quiet_alive")
    assert len(alive) and not lapsing(cdnow.customers)[alive.index].any()
    # The same customers with a usual gap of a day: quiet for far longer than 3 times it, the lapse rule calls
    # them lapsing, and however sure the model is that they still buy, none is called still a customer.
    customers = cdnow.customers.assign(usual_gap=lambda t: t["usual_gap"].where(~t.index.isin(alive.index), 1.0))
    actions = recommend(cdnow.current, cdnow.previous, customers, active_window=12)
    moved = set(alive["customer_id"])
    listed = next((a for a in actions if a.key == "quiet_alive"), None)
    assert listed is None or not moved & set(listed.listed["customer_id"])


def test_a_lapsing_customer_is_never_champions_loyal_or_need_attention(cdnow):
    customers = cdnow.customers
    lapse = lapsing(customers)
    ranked = segments(*(customers[f"{s}_score"].to_numpy() for s in "rfm"))
    assert (np.isin(ranked, CURRENT_SEGMENTS) & lapse).sum() > 0  # what the ranks alone would have called them
    assert not (customers["segment"].isin(CURRENT_SEGMENTS) & lapse).any()
    assert customers.loc[lapse, "segment"].isin(LAPSING_SEGMENTS).all()


def test_high_value_customers_gone_quiet_get_the_segments_for_them():
    r, f, m = np.array([5, 4, 3, 5, 3]), np.array([5, 5, 4, 3, 3]), np.array([5, 5, 2, 1, 3])
    lapse = np.array([1, 1, 1, 1, 1], bool)
    assert honest_segments(r, f, m, lapse, ~lapse).tolist() == ["cant_lose", "cant_lose", "at_risk", "at_risk",
                                                               "at_risk"]
    assert honest_segments(r, f, m, ~lapse, lapse).tolist() == ["champions", "champions", "loyal",
                                                                "potential_loyalist", "need_attention"]


def test_reward_the_best_lists_no_lapsing_customer_and_its_filter_finds_exactly_them(cdnow, tmp_path):
    best = _members(cdnow, "champions")
    action = next(a for a in cdnow.actions if a.key == "champions")
    assert len(best) == action.total > 0
    assert not lapsing(cdnow.customers)[best.index].any()
    assert not set(best["customer_id"]) & set(_members(cdnow, "probably_gone")["customer_id"])
    assert not set(best["customer_id"]) & set(_members(cdnow, "key_quiet")["customer_id"])

    path = tmp_path / "cdnow.xlsx"
    write_workbook(cdnow, path)
    words = labels("en")
    book = openpyxl.load_workbook(path)
    sheet = book[words["sheet.customers"]]
    header = [c.value for c in sheet[1]]
    segment = header.index(words["col.segment"])
    filtered = {words["segment.champions"], words["segment.loyal"]}
    found = sum(1 for row in sheet.iter_rows(min_row=2, values_only=True) if row[segment] in filtered)
    assert found == action.total == action.remaining + len(action.who)
    shown = [str(c.value) for row in book[words["sheet.actions"]].iter_rows() for c in row if c.value]
    more = words["actions.more"].format(count=f"{action.remaining:,}", filter=" / ".join(sorted(
        filtered, key=[words["segment.champions"], words["segment.loyal"]].index)))
    assert more in shown

    p_alive = sheet.cell(row=1, column=header.index(words["col.p_alive"]) + 1)
    assert p_alive.comment.text.startswith(words["col.p_alive_one_day"][:30])
    definitions = "\n".join(str(c.value) for row in book[words["sheet.definitions"]].iter_rows() for c in row if c.value)
    assert words["value.def_p_alive"] in definitions and "(4) a lapsing customer" in definitions


@pytest.mark.parametrize("language", ["en", "zh-CN", "zh-TW"])
def test_the_rules_are_worded_in_every_language(language):
    words = labels(language)
    assert words["col.p_alive_one_day"] and words["col.p_alive_one_day"] != labels("en")["col.p_alive_one_day"] \
        or language == "en"
    definitions = environment(language).get_template("definitions.j2").render(
        window=12, as_of="2024-01-01", high=0.4, low=0.2, top=0.2, value="revenue", base_gap=10, lapse_days=30,
        lapse_multiple=3, lapse_step=(12, 21), active_months=3, has_profit=False)
    assert "(4)" in definitions and words["segment.cant_lose"] in definitions.split("(4)")[1]
