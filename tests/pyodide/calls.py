"""The worksheet functions called as Excel calls them through xlwings, in CPython or in Pyodide.

Run as ``python calls.py OUT.json``, or imported and awaited as ``run(path)`` inside
Pyodide. Every payload is shaped as Office.js sends it (each argument a 2-D matrix,
blank cells ``""``, error cells as objects, omitted arguments ``None``); the cells
each call returns are written to OUT.json for comparison between the two runtimes.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time

os.environ["XLWINGS_ON_SERVER"] = "true"  # what xlwings Lite's runtime sets before importing xlwings
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

NA = {"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}
MAIN_PY = ("from retention_xl.udfs import RETENTION, TXN_GROWTH, REPEAT_TIER, PARETO_SHARE, NPS, SATISFACTION_INDEX"
           "  # noqa: F401\n"
           "from retention_xl.udfs import CUSTOMER_BRIDGE, COHORT_TABLE, CUSTOMER_SEGMENTS, CUSTOMER_VALUE, P_ALIVE"
           "  # noqa: F401\n")
SALES_PACKAGES = ("numpy", "pandas", "scipy", "pyarrow")  # what the sales-list functions import on their first call
SPEED_ROWS = 100_000

CASES = {
    "retention": ("RETENTION", [[[110]], [[20]], [[100]]]),
    "retention spill with a blank": ("RETENTION", [[[110], [120], [""]], [[20], [10], [5]], [[100]]]),
    "retention S = 0": ("RETENTION", [[[110]], [[20]], [[0]]]),
    "retention error cell": ("RETENTION", [[[NA]], [[20]], [[100]]]),
    "retention numeric text": ("RETENTION", [[["1,100"]], [[" 200 "]], [["1000"]]]),
    "retention N > E": ("RETENTION", [[[10]], [[20]], [[100]]]),
    "growth": ("TXN_GROWTH", [[[12000]], [[10000]]]),
    "growth spill": ("TXN_GROWTH", [[[12000], [5000], [-1000]], [[10000], [0], [4000]]]),
    "growth shapes differ": ("TXN_GROWTH", [[[1], [2]], [[1], [2], [3]]]),
    "growth boolean": ("TXN_GROWTH", [[[True]], [[1]]]),
    "tier of a rate": ("REPEAT_TIER", [[[0.45]], None, None, None]),
    "tier of counts in English": ("REPEAT_TIER", [[[1], [2], [5], [1]], None, None, [["en"]]]),
    "tier in traditional Chinese": ("REPEAT_TIER", [[[0.2]], None, None, [["zh-TW"]]]),
    "tier with thresholds": ("REPEAT_TIER", [[[0.75]], [[0.8]], [[0.5]], [["en"]]]),
    "tier out of range": ("REPEAT_TIER", [[[1.5]], None, None, None]),
    "tier unknown language": ("REPEAT_TIER", [[[0.5]], None, None, [["fr"]]]),
    "pareto": ("PARETO_SHARE", [[[50], [20], [10], [10], [10]], None, None]),
    "pareto by customer": ("PARETO_SHARE", [[["a"], ["b"], ["a"], ["c"], ["d"]], [[30], [20], [20], [10], [20]], [[0.25]]]),
    "pareto ids as floats": ("PARETO_SHARE", [[[17850.0], ["17850"], [12346]], [[10], [30], [60]], None]),
    "pareto error cell": ("PARETO_SHARE", [[[50], [NA]], None, None]),
    "pareto zero total": ("PARETO_SHARE", [[[0], [0]], None, None]),
    "pareto negative": ("PARETO_SHARE", [[[5], [-1]], None, None]),
    "nps of scores": ("NPS", [[[10], [9], [8], [3], [""], ["x"]]]),
    "nps of levels": ("NPS", [[["很大可能"], ["不可能"], ["Likely"]]]),
    "nps no answer": ("NPS", [[[""]]]),
    "nps off the scale": ("NPS", [[[11]]]),
    "satisfaction of levels and stars": ("SATISFACTION_INDEX", [[["非常满意"], [4], ["★★★☆☆"], ["不滿意"], [True]]]),
    "satisfaction error cell": ("SATISFACTION_INDEX", [[[5], [NA]]]),
    "satisfaction off the scale": ("SATISFACTION_INDEX", [[[0]]]),
}


def sales_list(rows: int, customers: int, seed: int = 7) -> list:
    """A shop's order lines as Office.js sends three columns: ids (numbers and text), serial dates, amounts
    (a return now and then, a blank cell, a text amount): made with the standard library only."""
    draw = random.Random(seed)
    ids, dates, amounts = [], [], []
    for row in range(rows):
        customer = int(customers * draw.random() ** 2)
        ids.append([12000.0 + customer if customer % 3 else f"C{customer:05d}"])
        dates.append([45292 + (customer * 7 + row) % 730 + draw.random()])
        amounts.append([round(draw.uniform(-20, 400), 2) if row % 41 else ("" if row % 2 else "1,250.50")])
    return [ids, dates, amounts]


def sales_cases() -> dict:
    ids, dates, amounts = sales_list(6_000, 900)
    return {
        "bridge": ("CUSTOMER_BRIDGE", [ids, dates, amounts, None, None]),
        "bridge 3 months in English": ("CUSTOMER_BRIDGE", [ids, dates, amounts, [[3]], [["en"]]]),
        "cohorts": ("COHORT_TABLE", [ids, dates, amounts, None, [["zh-TW"]]]),
        "cohort retention": ("COHORT_TABLE", [ids, dates, amounts, [["retention"]], None]),
        "segments": ("CUSTOMER_SEGMENTS", [ids, dates, amounts, None, [["en"]]]),
        "segments as of a day": ("CUSTOMER_SEGMENTS", [ids, dates, amounts, [[45600]], None]),
        "segments over 6 months": ("CUSTOMER_SEGMENTS", [ids, dates, amounts, None, [["en"]], [[6]]]),
        "value": ("CUSTOMER_VALUE", [ids, dates, amounts, None, None, None, [["en"]]]),
        "p alive": ("P_ALIVE", [[[0], [2], [5], [-1]], [[0], [30.43], [10], [0]], [[38.86]], [[0.243]], [[4.414]],
                                [[0.793]], [[2.426]]]),
        "heights differ": ("CUSTOMER_BRIDGE", [ids, dates[:10], amounts, None, None]),
        "no purchase": ("CUSTOMER_SEGMENTS", [[["a"]], [[45292]], [[-5]], None, None]),
    }


def rounded(cells):
    """Cells with floats to 9 significant digits: the two runtimes' maths libraries may differ in the last bits."""
    if isinstance(cells, list):
        return [rounded(c) for c in cells]
    return float(f"{cells:.9g}") if isinstance(cells, float) else cells


def payload(function: str, arguments: list) -> dict:
    return {
        "func_name": function, "args": arguments, "caller_address": "Sheet1!B2", "formula_name": function,
        "version": "", "runtime": "1.4", "culture_info_name": "zh-CN", "date_format": "yyyy/m/d", "client": "Office.js",
    }


async def run(out_path: str) -> dict:
    started = time.perf_counter()
    import xlwings
    from xlwings.server import custom_functions_call, custom_functions_meta

    main = type(sys)("main")  # the user's main.py, as Lite loads it
    exec(MAIN_PY, main.__dict__)
    sys.modules["main"] = main
    meta = custom_functions_meta(main)
    result = {
        "platform": sys.platform,
        "functions": sorted(f["name"] for f in meta["functions"]),
        "help": {f["name"]: f.get("description", "") for f in meta["functions"]},
        "cells": {},
        # pandas is left out: xlwings itself imports it where it is installed (for the sales-list functions).
        "report_modules_loaded": sorted(m for m in sys.modules if m.split(".")[0] in (
            "openpyxl", "fastexcel", "jinja2", "lxml") or m in (
            "retention_xl.report", "retention_xl.workbook", "retention_xl.read.reader",
            "retention_xl.sales_functions")),
    }
    for name, (function, arguments) in CASES.items():
        call = payload(function, arguments)
        call["version"] = xlwings.__version__
        result["cells"][name] = await custom_functions_call(call, main)
    column = [[i % 97 + 1] for i in range(10_000)]
    spill = await custom_functions_call(payload("RETENTION", [[[c[0] + 10] for c in column], column, [[50]]]), main)
    result["spill_rows"] = len(spill)
    result["spill_sample"] = [spill[0], spill[4999], spill[9999]]
    await _sales_functions(main, result, custom_functions_call, xlwings.__version__)
    result["seconds"] = round(time.perf_counter() - started, 3)
    with open(out_path, "w", encoding="utf-8") as stream:
        json.dump(result, stream, ensure_ascii=False, indent=1)
    return result



async def _sales_functions(main, result: dict, custom_functions_call, version: str) -> None:
    """The sales-list functions where their packages are installed (their cells, and the seconds each takes on
    a list of SPEED_ROWS rows); where they are not, what a call answers."""
    result["sales_packages"] = [name for name in SALES_PACKAGES if _importable(name)]
    call = payload("CUSTOMER_BRIDGE", sales_list(10, 5))
    call["version"] = version
    if len(result["sales_packages"]) < len(SALES_PACKAGES):
        try:
            result["without_packages"] = await custom_functions_call(call, main)
        except ImportError as error:
            result["without_packages"] = str(error)
        return
    result["sales_cells"] = {}
    for name, (function, arguments) in sales_cases().items():
        call = payload(function, arguments)
        call["version"] = version
        result["sales_cells"][name] = rounded(await custom_functions_call(call, main))
    big = sales_list(SPEED_ROWS, SPEED_ROWS // 20)
    result["sales_seconds"] = {}
    for function, extra in (("CUSTOMER_BRIDGE", 2), ("COHORT_TABLE", 2), ("CUSTOMER_SEGMENTS", 3),
                            ("CUSTOMER_VALUE", 4)):
        call = payload(function, big + [None] * extra)
        call["version"] = version
        started = time.perf_counter()
        await custom_functions_call(call, main)
        result["sales_seconds"][function] = round(time.perf_counter() - started, 3)


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1]))
