"""The customer-value models count a group's months of data from the group's own first purchase: a store opened
ten weeks ago has no model, however long the chain has sold; and the holdout check is made only where the months
before it hold enough repeat customers to fit on."""

import json

import numpy as np
import pandas as pd
import pytest

from retention_xl.table.numpy_builder import build_customer_months
from retention_xl.report import ReadOptions, ReportOptions, create_report
from retention_xl.figures.customer_value import MIN_REPEAT_CUSTOMERS, customer_value

MONTH = "2024-12"


def _visits(customers: list[str], first_day: str, last_day: str, visits: int, seed: int) -> list[tuple]:
    """Up to ``visits`` purchases (at least 2) by each of ``customers`` on random days between the two days."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(first_day, last_day).strftime("%Y-%m-%d").to_numpy()
    return [(customer, str(day), float(rng.integers(10, 100)))
            for customer in customers for day in rng.choice(days, size=rng.integers(2, visits + 1), replace=False)]


def chain_sales(folder) -> str:
    """老店 has sold since January 2023 to 40 customers; 新店 opened on 15 October 2024 and has 150 busy
    customers: enough repeat customers for the model, but ten weeks of data."""
    rows = [(*row, "老店") for row in _visits([f"O{c}" for c in range(40)], "2023-01-01", "2024-12-27", 8, seed=1)]
    rows += [(*row, "新店") for row in _visits([f"N{c}" for c in range(150)], "2024-10-15", "2024-12-27", 6, seed=2)]
    path = folder / "chain.csv"
    pd.DataFrame(rows, columns=["customer", "date", "amount", "store"]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_store_opened_ten_weeks_ago_gets_its_workbook_without_customer_values(engine, tmp_path):
    """Rows in memory (pandas) and rows scanned in DuckDB: the chain's long history does not lend the new store
    months of its own, so no model is fitted on months in which it had no customer."""
    options = ReportOptions(engine=engine, month=MONTH, language="en")
    report = create_report(chain_sales(tmp_path), tmp_path / "chain.xlsx", options,
                           split_by="store", json_path=tmp_path / "chain.json", read=ReadOptions(as_of="2026-01-01"))
    split = json.loads((tmp_path / "chain.json").read_text(encoding="utf-8"))["split"]
    assert split["failed"] == {}
    assert sorted(split["files"].values()) == ["新店", "老店"]
    assert report.value.available  # the chain has 24 months and 150 repeat customers


def _sales(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    return frame.assign(date=pd.to_datetime(frame["date"]), order_id=None)


def test_the_model_counts_months_from_the_tables_first_purchase():
    """150 repeat customers in ten weeks: too short, although the report's data might start years earlier."""
    sales = _sales(_visits([f"N{c}" for c in range(150)], "2024-10-15", "2024-12-27", 6, seed=2))
    month = pd.Period(MONTH, "M")
    valued = customer_value(build_customer_months(sales, month), month)
    assert valued.unavailable == "value.too_short"


def test_no_holdout_check_where_its_first_months_have_too_few_repeat_customers():
    """A shop with 5 customers for nine months, then 150 busy ones in the last three: the values are fitted,
    but the holdout check would fit on 5 customers, so there is none, and the Definitions sheet says why."""
    rows = _visits([f"E{c}" for c in range(5)], "2024-01-01", "2024-09-30", 6, seed=3)
    rows += _visits([f"N{c}" for c in range(150)], "2024-10-01", "2024-12-27", 6, seed=4)
    month = pd.Period(MONTH, "M")
    valued = customer_value(build_customer_months(_sales(rows), month), month)
    assert valued.available and len(valued.customers) == 155
    assert valued.holdout is None and valued.no_holdout == "value.no_holdout_few"
    assert MIN_REPEAT_CUSTOMERS > 5
