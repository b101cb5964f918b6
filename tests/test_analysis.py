"""Hand-computed figures on tiny data pin every definition of the monthly report."""

import numpy as np
import pandas as pd
import pytest

from retention_xl.figures import month as analysis
from retention_xl.table.numpy_builder import build_customer_months
from retention_xl.figures.customers import _ranking, customer_table, scores, segments
from retention_xl.errors import UsageError
from retention_xl.report import ReportOptions, analyse, default_month

# Month by month (order id, customer, day, amount):
#   Jan: A, B, C buy.   Feb: A (twice), B, D buy.   Mar: A, D, E (new), C comes back; B returns goods.
ROWS = [
    ("o1", "A", "2024-01-05", 100.0), ("o2", "B", "2024-01-10", 50.0), ("o3", "C", "2024-01-20", 30.0),
    ("o4", "A", "2024-02-02", 120.0), ("o5", "A", "2024-02-20", 80.0), ("o6", "B", "2024-02-11", 40.0),
    ("o7", "D", "2024-02-15", 60.0),
    ("o8", "A", "2024-03-03", 150.0), ("o9", "D", "2024-03-09", 20.0), ("o10", "E", "2024-03-12", 10.0),
    ("o11", "C", "2024-03-30", 25.0), ("r1", "B", "2024-03-15", -15.0), ("o12", "A", "2024-03-31", 5.0),
]


@pytest.fixture
def transactions():
    frame = pd.DataFrame(ROWS, columns=["order_id", "customer_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["customer_name"] = pd.NA
    return frame


def figures(transactions, month, window):
    activity = build_customer_months(transactions, pd.Period(month, "M"))
    return analysis.month_figures(activity, pd.Period(month, "M"), window)


class TestBridgeAndRetention:
    def test_month_to_month_view(self, transactions):
        f = figures(transactions, "2024-03", 1)
        # S = Feb buyers {A, B, D}; E = Mar buyers {A, D, E, C}; N = {E}; R = {C}; L = {B}
        assert (f.S, f.E, f.N, f.R, f.L) == (3, 4, 1, 1, 1)
        assert f.S - f.L + f.N + f.R == f.E
        assert f.retention == pytest.approx((4 - 1) / 3)
        assert f.strict_retention == pytest.approx((3 - 1) / 3)

    def test_two_month_window(self, transactions):
        f = figures(transactions, "2024-03", 2)
        # S = bought Jan-Feb {A, B, C, D}; E = bought Feb-Mar {A, B, C, D, E}
        assert (f.S, f.E, f.N, f.R, f.L) == (4, 5, 1, 0, 0)
        assert f.retention == pytest.approx(1.0)
        assert f.strict_retention == pytest.approx(1.0)

    def test_returns_do_not_make_a_customer_active(self, transactions):
        extra = pd.DataFrame([("r9", "Z", pd.Timestamp("2024-03-05"), -10.0, pd.NA)],
                             columns=["order_id", "customer_id", "date", "amount", "customer_name"])
        f = figures(pd.concat([transactions, extra], ignore_index=True), "2024-03", 1)
        assert (f.E, f.N) == (4, 1)

    def test_first_month_has_no_base(self, transactions):
        f = figures(transactions, "2024-01", 1)
        assert (f.S, f.N, f.E) == (0, 3, 3)
        assert f.retention is None and f.strict_retention is None


class TestMoneyAndOrders:
    def test_transaction_growth_of_the_starting_base(self, transactions):
        f = figures(transactions, "2024-03", 1)
        # S = {A, B, D}: March 150 + 5 + 20 - 15 = 160; February 120 + 80 + 40 + 60 = 300
        assert (f.existing_revenue, f.existing_revenue_previous) == (160.0, 300.0)
        assert f.txn_growth == pytest.approx((160 - 300) / 300)

    def test_revenue_orders_and_average_order_value(self, transactions):
        f = figures(transactions, "2024-03", 1)
        assert f.revenue == pytest.approx(150 + 20 + 10 + 25 - 15 + 5)
        assert f.purchases == pytest.approx(210)
        assert f.orders == 5
        assert f.average_order_value == pytest.approx(210 / 5)
        assert f.buyers == 4

    def test_repeat_rate_counts_orders_in_the_window(self, transactions):
        f = figures(transactions, "2024-03", 2)
        # E = {A, B, C, D, E}; orders Feb-Mar: A 4, B 1, C 1, D 2, E 1 -> 2 of 5
        assert f.repeat_rate == pytest.approx(0.4)
        assert f.repeat_tier == "medium"

    def test_repeat_rate_without_order_ids_counts_purchase_days(self, transactions):
        transactions["order_id"] = pd.NA
        same_day = pd.DataFrame([(pd.NA, "E", pd.Timestamp("2024-03-12 18:00"), 4.0, pd.NA)],
                                columns=["order_id", "customer_id", "date", "amount", "customer_name"])
        f = figures(pd.concat([transactions, same_day], ignore_index=True), "2024-03", 1)
        # March days: A 2 (3rd, 31st), D 1, E 1 (two purchases, one day), C 1 -> 1 of 4
        assert f.repeat_rate == pytest.approx(0.25)

    def test_pareto_share_of_window_revenue_in_the_base(self, transactions):
        f = figures(transactions, "2024-03", 2)
        # window Feb-Mar revenue: A 355, B 25, C 25, D 80, E 10 = 495; top 20% of 5 = A
        assert f.pareto_share == pytest.approx(355 / 495)


class TestCohorts:
    def test_cells(self, transactions):
        activity = build_customer_months(transactions, pd.Period("2024-03", "M"))
        cohorts = analysis.cohorts(activity, pd.Period("2024-03", "M"))
        active = cohorts.active
        assert list(active.index) == ["2024-01", "2024-02", "2024-03"]
        assert active.loc["2024-01"].tolist() == [3, 2, 2]          # {A,B,C}, {A,B}, {A,C}
        assert active.loc["2024-02"].tolist()[:2] == [1, 1]         # {D}, {D}
        assert np.isnan(active.loc["2024-02", 2])                  # not reached yet: blank, not 0
        assert active.loc["2024-03", 0] == 1 and np.isnan(active.loc["2024-03", 1])
        assert cohorts.retention.loc["2024-01"].tolist() == pytest.approx([1, 2 / 3, 2 / 3])
        assert cohorts.weighted_average().tolist() == pytest.approx([1, (2 + 1) / (3 + 1), 2 / 3])
        assert cohorts.revenue.loc["2024-01"].tolist() == pytest.approx([180, 240, 165])  # B's return in March counts


class TestCustomers:
    def test_scores_share_ties_and_span_one_to_five(self):
        assert scores(np.array([10, 20, 30, 40, 50])).tolist() == [1, 2, 3, 4, 5]
        assert scores(np.array([1, 1, 1, 1, 9])).tolist() == [1, 1, 1, 1, 5]
        assert scores(np.arange(10)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]

    @pytest.mark.parametrize(
        "r, f, m, segment",
        [
            (5, 5, 5, "champions"), (4, 4, 4, "champions"), (4, 4, 3, "loyal"), (3, 5, 5, "loyal"),
            (2, 4, 4, "cant_lose"), (1, 5, 5, "cant_lose"), (2, 4, 3, "at_risk"), (1, 3, 5, "at_risk"),
            (5, 3, 1, "potential_loyalist"), (4, 2, 5, "potential_loyalist"), (5, 1, 5, "new_customers"),
            (4, 1, 1, "promising"), (3, 3, 3, "need_attention"), (3, 2, 5, "about_to_sleep"),
            (3, 1, 1, "about_to_sleep"), (2, 2, 5, "hibernating"), (1, 2, 1, "lost"), (1, 1, 1, "lost"),
        ],
    )
    def test_segment_edges(self, r, f, m, segment):
        assert segments(np.array([r]), np.array([f]), np.array([m]))[0] == segment

    def test_every_score_combination_has_exactly_one_segment(self):
        grid = np.array([(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)])
        assigned = segments(grid[:, 0], grid[:, 1], grid[:, 2])
        assert (assigned != "").all()
        assert len(set(assigned)) == 11

    def test_table(self, transactions):
        activity = build_customer_months(transactions, pd.Period("2024-03", "M"))
        table = customer_table(activity, pd.Period("2024-03", "M"), 1).set_index("customer_id")
        assert list(table.index) == ["A", "C", "D", "E", "B"]  # base first by March revenue, then the rest
        assert table.loc["A", "key_account"] and table["key_account"].sum() == 1  # ceil(20% of 4)
        assert table.loc["E", "status"] == "new"
        assert table.loc["B", "status"] == "lapsed" and not table.loc["B", "in_base"]
        assert table.loc["A", "orders"] == 5 and table.loc["A", "revenue"] == pytest.approx(455)
        assert table.loc["B", "days_since_last"] == (pd.Timestamp("2024-03-31") - pd.Timestamp("2024-02-11")).days
        assert table.loc["C", "first_purchase"] == pd.Timestamp("2024-01-20")


class TestReportMonth:
    def test_default_is_the_last_complete_month(self, transactions):
        report = analyse(transactions, ReportOptions(active_window=1))
        assert str(report.month) == "2024-03" and not report.month_was_defaulted_mid_month

    def test_data_ending_mid_month(self):
        assert default_month(pd.Timestamp("2010-12-09 12:50")) == (pd.Period("2010-11", "M"), True)

    def test_month_outside_the_data(self, transactions):
        with pytest.raises(UsageError, match="outside the data"):
            analyse(transactions, ReportOptions(month="2023-05"))

    def test_badly_written_month(self, transactions):
        with pytest.raises(UsageError, match="2024-03"):
            analyse(transactions, ReportOptions(month="March"))

    def test_summary_for_scripts(self, transactions):
        summary = analyse(transactions, ReportOptions(active_window=1)).summary()
        for key in ("month", "active_window", "S", "N", "E", "R", "L", "retention", "strict_retention", "txn_growth",
                    "repeat_rate", "repeat_tier", "pareto_share", "revenue", "orders", "cohorts"):
            assert key in summary
        assert summary["cohorts"] == {"2024-01": [3, 2, 2], "2024-02": [1, 1], "2024-03": [1]}


def test_customers_with_revenue_equal_to_the_cent_rank_by_id():
    # 0.1 + 0.2 != 0.3 in floating point: the cents decide, then the id.
    rows = [("o1", "Z", "2024-03-01", 0.1), ("o2", "Z", "2024-03-02", 0.2), ("o3", "Y", "2024-03-03", 0.3)]
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "date", "amount"]).assign(customer_name=pd.NA)
    frame["date"] = pd.to_datetime(frame["date"])
    table = customer_table(build_customer_months(frame, pd.Period("2024-03", "M")), pd.Period("2024-03", "M"), 1)
    assert list(table["customer_id"]) == ["Y", "Z"]


def test_the_months_repeat_buyers_and_return_rate(transactions):
    march = figures(transactions, "2024-03", 1)
    # March buyers A, D, E, C; only A bought on two days (3rd, 31st). February buyers A, B, D; A and D came back.
    assert (march.buyers, march.repeat_buyers, march.repurchase_rate) == (4, 1, pytest.approx(0.25))
    assert (march.previous_buyers, march.returning_buyers, march.return_rate) == (3, 2, pytest.approx(2 / 3))
    february = figures(transactions, "2024-02", 1)
    assert february.repurchase_rate == pytest.approx(1 / 3) and february.return_rate == pytest.approx(2 / 3)
    january = figures(transactions, "2024-01", 1)
    assert january.return_rate is None  # nobody bought the month before


@pytest.mark.parametrize("seed", range(6))
def test_customer_order_equals_a_sort_with_ids_as_the_last_key(seed):
    """Numbers first, ids only among the tied: the same order as sorting on all four keys, ties and -0.0 included."""
    rng = np.random.default_rng(seed)
    size = [1, 2, 50, 3000, 3000, 3000][seed]
    in_base = rng.random(size) < 0.6
    window = np.where(in_base, np.round(rng.integers(0, 5, size) * 1.5, 2), 0.0)
    value = np.round(rng.integers(-1, 4, size) * 2.25, 2)
    value[rng.random(size) < 0.1] = -0.0
    ids = np.array([f"c{i}" for i in rng.permutation(size)], dtype=object)
    frame = pd.DataFrame({"in_base": in_base, "window": window, "value": value, "customer_id": ids})
    expected = frame.sort_values(["in_base", "window", "value", "customer_id"], ascending=[False, False, False, True],
                                 kind="stable").index.to_numpy()
    assert _ranking(in_base, window, value, ids).tolist() == expected.tolist()
