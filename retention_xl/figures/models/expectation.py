"""How many purchase days a BG/NBD customer who is still alive makes in the next ``t`` periods.

Given that the customer is alive, their purchase rate is Gamma(k, alpha + T) with
k = r + x, and their chance to drop out after a purchase is Beta(a, beta) with
beta = b + x (Fader, Hardie & Lee 2005). A customer of rate lambda and drop-out chance
p makes (1 - exp(-lambda p t)) / p purchases on average, so the expectation is

    E_p[ g(p) ],   g(p) = (1 - (1 + p s)^-k) / p,   s = t / (alpha + T),

which equals the textbook (a + b + x - 1) / (a - 1) [1 - (1-z)^k 2F1(k, b+x; a+b+x-1; z)]
with z = t / (alpha + T + t). Two ways to evaluate it cover every parameter a fit can
reach:

* Euler's transformation of the hypergeometric series, whose parameters do not grow
  with x. It is exact and fast while a is moderate, and the only way that stays
  accurate when s is large and a small (g then changes on a scale of 1/s near p = 0,
  where a small a puts much of the weight).
* Gauss-Jacobi quadrature of E_p[g(p)] over the Beta weight, its nodes from the
  three-term recurrence (Golub-Welsch), written so that the recurrence keeps its digits
  for a and b up to 1e13. It takes over where the series would need thousands of terms
  or lose digits to cancellation: a large (the Beta weight narrow, g smooth across
  it), or r so large that the series alternates with huge terms.

>>> round(float(alive_expectation(0.243, 4.414, 0.793, 2.426, 2.0, 38.86, 39.0)), 4)
1.6874
"""

from __future__ import annotations

import numpy as np

SERIES_MAX_A = 10.0       # above this a, the quadrature: the series would need about a z / (1 - z) terms
SERIES_TERMS = 20_000     # the series stops here where z is very near 1 (a customer seen for moments)
SERIES_LOST_DIGITS = 1e8  # a series whose largest term is this much above its sum is redone by quadrature
QUADRATURE_NODES = 40


def _series(step, arrays, total: np.ndarray, carry: np.ndarray, first: int) -> tuple[np.ndarray, np.ndarray]:
    """``total`` plus the terms ``step(n, carry, *arrays) -> (carry, term)`` for n = ``first``, ``first`` + 1, ...
    until each element's term is below 1e-16 of its sum; also the largest term of each sum.

    The elements whose sums have settled leave the arrays as they go, so the few that converge
    slowly (z near 1: customers seen for a short time, over a long horizon) do not keep a
    million others in every pass.
    """
    shape = np.broadcast_shapes(total.shape, *(np.shape(a) for a in arrays))
    arrays = [np.broadcast_to(np.asarray(a, dtype=float), shape).ravel() for a in arrays]
    total = np.broadcast_to(total, shape).astype(float).ravel()
    carry = np.broadcast_to(carry, shape).astype(float).ravel()
    result, largest = total.copy(), np.abs(total)
    where, peak = np.arange(total.size), np.abs(total)
    with np.errstate(over="ignore", invalid="ignore"):
        for n in range(first, first + SERIES_TERMS):
            carry, term = step(n, carry, *arrays)
            total = total + term
            peak = np.fmax(peak, np.abs(term))
            growing = np.abs(term) > 1e-16 * np.maximum(np.abs(total), 1e-300)
            still = np.count_nonzero(growing)
            if not still:
                break
            if still < 0.75 * growing.size:  # gather the growing sums only once a quarter has settled
                result[where[~growing]], largest[where[~growing]] = total[~growing], peak[~growing]
                where, total, carry, peak = where[growing], total[growing], carry[growing], peak[growing]
                arrays = [a[growing] for a in arrays]
    result[where], largest[where] = total, peak
    return result.reshape(shape), largest.reshape(shape)


def _hyp2f1_series(a, b, c, z) -> tuple[np.ndarray, np.ndarray]:
    """Gauss's series 2F1(a, b; c; z) for ``0 <= z < 1``, and its largest term."""
    def step(n, term, a, b, c, z):
        term = term * (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        return term, term

    return _series(step, (a, b, c, z), np.ones(1), np.ones(1), 0)


def _limit_series(A, c, z) -> tuple[np.ndarray, np.ndarray]:
    """Sum over n >= 1 of (A)_n z^n / ((c)_n n), the a -> 1 limit's series, and its largest term."""
    def step(n, ratio, A, c, z):
        ratio = ratio * (A + n - 1) / (c + n - 1) * z
        return ratio, ratio / n

    return _series(step, (A, c, z), np.zeros(1), np.ones(1), 1)


def _by_series(r, alpha, a, b, x, T, t) -> tuple[np.ndarray, np.ndarray]:
    """The expectation by Euler's transformation of the hypergeometric term, and whether it kept its digits.

    2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1-r-x) 2F1(a+b-1-r, a-1; a+b+x-1; z): the
    parameters no longer grow with x, so a customer with thousands of purchases stays finite.
    """
    z = t / (alpha + T + t)
    c = a + b + x - 1
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if abs(a - 1) > 1e-6:
            transformed, largest = _hyp2f1_series(a + b - 1 - r, a - 1, c, z)
            scale = np.power(1 - z, a - 1)
            value = (1 - scale * transformed) * c / (a - 1)
            largest = largest * scale
        else:  # the limit a -> 1 of the same expression
            transformed, largest = _limit_series(b - r, c, z)
            value = c * (-np.log1p(-z) - transformed)
        kept = np.isfinite(value) & (largest <= SERIES_LOST_DIGITS * np.maximum(np.abs(value) / c, 1e-300))
    return value, kept


def beta_nodes(a: float, beta: np.ndarray, nodes: int = QUADRATURE_NODES) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Jacobi nodes and weights on [0, 1] for the weight p^(a-1) (1-p)^(beta-1), one rule per ``beta``.

    The Jacobi recurrence mapped to [0, 1] is written without differences of large
    numbers (the usual form loses every digit of a mean near 0 or 1 when a and beta are
    large); the weights come from the eigenvectors, so no normalising constant is needed.

    >>> p, w = beta_nodes(2.0, np.array([3.0]), 3)
    >>> round(float(np.sum(w * p)), 12), round(float(np.sum(w * p ** 2)), 12)  # Beta(2, 3): mean 2/5, E[p^2] 1/5
    (0.4, 0.2)
    """
    beta = np.atleast_1d(np.asarray(beta, dtype=float))[:, None]
    n = np.arange(nodes, dtype=float)[None, :]
    sigma = a + beta - 2          # alpha_J + beta_J of the Jacobi polynomials on [-1, 1]
    S = 2 * n + sigma
    with np.errstate(divide="ignore", invalid="ignore"):  # the first row's 0 / 0 when sigma = 0 is replaced below
        diagonal = (2 * n * (n + sigma + 1) + sigma * a) / (S * (S + 2))
    diagonal[:, 0] = a / (a + beta[:, 0])  # the mean
    m = n[:, 1:]
    Sm = 2 * m + sigma
    squared = m * (m + beta - 1) * (m + a - 1) * (m + sigma) / (Sm * Sm * (Sm + 1) * (Sm - 1))
    squared[:, 0] = a * beta[:, 0] / ((a + beta[:, 0]) ** 2 * (a + beta[:, 0] + 1))  # the variance
    matrix = np.zeros((beta.shape[0], nodes, nodes))
    index = np.arange(nodes)
    matrix[:, index, index] = diagonal
    off = np.sqrt(np.maximum(squared, 0.0))
    matrix[:, index[1:], index[:-1]] = off
    matrix[:, index[:-1], index[1:]] = off
    points, vectors = np.linalg.eigh(matrix)
    return np.clip(points, 0.0, 1.0), vectors[:, 0, :] ** 2


def _by_quadrature(r, alpha, a, b, x, T, t) -> np.ndarray:
    """E_p[g(p)] by Gauss-Jacobi quadrature, one rule per distinct frequency."""
    frequencies, at = np.unique(x, return_inverse=True)
    points, weights = beta_nodes(a, b + frequencies)
    points, weights = points[at], weights[at]
    k = (r + x)[:, None]
    s = (t / (alpha + T))[:, None]
    p = np.maximum(points, 1e-300)
    g = -np.expm1(-k * np.log1p(p * s)) / p
    return np.sum(weights * g, axis=1)


def alive_expectation(r, alpha, a, b, x, T, t) -> np.ndarray:
    """Expected purchase days in the next ``t`` periods of customers alive now, with ``x`` repeat purchases
    seen over ``T`` periods; finite for every positive r, alpha, a, b."""
    x, T, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, T, t)))
    shape = x.shape
    x, T, t = x.ravel(), T.ravel(), t.ravel()
    result = np.empty(x.shape)
    by_quadrature = np.ones(x.shape, dtype=bool)
    if a <= SERIES_MAX_A:
        result, kept = _by_series(r, alpha, a, b, x, T, t)
        by_quadrature = ~kept
    if by_quadrature.any():
        result[by_quadrature] = _by_quadrature(r, alpha, a, b, x[by_quadrature], T[by_quadrature], t[by_quadrature])
    return result.reshape(shape)
