"""A chain split by store: a store that sold nothing in the month but had customers keeps its workbook, whose
figures are its row on the chain's Stores sheet; a store without a customer at either end is skipped, with why."""

import json

import openpyxl
import pandas as pd
import pytest

from retention_xl.i18n import labels
from retention_xl.read.reader import read_sales
from retention_xl.report import ReadOptions, ReportOptions, analyse, create_report, write_workbook
from retention_xl.split import write_split

MONTH, WINDOW = "2024-03", 3
SKIPPED = "no customer in the 3 months before 2024-03"
WORDS = labels("en")
COMPARED = ("S", "L", "N", "R", "E", "revenue", "orders")


def chain_file(folder) -> str:
    """Sales of four stores around March 2024: 东店 sells every month; 静店 sold in January and February only
    (customers at the start of March, no sale in it); 空店 sold only in October 2023, 新店 only in April 2024
    (no customer at either end of March)."""
    rows = [(f"E{c}", f"2024-{m:02d}-{3 + c:02d}", 40 + c, "东店") for c in range(6) for m in (1, 2, 3, 4) if (c + m) % 4]
    rows += [("Q1", "2024-01-09", 55.5, "静店"), ("Q2", "2024-02-14", 20, "静店"), ("Q2", "2024-02-20", 12.25, "静店"),
             ("Q1", "2024-01-20", 30, "东店")]  # Q1 also bought at 东店, in January
    rows += [("Z1", "2023-10-05", 80, "空店"), ("N1", "2024-04-02", 60, "新店")]
    path = folder / "sales.parquet"
    pd.DataFrame(rows, columns=["客户编号", "订单日期", "金额", "门店"]).to_parquet(path, index=False)
    return path


def _table(sheet, header_row: int, first_column_value) -> dict:
    """{column header: value} of the row under ``header_row`` whose first cell is ``first_column_value``."""
    headers = [cell.value for cell in sheet[header_row]]
    for row in sheet.iter_rows(min_row=header_row + 1, values_only=True):
        if row[0] == first_column_value:
            return dict(zip(headers, row))
    raise AssertionError(f"no row {first_column_value!r} on {sheet.title}")


def store_row(chain_workbook, store: str) -> dict:
    """The store's figures on the chain's Stores sheet, by figure key."""
    sheet = openpyxl.load_workbook(chain_workbook)[WORDS["sheet.stores"]]
    row = _table(sheet, 4, store)
    return {key: row[WORDS[f"trend.{key}"]] for key in COMPARED}


def month_row(store_workbook) -> dict:
    """The month's figures in a store's own workbook (its trend table's last row), by figure key."""
    sheet = openpyxl.load_workbook(store_workbook)[WORDS["sheet.summary"]]
    header = next(row[0].row for row in sheet.iter_rows(min_col=1, max_col=1) if row[0].value == WORDS["trend.month"])
    row = _table(sheet, header, MONTH)
    return {key: row[WORDS[f"trend.{key}"]] for key in COMPARED}


@pytest.mark.slow  # a workbook per store, by each engine
@pytest.mark.parametrize("engine", ["pandas", "duckdb", "duckdb-in-engine"])
def test_a_quiet_store_keeps_its_workbook_and_a_store_without_customers_is_skipped(engine, tmp_path):
    """Rows in memory (pandas) and rows scanned in DuckDB (whose split Spark's aggregation shares; ``-in-engine``:
    the figures computed inside DuckDB) split alike."""
    sales = chain_file(tmp_path)
    options = ReportOptions(engine=engine.split("-")[0], figures_in_engine=engine.endswith("-in-engine"), month=MONTH,
                            active_window=WINDOW, clv=False, language="en")
    report = create_report(sales, tmp_path / "chain.xlsx", options, split_by="store",
                           json_path=tmp_path / "chain.json", read=ReadOptions(as_of="2026-01-01"))
    split = json.loads((tmp_path / "chain.json").read_text(encoding="utf-8"))["split"]
    assert split["failed"] == {}
    assert split["skipped"] == {"空店": SKIPPED, "新店": SKIPPED}
    assert sorted(split["files"].values()) == ["东店", "静店"]
    quiet = tmp_path / "chain_by_store" / "静店.xlsx"
    assert store_row(tmp_path / "chain.xlsx", "静店") == month_row(quiet) == \
        {"S": 2, "L": 0, "N": 0, "R": 0, "E": 2, "revenue": 0, "orders": 0}
    assert store_row(tmp_path / "chain.xlsx", "东店") == month_row(tmp_path / "chain_by_store" / "东店.xlsx")
    definitions = openpyxl.load_workbook(quiet)[WORDS["sheet.definitions"]]
    ranges = [row[1] for row in definitions.iter_rows(values_only=True) if row[0] == WORDS["param.data_range"]]
    assert ranges == ["2023-10-05 – 2024-04-08"]  # the chain's: the store was open, if quiet, all along
    assert report.split.skipped_line() == f"No workbook for 空店, 新店: {SKIPPED}"


def test_a_store_quiet_for_a_whole_window_is_lost_not_failed(tmp_path):
    """With a one-month window, 静店's February customer is lost in March: S 1, L 1, E 0, in both workbooks."""
    sales = read_sales(chain_file(tmp_path), as_of="2026-01-01")
    report = analyse(sales, ReportOptions(month=MONTH, active_window=1, clv=False, language="en"))
    write_workbook(report, tmp_path / "chain.xlsx")
    split = write_split(report, sales, "store", tmp_path / "by_store", workers=1)
    assert split.failed == {} and "静店" in split.files.values()
    assert split.skipped == dict.fromkeys(["空店", "新店"], "no customer in the month before 2024-03")
    expected = {"S": 1, "L": 1, "N": 0, "R": 0, "E": 0, "revenue": 0, "orders": 0}
    assert store_row(tmp_path / "chain.xlsx", "静店") == month_row(tmp_path / "by_store" / "静店.xlsx") == expected
