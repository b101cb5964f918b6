"""The streamed Customers sheet holds exactly what a plain cell-by-cell openpyxl write would."""

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from retention_xl.workbook import stream
from retention_xl.figures.customers import COLUMNS
from retention_xl.figures.customer_value import VALUE_COLUMNS
from retention_xl.i18n import fill, labels
from retention_xl.read.reader import read_sales
from retention_xl.report import ReportOptions, analyse, write_workbook

SAMPLE = Path(__file__).resolve().parents[1] / "sample_workbooks" / "sales_sample.xlsx"
FORMATS = {"first_purchase": "yyyy-mm-dd", "last_purchase": "yyyy-mm-dd", "orders": "#,##0", "revenue": "#,##0.00",
           "window_orders": "#,##0", "window_revenue": "#,##0.00", "days_since_last": "#,##0", "usual_gap": "#,##0",
           "p_alive": "0.0%", "expected_purchases": "#,##0.00", "clv": "#,##0.00"}
ROUNDED = {"revenue": 2, "window_revenue": 2, "clv": 2, "expected_purchases": 2, "p_alive": 4}


def cell_by_cell(report, path):
    """The straightforward way: one openpyxl cell at a time, each with its number format."""
    words = labels(report.options.language)
    book = openpyxl.Workbook()
    sheet = book.active
    columns = list(COLUMNS) + [k for k in VALUE_COLUMNS if k in report.customers]
    for c, key in enumerate(columns, start=1):
        sheet.cell(row=1, column=c, value=fill(words[f"col.{key}"], horizon=report.options.horizon))
    for r, record in enumerate(report.customers.itertuples(index=False), start=2):
        for c, key in enumerate(columns, start=1):
            value = getattr(record, key)
            if key in ("segment", "status", "action"):
                value = words[f"{key}.{value}"]
            elif key in ("in_base", "key_account"):
                value = words["yes" if value else "no"]
            elif key in ("first_purchase", "last_purchase"):
                value = value.to_pydatetime()
            elif key in ROUNDED:
                value = round(float(value), ROUNDED[key])
            elif isinstance(value, (np.integer, np.bool_)):
                value = int(value)
            elif value is pd.NA or (isinstance(value, float) and np.isnan(value)):  # a one-time buyer's usual gap
                value = None
            cell = sheet.cell(row=r, column=c, value=value)
            if key in ("customer_id", "customer_name") and value is not None:
                cell.data_type = "s"
            if key in FORMATS and value is not None:  # the streamed sheet leaves a blank cell out
                cell.number_format = FORMATS[key]
    book.save(path)
    return sheet.title


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_streamed_customers_equal_a_cell_by_cell_write(tmp_path, language):
    sales = read_sales(SAMPLE)
    report = analyse(sales, ReportOptions(language=language))
    fast, slow = tmp_path / "fast.xlsx", tmp_path / "slow.xlsx"
    write_workbook(report, fast)
    cell_by_cell(report, slow)

    streamed = openpyxl.load_workbook(fast)[labels(language)["sheet.customers"]]
    reference = openpyxl.load_workbook(slow).active
    assert streamed.max_row == reference.max_row == len(report.customers) + 1
    assert streamed.max_column == reference.max_column == len(COLUMNS) + 3  # with the customer-value columns
    for fast_row, slow_row in zip(streamed.iter_rows(), reference.iter_rows()):
        for fast_cell, slow_cell in zip(fast_row, slow_row):
            assert fast_cell.value == slow_cell.value, fast_cell.coordinate
            if fast_cell.row > 1:
                assert fast_cell.number_format == slow_cell.number_format, fast_cell.coordinate
                assert fast_cell.data_type == slow_cell.data_type, fast_cell.coordinate


def template_workbook(path, title="data", before=()):
    book = openpyxl.Workbook()
    for name in before:  # sheets ahead of ours, so its file is not sheet1.xml
        book.create_sheet(name, 0)
    sheet = book["Sheet"]
    sheet.title = title
    sheet["A1"], sheet["B1"], sheet["C1"] = "text", "number", "date"
    sheet["A2"], sheet["B2"], sheet["C2"] = "x", 1, dt.datetime(2024, 1, 1)
    sheet["C2"].number_format = "yyyy-mm-dd"
    book.save(path)


COLUMNS_OF_THREE = [
    stream.Column("A", "text", pd.Series(["<b>&", " padded ", "bell\x07\ufffe", None, "=1+1"], dtype="string")),
    stream.Column("B", "number", pd.Series([1.5, -2.0, 3.0, 4.0, 5.0])),
    stream.Column("C", "date", pd.Series(pd.to_datetime(["2024-01-02"] * 5))),
]


def test_text_is_escaped_and_cleaned(tmp_path):
    source, target = tmp_path / "s.xlsx", tmp_path / "t.xlsx"
    template_workbook(source)
    stream.finish(source, target, {}, stream.Rows("data", COLUMNS_OF_THREE))
    sheet = openpyxl.load_workbook(target).active
    assert [sheet[f"A{r}"].value for r in range(2, 7)] == ["<b>&", " padded ", "bell", None, "=1+1"]
    assert sheet["A6"].data_type == "s"
    assert [sheet[f"B{r}"].value for r in range(2, 4)] == [1.5, -2]
    assert sheet["C2"].value == dt.datetime(2024, 1, 2) and sheet["C2"].number_format == "yyyy-mm-dd"
    assert sheet.max_row == 6


def test_the_sheet_is_found_through_the_workbook_relationships(tmp_path):
    source, target = tmp_path / "s.xlsx", tmp_path / "t.xlsx"
    template_workbook(source, title="客户's", before=("first", "second"))
    stream.finish(source, target, {}, stream.Rows("客户's", COLUMNS_OF_THREE))
    book = openpyxl.load_workbook(target)
    assert book["客户's"]["B3"].value == -2 and book["first"].max_row == 1


def test_a_missing_template_cell_fails_loudly(tmp_path):
    source, target = tmp_path / "s.xlsx", tmp_path / "t.xlsx"
    template_workbook(source)
    extra = COLUMNS_OF_THREE + [stream.Column("D", "number", pd.Series([1.0] * 5))]
    with pytest.raises(stream.StreamError, match="no cell for columns D"):
        stream.finish(source, target, {}, stream.Rows("data", extra))
    with pytest.raises(stream.StreamError, match="no sheet"):
        stream.finish(source, target, {}, stream.Rows("other", COLUMNS_OF_THREE))
