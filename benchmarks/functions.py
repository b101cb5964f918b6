"""Speed of the sales-list worksheet functions through xlwings' Office.js protocol, as Excel calls them.

    python benchmarks/functions.py [--rows 500000] [--repeat 3] [--untidy]

A shop's order lines are simulated (customers buying over two years, ids as numbers and as text, a return
now and then, a blank amount and a text amount here and there) and sent as Excel sends three columns: each
argument a 2-D matrix of cells, dates as serial numbers. Each function is timed from the payload to the cells
Excel receives, conversions included; printed: the best and the median of ``--repeat`` runs, against the
floor of 3 seconds on 500,000 rows. (In Pyodide, ``tests/test_pyodide.py`` times 100,000 rows in Pyodide 0.27.7
with its own builds of pandas, SciPy and pyarrow; its floor is 20 seconds.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

os.environ.setdefault("XLWINGS_ON_SERVER", "true")  # the Office.js custom-functions server, as Lite runs it
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import numpy as np  # noqa: E402
import xlwings as xw  # noqa: E402
from xlwings.server import custom_functions_call  # noqa: E402

from retention_xl import udfs  # noqa: E402

FLOOR_SECONDS = 3.0


def sales_cells(rows: int, untidy: bool = False, seed: int = 11) -> list[list[list]]:
    """``rows`` order lines as three Office.js argument matrices: ids, serial dates, amounts.

    Tidy: member codes as text, amounts as numbers with a blank cell now and then. Untidy: ids as numbers and
    as text in one column, and one amount in a thousand typed as text ("1,250.50"), which sends the whole
    column through the reader's text rules.
    """
    rng = np.random.default_rng(seed)
    customers = max(rows // 20, 1)
    customer = (customers * rng.random(rows) ** 2).astype(int)
    if untidy:
        ids = [[12000.0 + c if c % 3 else f"C{c:06d}"] for c in customer.tolist()]
    else:
        ids = [[f"M{c:06d}"] for c in customer.tolist()]
    dates = (45292 + (customer * 7 + np.arange(rows)) % 730 + rng.random(rows)).tolist()
    amounts = np.round(rng.uniform(-20, 400, rows), 2).tolist()
    odd = "1,250.50" if untidy else ""
    amount_cells = [[a] if i % 997 else ["" if i % 2 else odd] for i, a in enumerate(amounts)]
    return [ids, [[d] for d in dates], amount_cells]


def p_alive_cells(rows: int, seed: int = 12) -> list[list[list]]:
    rng = np.random.default_rng(seed)
    frequency = rng.poisson(2, rows)
    age = rng.uniform(1, 100, rows)
    recency = np.where(frequency > 0, age * rng.random(rows), 0.0)
    return [[[float(v)] for v in column] for column in (frequency, recency, age)] + [
        [[0.243]], [[4.414]], [[0.793]], [[2.426]]]


def payload(function: str, arguments: list) -> dict:
    return {"func_name": function, "args": arguments, "caller_address": "Sheet1!B2", "formula_name": function,
            "version": xw.__version__, "runtime": "1.4", "culture_info_name": "zh-CN", "date_format": "yyyy/m/d",
            "client": "Office.js"}


def timed(function: str, arguments: list, repeat: int) -> tuple[list[float], object]:
    seconds, cells = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        cells = asyncio.run(custom_functions_call(payload(function, arguments), udfs))
        seconds.append(time.perf_counter() - started)
    return seconds, cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--untidy", action="store_true", help="mixed ids and some amounts typed as text")
    options = parser.parse_args()
    sales = sales_cells(options.rows, options.untidy)
    calls = {
        "CUSTOMER_BRIDGE": sales + [None, None],
        "COHORT_TABLE": sales + [None, None],
        "CUSTOMER_SEGMENTS": sales + [None, None, None],
        "CUSTOMER_VALUE": sales + [None, None, None, None],
        "P_ALIVE": p_alive_cells(options.rows),
    }
    asyncio.run(custom_functions_call(payload("CUSTOMER_BRIDGE", [[["a"]], [[45292]], [[1]], None, None]), udfs))
    kind = "untidy" if options.untidy else "tidy"
    print(f"{options.rows:,} rows ({kind}), {options.repeat} runs each, through the Office.js protocol (CPython)")
    print(f"{'function':<18} {'best s':>7} {'median s':>9} {'spilled':>14}  within {FLOOR_SECONDS:g} s")
    for function, arguments in calls.items():
        seconds, cells = timed(function, arguments, options.repeat)
        shape = f"{len(cells)} x {len(cells[0])}" if isinstance(cells, list) else str(cells)
        best, median = min(seconds), statistics.median(seconds)
        print(f"{function:<18} {best:>7.2f} {median:>9.2f} {shape:>14}  {'yes' if median <= FLOOR_SECONDS else 'NO'}")


if __name__ == "__main__":
    main()
