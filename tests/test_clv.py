"""BG/NBD and Gamma-Gamma against Fader and Hardie's published CDNOW results, and their properties."""

from pathlib import Path

import mpmath
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from retention_xl.figures.models import clv, expectation, fitting, spend

DATA = Path(__file__).resolve().parent / "data"
CDNOW_FIT = clv.BgNbdFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-9582.4)


@pytest.fixture(scope="module")
def published():
    summary = pd.read_csv(DATA / "cdnow_summary.csv").set_index("ID")
    return summary.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


@pytest.fixture(scope="module")
def raw():
    frame = pd.read_csv(DATA / "cdnow_sample.txt", sep=r"\s+", header=None, dtype={"date": str},
                        names=["master_id", "customer_id", "date", "cds", "amount"])
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def summary_of(**columns):
    values = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float)) for v in columns.values()))
    return pd.DataFrame(dict(zip(columns, values)))


def test_rfm_summary_reproduces_the_published_summary(raw, published):
    mine = clv.rfm_summary(raw, "1997-09-30")
    assert list(mine.index) == list(published.index)
    assert (mine["frequency"].to_numpy() == published["frequency"].to_numpy()).all()
    for column in ("recency", "T", "monetary_value"):  # published to 2 decimals
        assert np.abs(mine[column].to_numpy() - published[column].to_numpy()).max() <= 0.005 + 1e-9, column


def test_bgnbd_fit_reproduces_the_published_parameters(published):
    fit = clv.fit_bgnbd(published)
    assert (fit.r, fit.alpha, fit.a, fit.b) == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=6e-4)
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.05)


def test_the_published_example_customer():
    example = summary_of(frequency=2, recency=30.43, T=38.86)
    assert clv.expected_purchases(CDNOW_FIT, example, 39)[0] == pytest.approx(1.226, abs=5e-4)


def test_gamma_gamma_reproduces_the_published_parameters(published):
    fit = clv.fit_gamma_gamma(published)
    assert (fit.p, fit.q, fit.v) == pytest.approx((6.25, 3.74, 15.44), abs=0.02)
    assert ((published["frequency"] > 0) & (published["monetary_value"] > 0)).sum() == 946


def test_a_frequent_buyer_gone_quiet_is_probably_gone():
    quiet = summary_of(frequency=[1, 2, 5], recency=5, T=38.86)
    assert clv.expected_purchases(CDNOW_FIT, quiet, 39) == pytest.approx([0.30, 0.21, 0.010], abs=5e-3)


def test_no_repeat_purchase_means_alive():
    assert clv.p_alive(CDNOW_FIT, summary_of(frequency=[0, 0], recency=[0, 0], T=[1, 80])).tolist() == [1.0, 1.0]


@settings(max_examples=200, deadline=None)
@given(x=st.integers(0, 100_000), recency_share=st.floats(0, 1), T=st.floats(0.1, 500), t=st.floats(0.01, 520))
def test_always_finite_and_in_range(x, recency_share, T, t):
    recency = 0.0 if x == 0 else recency_share * T
    summary = summary_of(frequency=x, recency=recency, T=T)
    alive = clv.p_alive(CDNOW_FIT, summary)[0]
    expected = clv.expected_purchases(CDNOW_FIT, summary, t)[0]
    assert 0 <= alive <= 1
    assert np.isfinite(expected) and expected >= 0


def test_expectations_grow_where_they_must():
    ts = [1, 5, 20, 52, 104]
    growing = clv.expected_purchases(CDNOW_FIT, summary_of(frequency=[3] * 5, recency=[20] * 5, T=[30] * 5), 0)
    assert growing.tolist() == [0.0] * 5
    by_t = [clv.expected_purchases(CDNOW_FIT, summary_of(frequency=3, recency=20, T=30), t)[0] for t in ts]
    assert by_t == sorted(by_t) and by_t[0] < by_t[-1]
    by_recency = clv.expected_purchases(CDNOW_FIT, summary_of(frequency=[3] * 4, recency=[5, 10, 20, 30], T=[30] * 4), 39)
    assert (np.diff(by_recency) > 0).all()
    by_frequency = clv.expected_purchases(CDNOW_FIT, summary_of(frequency=[1, 2, 5, 20], recency=[30] * 4, T=[30] * 4), 39)
    assert (np.diff(by_frequency) > 0).all()


def test_a_customer_with_thousands_of_orders_is_finite_and_large():
    busy = summary_of(frequency=3000, recency=100, T=100)  # 30 purchase days a week, the last one today
    expected = clv.expected_purchases(CDNOW_FIT, busy, 52)[0]
    assert np.isfinite(expected) and expected > 1000
    # Half a week of silence after 30 purchases a week: probably gone, and the model says so.
    assert clv.p_alive(CDNOW_FIT, summary_of(frequency=3000, recency=99.5, T=100))[0] < 0.01


@pytest.mark.parametrize("a", [1.0, 0.3])
def test_special_cases_of_a_are_continuous(a):
    """a = 1 takes the limit of the general formula; a + b < 1 is an ordinary case."""
    summary = summary_of(frequency=[0, 4, 40], recency=[0, 12, 30], T=[40, 40, 40])
    b = 2.0 if a == 1 else 0.5
    at = clv.expected_purchases(clv.BgNbdFit(0.5, 5.0, a, b, 0.0), summary, 26)
    near = clv.expected_purchases(clv.BgNbdFit(0.5, 5.0, a + 1e-5, b, 0.0), summary, 26)
    assert np.isfinite(at).all()
    assert at == pytest.approx(near, rel=1e-3)


def test_lifetime_value_is_the_discounted_sum_of_monthly_spend(published):
    bgnbd = CDNOW_FIT
    gamma = clv.GammaGammaFit(6.25, 3.74, 15.44, 0.0)
    customers = published.head(50)
    value = clv.customer_lifetime_value(bgnbd, gamma, customers, months=12, monthly_discount=0.01)
    month = clv.MONTH_DAYS / 7
    spend = clv.expected_spend(gamma, customers)
    by_hand = sum(
        (clv.expected_purchases(bgnbd, customers, i * month) - clv.expected_purchases(bgnbd, customers, (i - 1) * month))
        * spend / 1.01 ** i for i in range(1, 13))
    assert value == pytest.approx(by_hand)
    assert (value >= 0).all() and value.max() > 0


def test_the_fast_likelihoods_equal_the_textbook_ones(published):
    """The fits evaluate special functions once per distinct frequency; the sums must not change."""
    (x, t_x, T), weight = fitting.weighted_rows(published, ("frequency", "recency", "T"))
    log_parameters = np.log([0.243, 4.414, 0.793, 2.426])
    fast, _ = clv._bgnbd_objective(x, t_x, T, weight)(log_parameters)
    assert -fast == pytest.approx(np.dot(weight, clv.bgnbd_log_likelihood(0.243, 4.414, 0.793, 2.426, x, t_x, T)))
    (x, m), weight = fitting.weighted_rows(spend.spenders(published), ("frequency", "monetary_value"))
    fast, _ = spend._gamma_gamma_objective(x, m, weight)(np.log([6.25, 3.74, 15.44]))
    assert -fast == pytest.approx(np.dot(weight, clv.gamma_gamma_log_likelihood(6.25, 3.74, 15.44, x, m)))


@pytest.mark.parametrize("parameters", [[0.243, 4.414, 0.793, 2.426], [1.3, 5.1, 0.01, 100.0], [0.05, 40.0, 2.0, 0.5]])
def test_the_fast_gradients_are_the_derivatives_of_the_likelihoods(published, parameters):
    (x, t_x, T), weight = fitting.weighted_rows(published, ("frequency", "recency", "T"))
    objective = clv._bgnbd_objective(x, t_x, T, weight)
    at = np.log(parameters)
    _, gradient = objective(at)
    step = 1e-6
    numeric = [(objective(at + step * unit)[0] - objective(at - step * unit)[0]) / (2 * step) for unit in np.eye(4)]
    assert gradient == pytest.approx(numeric, rel=1e-5, abs=1e-3)
    (x, m), weight = fitting.weighted_rows(spend.spenders(published), ("frequency", "monetary_value"))
    objective = spend._gamma_gamma_objective(x, m, weight)
    at = np.log([6.25, 3.74, 15.44])
    _, gradient = objective(at)
    numeric = [(objective(at + step * unit)[0] - objective(at - step * unit)[0]) / (2 * step) for unit in np.eye(3)]
    assert gradient == pytest.approx(numeric, rel=1e-5, abs=1e-3)


def textbook_expected_purchases(fit, summary, t):
    """Fader, Hardie & Lee's eq. 10 as printed, with scipy's hypergeometric function."""
    x, t_x, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = t / (alpha + T + t)
    hypergeometric = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    bracket = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hypergeometric)
    return bracket * clv.p_alive(fit, summary)


@pytest.mark.parametrize("a, b", [(1e4, 3e4), (100.0, 300.0), (30.0, 2.0), (11.0, 0.5), (0.793, 2.426)])
def test_expected_purchases_equal_the_textbook_formula_for_every_customer(published, a, b):
    """a = 1e4, b = 3e4 once gave NaN for every CDNOW customer: the series' terms overflowed."""
    fit = clv.BgNbdFit(0.243, 4.414, a, b, 0.0)
    mine = clv.expected_purchases(fit, published, 39)
    assert np.isfinite(mine).all()
    assert mine == pytest.approx(textbook_expected_purchases(fit, published, 39), rel=1e-9)


def mp_alive_expectation(r, alpha, a, b, x, T, t):
    """The alive customer's expectation in 50 digits (mpmath): the textbook formula."""
    r, alpha, a, b, x, T, t = (mpmath.mpf(v) for v in (r, alpha, a, b, x, T, t))
    z = t / (alpha + T + t)
    return (a + b + x - 1) / (a - 1) * (1 - (1 - z) ** (r + x) * mpmath.hyp2f1(r + x, b + x, a + b + x - 1, z))


@pytest.mark.parametrize("r, alpha, a, b, x, T, t", [
    (0.243, 4.414, 1e13, 3e13, 2, 38.86, 39),       # drop-out chance fixed at 1/4: a and b at the optimiser's edge
    (0.243, 4.414, 1e4, 1e13, 2, 38.86, 39),        # almost no drop-out
    (0.243, 4.414, 1e13, 0.5, 0, 38.86, 39),        # everyone drops out after a purchase
    (5.2e10, 2.08e11, 0.8, 2.4, 4, 30, 39),         # every customer buying at the same rate
    (5.2e10, 2.08e11, 1e4, 3e4, 4, 30, 39),
    (0.9, 10.6, 1e-5, 1e5, 3, 40, 13),              # the no-drop-out boundary
    (0.243, 4.414, 0.793, 2.426, 3000, 100, 52),    # thousands of purchases
    (0.5, 5.0, 50.0, 3.0, 40, 40, 26),
])
def test_alive_expectation_at_the_edges_of_the_parameters(r, alpha, a, b, x, T, t):
    mpmath.mp.dps = 50
    mine = expectation.alive_expectation(r, alpha, a, b, np.array([x]), np.array([T]), np.array([t]))[0]
    assert mine == pytest.approx(float(mp_alive_expectation(r, alpha, a, b, x, T, t)), rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(log_parameters=st.lists(st.floats(-30, 30), min_size=4, max_size=4), x=st.integers(0, 5000),
       recency_share=st.floats(0, 1), T=st.floats(0, 300), t=st.floats(0.1, 260))
def test_expected_purchases_are_finite_wherever_the_optimiser_can_go(log_parameters, x, recency_share, T, t):
    fit = clv.BgNbdFit(*np.exp(log_parameters), 0.0)
    summary = summary_of(frequency=x, recency=0.0 if x == 0 else recency_share * T, T=T)
    expected = clv.expected_purchases(fit, summary, t)[0]
    assert np.isfinite(expected) and expected >= 0


def test_the_likelihood_keeps_its_digits_at_a_very_large_r(published):
    """A holdout refit ran to r = 5.2e10, where the difference of two huge logarithms lost every decimal."""
    r, alpha, a, b = 5.2e10, 2.2e11, 0.8, 2.4
    (x, t_x, T), weight = fitting.weighted_rows(published, ("frequency", "recency", "T"))
    mpmath.mp.dps = 40

    def exact(x, t_x, T):
        x, t_x, T = (mpmath.mpf(float(v)) for v in (x, t_x, T))
        common = mpmath.loggamma(r + x) - mpmath.loggamma(r) + r * mpmath.log(alpha) - mpmath.log(mpmath.beta(a, b))
        alive = mpmath.beta(a, b + x) / (alpha + T) ** (r + x)
        dropped = mpmath.beta(a + 1, b + x - 1) / (alpha + t_x) ** (r + x) if x > 0 else 0
        return common + mpmath.log(alive + dropped)

    truth = float(sum(w * exact(*row) for w, row in zip(weight, zip(x, t_x, T))))
    mine = float(np.dot(weight, clv.bgnbd_log_likelihood(r, alpha, a, b, x, t_x, T)))
    fast, _ = clv._bgnbd_objective(x, t_x, T, weight)(np.log([r, alpha, a, b]))
    assert mine == pytest.approx(truth, abs=1e-6) and -fast == pytest.approx(truth, abs=1e-6)
    assert float(clv.log_rising(r, 7)) == pytest.approx(float(mpmath.loggamma(r + 7) - mpmath.loggamma(r)), abs=1e-12)


def test_drop_out_is_detected_in_cdnow_and_not_where_nobody_leaves(published):
    bgnbd = clv.fit_bgnbd(published)
    assert clv.dropout_detected(bgnbd, clv.fit_nbd(published, near=bgnbd))
    rng = np.random.default_rng(3)
    T = rng.uniform(10, 78, 3000)
    rate = rng.gamma(0.8, 1 / 2.0, 3000)          # purchases a week, for ever
    times = [np.sort(rng.uniform(0, t, rng.poisson(lam * t))) for lam, t in zip(rate, T)]
    steady = summary_of(frequency=[len(s) for s in times], recency=[s[-1] if len(s) else 0.0 for s in times], T=T)
    bgnbd = clv.fit_bgnbd(steady)
    nbd = clv.fit_nbd(steady, near=bgnbd)
    assert not clv.dropout_detected(bgnbd, nbd)
    assert nbd.r == pytest.approx(0.8, rel=0.15) and nbd.alpha == pytest.approx(2.0, rel=0.2)
    assert clv.expected_purchases(nbd, steady, 10) == pytest.approx((nbd.r + steady["frequency"]) / (nbd.alpha + T) * 10)


def test_a_spend_model_with_no_finite_mean_is_refused():
    refused = clv.GammaGammaFit(2.0, 0.78, 9.0, 0.0)
    customers = summary_of(frequency=[3, 1, 0], recency=[10, 5, 0], T=[20, 20, 20], monetary_value=[12.0, 30.0, 0.0])
    with pytest.raises(ValueError, match="no finite mean spend"):
        clv.expected_spend(refused, customers)
    value = clv.customer_lifetime_value(CDNOW_FIT, refused, customers)
    fallback = clv.customer_lifetime_value(CDNOW_FIT, None, customers)
    assert value == pytest.approx(fallback) and (value > 0).all()
    assert clv.observed_spend(customers).tolist() == [12.0, 30.0, (3 * 12.0 + 30.0) / 4]


def test_the_fits_use_one_blas_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with clv.blas_threads():
        inside = threadpoolctl.threadpool_info()
    assert inside and all(pool["num_threads"] == 1 for pool in inside if pool["user_api"] == "blas")


def test_a_spend_model_whose_mean_runs_far_above_the_observed_one_is_refused():
    """q = 1.05 has a finite mean spend, but p v / (q - 1) = 20 p v: here 360 against 20 observed, which would
    value every one-time buyer at 18 times what a purchase brings."""
    near_one = clv.GammaGammaFit(2.0, 1.05, 9.0, 0.0)
    customers = summary_of(frequency=[3, 1, 0], recency=[10, 5, 0], T=[20, 20, 20], monetary_value=[15.0, 35.0, 0.0])
    observed = clv.observed_mean_spend(customers)
    assert observed == 20.0 and clv.mean_spend(near_one) == pytest.approx(360.0)
    assert clv.has_finite_mean_spend(near_one) and not clv.spend_model_usable(near_one, observed)
    assert clv.spend_model_usable(clv.GammaGammaFit(2.0, 1.05, 9.0 * 20 * spend.MEAN_SPEND_MULTIPLE / 360, 0.0),
                                  observed)  # at the multiple exactly: still used
    assert clv.spend_model_usable(clv.GammaGammaFit(6.25, 3.74, 15.44, 0.0), 35.0)  # CDNOW's published fit
