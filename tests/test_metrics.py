"""The pure metrics core: exact definitions, edge cases and invariants."""

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from retention_xl import metrics

counts = st.integers(min_value=0, max_value=10**6)
amounts = st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), min_size=1, max_size=60).filter(
    lambda xs: sum(xs) > 0
)
fractions = st.floats(min_value=0, max_value=1, allow_nan=False)


class TestRetentionRate:
    def test_definition(self):
        assert metrics.retention_rate(110, 20, 100) == pytest.approx(0.9)

    def test_reactivations_can_lift_it_above_one(self):
        assert metrics.retention_rate(130, 10, 100) == pytest.approx(1.2)

    def test_no_customers_at_start_divides_by_zero(self):
        with pytest.raises(ZeroDivisionError):
            metrics.retention_rate(5, 5, 0)

    @pytest.mark.parametrize("e, n, s", [(-1, 0, 10), (10, -1, 10), (10, 0, -5), (10.5, 0, 10), (10, 0, math.nan)])
    def test_negative_fractional_or_nan_counts_are_rejected(self, e, n, s):
        with pytest.raises(ValueError):
            metrics.retention_rate(e, n, s)

    def test_more_new_than_end_customers_is_a_data_error(self):
        with pytest.raises(ValueError, match="cannot exceed"):
            metrics.retention_rate(10, 11, 20)

    def test_whole_numbers_stored_as_floats_are_counts(self):
        assert metrics.retention_rate(110.0, 20.0, 100.0) == pytest.approx(0.9)

    @given(s=counts.filter(lambda s: s > 0), e=counts, data=st.data())
    def test_is_e_minus_n_over_s(self, s, e, data):
        n = data.draw(st.integers(min_value=0, max_value=e))
        assert metrics.retention_rate(e, n, s) == pytest.approx((e - n) / s)


class TestStrictRetention:
    def test_definition(self):
        assert metrics.strict_retention_rate(100, 15) == pytest.approx(0.85)

    def test_more_lost_than_start_is_rejected(self):
        with pytest.raises(ValueError):
            metrics.strict_retention_rate(10, 11)

    def test_zero_start(self):
        with pytest.raises(ZeroDivisionError):
            metrics.strict_retention_rate(0, 0)


class TestTxnGrowth:
    def test_definition(self):
        assert metrics.txn_growth(12_000, 10_000) == pytest.approx(0.2)

    def test_decline(self):
        assert metrics.txn_growth(7_500, 10_000) == pytest.approx(-0.25)

    def test_net_refunds_this_period_fall_below_minus_one(self):
        assert metrics.txn_growth(-500, 1_000) == pytest.approx(-1.5)

    def test_zero_base(self):
        with pytest.raises(ZeroDivisionError):
            metrics.txn_growth(100, 0)

    def test_negative_base(self):
        with pytest.raises(ValueError):
            metrics.txn_growth(100, -50)

    def test_nan(self):
        with pytest.raises(ValueError):
            metrics.txn_growth(math.nan, 10)


class TestRepeat:
    def test_rate_is_share_with_two_or_more(self):
        assert metrics.repeat_rate([1, 2, 5, 1, 0]) == pytest.approx(0.4)

    def test_empty_has_no_rate(self):
        with pytest.raises(ZeroDivisionError):
            metrics.repeat_rate([])

    @pytest.mark.parametrize("bad", [[1, -1], [1, 2.5], [1, math.nan]])
    def test_bad_counts(self, bad):
        with pytest.raises(ValueError):
            metrics.repeat_rate(bad)

    @pytest.mark.parametrize(
        "rate, tier",
        [(1.0, "high"), (0.7, "high"), (0.6999, "medium"), (0.3, "medium"), (0.2999, "low"), (0.0, "low")],
    )
    def test_band_edges(self, rate, tier):
        assert metrics.repeat_tier(rate) == tier

    def test_thresholds_can_be_overridden(self):
        assert metrics.repeat_tier(0.5, high=0.5, low=0.2) == "high"
        assert metrics.repeat_tier(0.1, high=0.5, low=0.2) == "low"

    @pytest.mark.parametrize("rate, high, low", [(1.2, 0.7, 0.3), (-0.1, 0.7, 0.3), (0.5, 0.3, 0.7), (0.5, 1.5, 0.3)])
    def test_out_of_domain(self, rate, high, low):
        with pytest.raises(ValueError):
            metrics.repeat_tier(rate, high=high, low=low)

    @given(st.lists(st.integers(min_value=0, max_value=50), min_size=1))
    def test_rate_is_a_share(self, purchase_counts):
        rate = metrics.repeat_rate(purchase_counts)
        assert 0 <= rate <= 1
        assert rate * len(purchase_counts) == pytest.approx(sum(c >= 2 for c in purchase_counts))


class TestParetoShare:
    def test_whole_number_of_customers(self):
        assert metrics.pareto_share([50, 20, 10, 10, 10]) == pytest.approx(0.5)

    def test_boundary_customer_counts_in_proportion(self):
        # top 20% of 7 customers = 1.4 customers: 60 + 0.4 * 20
        assert metrics.pareto_share([60, 20, 5, 5, 4, 3, 3]) == pytest.approx(68 / 100)

    def test_ties_do_not_matter(self):
        assert metrics.pareto_share([10, 10, 10, 10, 10]) == pytest.approx(0.2)

    def test_pairs_are_summed_per_customer_first(self):
        assert metrics.pareto_share_by_customer(["a", "b", "a", "c", "d"], [30, 20, 20, 10, 20], 0.25) == pytest.approx(0.5)

    def test_negative_totals_are_rejected(self):
        with pytest.raises(ValueError):
            metrics.pareto_share([10, -1])

    def test_refunds_within_a_customer_net_out(self):
        assert metrics.pareto_share_by_customer(["a", "a", "b"], [100, -40, 40], 0.5) == pytest.approx(0.6)

    @pytest.mark.parametrize("fraction", [-0.1, 1.1, math.nan])
    def test_fraction_outside_zero_one(self, fraction):
        with pytest.raises(ValueError):
            metrics.pareto_share([1, 2], fraction)

    @pytest.mark.parametrize("values", [[], [0, 0]])
    def test_nothing_to_share(self, values):
        with pytest.raises(ZeroDivisionError):
            metrics.pareto_share(values)

    @given(values=amounts, fraction=fractions)
    def test_between_fraction_and_one(self, values, fraction):
        share = metrics.pareto_share(values, fraction)
        assert fraction - 1e-9 <= share <= 1 + 1e-12

    @given(values=amounts, a=fractions, b=fractions)
    def test_grows_with_the_fraction(self, values, a, b):
        low, high = sorted((a, b))
        assert metrics.pareto_share(values, low) <= metrics.pareto_share(values, high) + 1e-9

    @given(values=amounts)
    def test_is_one_at_fraction_one(self, values):
        assert metrics.pareto_share(values, 1.0) == pytest.approx(1.0)

    @given(values=amounts, fraction=fractions)
    def test_order_does_not_matter(self, values, fraction):
        assert metrics.pareto_share(values, fraction) == pytest.approx(metrics.pareto_share(values[::-1], fraction))

    @given(values=amounts, fraction=fractions)
    @example(values=[5e-324], fraction=0.5)
    def test_matches_a_sorted_reference(self, values, fraction):
        # Scaled to the largest amount, so that the reference itself cannot underflow (0.5 x 5e-324 is 0).
        largest = max(values) or 1.0
        ordered = sorted((v / largest for v in values), reverse=True)
        k = fraction * len(ordered)
        whole = math.floor(k + 1e-9)
        expected = sum(ordered[:whole]) + ((k - whole) * ordered[whole] if whole < len(ordered) else 0)
        assert metrics.pareto_share(values, fraction) == pytest.approx(min(expected / sum(ordered), 1.0), abs=1e-9)


def test_pareto_share_of_extreme_amounts():
    assert metrics.pareto_share([1e308, 1e308, 1e308, 1e308, 1e308], 0.2) == pytest.approx(0.2)
    assert metrics.pareto_share([5e-324], 0.5) == pytest.approx(0.5)
