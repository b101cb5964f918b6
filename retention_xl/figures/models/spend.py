"""What a customer spends per purchase: the Gamma-Gamma model (Fader, Hardie & Lee 2005, "RFM and CLV").

It is fitted on the repeat customers' mean spend per repeat purchase; where its fit has
no finite mean spend (q <= 1), or a mean spend far above the one observed (:func:`spend_model_usable`),
it is refused and :func:`observed_spend` is the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from .fitting import blas_threads, columns, maximise, weighted_rows

# The most the model's population mean spend may be, in multiples of the observed mean spend per repeat purchase
# day: as q falls towards 1 the mean p v / (q - 1) grows without bound (q = 1.05: 20 p v), and with it the value
# of every customer the model knows little about.
MEAN_SPEND_MULTIPLE = 3


@dataclass
class GammaGammaFit:
    """Fitted Gamma-Gamma parameters of the spend per purchase."""

    p: float
    q: float
    v: float
    log_likelihood: float


def gamma_gamma_log_likelihood(p, q, v, x, m) -> np.ndarray:
    """Each repeat customer's Gamma-Gamma log-likelihood of their mean spend ``m`` over ``x`` purchases."""
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(x * m + v))


def spenders(summary: pd.DataFrame) -> pd.DataFrame:
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
    (x, m), weight = weighted_rows(spenders(summary), ("frequency", "monetary_value"))
    if len(x) == 0:
        raise ValueError("no repeat customers with positive spend to fit")
    mean = float(np.average(m, weights=weight))
    starts = [np.log([1.0, 1.0, mean]), np.log([5.0, 3.0, mean]), np.log([0.5, 2.0, 0.5 * mean])]
    with blas_threads():
        best = maximise(_gamma_gamma_objective(x, m, weight), starts)
    p, q, v = np.exp(best.x)
    return GammaGammaFit(float(p), float(q), float(v), float(-best.fun))


def has_finite_mean_spend(fit: GammaGammaFit) -> bool:
    """Whether the spend model has a mean: its population mean spend p v / (q - 1) is finite only for q > 1.

    >>> has_finite_mean_spend(GammaGammaFit(6.25, 3.74, 15.44, 0.0)), has_finite_mean_spend(GammaGammaFit(2.0, 0.78, 9.0, 0.0))
    (True, False)
    """
    return fit.q > 1


def mean_spend(fit: GammaGammaFit) -> float:
    """The model's population mean spend per purchase, p v / (q - 1); infinite where q <= 1.

    >>> round(mean_spend(GammaGammaFit(6.25, 3.74, 15.44, 0.0)), 2), mean_spend(GammaGammaFit(2.0, 0.78, 9.0, 0.0))
    (35.22, inf)
    """
    return fit.p * fit.v / (fit.q - 1) if has_finite_mean_spend(fit) else float("inf")


def spend_model_usable(fit: GammaGammaFit, observed_mean: float) -> bool:
    """Whether the spend model may value the customers of data whose mean spend per repeat purchase day is
    ``observed_mean`` (:func:`observed_mean_spend`): its mean spend must be finite and at most
    :data:`MEAN_SPEND_MULTIPLE` times the observed one.

    >>> spend_model_usable(GammaGammaFit(6.25, 3.74, 15.44, 0.0), 35.0), spend_model_usable(GammaGammaFit(2.0, 1.05, 9.0, 0.0), 20.0)
    (True, False)
    """
    return mean_spend(fit) <= MEAN_SPEND_MULTIPLE * observed_mean


def expected_spend(fit: GammaGammaFit, summary: pd.DataFrame) -> np.ndarray:
    """Expected spend per purchase of each customer: (p (v + x m)) / (p x + q - 1); the population mean
    p v / (q - 1) for customers without a positive repeat spend. Refused (ValueError) where q <= 1: the
    model then has no finite mean spend, and :func:`observed_spend` is the rule to use."""
    if not has_finite_mean_spend(fit):
        raise ValueError(f"the Gamma-Gamma fit has q = {fit.q:.3g} <= 1: no finite mean spend; use observed_spend")
    x, m = columns(summary, "frequency", "monetary_value")
    usable = (x > 0) & (m > 0)
    x, m = np.where(usable, x, 0.0), np.where(usable, m, 0.0)
    return fit.p * (fit.v + x * m) / (fit.p * x + fit.q - 1)


def observed_spend(summary: pd.DataFrame) -> np.ndarray:
    """The spend per purchase when the spend model is refused: each repeat customer's own mean spend per
    repeat purchase (``monetary_value``) where positive, else the mean over every positive repeat purchase.

    >>> observed_spend(pd.DataFrame({"frequency": [2, 1, 0], "monetary_value": [10.0, 40.0, 0.0]})).tolist()
    [10.0, 40.0, 20.0]
    """
    x, m = columns(summary, "frequency", "monetary_value")
    return np.where((x > 0) & (m > 0), m, observed_mean_spend(summary))


def observed_mean_spend(summary: pd.DataFrame) -> float:
    """The mean spend over every positive repeat purchase day of ``summary`` (0.0 without one).

    >>> observed_mean_spend(pd.DataFrame({"frequency": [2, 1, 0], "monetary_value": [10.0, 40.0, 0.0]}))
    20.0
    """
    x, m = columns(summary, "frequency", "monetary_value")
    usable = (x > 0) & (m > 0)
    return float(np.dot(x[usable], m[usable]) / x[usable].sum()) if usable.any() else 0.0
