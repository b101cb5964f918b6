"""Paste into xlwings Lite's main.py: the retention functions appear in Excel.

The import is all it takes. The functions carry their own help text (Chinese and
English), which Excel shows in its function wizard. The second line's functions take a
sales list (customer, date, amount) and spill a table; they need the pandas, scipy and
pyarrow lines of requirements.txt.
"""

from retention_xl.udfs import NPS, PARETO_SHARE, REPEAT_TIER, RETENTION, SATISFACTION_INDEX, TXN_GROWTH  # noqa: F401
from retention_xl.udfs import CUSTOMER_BRIDGE, COHORT_TABLE, CUSTOMER_SEGMENTS, CUSTOMER_VALUE, P_ALIVE  # noqa: F401
