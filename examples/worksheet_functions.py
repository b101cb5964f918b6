"""The metrics behind the worksheet functions, called from Python.

    python examples/worksheet_functions.py
"""

from retention_xl import metrics

print("retention (E=110, N=20, S=100):", metrics.retention_rate(110, 20, 100))
print("transaction growth (12,000 vs 10,000):", metrics.txn_growth(12_000, 10_000))
rate = metrics.repeat_rate([1, 3, 2, 1, 5, 1])
print("repeat rate:", rate, "tier:", metrics.repeat_tier(rate))
print("top 20% share:", metrics.pareto_share([52_300, 18_450, 12_900, 9_870, 8_120, 6_400, 5_980, 4_410, 3_960, 3_200]))
print("by customer:", metrics.pareto_share_by_customer(["a", "b", "a", "c"], [30, 20, 20, 10], top_fraction=1 / 3))
