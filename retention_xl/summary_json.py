"""The report's figures as JSON for scripts (``--json``): strict, with groups keyed by name."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from . import outputs
from .groups import MISSING


JSON_GROUPS = {"store": "stores", "salesperson": "salespeople", "channel": "channels", "region": "regions"}


def groups_json(table: pd.DataFrame) -> dict:
    """Figures per group keyed by the group's name; the rows without a group value under the key ``""``."""
    result = {}
    for name, row in table.iterrows():
        figures = {k: (None if isinstance(v, float) and math.isnan(v) else v.item() if hasattr(v, "item") else v)
                   for k, v in row.items()}
        result["" if name is MISSING else str(name)] = figures
    return result


def _json_safe(value):
    """Non-finite floats as null: JSON has no NaN or infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def write_summary_json(report, path: str | Path) -> None:
    """Write ``report.summary()`` (a :class:`retention_xl.report.RetentionReport`) as strict UTF-8 JSON, atomically."""
    figures = _json_safe(report.summary())

    def write(name: str) -> None:
        with open(name, "w", encoding="utf-8") as stream:
            json.dump(figures, stream, ensure_ascii=False, indent=2, allow_nan=False)

    outputs.write_atomically(Path(path), "JSON summary", write)
