"""A chain's figures by store, salesperson, channel or region.

A group's figures are the report's figures computed on that group's transactions
alone: a customer is active at a store if they bought there. The chain's figures are
computed from all rows, never summed from the groups, since a customer may buy at
several stores. Rows without a group value form a group of their own (shown with a
localized label such as "(no store)"), never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from . import month as analysis
from ..table.contract import CustomerMonths, month_number

MISSING = object()  # the key of the rows without a group value, apart from any real name
FIGURES = ("S", "N", "E", "R", "L", "retention", "strict_retention", "revenue", "orders", "repeat_rate",
           "repurchase_rate", "return_rate", "pareto_share")


def _lost_ids(table, month: pd.Period, window: int) -> set:
    m = month_number(month)
    lost = table.active_in(m - window, m - 1) & ~table.active_in(m - window + 1, m)
    return set(table.customers["customer_id"].to_numpy()[lost])


def group_figures(tables: Iterable[tuple[object, CustomerMonths]], month: pd.Period, window: int, detail: dict,
                  chain_buyers: set) -> pd.DataFrame:
    """One row per group: the month's figures on the table of that group's rows alone.

    ``tables`` gives (group value, its customer x month table) pairs, :data:`MISSING` for the
    rows without a value. ``moved`` counts the group's lost customers who bought at another group
    in the month (``chain_buyers``: the ids of every customer who bought in it); ``profit`` is
    there where the tables carry it. Sorted by retention, best first; the index holds the group values.
    """
    rows = []
    for name, table in tables:
        if table.first_data_month is None or table.first_data_month > month_number(month):
            continue  # the group has no sales by the end of the month
        figures = analysis.month_figures(table, month, window, **detail)
        lost = _lost_ids(table, month, window)  # none of them bought here in the month, by definition
        rows.append({"group": name, **{k: getattr(figures, k) for k in FIGURES},
                     **({"profit": figures.profit} if figures.profit is not None else {}),
                     "key_accounts": math.ceil(detail["top_fraction"] * figures.E - 1e-9),
                     "moved": len(lost & chain_buyers)})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    order = frame["retention"].fillna(-np.inf).sort_values(ascending=False, kind="stable").index
    return frame.loc[order].set_index("group")
