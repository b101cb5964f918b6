"""The sales-list functions through xlwings' Office.js protocol: bad input, and the report's own figures.

The report and the functions read the same three columns (customer, date, amount; with no order column, orders
are purchase days in both). The report is computed from a file of them, the functions from the cells, and every
figure must be the same: bridge = Summary trend, cohorts = Cohorts sheet, segments and value = Customers sheet.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.data import real_data_slow

from excel_protocol import call, call_scalar, error, returned_error
from retention_xl.i18n import labels
from retention_xl.sales_functions import DEFAULT_WINDOW
from retention_xl.report import ReportOptions, analyse
from retention_xl.read.reader import read_sales

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_workbooks" / "sales_sample.xlsx"
REAL_DATA = REPO.parent / "shared" / "data" / "online_retail_II_2009-2010.parquet"
VALUE, NUM, NA = (returned_error(code) for code in ("#VALUE!", "#NUM!", "#N/A"))
EPOCH = pd.Timestamp("1899-12-30")

IDS = ["a", "b", "a", "c", "b", "a"]
DATES = [45292, 45300, 45330, 45340, 45380, 45400]  # 2024-01-01 … 2024-04-19
AMOUNTS = [10, 20, 5, -3, 7, 9]


def serial(cell) -> float:
    """The number a date cell holds, as the protocol returns it."""
    return cell["basicValue"] if isinstance(cell, dict) else cell


def blank_to_none(cell):
    return None if cell == "" else cell


class TestBadInput:
    @pytest.mark.parametrize("name, extra", [("CUSTOMER_BRIDGE", [None, None]), ("COHORT_TABLE", [None, None]),
                                             ("CUSTOMER_SEGMENTS", [None, None]),
                                             ("CUSTOMER_VALUE", [None, None, None, None])])
    def test_ranges_of_different_heights(self, name, extra):
        assert call_scalar(name, IDS, DATES[:4], AMOUNTS, *extra) == VALUE

    @pytest.mark.parametrize("name", ["CUSTOMER_BRIDGE", "COHORT_TABLE", "CUSTOMER_SEGMENTS"])
    def test_no_purchase_at_all(self, name):
        assert call_scalar(name, ["a", "b"], [45292, 45300], [-5, 0], None, None) == NA
        assert call_scalar(name, ["a", ""], ["soon", 45300], [5, 3], None, None) == NA

    def test_unreadable_rows_are_skipped_as_the_report_skips_them(self):
        clean = call("CUSTOMER_BRIDGE", IDS, DATES, AMOUNTS, 1, "en")
        noisy = call("CUSTOMER_BRIDGE", IDS + ["d", "", "e", "f", "合计"],
                     DATES + ["someday", 45301, 45302, error("#N/A"), 45303],
                     AMOUNTS + [4, 4, "n/a", 6, 100], 1, "en")
        assert noisy == clean

    def test_numbers_as_text_and_ids_as_numbers(self):
        as_text = call("CUSTOMER_SEGMENTS", [17850.0, "17850", 12346], ["2024-01-01", 45300, 45310],
                       ["1,000", 20, 5], None, "en")
        assert [row[0] for row in as_text[1:]] == ["17850", "12346"]
        assert as_text[1][2:4] == [2, 1020.0]

    def test_true_is_not_the_number_one(self):
        """A TRUE amount is no amount, as in a sales file, even beside an amount of 1 (which equals TRUE in Python)."""
        table = call("CUSTOMER_SEGMENTS", ["a", "b", "c"], [45292, 45300, 45310], [True, 1, "1"], None, "en")
        assert [row[:4] for row in table[1:]] == [["b", 10, 1, 1.0], ["c", 0, 1, 1.0]]

    @pytest.mark.parametrize("window", [0, 1.5, -3, "x"])
    def test_bad_window(self, window):
        assert call_scalar("CUSTOMER_BRIDGE", IDS, DATES, AMOUNTS, window, None) in (NUM, VALUE)
        assert call_scalar("CUSTOMER_SEGMENTS", IDS, DATES, AMOUNTS, None, None, window) in (NUM, VALUE)
        assert call_scalar("CUSTOMER_SEGMENTS", IDS, DATES, AMOUNTS, None, None, error("#REF!")) == \
            returned_error("#REF!")

    def test_bad_measure_and_language(self):
        assert call_scalar("COHORT_TABLE", IDS, DATES, AMOUNTS, "profit", None) == VALUE
        assert call_scalar("COHORT_TABLE", IDS, DATES, AMOUNTS, None, "fr") == VALUE

    def test_bad_as_of(self):
        assert call_scalar("CUSTOMER_SEGMENTS", IDS, DATES, AMOUNTS, "next week", None) == VALUE
        assert call_scalar("CUSTOMER_SEGMENTS", IDS, DATES, AMOUNTS, error("#REF!"), None) == returned_error("#REF!")
        assert call_scalar("CUSTOMER_SEGMENTS", IDS, DATES, AMOUNTS, 45000, None) == NA  # before every purchase

    def test_too_little_data_for_the_models(self):
        assert call_scalar("CUSTOMER_VALUE", IDS, DATES, AMOUNTS, None, None, None, None) == NA

    def test_negative_discount(self):
        assert call_scalar("CUSTOMER_VALUE", IDS, DATES, AMOUNTS, None, None, -0.1, None) == NUM


class TestTables:
    def test_bridge_header_and_rows(self):
        table = call("CUSTOMER_BRIDGE", IDS, DATES, AMOUNTS, 1, "en")
        assert table[0] == ["Month", "S", "L", "N", "R", "E", "Retention", "Strict retention", "Window covered"]
        assert [serial(row[0]) for row in table[1:]] == [45292, 45323, 45352, 45383]
        assert [row[1:6] for row in table[1:]] == [[0, 0, 2, 0, 2], [2, 1, 0, 0, 1], [1, 1, 0, 1, 1], [1, 1, 0, 1, 1]]
        assert table[1][6] == "" and table[2][6] == 0.5 and table[1][8] is False and table[2][8] is True

    def test_bridge_in_chinese_by_default(self):
        assert call("CUSTOMER_BRIDGE", IDS, DATES, AMOUNTS, None, None)[0][0] == labels("zh-CN")["trend.month"]

    def test_cohorts_blank_where_not_reached(self):
        table = call("COHORT_TABLE", IDS, DATES, AMOUNTS, "customers", "en")
        assert table[0] == ["First purchase", "Cohort size", 0, 1, 2, 3]
        assert table[1][1:] == [2, 2, 1, 1, 1]
        assert table[4][1:3] == [0, 0] and table[4][3:] == ["", "", ""]

    def test_segments_as_of_a_day(self):
        table = call("CUSTOMER_SEGMENTS", IDS, DATES, AMOUNTS, "2024-02-15", "en")
        assert [row[:4] for row in table[1:]] == [["a", 7, 2, 15.0], ["b", 37, 1, 20.0]]

    def test_segments_over_a_window(self):
        """Out of the base of the last ``window`` months a customer is lapsing; the default base is 12 months."""
        segments = {w: [row[7] for row in call("CUSTOMER_SEGMENTS", ["a", "b", "a", "c"], [45292, 45300, 45400, 45410],
                                                [10, 20, 5, 7], None, "en", w)[1:]] for w in (None, 12, 3)}
        assert segments[None] == segments[12] == ["Loyal", "Between Purchases", "Promising"]
        assert segments[3] == ["Loyal", "Lost", "Promising"]

    def test_p_alive_row_by_row(self):
        result = call("P_ALIVE", [0, 2, 1.5, -1, "x", error("#N/A")], [0, 30.43, 1, 0, 0, 0], 38.86,
                      0.243, 4.414, 0.793, 2.426)
        assert result[0][0] == 1.0 and result[1][0] == pytest.approx(0.7266, abs=1e-4)
        assert result[2:] == [[NUM], [NUM], [VALUE], [NA]]
        assert call_scalar("P_ALIVE", 1, 1, 2, 0.2, 4, 0, 2) == NUM
        assert call_scalar("P_ALIVE", [1, 2], [1, 2], [2, 3, 4], 0.2, 4, 0.5, 2) == VALUE


def _cells(transactions: pd.DataFrame) -> tuple[list, list, list]:
    """The three columns as Excel would send them: ids as they are, dates as serial numbers."""
    dates = ((transactions["date"] - EPOCH) / pd.Timedelta(days=1)).tolist()
    return transactions["id"].tolist(), dates, transactions["amount"].tolist()


def _sales_list(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        raw = pd.read_parquet(path)
        return pd.DataFrame({"id": raw["Customer ID"].astype(object).where(raw["Customer ID"].notna(), None),
                             "date": pd.to_datetime(raw["InvoiceDate"]), "amount": raw["Quantity"] * raw["Price"]})
    raw = pd.read_excel(path, header=1)
    return pd.DataFrame({"id": raw["会员号"], "date": raw["订单日期"], "amount": raw["金额"].astype(float)})


@pytest.fixture(scope="module", params=real_data_slow(["sample", "sample-window-6", "online-retail"]))
def report_and_cells(request, tmp_path_factory):
    """The report on a sales list of three columns (as ``--window`` gives it), and the same list as cells."""
    path, month, window = {"sample": (SAMPLE, "2024-12", 12), "sample-window-6": (SAMPLE, "2024-12", 6),
                           "online-retail": (REAL_DATA, "2010-11", 6)}[request.param]
    if not path.exists():
        pytest.skip(f"{path} is not here")
    sales = _sales_list(path)
    file = tmp_path_factory.mktemp("list") / "sales.parquet"
    sales.rename(columns={"id": "Customer ID", "date": "Date", "amount": "Amount"}).to_parquet(file)
    data = read_sales(file, as_of="2026-01-01")
    report = analyse(data, ReportOptions(month=month, active_window=window, language="en"))
    ids, dates, amounts = _cells(sales[sales["date"] < pd.Period(month, "M").end_time])
    return report, (ids, dates, amounts)


def _close(a, b) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None and (b is None or math.isnan(b))
    return a == pytest.approx(b, rel=1e-9, abs=1e-9)


def test_the_bridge_is_the_summary_trend(report_and_cells):
    report, cells = report_and_cells
    table = call("CUSTOMER_BRIDGE", *cells, report.options.active_window, "en")
    by_month = {pd.Timestamp(EPOCH + pd.Timedelta(days=serial(row[0]))).to_period("M"): row for row in table[1:]}
    assert len(report.trend) == 12
    for figures in report.trend:
        row = [blank_to_none(c) for c in by_month[pd.Period(figures.month, "M")]]
        expected = [figures.S, figures.L, figures.N, figures.R, figures.E, figures.retention,
                    figures.strict_retention, figures.window_covered]
        assert row[1:6] == expected[:5], figures.month
        assert all(_close(a, b) for a, b in zip(row[6:8], expected[5:7])), figures.month
        assert row[8] is expected[7], figures.month


@pytest.mark.parametrize("measure", ["customers", "retention", "revenue"])
def test_the_cohort_table_is_the_cohorts_sheet(report_and_cells, measure):
    report, cells = report_and_cells
    table = call("COHORT_TABLE", *cells, measure, "en")
    by_month = {str(pd.Timestamp(EPOCH + pd.Timedelta(days=serial(row[0]))).to_period("M")): row for row in table[1:]}
    cohorts = report.cohorts
    grid = {"customers": cohorts.active, "retention": cohorts.retention, "revenue": cohorts.revenue}[measure]
    for label, values in grid.iterrows():
        row = by_month[label]
        assert row[1] == cohorts.sizes[label]
        shown = [blank_to_none(c) for c in row[2:2 + len(values)]]
        assert all(_close(a, b) for a, b in zip(shown, values.tolist())), (label, shown, values.tolist())


def test_the_segments_are_the_customers_sheet(report_and_cells):
    report, cells = report_and_cells
    end = report.month.end_time.normalize()
    window = report.options.active_window
    table = call("CUSTOMER_SEGMENTS", *cells, (end - EPOCH).days, "en", window)
    words = labels("en")
    shown = pd.DataFrame(table[1:], columns=["customer_id", "days_since_last", "orders", "revenue", "r_score",
                                             "f_score", "m_score", "segment"]).set_index("customer_id")
    sheet = report.customers.set_index("customer_id")
    assert sorted(shown.index) == sorted(sheet.index)
    sheet = sheet.loc[shown.index]
    for column in ("days_since_last", "orders", "revenue", "r_score", "f_score", "m_score"):
        assert shown[column].tolist() == sheet[column].tolist(), column
    assert shown["segment"].tolist() == [words[f"segment.{s}"] for s in sheet["segment"]]
    if window != DEFAULT_WINDOW:  # the window decides some segments: without it the function would differ
        default = call("CUSTOMER_SEGMENTS", *cells, (end - EPOCH).days, "en")
        assert [row[7] for row in default[1:]] != shown["segment"].tolist()


def test_the_values_are_the_customers_sheet(report_and_cells):
    report, cells = report_and_cells
    end = report.month.end_time.normalize()
    table = call("CUSTOMER_VALUE", *cells, (end - EPOCH).days, report.options.horizon, report.options.discount, "en")
    assert report.value.available
    shown = pd.DataFrame([[blank_to_none(c) for c in row] for row in table[1:]],
                         columns=["customer_id", "frequency", "recency", "T", "p_alive", "expected_purchases", "clv"])
    shown = shown.set_index("customer_id")
    sheet = report.customers.set_index("customer_id").loc[shown.index]
    assert sorted(shown.index) == sorted(report.customers["customer_id"])
    for column in ("p_alive", "expected_purchases", "clv"):
        expected = sheet[column].to_numpy(dtype=float)
        got = shown[column].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(got), np.isnan(expected)), column
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-12, equal_nan=True), column
    assert (shown["p_alive"].isna().all()) == (not report.value.dropout_detected)
