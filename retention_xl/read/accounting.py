"""The account of every row read: used as a purchase or a return, or set aside under a named reason.

``rows_read = purchases + returns + every exclusion`` always holds; the reasons, in the
order the cleaning rules (:mod:`retention_xl.read.cleaning`) apply them, are those of
:mod:`retention_xl.reasons`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..reasons import ADJUSTMENTS, EXCLUSION_REASONS

EXAMPLES_PER_REASON = 5


@dataclass
class Exclusion:
    count: int = 0
    example_rows: list[int] = field(default_factory=list)


@dataclass
class Accounting:
    """What happened to every row that was read."""

    rows_read: int
    purchases: int
    returns: int
    exclusions: dict[str, Exclusion]
    adjustments: dict[str, Exclusion] = field(default_factory=lambda: {key: Exclusion() for key in ADJUSTMENTS})
    as_of: str | None = None  # the day after which dates count as in the future
    # Per group column (store ...): each group's own accounting, keyed by its label (None: no value).
    # Lines the reader could not split into fields belong to no group and are counted only above.
    by_group: dict[str, dict] = field(default_factory=dict, repr=False)

    @property
    def excluded(self) -> int:
        return sum(e.count for e in self.exclusions.values())

    def balances(self) -> bool:
        return self.rows_read == self.purchases + self.returns + self.excluded

    def as_dict(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "as_of": self.as_of,
            "purchases": self.purchases,
            "returns": self.returns,
            "excluded": {k: {"count": e.count, "example_rows": e.example_rows} for k, e in self.exclusions.items()},
            "adjusted": {k: {"count": e.count, "example_rows": e.example_rows} for k, e in self.adjustments.items()},
        }

    def add_malformed(self, lines: list[int], count: int) -> None:
        """Count lines a reader could not split into the header's fields (they are rows read, not used)."""
        self.rows_read += count
        self.exclusions["malformed_line"] = Exclusion(count, lines[:EXAMPLES_PER_REASON])


def account_rows(members: np.ndarray, rows: np.ndarray, amounts: np.ndarray, reason_of: np.ndarray,
             adjusted: dict[str, np.ndarray], as_of: str) -> Accounting:
    """The accounting of the rows at positions ``members`` (all rows, or one group's)."""
    reason = reason_of[members]
    used = reason < 0
    amount = amounts[members]

    def counted(mask: np.ndarray) -> Exclusion:
        return Exclusion(int(mask.sum()), [int(r) for r in rows[members[mask]][:EXAMPLES_PER_REASON]])

    return Accounting(
        rows_read=len(members),
        purchases=int((used & (amount > 0)).sum()),
        returns=int((used & (amount < 0)).sum()),
        exclusions={name: counted(reason == position) for position, name in enumerate(EXCLUSION_REASONS)},
        adjustments={name: counted(mask[members]) for name, mask in adjusted.items()},
        as_of=as_of,
    )


def group_members(labels: pd.Series):
    """(label, row positions) per distinct group label; None is the label of the rows without one."""
    codes, names = pd.factorize(labels, use_na_sentinel=True)
    codes = np.where(codes < 0, len(names), codes)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(names) + 1)
    for code, members in enumerate(np.split(order, np.cumsum(counts)[:-1])):
        if len(members):
            yield (None if code == len(names) else names[code]), members
