"""The report's figures as JSON for scripts (``--json``): strict, with groups keyed by name.

A writer like the sheets beside it, and kept with them for that reason: it shows the finished result
and follows the writers' rules (it reads the figures, never the reader or the customer x month table;
the output file is replaced whole or not at all, through :mod:`retention_xl.outputs`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from .. import outputs
from ..figures.actions import Action, action_title
from ..figures.groups import MISSING


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
    return {key: _json_safe(value.item() if hasattr(value, "item") else value) for key, value in figures.items()}


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


def _json_safe(value):
    """Non-finite floats as null: JSON has no NaN or infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)  # made once: json.dumps makes one a call


def _record(item) -> str:
    """One record on one line; non-finite floats, which are rare, as null."""
    try:
        return _ENCODER.encode(item)
    except ValueError:
        return _ENCODER.encode(_json_safe(item))


def _text(value, depth: int = 0) -> str:
    """Indented JSON (non-finite floats as null), except that a list of flat records has one record to a line.

    A large chain's key accounts run to tens of thousands of records: a line each keeps
    the file readable and lets the C encoder write each one (the indenting encoder is
    pure Python and took seconds).

    >>> print(_text({"month": "2024-03", "key_accounts": [{"customer_id": "a", "clv": 1.5}]}))
    {
      "month": "2024-03",
      "key_accounts": [
        {"customer_id": "a", "clv": 1.5}
      ]
    }
    """
    inner, outer = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict) and value:
        items = (f"{inner}{json.dumps(str(key), ensure_ascii=False)}: {_text(item, depth + 1)}" for key, item in value.items())
        return "{\n" + ",\n".join(items) + f"\n{outer}}}"
    if isinstance(value, (list, tuple)) and value:
        records = all(isinstance(item, dict) and not any(isinstance(field, (dict, list, tuple)) for field in item.values())
                      for item in value)
        lines = (_record(item) if records else _text(item, depth + 1) for item in value)
        return "[\n" + ",\n".join(inner + line for line in lines) + f"\n{outer}]"
    return json.dumps(_json_safe(value), ensure_ascii=False, allow_nan=False)


def write_summary_json(report, path: str | Path) -> None:
    """Write ``report.summary()`` (a :class:`retention_xl.report.RetentionReport`) as strict UTF-8 JSON, atomically."""
    text = _text(report.summary())

    def write(name: str) -> None:
        with open(name, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")

    outputs.write_atomically(Path(path), "JSON summary", write)
