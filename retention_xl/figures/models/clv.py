"""Who is still a customer and what they are worth: the BG/NBD and Gamma-Gamma models.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way") models the
purchases of a customer who buys at a steady Poisson rate until, after any purchase,
they may drop out for good; rates and drop-out probabilities vary across customers
(gamma and beta mixtures). Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV")
models the spend per purchase. Both are fitted by maximum likelihood on the summary
of each customer's purchases:

* ``frequency`` x -- purchase days after the first (repeat purchases);
* ``recency`` t_x -- from the first to the last purchase day, in periods;
* ``T`` -- from the first purchase day to ``as_of``, in periods;
* ``monetary_value`` -- mean net amount of the repeat purchase days.

Everything here is written to stay finite and keep its digits for every input and
every parameter a fit can reach: log-likelihoods with ``gammaln``/``betaln``,
``log1p`` and ``logaddexp`` (and Stirling's series at very large r), P(alive) through
its log-odds, and the expected purchases as :mod:`retention_xl.figures.models.expectation` evaluates
them. The Gamma-Gamma model lives in :mod:`retention_xl.figures.models.spend`; its names are here too.

Where nobody is seen to leave, BG/NBD's best fit is the model in which nobody leaves
(a -> 0 or b -> infinity): :func:`fit_nbd` fits that model and :func:`dropout_detected`
says which of the two the data support.

>>> summary = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
>>> fit = BgNbdFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=float("nan"))
>>> round(float(expected_purchases(fit, summary, 39)[0]), 3)
1.226
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from . import expectation
from .fitting import blas_threads, columns, maximise, weighted_rows
from .spend import (GammaGammaFit, expected_spend, fit_gamma_gamma, gamma_gamma_log_likelihood, has_finite_mean_spend,
                    mean_spend, observed_mean_spend, observed_spend, spend_model_usable)

PERIOD_DAYS = {"W": 7.0, "D": 1.0}
MONTH_DAYS = 365.25 / 12
STIRLING_FROM = 1e5  # r from which log_rising uses Stirling's series
DROPOUT_GAIN = 3.0  # log-likelihood by which BG/NBD must beat the no-drop-out model to show drop-out


def rfm_summary(
    transactions: pd.DataFrame,
    as_of,
    period: str = "W",
    customer_id_col: str = "customer_id",
    datetime_col: str = "date",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """Per customer: ``frequency``, ``recency``, ``T`` and ``monetary_value``, as of the day ``as_of``.

    Purchases on one day are one purchase; returns (negative amounts) reduce the
    day's amount. ``recency`` and ``T`` count days divided by the period's length
    (7 for ``"W"``, 1 for ``"D"``), as Fader and Hardie's published CDNOW summary does.
    Transactions after ``as_of`` are ignored; the day ``as_of`` itself counts.

    >>> raw = pd.DataFrame({"customer_id": ["a", "a", "a", "b"], "amount": [10.0, 5.0, 30.0, 8.0],
    ...                     "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"])})
    >>> rfm_summary(raw, "2024-01-29").round(2).to_dict("index")["a"]
    {'frequency': 1, 'recency': 2.0, 'T': 4.0, 'monetary_value': 30.0}
    """
    if period not in PERIOD_DAYS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_DAYS)}, got {period!r}")
    end = pd.Timestamp(as_of).normalize()
    frame = transactions[[customer_id_col, datetime_col, amount_col]]
    frame = frame[frame[datetime_col] < end + pd.Timedelta(days=1)]
    # A transaction that is not a return (amount >= 0) makes its day a purchase day, even at no charge.
    days = frame.assign(day=frame[datetime_col].dt.normalize(), purchase=frame[amount_col] >= 0)
    daily = days.groupby([customer_id_col, "day"], sort=True).agg(amount=(amount_col, "sum"), bought=("purchase", "any"))
    daily = daily[daily["bought"]].reset_index()
    grouped = daily.groupby(customer_id_col, sort=True)
    first, last = grouped["day"].min(), grouped["day"].max()
    count = grouped.size()
    first_amount = daily.groupby(customer_id_col, sort=True)["amount"].first()
    total = grouped["amount"].sum()
    length = PERIOD_DAYS[period]
    frequency = (count - 1).astype(np.int64)
    repeat_spend = (total - first_amount) / frequency.where(frequency > 0)
    return pd.DataFrame({
        "frequency": frequency,
        "recency": (last - first).dt.days / length,
        "T": (end - first).dt.days / length,
        "monetary_value": repeat_spend.fillna(0.0),
    })


@dataclass
class BgNbdFit:
    """Fitted BG/NBD parameters: purchase rates ~ Gamma(r, alpha), drop-out ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass
class NbdFit:
    """The model in which nobody leaves (BG/NBD at a -> 0): purchase rates ~ Gamma(r, alpha), for ever."""

    r: float
    alpha: float
    log_likelihood: float


def log_rising(r, x) -> np.ndarray:
    """log Gamma(r + x) - log Gamma(r), the log of the rising factorial (r)_x, keeping its digits at any r.

    The difference of two log-gammas loses about log10(r log r) digits; from
    :data:`STIRLING_FROM` on, Stirling's series is subtracted term by term instead.

    >>> float(log_rising(5e10, 3) - 3 * np.log(5e10)) * 1e11  # log(1 + 1/r) + log(1 + 2/r), about 3 / r
    6.0...
    """
    r, x = np.broadcast_arrays(np.asarray(r, dtype=float), np.asarray(x, dtype=float))
    big = np.maximum(r, STIRLING_FROM)
    y = big + x
    stirling = ((big - 0.5) * np.log1p(x / big) + x * np.log(y) - x
                + (1 / y - 1 / big) / 12 - (y ** -3 - big ** -3) / 360 + (y ** -5 - big ** -5) / 1260)
    return np.where(r >= STIRLING_FROM, stirling, special.gammaln(r + x) - special.gammaln(r))


def bgnbd_log_likelihood(r, alpha, a, b, x, t_x, T) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood, written so that no term overflows or cancels.

    r log(alpha) - (r+x) log(alpha+T) is written -r log1p(T/alpha) - x log(alpha+T): at a
    large r the two logarithms are huge and nearly equal, and their difference lost every
    digit after the decimal point.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    common = log_rising(r, x) - special.betaln(a, b)
    still_alive = special.betaln(a, b + x) - x * np.log(alpha + T) - r * np.log1p(T / alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(x > 0, special.betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - x * np.log(alpha + t_x)
                           - r * np.log1p(t_x / alpha), -np.inf)
    return common + np.logaddexp(still_alive, dropped)


def _bgnbd_objective(x, t_x, T, weight):
    """Minus the weighted log-likelihood and its gradient, in log-parameters.

    The special functions depend on x alone, the logarithms on T or t_x alone: each is
    evaluated once per distinct value (a few dozen frequencies, a few hundred days) and
    gathered; the sums over terms that depend on x alone are taken per frequency. That
    keeps an evaluation over hundreds of thousands of triples to a few passes over them.
    """
    xs, x_at = np.unique(x, return_inverse=True)
    Ts, T_at = np.unique(T, return_inverse=True)
    txs, tx_at = np.unique(t_x, return_inverse=True)
    repeat = x > 0
    b_minus = np.where(xs > 0, xs - 1, 0.0)
    weight_of_x = np.bincount(x_at, weights=weight, minlength=len(xs))
    weight_total = weight.sum()

    def objective(log_parameters):
        r, alpha, a, b = np.exp(np.clip(log_parameters, -30, 30))
        # r log(alpha) - (r+x) log(alpha+T) as -r log1p(T/alpha) - x log(alpha+T): see bgnbd_log_likelihood.
        log1p_T, log1p_tx = np.log1p(Ts / alpha)[T_at], np.log1p(txs / alpha)[tx_at]
        still = special.betaln(a, b + xs)[x_at] - x * np.log(alpha + Ts)[T_at] - r * log1p_T
        with np.errstate(divide="ignore", invalid="ignore"):
            dropped = np.where(repeat, special.betaln(a + 1, b + b_minus)[x_at] - x * np.log(alpha + txs)[tx_at]
                               - r * log1p_tx, -np.inf)
        total = np.logaddexp(still, dropped)
        value = np.dot(weight_of_x, log_rising(r, xs)) + np.dot(weight, total) - weight_total * special.betaln(a, b)
        # The weights of the two ways to explain a customer's silence; they add up to each customer's weight.
        alive_weight = weight * np.exp(still - total)
        dropped_weight = weight - alive_weight
        alive_of_x = np.bincount(x_at, weights=alive_weight, minlength=len(xs))
        dropped_of_x = weight_of_x - alive_of_x
        psi_abx = special.digamma(a + b + xs)
        # d/d alpha of r log(alpha) - (r+x) log(alpha+T), times alpha: (r T - x alpha) / (alpha + T).
        gradient = np.array([
            (np.dot(weight_of_x, special.digamma(r + xs) - special.digamma(r))
             - np.dot(alive_weight, log1p_T) - np.dot(dropped_weight, log1p_tx)) * r,
            np.dot(alive_weight, (r * T - x * alpha) / (alpha + T))
            + np.dot(dropped_weight, (r * t_x - x * alpha) / (alpha + t_x)),
            (weight_total * (special.digamma(a + b) - special.digamma(a))
             + np.dot(alive_of_x, special.digamma(a) - psi_abx) + np.dot(dropped_of_x, special.digamma(a + 1) - psi_abx)) * a,
            (weight_total * (special.digamma(a + b) - special.digamma(b))
             + np.dot(alive_of_x, special.digamma(b + xs) - psi_abx)
             + np.dot(dropped_of_x, special.digamma(b + b_minus) - psi_abx)) * b,
        ])
        if not np.isfinite(value) or not np.isfinite(gradient).all():
            return 1e300, np.zeros(4)
        return -value, -gradient

    return objective


def fit_bgnbd(summary: pd.DataFrame, near: BgNbdFit | None = None) -> BgNbdFit:
    """Maximum-likelihood BG/NBD parameters from ``frequency``, ``recency`` and ``T``.

    The likelihood is summed over the distinct (frequency, recency, T) triples with
    their counts as weights, and maximised with its analytic gradient from several
    starts, which keeps a million customers fast. ``near``, a fit of similar data (the
    same customers a few months earlier), is the one start instead.
    """
    (x, t_x, T), weight = weighted_rows(summary, ("frequency", "recency", "T"))
    if len(x) == 0:
        raise ValueError("no customers to fit")
    scale = max(float(np.average(T, weights=weight)), 1e-6)
    starts = [np.log([1.0, scale, 1.0, 1.0]), np.log([0.1, 0.1 * scale, 0.5, 2.0]), np.log([0.5, 1.0, 1.0, 5.0])]
    if near is not None:
        starts = [np.log([near.r, near.alpha, near.a, near.b])]
    with blas_threads():
        best = maximise(_bgnbd_objective(x, t_x, T, weight), starts)
    r, alpha, a, b = np.exp(best.x)
    return BgNbdFit(float(r), float(alpha), float(a), float(b), float(-best.fun))


def _nbd_objective(x, T, weight):
    """Minus the weighted NBD log-likelihood and its gradient, in log-parameters."""
    xs, x_at = np.unique(x, return_inverse=True)
    weight_of_x = np.bincount(x_at, weights=weight, minlength=len(xs))

    def objective(log_parameters):
        r, alpha = np.exp(np.clip(log_parameters, -30, 30))
        log1p_T = np.log1p(T / alpha)
        value = np.dot(weight_of_x, log_rising(r, xs)) - np.dot(weight, x * np.log(alpha + T) + r * log1p_T)
        gradient = np.array([
            (np.dot(weight_of_x, special.digamma(r + xs) - special.digamma(r)) - np.dot(weight, log1p_T)) * r,
            np.dot(weight, (r * T - x * alpha) / (alpha + T)),
        ])
        if not np.isfinite(value) or not np.isfinite(gradient).all():
            return 1e300, np.zeros(2)
        return -value, -gradient

    return objective


def fit_nbd(summary: pd.DataFrame, near: BgNbdFit | NbdFit | None = None) -> NbdFit:
    """Maximum-likelihood parameters of the model in which nobody leaves, from ``frequency`` and ``T``.

    Each customer keeps buying at their own Poisson rate; the likelihood is BG/NBD's with
    no chance to drop out. ``near``, a fit of similar data (BG/NBD of the same data), gives the start.
    """
    (x, T), weight = weighted_rows(summary, ("frequency", "T"))
    scale = max(float(np.average(T, weights=weight)), 1e-6)
    starts = [np.log([near.r, near.alpha])] if near is not None else [np.log([1.0, scale]), np.log([0.1, 0.1 * scale])]
    with blas_threads():
        best = maximise(_nbd_objective(x, T, weight), starts)
    r, alpha = np.exp(best.x)
    return NbdFit(float(r), float(alpha), float(-best.fun))


def dropout_detected(bgnbd: BgNbdFit, nbd: NbdFit) -> bool:
    """Whether the data show customers leaving: BG/NBD's log-likelihood exceeds that of the model in which
    nobody leaves by at least :data:`DROPOUT_GAIN`.

    The two models differ by the drop-out parameters a and b; where no one is seen to
    leave, BG/NBD's best fit runs to a -> 0 or b -> infinity and its likelihood to that of
    the no-drop-out model. A gain of 3 is a likelihood-ratio statistic of 6, the 5%
    critical value for two added parameters (conservative: the no-drop-out model lies on
    the boundary of BG/NBD's parameters).

    >>> dropout_detected(BgNbdFit(0.9, 10.6, 0.34, 309.0, -36740.9), NbdFit(0.9, 10.7, -36742.6))
    False
    """
    return bgnbd.log_likelihood - nbd.log_likelihood >= DROPOUT_GAIN


def _log_odds_dropped(fit: BgNbdFit, x, t_x, T) -> np.ndarray:
    """log of P(dropped out) / P(alive); minus infinity for customers with no repeat purchase."""
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = (np.log(fit.a) - np.log(np.maximum(fit.b + x - 1, 1e-300))
                + (fit.r + x) * np.log1p((T - t_x) / (fit.alpha + t_x)))
    return np.where(x > 0, odds, -np.inf)


def p_alive(fit: BgNbdFit, summary: pd.DataFrame) -> np.ndarray:
    """Probability that each customer is still a customer at the end of their ``T``."""
    x, t_x, T = columns(summary, "frequency", "recency", "T")
    return special.expit(-_log_odds_dropped(fit, x, t_x, T))


def expected_purchases(fit: BgNbdFit | NbdFit, summary: pd.DataFrame, t: float) -> np.ndarray:
    """Expected purchase days in the next ``t`` periods of each customer (Fader, Hardie & Lee, eq. 10):
    P(alive) times the expectation of a customer still alive (:mod:`retention_xl.figures.models.expectation`),
    finite and accurate for every parameter a fit can reach. Of an :class:`NbdFit`: (r + x) / (alpha + T) x t,
    each customer's past rate of buying carried forward."""
    x, t_x, T = columns(summary, "frequency", "recency", "T")
    if isinstance(fit, NbdFit):
        return (fit.r + x) / (fit.alpha + T) * t
    alive = expectation.alive_expectation(fit.r, fit.alpha, fit.a, fit.b, x, T, np.full(x.shape, float(t)))
    return alive * special.expit(-_log_odds_dropped(fit, x, t_x, T))


def customer_lifetime_value(bgnbd: BgNbdFit | NbdFit, gamma_gamma: GammaGammaFit | None, summary: pd.DataFrame,
                            months: int = 12, monthly_discount: float = 0.01, period: str = "W") -> np.ndarray:
    """Discounted expected spend over the next ``months`` months of each customer.

    CLV = sum over months i = 1..months of (E[purchases by the end of month i] -
    E[purchases by the end of month i - 1]) x expected spend per purchase /
    (1 + monthly_discount)^i, with a month of 365.25 / 12 days. Without a spend model
    (``gamma_gamma`` None, or one with no finite mean), the spend is :func:`observed_spend`.
    """
    usable = gamma_gamma is not None and has_finite_mean_spend(gamma_gamma)
    spend = expected_spend(gamma_gamma, summary) if usable else observed_spend(summary)
    month = MONTH_DAYS / PERIOD_DAYS[period]
    # The discounted purchase count depends on (frequency, recency, T) only: computed once per distinct triple.
    names = ["frequency", "recency", "T"]
    grouped = summary[names].groupby(names, sort=False)
    codes = grouped.ngroup().to_numpy()
    triples = grouped.size().reset_index()[names]
    discounted = np.zeros(len(triples))
    before = np.zeros(len(triples))
    for i in range(1, months + 1):
        by_now = expected_purchases(bgnbd, triples, i * month)
        discounted += (by_now - before) / (1 + monthly_discount) ** i
        before = by_now
    return discounted[codes] * spend
