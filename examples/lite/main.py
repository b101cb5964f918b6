"""Paste into xlwings Lite's main.py: the four retention functions appear in Excel.

The import is all it takes. The functions carry their own help text (Chinese and
English), which Excel shows in its function wizard.
"""

from retention_xl.udfs import PARETO_SHARE, REPEAT_TIER, RETENTION, TXN_GROWTH  # noqa: F401
