"""Excel worksheet functions: RETENTION, TXN_GROWTH, REPEAT_TIER, PARETO_SHARE, NPS, SATISFACTION_INDEX, and
from a sales list CUSTOMER_BRIDGE, COHORT_TABLE, CUSTOMER_SEGMENTS, CUSTOMER_VALUE, with P_ALIVE beside them.

One module serves every way xlwings brings Python into Excel: the Windows add-in
(list ``retention_xl.udfs`` under *UDF Modules* and click *Import Functions*),
xlwings Lite (``from retention_xl.udfs import *`` in ``main.py``) and xlwings Server.
Each function only translates between Excel values and :mod:`retention_xl.metrics`, or
for the sales-list functions :mod:`retention_xl.sales_functions`, which asks the report's
own code; bad input comes back as an Excel error value, never as a traceback in the cell.

Excel waits for this import, so it stays light: it must not pull in the report
generator, openpyxl or jinja2. The sales-list functions need pandas, NumPy and SciPy,
imported on their first call.

Examples, as typed in a cell::

    =RETENTION(110, 20, 100)            -> 0.9   (format the cell as %)
    =TXN_GROWTH(B2:B13, C2:C13)         -> one growth figure per row (spills)
    =REPEAT_TIER(0.45)                  -> 中复购
    =REPEAT_TIER(D2:D500, , , "en")     -> tier of the per-customer order counts
    =PARETO_SHARE(E2:E500)              -> share of the top 20% of customers
    =PARETO_SHARE(A2:A9000, E2:E9000)   -> same, from (customer, amount) rows
    =NPS(F2:F500)                       -> share of 9-10 minus share of 0-6 answers
    =SATISFACTION_INDEX(G2:G500)        -> mean satisfaction on 1-5 (levels or stars)
    =CUSTOMER_BRIDGE(A2:A9000, B2:B9000, C2:C9000)   -> month, S, L, N, R, E, retention … (spills)
"""

from __future__ import annotations

import importlib.util
import sys

import xlwings as xw

from . import loyalty_scales, metrics
from .excel_values import (
    customer_key,
    NUM,
    VALUE,
    ExcelError,
    as_cells,
    elementwise,
    elementwise_columns,
    excel_result,
    first_error,
    is_error,
    numbers_like_sum,
    to_number,
)
from .i18n import normalize_language, tier_label

SALES_DOCS = {
    "ids": "客户编号列，每行一笔销售 / customer ids, one sale per row",
    "dates": "销售日期列，与客户编号等高 / sale dates, as many rows as the ids",
    "amounts": "金额列，退货为负数 / amounts, returns negative, as many rows as the ids",
    "language": '表头语言："zh-CN"（默认）、"zh-TW" 或 "en" / header language: "zh-CN" (default), "zh-TW" or "en"',
    "as_of": "截止日，默认为数据中最后一天 / as-of day, default the last date in the data",
    "window": "客户基数窗口（月），默认 12，与报表的 --window 相同 / customer-base window in months, default 12, "
              "as the report's --window",
}

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


@xw.func
@xw.arg("scores", doc="推荐意愿：0–10 分，或 很大可能/可能/不可能 / likelihood to recommend: 0–10, or the three "
                      "levels (very likely, likely, unlikely)", **_RANGE)
def NPS(scores):
    """净推荐值：9–10 分（很大可能）占比减去 0–6 分（不可能）占比，返回小数。Net promoter score: share of 9–10 minus share of 0–6, as a fraction."""
    return excel_result(lambda: loyalty_scales.net_promoter_score(
        _answers(scores, loyalty_scales.recommend_level)))


@xw.func
@xw.arg("answers", doc="满意度：非常满意…非常不满意，或 1–5 星 / satisfaction: very satisfied … very dissatisfied, "
                       "or 1–5 stars", **_RANGE)
def SATISFACTION_INDEX(answers):
    """满意度指数：五级满意度（非常满意 5 … 非常不满意 1）或 1–5 星的平均值。Satisfaction index: the mean on 1–5 of levels or stars."""
    return excel_result(lambda: loyalty_scales.satisfaction_index(
        _answers(answers, loyalty_scales.satisfaction_level)))


def _answers(cells: object, level_of) -> list[int]:
    """The levels of a range's answers: a number off the scale is ``#NUM!``; blanks, booleans and text that names
    no level are skipped, as ``SUM`` skips text; an error cell comes back out."""
    values = [value for row in as_cells(cells) for value in row]
    error = first_error([values])
    if error:
        raise ExcelError(error)
    levels = []
    for value in values:
        if value is None or isinstance(value, bool):
            continue
        level = level_of(value)
        if level is None and isinstance(value, (int, float)):
            raise ExcelError(NUM, f"{value!r} is not on the scale")
        if level is not None:
            levels.append(level)
    return levels


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


def _sales_functions():
    """The module behind the sales-list functions, imported on the first call (it brings pandas, NumPy, SciPy)."""
    try:
        from . import sales_functions
    except ImportError as error:
        raise ImportError(f"the sales-list functions need pandas, NumPy, SciPy and pyarrow ({error}): in xlwings Lite "
                          "add the lines pandas, scipy and pyarrow to requirements.txt") from error
    return sales_functions


def _sales(ids, dates, amounts, as_of=None):
    return _sales_functions().sales_from_cells(ids, dates, amounts, as_of)


@xw.func
@xw.arg("ids", doc=SALES_DOCS["ids"], **_RANGE)
@xw.arg("dates", doc=SALES_DOCS["dates"], **_RANGE)
@xw.arg("amounts", doc=SALES_DOCS["amounts"], **_RANGE)
@xw.arg("window", doc=SALES_DOCS["window"], **_RANGE)
@xw.arg("language", doc=SALES_DOCS["language"], **_RANGE)
def CUSTOMER_BRIDGE(ids, dates, amounts, window=12, language="zh-CN"):
    """客户桥：每月的 S、L、N、R、E、保持率与严格保持率（溢出为表）。Customer bridge per month: S, L, N, R, E, retention, strict retention (spills)."""
    return excel_result(lambda: _sales_functions().customer_bridge(
        _sales(ids, dates, amounts), _whole(window), _language(language)))


@xw.func
@xw.arg("ids", doc=SALES_DOCS["ids"], **_RANGE)
@xw.arg("dates", doc=SALES_DOCS["dates"], **_RANGE)
@xw.arg("amounts", doc=SALES_DOCS["amounts"], **_RANGE)
@xw.arg("measure", doc='"customers"（默认，活跃客户数）、"retention"（占比）或 "revenue"（净销售额） / '
                       '"customers" (default), "retention" (share of the cohort) or "revenue"', **_RANGE)
@xw.arg("language", doc=SALES_DOCS["language"], **_RANGE)
def COHORT_TABLE(ids, dates, amounts, measure="customers", language="zh-CN"):
    """同期群表：首购月份 × 首购后第 0、1、2… 月（溢出为表）。Cohort table: first-purchase month x months since (spills)."""

    def compute():
        functions = _sales_functions()
        return functions.cohort_table(_sales(ids, dates, amounts), _choice(measure, functions.MEASURES),
                                      _language(language))

    return excel_result(compute)


@xw.func
@xw.arg("ids", doc=SALES_DOCS["ids"], **_RANGE)
@xw.arg("dates", doc=SALES_DOCS["dates"], **_RANGE)
@xw.arg("amounts", doc=SALES_DOCS["amounts"], **_RANGE)
@xw.arg("as_of", doc=SALES_DOCS["as_of"], **_RANGE)
@xw.arg("language", doc=SALES_DOCS["language"], **_RANGE)
@xw.arg("window", doc=SALES_DOCS["window"], **_RANGE)
def CUSTOMER_SEGMENTS(ids, dates, amounts, as_of=None, language="zh-CN", window=12):
    """每位客户的 R、F、M 评分与 RFM 分群（溢出为表）。Each customer's R, F, M scores and RFM segment (spills)."""

    def compute():
        day, months = _day(as_of), _whole(window)
        return _sales_functions().customer_segments(_sales(ids, dates, amounts, day), day, _language(language),
                                                    months)

    return excel_result(compute)


@xw.func
@xw.arg("ids", doc=SALES_DOCS["ids"], **_RANGE)
@xw.arg("dates", doc=SALES_DOCS["dates"], **_RANGE)
@xw.arg("amounts", doc=SALES_DOCS["amounts"], **_RANGE)
@xw.arg("as_of", doc=SALES_DOCS["as_of"], **_RANGE)
@xw.arg("months", doc="客户终身价值的月数，默认 12 / months of customer value, default 12", **_RANGE)
@xw.arg("monthly_discount", doc="月折现率，默认 1% / monthly discount rate, default 1%", **_RANGE)
@xw.arg("language", doc=SALES_DOCS["language"], **_RANGE)
def CUSTOMER_VALUE(ids, dates, amounts, as_of=None, months=12, monthly_discount=0.01, language="zh-CN"):
    """BG/NBD 存活概率、预计购买天数与客户终身价值（溢出为表）。BG/NBD P(alive), expected purchase days and customer value (spills)."""

    def compute():
        day, horizon, discount = _day(as_of), _whole(months), _scalar(monthly_discount)
        if discount < 0:
            raise ExcelError(NUM, "the monthly discount cannot be negative")
        return _sales_functions().customer_value(_sales(ids, dates, amounts, day), day, horizon, discount,
                                                 _language(language))

    return excel_result(compute)


@xw.func
@xw.arg("frequency", doc="重复购买天数 x / repeat purchase days (frequency)", **_RANGE)
@xw.arg("recency", doc="首购至最近购买的周数 / weeks from first to last purchase (recency)", **_RANGE)
@xw.arg("T", doc="首购至今的周数 / weeks from first purchase to now (T)", **_RANGE)
@xw.arg("r", doc="BG/NBD 参数 r / BG/NBD parameter r", **_RANGE)
@xw.arg("alpha", doc="BG/NBD 参数 alpha / BG/NBD parameter alpha", **_RANGE)
@xw.arg("a", doc="BG/NBD 参数 a / BG/NBD parameter a", **_RANGE)
@xw.arg("b", doc="BG/NBD 参数 b / BG/NBD parameter b", **_RANGE)
def P_ALIVE(frequency, recency, T, r, alpha, a, b):
    """BG/NBD 存活概率，逐行计算（lifetimes 约定）。BG/NBD probability that a customer is alive, row by row (lifetimes' conventions)."""

    try:
        parameters = [_scalar(p) for p in (r, alpha, a, b)]
    except ExcelError as error:
        return error.code
    return elementwise_columns(lambda x, t_x, age: _sales_functions().p_alive(x, t_x, age, *parameters).tolist(),
                               frequency, recency, T)


def _whole(value: object) -> int:
    number = _scalar(value)
    if number < 1 or number != int(number):
        raise ExcelError(NUM, f"{number} is not a whole number of months from 1")
    return int(number)


def _choice(value: object, choices: tuple[str, ...]) -> str:
    cells = as_cells(value)
    text = cells[0][0] if len(cells) * len(cells[0]) == 1 else VALUE
    if is_error(text):
        raise ExcelError(text)
    if text is None:
        return choices[0]
    if str(text).strip().lower() not in choices:
        raise ExcelError(VALUE, f"{text!r} is not one of {', '.join(choices)}")
    return str(text).strip().lower()


def _day(value: object):
    cells = as_cells(value)
    if len(cells) * len(cells[0]) != 1:
        raise ExcelError(VALUE, "expected a single cell")
    day = cells[0][0]
    if is_error(day):
        raise ExcelError(day)
    return None if day is None else _sales_functions().day_of(day)
