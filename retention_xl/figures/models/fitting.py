"""What the model fits share: sums over distinct rows, a multi-start quasi-Newton search, and BLAS kept to one thread."""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import optimize

SCOUT_ITERATIONS = 8  # steps each start of a fit is followed before only the best goes on


@lru_cache(maxsize=None)
def _thread_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # where threadpoolctl is not installed (a browser), BLAS runs as it is set
        return None
    return ThreadpoolController()


@contextmanager
def blas_threads(limit: int = 1):
    """Limit BLAS to ``limit`` threads inside the block.

    The fits' sums are dot products over a few hundred thousand numbers; OpenBLAS splits
    each over every core, and on a machine busy with other work the threads wait for each
    other: a fit took 10 to 20 times as long as on one thread.
    """
    controller = _thread_controller()
    if controller is None:
        yield
        return
    with controller.limit(limits=limit, user_api="blas"):
        yield

def columns(summary: pd.DataFrame, *names: str) -> list[np.ndarray]:
    return [np.asarray(summary[name], dtype=float) for name in names]


def weighted_rows(summary: pd.DataFrame, names: tuple[str, ...]) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of ``names`` with how often each occurs: the likelihood sums over these."""
    grouped = summary.groupby(list(names), sort=False).size().reset_index(name="weight")
    return [grouped[name].to_numpy(dtype=float) for name in names], grouped["weight"].to_numpy(dtype=float)


def maximise(objective, starts: list[np.ndarray]) -> optimize.OptimizeResult:
    """The best of several starts of a quasi-Newton search on log-parameters with analytic gradients;
    a simplex search takes over from a start where the gradient search finds no finite likelihood.

    Each of several starts is followed for a few steps only, and the best of them to convergence:
    the starts guard against a poor local optimum, and following each to the last digit cost
    most of the time of a fit. (A search that stops because no step improves the last digits
    has converged for this purpose.)
    """
    best = None
    for start in starts:
        found = search(objective, start, SCOUT_ITERATIONS if len(starts) > 1 else None)
        if best is None or found.fun < best.fun:
            best = found
    if best.nit >= SCOUT_ITERATIONS and best.status != 0 and len(starts) > 1:
        best = search(objective, best.x, None)
    return best


def search(objective, start: np.ndarray, iterations: int | None) -> optimize.OptimizeResult:
    """One quasi-Newton search from ``start`` (at most ``iterations`` steps), or a simplex search where it fails."""
    found = optimize.minimize(objective, start, jac=True, method="L-BFGS-B",
                              options={"maxiter": iterations or 500, "ftol": 1e-13, "gtol": 1e-8})
    if not np.isfinite(found.fun) or found.fun >= 1e300:
        simplex = optimize.minimize(lambda p: objective(p)[0], start, method="Nelder-Mead",
                                    options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
        found = simplex if simplex.fun < found.fun or not np.isfinite(found.fun) else found
    return found
