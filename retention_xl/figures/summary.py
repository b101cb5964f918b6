"""The report's figures as plain JSON values, for ``--json`` (:meth:`RetentionReport.summary`): groups keyed by
name, the actions' sections with their customers, non-finite floats as null.

The figures shape them; :mod:`retention_xl.workbook.summary_json` only writes the text.
"""

from __future__ import annotations

import math

import pandas as pd

from .actions import Action, action_title
from .groups import MISSING

JSON_GROUPS = {"store": "stores", "salesperson": "salespeople", "channel": "channels", "region": "regions"}


def groups_json(table: pd.DataFrame) -> dict:
    """Figures per group keyed by the group's name; the rows without a group value under the key ``""``."""
    # Row by row through to_dict, not iterrows: iterrows puts a row's values in one Series, which turns the
    # counts into floats beside the money.
    return {"" if name is MISSING else str(name): {k: None if isinstance(v, float) and math.isnan(v) else v
                                                   for k, v in row.items()}
            for name, row in table.to_dict("index").items()}


def _listed_json(listed: pd.DataFrame) -> list[dict]:
    """An action's customers in rank order: id, name, segment, last purchase, days quiet and the ranking value.

    Column at a time: a large chain's sections list tens of thousands of customers.
    """
    names = listed["customer_name"].astype(object)
    columns = {
        "customer_id": listed["customer_id"].astype(str).tolist(),
        "customer_name": names.where(names.notna(), None).tolist(),
        "segment": listed["segment"].astype(str).tolist(),
        "last_purchase": listed["last_purchase"].to_numpy().astype("datetime64[D]").astype(str).tolist(),
        "days_since_last": listed["days_since_last"].astype("int64").tolist(),
        "value": listed["stake"].astype(float).round(2).tolist(),
    }
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def _figures(figures: dict) -> dict:
    """The numbers an action's texts quote, as plain JSON values."""
    return {key: json_safe(value.item() if hasattr(value, "item") else value) for key, value in figures.items()}


def actions_json(actions: list[Action], language: str) -> list[dict]:
    """The Actions sheet's sections in order, for scripts: each action's key, title, figures, how many
    customers it concerns, what ranks them and the customers themselves, the first
    :data:`retention_xl.figures.actions.LISTED_LIMIT` of them (``not_listed`` counts the rest)."""
    sections = []
    for action in actions:
        listed = _listed_json(action.listed) if action.listed is not None else []
        sections.append({
            "key": action.key, "title": action_title(action, language), "warning": action.warning,
            "count": action.total, "ranked_by": action.ranked_by, "figures": _figures(action.figures),
            "customers": listed, "not_listed": action.total - len(listed),
        })
    return sections


def json_safe(value):
    """Non-finite floats as null: JSON has no NaN or infinity.

    >>> json_safe({"a": [1.5, float("nan")]})
    {'a': [1.5, None]}
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value
