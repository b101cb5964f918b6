"""Random bytes and random cells: the reader and the cleaning rules answer with a sales table or a
``RetentionXLError``, never anything else, and every row read is accounted for."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retention_xl.errors import RetentionXLError
from retention_xl.read.reader import read_sales

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Sixty random files for each reader: seconds, and a new failure found can take minutes to shrink.
pytestmark = pytest.mark.slow

cells = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2100, 1, 1)),
    st.sampled_from(["合计", "1,200", "123,45", "(35)", "¥1,200", "2024-02-30", "0001-01-01", "31/01/2024",
                     "01/31/2024", "NaN", "inf", "=1+1", "\x07", "_x0001_", "17850.0", "1e400"]),
)
rows = st.lists(st.lists(cells, min_size=3, max_size=3), max_size=25)


def read(path: Path) -> None:
    try:
        sales = read_sales(path, as_of="2026-01-01")
    except RetentionXLError:
        return
    assert sales.accounting.balances()
    assert len(sales.transactions) == sales.accounting.purchases + sales.accounting.returns


@FUZZ
@given(content=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".xlsx", ".xls", ".parquet", ".txt"]))
def test_random_bytes(content, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"sales{suffix}"
        path.write_bytes(content)
        read(path)


@FUZZ
@given(body=rows)
def test_random_cells_in_a_workbook(body):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sales.xlsx"
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["客户编号", "订单日期", "金额"])
        for row in body:
            sheet.append([_storable(value) for value in row])
        book.save(path)
        read(path)


@FUZZ
@given(body=rows, delimiter=st.sampled_from([",", ";", "\t"]))
def test_random_cells_in_a_csv_file(body, delimiter):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sales.csv"
        lines = [delimiter.join(["客户编号", "订单日期", "金额"])]
        lines += [delimiter.join("" if v is None else str(v).replace("\n", " ").replace("\r", " ") for v in row)
                  for row in body]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        read(path)


def _storable(value):
    """What openpyxl can put in a cell: no control characters in text."""
    if isinstance(value, str):
        return "".join(ch for ch in value if ch >= " " or ch in "\t\n")
    if isinstance(value, int) and abs(value) > 2**53:
        return float(value)
    return value
