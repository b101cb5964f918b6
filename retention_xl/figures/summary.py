"""The report's figures as plain JSON values, for ``--json`` (:meth:`RetentionReport.summary`): groups keyed by
name, the actions' sections with their customers, non-finite floats as null.

The figures shape them; :mod:`retention_xl.workbook.summary_json` only writes the text.
"""

from __future__ import annotations

import math

import pandas as pd

from ..roles import LOYALTY_ROLES, RECOMMEND
from .actions import Action, action_title
from .groups import MISSING
from .loyalty import NO_ANSWER, RECOMMEND_KEYS, Loyalty

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


def loyalty_json(loyalty: Loyalty) -> dict:
    """``--json``'s ``loyalty``: the month's figures, the month before, retention by answer, each store's
    (the sales without a store under ``""``), the trend, the answer columns read and a survey file's account."""
    answers = loyalty.answers
    return {
        **loyalty.current.as_dict(),
        "answer_window": [f"{day:%Y-%m-%d}" for day in loyalty.answer_window],
        "previous_month": loyalty.previous.as_dict() if loyalty.previous else None,
        "retention_by_answer": _by_answer_json(loyalty.by_answer),
        "stores": None if loyalty.by_store is None else {
            "" if store is MISSING else str(store): _by_answer_json(part.droplevel(0))
            for store, part in loyalty.by_store.groupby(level=0, sort=False)},
        "trend": [month.as_dict() for month in loyalty.trend],
        "columns": answers.columns,
        **({"survey": answers.survey.as_dict()} if answers.survey is not None else {}),
    }


def _by_answer_json(table: pd.DataFrame) -> dict:
    """Per question, per level (``none``: no answer): S, L and the strict retention (null where S is 0)."""
    result = {}
    for question in LOYALTY_ROLES:
        rows = table.loc[question] if question in table.index.get_level_values(0) else table.iloc[0:0]
        result[question] = {_level_key(question, level): {"S": int(line.S), "L": int(line.L),
                                                           "strict_retention": (line.S - line.L) / line.S if line.S else None}
                            for level, line in rows.iterrows()}
    return result


def _level_key(question: str, level) -> str:
    """A level's key in the JSON: 1-5 for satisfaction, promoter/passive/detractor for recommendation.

    >>> _level_key("recommend", 2.0), _level_key("satisfaction", 4), _level_key("satisfaction", NO_ANSWER)
    ('promoter', '4', 'none')
    """
    if level == NO_ANSWER:
        return NO_ANSWER
    return RECOMMEND_KEYS[int(level)] if question == RECOMMEND else str(int(level))


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
