"""The report's figures as JSON for scripts (``--json``): strict, a list of flat records one to a line.

A writer like the sheets beside it, and kept with them for that reason: it shows the finished result
and follows the writers' rules (it reads the figures, never the reader or the customer x month table;
the output file is replaced whole or not at all, through :mod:`retention_xl.outputs`).
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import outputs
from ..figures.summary import json_safe

_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)  # made once: json.dumps makes one a call


def _record(item) -> str:
    """One record on one line; non-finite floats, which are rare, as null."""
    try:
        return _ENCODER.encode(item)
    except ValueError:
        return _ENCODER.encode(json_safe(item))


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
    return json.dumps(json_safe(value), ensure_ascii=False, allow_nan=False)


def write_summary_json(report, path: str | Path) -> None:
    """Write ``report.summary()`` (a :class:`retention_xl.report.RetentionReport`) as strict UTF-8 JSON, atomically."""
    text = _text(report.summary())

    def write(name: str) -> None:
        with open(name, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")

    outputs.write_atomically(Path(path), "JSON summary", write)
