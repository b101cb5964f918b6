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

Everything here is written to stay finite for every input: log-likelihoods with
``gammaln``/``betaln`` and ``logaddexp``, P(alive) through its log-odds, and the
hypergeometric term of the expected purchases through Euler's transformation, whose
parameters stay small however many purchases a customer made.

>>> summary = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
>>> fit = BgNbdFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=float("nan"))
>>> round(float(expected_purchases(fit, summary, 39)[0]), 3)
1.226
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

PERIOD_DAYS = {"W": 7.0, "D": 1.0}
MONTH_DAYS = 365.25 / 12
SCOUT_ITERATIONS = 8  # steps each start of a fit is followed before only the best goes on


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


def _columns(summary: pd.DataFrame, *names: str) -> list[np.ndarray]:
    return [np.asarray(summary[name], dtype=float) for name in names]


@dataclass
class BgNbdFit:
    """Fitted BG/NBD parameters: purchase rates ~ Gamma(r, alpha), drop-out ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass
class GammaGammaFit:
    """Fitted Gamma-Gamma parameters of the spend per purchase."""

    p: float
    q: float
    v: float
    log_likelihood: float


def _weighted_triples(summary: pd.DataFrame, names: tuple[str, ...]) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of ``names`` with how often each occurs: the likelihood sums over these."""
    grouped = summary.groupby(list(names), sort=False).size().reset_index(name="weight")
    return [grouped[name].to_numpy(dtype=float) for name in names], grouped["weight"].to_numpy(dtype=float)


def bgnbd_log_likelihood(r, alpha, a, b, x, t_x, T) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood, written so that no term overflows."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b)
    still_alive = special.betaln(a, b + x) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(x > 0, special.betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
                           -np.inf)
    return common + np.logaddexp(still_alive, dropped)


def _fit(objective, starts: list[np.ndarray]) -> optimize.OptimizeResult:
    """The best of several starts of a quasi-Newton search on log-parameters with analytic gradients;
    a simplex search takes over from a start where the gradient search finds no finite likelihood.

    Each of several starts is followed for a few steps only, and the best of them to convergence:
    the starts guard against a poor local optimum, and following each to the last digit cost
    most of the time of a fit. (A search that stops because no step improves the last digits
    has converged for this purpose.)
    """
    best = None
    for start in starts:
        found = _search(objective, start, SCOUT_ITERATIONS if len(starts) > 1 else None)
        if best is None or found.fun < best.fun:
            best = found
    if best.nit >= SCOUT_ITERATIONS and best.status != 0 and len(starts) > 1:
        best = _search(objective, best.x, None)
    return best


def _search(objective, start: np.ndarray, iterations: int | None) -> optimize.OptimizeResult:
    """One quasi-Newton search from ``start`` (at most ``iterations`` steps), or a simplex search where it fails."""
    found = optimize.minimize(objective, start, jac=True, method="L-BFGS-B",
                              options={"maxiter": iterations or 500, "ftol": 1e-13, "gtol": 1e-8})
    if not np.isfinite(found.fun) or found.fun >= 1e300:
        simplex = optimize.minimize(lambda p: objective(p)[0], start, method="Nelder-Mead",
                                    options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
        found = simplex if simplex.fun < found.fun or not np.isfinite(found.fun) else found
    return found


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
        log_T, log_tx = np.log(alpha + Ts)[T_at], np.log(alpha + txs)[tx_at]
        rx = r + x
        still = special.betaln(a, b + xs)[x_at] - rx * log_T
        with np.errstate(divide="ignore", invalid="ignore"):
            dropped = np.where(repeat, special.betaln(a + 1, b + b_minus)[x_at] - rx * log_tx, -np.inf)
        total = np.logaddexp(still, dropped)
        per_x = special.gammaln(r + xs) - special.gammaln(r)
        value = (np.dot(weight_of_x, per_x) + np.dot(weight, total)
                 + weight_total * (r * np.log(alpha) - special.betaln(a, b)))
        # The weights of the two ways to explain a customer's silence; they add up to each customer's weight.
        alive_weight = weight * np.exp(still - total)
        dropped_weight = weight - alive_weight
        alive_of_x = np.bincount(x_at, weights=alive_weight, minlength=len(xs))
        dropped_of_x = weight_of_x - alive_of_x
        psi_abx = special.digamma(a + b + xs)
        gradient = np.array([
            (np.dot(weight_of_x, special.digamma(r + xs)) + weight_total * (np.log(alpha) - special.digamma(r))
             - np.dot(alive_weight, log_T) - np.dot(dropped_weight, log_tx)) * r,
            (weight_total * r / alpha - np.dot(alive_weight * rx, (1 / (alpha + Ts))[T_at])
             - np.dot(dropped_weight * rx, (1 / (alpha + txs))[tx_at])) * alpha,
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
    (x, t_x, T), weight = _weighted_triples(summary, ("frequency", "recency", "T"))
    if len(x) == 0:
        raise ValueError("no customers to fit")
    scale = max(float(np.average(T, weights=weight)), 1e-6)
    starts = [np.log([1.0, scale, 1.0, 1.0]), np.log([0.1, 0.1 * scale, 0.5, 2.0]), np.log([0.5, 1.0, 1.0, 5.0])]
    if near is not None:
        starts = [np.log([near.r, near.alpha, near.a, near.b])]
    best = _fit(_bgnbd_objective(x, t_x, T, weight), starts)
    r, alpha, a, b = np.exp(best.x)
    return BgNbdFit(float(r), float(alpha), float(a), float(b), float(-best.fun))


def _log_odds_dropped(fit: BgNbdFit, x, t_x, T) -> np.ndarray:
    """log of P(dropped out) / P(alive); minus infinity for customers with no repeat purchase."""
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = (np.log(fit.a) - np.log(np.maximum(fit.b + x - 1, 1e-300))
                + (fit.r + x) * (np.log(fit.alpha + T) - np.log(fit.alpha + t_x)))
    return np.where(x > 0, odds, -np.inf)


def p_alive(fit: BgNbdFit, summary: pd.DataFrame) -> np.ndarray:
    """Probability that each customer is still a customer at the end of their ``T``."""
    x, t_x, T = _columns(summary, "frequency", "recency", "T")
    return special.expit(-_log_odds_dropped(fit, x, t_x, T))


def _series(step, arrays, total: np.ndarray, carry: np.ndarray, first: int, terms: int = 20_000) -> np.ndarray:
    """``total`` plus the terms ``step(n, carry, *arrays) -> (carry, term)`` for n = ``first``, ``first`` + 1, ...
    until each element's term is below 1e-16 of its sum.

    The elements whose sums have settled leave the arrays as they go, so the few that converge
    slowly (z near 1: customers seen for a short time, over a long horizon) do not keep a
    million others in every pass.
    """
    shape = np.broadcast_shapes(total.shape, *(np.shape(a) for a in arrays))
    arrays = [np.broadcast_to(np.asarray(a, dtype=float), shape).ravel() for a in arrays]
    total = np.broadcast_to(total, shape).astype(float).ravel()
    carry = np.broadcast_to(carry, shape).astype(float).ravel()
    result = total.copy()
    where = np.arange(total.size)
    for n in range(first, first + terms):
        carry, term = step(n, carry, *arrays)
        total = total + term
        growing = np.abs(term) > 1e-16 * np.maximum(np.abs(total), 1e-300)
        still = np.count_nonzero(growing)
        if not still:
            break
        if still < 0.75 * growing.size:  # gather the growing sums only once a quarter has settled
            result[where[~growing]] = total[~growing]
            where, total, carry = where[growing], total[growing], carry[growing]
            arrays = [a[growing] for a in arrays]
    result[where] = total
    return result.reshape(shape)


def _hyp2f1_series(a, b, c, z) -> np.ndarray:
    """Gauss's series, for small ``a``, ``b`` and ``0 <= z < 1`` (it converges like ``z**n``)."""
    def step(n, term, a, b, c, z):
        term = term * (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        return term, term

    return _series(step, (a, b, c, z), np.ones(1), np.ones(1), 0)


def expected_purchases(fit: BgNbdFit, summary: pd.DataFrame, t: float) -> np.ndarray:
    """Expected purchase days in the next ``t`` periods of each customer (Fader, Hardie & Lee, eq. 10).

    The hypergeometric term 2F1(r+x, b+x; a+b+x-1; z) is rewritten by Euler's
    transformation as (1-z)^(a-1-r-x) 2F1(a+b-1-r, a-1; a+b+x-1; z): its parameters
    no longer grow with x, so a customer with thousands of purchases stays finite.
    """
    x, t_x, T = _columns(summary, "frequency", "recency", "T")
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = t / (alpha + T + t)
    c = a + b + x - 1
    if abs(a - 1) > 1e-6:
        transformed = _hyp2f1_series(a + b - 1 - r, a - 1, c, z)
        bracket = (1 - np.power(1 - z, a - 1) * transformed) * c / (a - 1)
    else:  # the limit a -> 1 of the same expression
        bracket = c * (-np.log1p(-z) - _limit_series(b - r, c, z))
    return bracket * special.expit(-_log_odds_dropped(fit, x, t_x, T))


def _limit_series(A, c, z) -> np.ndarray:
    """Sum over n >= 1 of (A)_n z^n / ((c)_n n), the a -> 1 limit's series."""
    def step(n, ratio, A, c, z):
        ratio = ratio * (A + n - 1) / (c + n - 1) * z
        return ratio, ratio / n

    return _series(step, (A, c, z), np.zeros(1), np.ones(1), 1)


def gamma_gamma_log_likelihood(p, q, v, x, m) -> np.ndarray:
    """Each repeat customer's Gamma-Gamma log-likelihood of their mean spend ``m`` over ``x`` purchases."""
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(x * m + v))


def _spenders(summary: pd.DataFrame) -> pd.DataFrame:
    """Repeat customers whose net spend per repeat purchase is positive: the ones Gamma-Gamma models."""
    return summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]


def _gamma_gamma_objective(x, m, weight):
    """Minus the weighted log-likelihood and its gradient; special functions once per distinct frequency,
    and every sum that does not involve the scale ``v`` taken once, before the search."""
    xs, x_at = np.unique(x, return_inverse=True)
    weight_of_x = np.bincount(x_at, weights=weight, minlength=len(xs))
    weight_total = weight.sum()
    purchases_weight = weight * x
    spend = x * m
    fixed_by_p = np.dot(purchases_weight, np.log(m) + np.log(x))
    fixed = np.dot(weight, np.log(m))

    def objective(log_parameters):
        p, q, v = np.exp(np.clip(log_parameters, -30, 30))
        log_xmv = np.log(spend + v)
        by_p, by_q = np.dot(purchases_weight, log_xmv), np.dot(weight, log_xmv)
        gamma_px, psi_px = special.gammaln(p * xs), special.digamma(p * xs)
        psi = special.digamma(p * xs + q)
        value = (np.dot(weight_of_x, special.gammaln(p * xs + q) - gamma_px) + p * (fixed_by_p - by_p) - q * by_q
                 - fixed + weight_total * (q * np.log(v) - special.gammaln(q)))
        inverse = 1 / (spend + v)
        gradient = np.array([
            (np.dot(weight_of_x * xs, psi - psi_px) + fixed_by_p - by_p) * p,
            (np.dot(weight_of_x, psi) + weight_total * (np.log(v) - special.digamma(q)) - by_q) * q,
            (weight_total * q / v - p * np.dot(purchases_weight, inverse) - q * np.dot(weight, inverse)) * v,
        ])
        if not np.isfinite(value) or not np.isfinite(gradient).all():
            return 1e300, np.zeros(3)
        return -value, -gradient

    return objective


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters from the repeat customers' ``frequency`` and ``monetary_value``."""
    (x, m), weight = _weighted_triples(_spenders(summary), ("frequency", "monetary_value"))
    if len(x) == 0:
        raise ValueError("no repeat customers with positive spend to fit")
    mean = float(np.average(m, weights=weight))
    starts = [np.log([1.0, 1.0, mean]), np.log([5.0, 3.0, mean]), np.log([0.5, 2.0, 0.5 * mean])]
    best = _fit(_gamma_gamma_objective(x, m, weight), starts)
    p, q, v = np.exp(best.x)
    return GammaGammaFit(float(p), float(q), float(v), float(-best.fun))


def expected_spend(fit: GammaGammaFit, summary: pd.DataFrame) -> np.ndarray:
    """Expected spend per purchase of each customer: (p (v + x m)) / (p x + q - 1); the population mean
    p v / (q - 1) for customers without a positive repeat spend."""
    x, m = _columns(summary, "frequency", "monetary_value")
    usable = (x > 0) & (m > 0)
    x, m = np.where(usable, x, 0.0), np.where(usable, m, 0.0)
    return fit.p * (fit.v + x * m) / (fit.p * x + fit.q - 1)


def customer_lifetime_value(bgnbd: BgNbdFit, gamma_gamma: GammaGammaFit, summary: pd.DataFrame, months: int = 12,
                            monthly_discount: float = 0.01, period: str = "W") -> np.ndarray:
    """Discounted expected spend over the next ``months`` months of each customer.

    CLV = sum over months i = 1..months of (E[purchases by the end of month i] -
    E[purchases by the end of month i - 1]) x expected spend per purchase /
    (1 + monthly_discount)^i, with a month of 365.25 / 12 days.
    """
    spend = expected_spend(gamma_gamma, summary)
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
