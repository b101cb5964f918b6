"""Excel worksheet functions: RETENTION, TXN_GROWTH, REPEAT_TIER, PARETO_SHARE.

One module serves every way xlwings brings Python into Excel: the Windows add-in
(list ``retention_xl.udfs`` under *UDF Modules* and click *Import Functions*),
xlwings Lite (``from retention_xl.udfs import *`` in ``main.py``) and xlwings Server.
Each function only translates between Excel values and :mod:`retention_xl.metrics`;
bad input comes back as an Excel error value, never as a traceback in the cell.

Excel waits for this import, so it stays light: it must not pull in the report
generator, openpyxl or jinja2.

Examples, as typed in a cell::

    =RETENTION(110, 20, 100)            -> 0.9   (format the cell as %)
    =TXN_GROWTH(B2:B13, C2:C13)         -> one growth figure per row (spills)
    =REPEAT_TIER(0.45)                  -> 中复购
    =REPEAT_TIER(D2:D500, , , "en")     -> tier of the per-customer order counts
    =PARETO_SHARE(E2:E500)              -> share of the top 20% of customers
    =PARETO_SHARE(A2:A9000, E2:E9000)   -> same, from (customer, amount) rows
"""

from __future__ import annotations

import importlib.util
import sys

import xlwings as xw

from . import metrics
from .excel_values import (
    customer_key,
    VALUE,
    ExcelError,
    as_cells,
    elementwise,
    excel_result,
    first_error,
    is_error,
    numbers_like_sum,
    to_number,
)
from .i18n import normalize_language, tier_label

# xlwings checks every incoming cell for Pyodide's JsNull by importing pyodide.ffi;
# outside Pyodide each failed import searches sys.path again, about 75 microseconds a
# cell: over a minute for a 1,000,000-cell column. Recording the package as absent
# (Python's own mechanism for that) makes the check instant and changes nothing else.
if "pyodide" not in sys.modules and importlib.util.find_spec("pyodide") is None:
    sys.modules["pyodide"] = None

# Office.js (xlwings Server, xlwings Lite) hands over the values exactly as Excel sent
# them, error objects included: taking them raw skips a per-cell conversion that costs
# seconds on a column of a million cells. The Windows add-in converts, with errors as
# their text so they are not mistaken for blank cells.
_CLASSIC_ADDIN = sys.platform.startswith("win") and not getattr(xw, "on_server", False)
_RANGE = {"ndim": 2, "err_to_str": True} if _CLASSIC_ADDIN else {"convert": "raw"}


@xw.func
@xw.arg("end_customers", doc="期末客户数 E / customers at period end (E)", **_RANGE)
@xw.arg("new_customers", doc="本期新客户数 N / new customers in the period (N)", **_RANGE)
@xw.arg("start_customers", doc="期初客户数 S / customers at period start (S)", **_RANGE)
def RETENTION(end_customers, new_customers, start_customers):
    """客户保持率 (E−N)/S，返回小数，请设为百分比格式。Customer retention rate (E−N)/S as a fraction; format as %."""
    return elementwise(metrics.retention_rate, end_customers, new_customers, start_customers)


@xw.func
@xw.arg("this_period", doc="本期老客户交易额 / existing customers' amount this period", **_RANGE)
@xw.arg("last_period", doc="上期老客户交易额 / existing customers' amount last period", **_RANGE)
def TXN_GROWTH(this_period, last_period):
    """现有客户交易增长率 (本期−上期)/上期。Existing-customer transaction growth (this−last)/last."""
    return elementwise(metrics.txn_growth, this_period, last_period)


@xw.func
@xw.arg(
    "rate_or_counts",
    doc="单元格：复购率；区域：每位客户的购买次数 / one cell: repeat-purchase rate; range: purchases per customer",
    **_RANGE,
)
@xw.arg("high", doc="高档下限，默认 70% / lower bound of the high tier, default 70%", **_RANGE)
@xw.arg("low", doc="中档下限，默认 30% / lower bound of the medium tier, default 30%", **_RANGE)
@xw.arg("language", doc='"zh-CN"（默认）、"zh-TW" 或 "en" / label language', **_RANGE)
def REPEAT_TIER(rate_or_counts, high=metrics.DEFAULT_HIGH_REPEAT, low=metrics.DEFAULT_LOW_REPEAT, language="zh-CN"):
    """复购率分档：高（≥70%）、中（30%–70%）、低（<30%）。Repeat-purchase tier: high ≥70%, medium 30–70%, low <30%."""

    def compute():
        cells = as_cells(rate_or_counts)
        if len(cells) * len(cells[0]) == 1:
            rate = to_number(cells[0][0])
        else:
            rate = metrics.repeat_rate(numbers_like_sum(cells))
        tier = metrics.repeat_tier(rate, high=_scalar(high), low=_scalar(low))
        return tier_label(tier, _language(language))

    return excel_result(compute)


@xw.func
@xw.arg(
    "amounts_or_ids",
    doc="每位客户的金额；或客户编号（同时给出第二参数时）/ amount per customer, or customer ids when amounts are given",
    **_RANGE,
)
@xw.arg("amounts", doc="可选：与客户编号逐行对应的金额 / optional: amounts, row by row with the customer ids", **_RANGE)
@xw.arg("top_fraction", doc="头部客户比例，默认 20% / top share of customers, default 20%", **_RANGE)
def PARETO_SHARE(amounts_or_ids, amounts=None, top_fraction=metrics.DEFAULT_TOP_FRACTION):
    """二八法则：前 20% 客户贡献的金额占比。80/20 rule: share of the total held by the top 20% of customers."""

    def compute():
        fraction = _scalar(top_fraction)
        if amounts is None:
            return metrics.pareto_share(numbers_like_sum(amounts_or_ids), fraction)
        ids, values = _id_amount_pairs(as_cells(amounts_or_ids), as_cells(amounts))
        return metrics.pareto_share_by_customer(ids, values, fraction)

    return excel_result(compute)


def _scalar(value: object) -> float:
    cells = as_cells(value)
    if len(cells) * len(cells[0]) != 1:
        raise ExcelError(VALUE, "expected a single cell")
    return to_number(cells[0][0])


def _language(value: object) -> str:
    cells = as_cells(value)
    text = cells[0][0] if len(cells) * len(cells[0]) == 1 else None
    if is_error(text):
        raise ExcelError(text)
    try:
        return normalize_language(text if isinstance(text, str) else None if text is None else str(text))
    except ValueError as error:
        raise ExcelError(VALUE, str(error)) from None


def _id_amount_pairs(ids: list[list[object]], amounts: list[list[object]]):
    if (len(ids), len(ids[0])) != (len(amounts), len(amounts[0])):
        raise ExcelError(VALUE, "customer ids and amounts must be ranges of the same shape")
    error = first_error(amounts) or first_error(ids)
    if error:
        raise ExcelError(error)
    keys, values = [], []
    for id_row, amount_row in zip(ids, amounts):
        for customer, amount in zip(id_row, amount_row):
            key = customer_key(customer)
            if key is not None and isinstance(amount, (int, float)) and not isinstance(amount, bool):
                keys.append(key)
                values.append(float(amount))
    return keys, values
