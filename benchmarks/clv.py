"""Speed of the customer-value models on 1,000,000 simulated customers, on an idle and on a busy machine.

    python benchmarks/clv.py [--customers 1000000]

Customers are simulated from the BG/NBD and Gamma-Gamma parameters Fader and Hardie
publish for CDNOW (first purchases spread over 12 weeks, a 39-week calibration
period, days as the time unit as real sales data have them), then the models are
fitted (with the no-drop-out model the report checks BG/NBD against), and every
customer's P(alive), expected purchases and 12-month value computed. This is timed
twice: with the machine otherwise idle, and with a process burning CPU on every core
(as when other work shares the machine, where threads that wait for each other cost most).
Printed: seconds per stage and the fitted parameters next to the true ones.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

import numpy as np
import pandas as pd

from retention_xl.figures.models import clv

TRUE_BGNBD = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)
TRUE_GAMMA = dict(p=6.25, q=3.74, v=15.44)


def simulate(customers: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rate = rng.gamma(TRUE_BGNBD["r"], 1 / TRUE_BGNBD["alpha"], customers)    # purchases per week
    drop = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], customers)              # chance to leave after a purchase
    T = 39 - np.floor(rng.uniform(0, 12 * 7, customers)) / 7                  # whole days, in weeks
    time_of_last, x = np.zeros(customers), np.zeros(customers, dtype=np.int64)
    clock = np.zeros(customers)
    active = np.ones(customers, dtype=bool)
    while active.any():
        clock[active] += rng.exponential(1 / np.maximum(rate[active], 1e-12))
        bought = active & (clock <= T)
        x[bought] += 1
        time_of_last[bought] = clock[bought]
        active = bought & (rng.random(customers) >= drop)
    recency = np.floor(time_of_last * 7) / 7
    nu = rng.gamma(TRUE_GAMMA["q"], 1 / TRUE_GAMMA["v"], customers)
    spend = np.where(x > 0, rng.gamma(TRUE_GAMMA["p"] * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), 0.0)
    return pd.DataFrame({"frequency": x, "recency": recency, "T": T, "monetary_value": spend})


def _burn() -> None:
    while True:
        pass


def timed_stages(summary: pd.DataFrame) -> tuple[dict, tuple]:
    """Seconds per stage of fitting and applying the models, and what they gave."""
    stages = {}
    started = time.perf_counter()
    bgnbd = clv.fit_bgnbd(summary)
    stages["BG/NBD fit"] = time.perf_counter() - started
    started = time.perf_counter()
    nbd = clv.fit_nbd(summary, near=bgnbd)
    stages["no-drop-out fit"] = time.perf_counter() - started
    started = time.perf_counter()
    alive = clv.p_alive(bgnbd, summary)
    expected = clv.expected_purchases(bgnbd, summary, 90 / 7)
    stages["P(alive) and expected purchases"] = time.perf_counter() - started
    started = time.perf_counter()
    gamma = clv.fit_gamma_gamma(summary)
    stages["Gamma-Gamma fit"] = time.perf_counter() - started
    started = time.perf_counter()
    value = clv.customer_lifetime_value(bgnbd, gamma, summary, months=12)
    stages["12-month CLV"] = time.perf_counter() - started
    return stages, (bgnbd, nbd, gamma, alive, expected, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    summary = simulate(args.customers)
    idle, (bgnbd, nbd, gamma, alive, expected, value) = timed_stages(summary)
    burners = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(os.cpu_count() or 1)]
    for burner in burners:
        burner.start()
    try:
        busy, _ = timed_stages(summary)
    finally:
        for burner in burners:
            burner.terminate()
    print(f"{args.customers:,} customers, {int((summary['frequency'] > 0).sum()):,} with repeat purchases")
    print("| stage | idle, s | busy, s |\n|---|---:|---:|")
    for stage in idle:
        print(f"| {stage} | {idle[stage]:.2f} | {busy[stage]:.2f} |")
    print(f"| total | {sum(idle.values()):.2f} | {sum(busy.values()):.2f} |")
    print(f"BG/NBD fitted {bgnbd.r:.3f} {bgnbd.alpha:.3f} {bgnbd.a:.3f} {bgnbd.b:.3f}, true {TRUE_BGNBD}; "
          f"drop-out detected: {clv.dropout_detected(bgnbd, nbd)}")
    print(f"Gamma-Gamma fitted {gamma.p:.2f} {gamma.q:.2f} {gamma.v:.2f}, true {TRUE_GAMMA}")
    print(f"mean P(alive) {alive.mean():.3f}, mean expected purchases in 90 days {expected.mean():.3f}, "
          f"mean CLV {value.mean():.2f}")


if __name__ == "__main__":
    main()
