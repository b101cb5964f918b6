"""Order numbers that several customers share, which the report mentions where they are many.

An order is counted once per customer and order number (see the Definitions sheet): an export whose order
numbers are reused across customers (a sample data set's, or a till's receipt counter that restarts) has more
orders than order numbers. Both engines count the same way; this says how far the two differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NOTED_SHARE = 0.05  # the share of order numbers shared by several customers from which the report says so
NOTED_LEAST = 10


@dataclass(frozen=True)
class SharedOrders:
    """How many of the purchases' order numbers several customers bought under, out of how many."""

    shared: int
    numbers: int

    @property
    def noted(self) -> bool:
        """Whether they are many enough for the report to say how they count.

        >>> SharedOrders(1401, 2770).noted, SharedOrders(3, 20_000).noted
        (True, False)
        """
        return self.shared >= NOTED_LEAST and self.shared >= NOTED_SHARE * self.numbers

    def note(self) -> str:
        """The line on the command line.

        >>> SharedOrders(1401, 2770).note()
        '1,401 of 2,770 order numbers (51%) are shared by several customers: each counts as one order per customer'
        """
        return (f"{self.shared:,} of {self.numbers:,} order numbers ({self.shared / self.numbers:.0%}) are shared by "
                "several customers: each counts as one order per customer")


def in_transactions(transactions: pd.DataFrame) -> SharedOrders:
    """Shared order numbers among the purchase lines of clean ``transactions`` (``customer_id``, ``order_id``,
    ``amount``).

    >>> rows = pd.DataFrame({"customer_id": ["a", "b", "a", "c"], "order_id": ["1", "1", "2", None],
    ...                      "amount": [5.0, 3.0, 2.0, 4.0]})
    >>> in_transactions(rows)
    SharedOrders(shared=1, numbers=2)
    """
    bought = (transactions["amount"].to_numpy(dtype=float) > 0) & transactions["order_id"].notna().to_numpy()
    if not bought.any():
        return SharedOrders(0, 0)
    orders, numbers = pd.factorize(transactions["order_id"][bought], sort=False)
    customers, _ = pd.factorize(transactions["customer_id"][bought], sort=False)
    # An order number is shared where one of its lines names another customer than one of its lines (any
    # one) does: a pass over the lines, where the distinct (order, customer) pairs took a sort of them all.
    one_customer = np.empty(len(numbers), dtype=customers.dtype)
    one_customer[orders] = customers
    other = customers != one_customer[orders]
    shared = np.bincount(orders[other], minlength=len(numbers)) > 0
    return SharedOrders(int(shared.sum()), len(numbers))


def in_scan(connection) -> SharedOrders:
    """The same from a DuckDB scan's ``used`` rows (order keys are hashes of the order numbers)."""
    shared, numbers = connection.execute("""
        SELECT count(*) FILTER (WHERE customers > 1), count(*)
        FROM (SELECT order_key, count(DISTINCT customer_key) AS customers FROM used
              WHERE amount > 0 AND order_key IS NOT NULL GROUP BY order_key)""").fetchone()
    return SharedOrders(int(shared), int(numbers))
