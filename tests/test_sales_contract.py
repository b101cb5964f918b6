"""One suite over :class:`retention_xl.read.sales.Sales`, run against every way of holding the rows: read in memory,
scanned by DuckDB, and scanned with Spark's executors classifying the rows. Each must answer the same questions
with the same values, written out here once, rather than be compared pairwise with another."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_xl.read.scan.duckdb_scan import scan_sales
from retention_xl.engine_choice import with_table_engine
from retention_xl.pipeline import analyse
from retention_xl.read.reader import read_sales
from retention_xl.table.contract import month_number
from retention_xl.report import ReportOptions

AS_OF = "2026-01-01"
MONTH = pd.Period("2024-03", "M")
N = None
# Record 7 is blank, 8 lies after the as-of day, 9 has no customer, 10 no amount, 11 no date, 12 no cost.
ROWS = [
    ("O1", "2024-01-05", "C1", "Ann", 100.0, "East", 60.0),
    ("O1", "2024-01-05", "C1", "Ann", 50.0, "East", 30.0),
    ("O2", "2024-02-10", "C2", "Bob", 80.0, "West", 40.0),
    (N, "2024-02-11", "C2", "Bob", 20.0, "East", 10.0),
    ("O3", "2024-02-11", "C1", "Ann", -30.0, "East", -18.0),
    ("O4", "2024-03-03", "C3", "Cat", 70.0, N, 35.0),
    (N, N, N, N, N, N, N),
    ("O5", "2030-01-01", "C1", "Ann", 10.0, "East", 5.0),
    ("O6", "2024-03-04", N, N, 10.0, "East", 5.0),
    ("O7", "2024-03-05", "C2", "Bob", 0.0, "West", 0.0),
    ("O8", "not a date", "C3", "Cat", 10.0, "West", 5.0),
    ("O9", "2024-03-06", "C4", "Dan", 40.0, "West", N),
]
NONE = {"count": 0, "example_rows": []}


def _accounting(read, purchases, returns, **exclusions):
    reasons = ("malformed_line", "empty_row", "total_row", "missing_customer", "invalid_date", "date_out_of_range",
               "future_date", "formula_without_value", "invalid_amount", "non_finite_amount", "zero_amount")
    return {"rows_read": read, "as_of": AS_OF, "purchases": purchases, "returns": returns,
            "excluded": {reason: exclusions.get(reason, NONE) for reason in reasons},
            "adjusted": {"control_characters": NONE, "text_cut": NONE,
                         "profit_unknown": {"count": 1, "example_rows": [12]}}}


CHAIN = _accounting(12, 6, 1, empty_row={"count": 1, "example_rows": [7]},
                    missing_customer={"count": 1, "example_rows": [9]},
                    invalid_date={"count": 1, "example_rows": [11]}, future_date={"count": 1, "example_rows": [8]},
                    zero_amount={"count": 1, "example_rows": [10]})
WEST = _accounting(4, 2, 0, invalid_date={"count": 1, "example_rows": [11]},
                   zero_amount={"count": 1, "example_rows": [10]})
# The customer x month table up to March 2024 (days since 1970-01-01): C1 returned in February what they had
# bought in January; C2's line without an order number is an order of its own day.
MONTHS = {"customer": [0, 0, 1, 2, 3], "month": [24288, 24289, 24289, 24290, 24290],
          "purchases": [150.0, 0.0, 100.0, 70.0, 40.0], "returned": [0.0, 30.0, 0.0, 0.0, 0.0],
          "orders": [1, 0, 2, 1, 1], "purchase_days": [1, 0, 2, 1, 1],
          "first_purchase_day": [19727, -1, 19763, 19785, 19788], "last_purchase_day": [19727, -1, 19764, 19785, 19788],
          "profit": [60.0, -12.0, 50.0, 35.0, 0.0]}
CUSTOMERS = {"customer_id": ["C1", "C2", "C3", "C4"], "customer_name": ["Ann", "Bob", "Cat", "Dan"],
             "first_purchase_day": [19727, 19763, 19785, 19788], "first_day_amount": [150.0, 80.0, 70.0, 40.0]}
# Each store's table, by customer: (month, purchases, returned, orders) of each of their months there.
STORES = {"East": {"C1": [(24288, 150.0, 0.0, 1), (24289, 0.0, 30.0, 0)], "C2": [(24289, 20.0, 0.0, 1)]},
          "West": {"C2": [(24289, 80.0, 0.0, 1)], "C4": [(24290, 40.0, 0.0, 1)]},
          None: {"C3": [(24290, 70.0, 0.0, 1)]}}


@pytest.fixture(scope="module")
def sales_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("contract") / "sales.parquet"
    pd.DataFrame(ROWS, columns=["Order", "Date", "Customer", "Name", "Amount", "Store", "Cost"]).to_parquet(path)
    return path


@pytest.fixture(params=["memory", "duckdb", pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow])])
def sales(request, sales_file):
    if request.param == "memory":
        held = read_sales(sales_file, as_of=AS_OF)
    else:
        held = scan_sales(sales_file, as_of=AS_OF, spark=request.param == "spark")
    with held:
        yield held


def _options(sales, **options):
    return with_table_engine(ReportOptions(clv=False, **options).validated(), sales)


def test_every_row_is_accounted_for(sales):
    assert sales.accounting.as_dict() == CHAIN
    assert sales.has_purchases and sales.has_profit
    assert sales.unknown_profit() == (1, [12])
    assert sales.data_range == (pd.Timestamp("2024-01-05"), pd.Timestamp("2024-03-06"))


def test_the_groups_are_listed_in_order_of_their_first_row(sales):
    assert sales.group_roles == ["store"]
    assert sales.groups("store") == ["East", "West", None]


def test_the_customer_table(sales):
    table = sales.customer_table(MONTH, _options(sales))
    assert table.months.to_dict("list") == MONTHS
    assert table.customers.to_dict("list") == CUSTOMERS


def test_a_table_up_to_an_earlier_month_leaves_the_later_rows_out(sales):
    table = sales.customer_table(MONTH - 1, _options(sales))
    assert table.months["month"].max() == month_number(MONTH - 1)
    assert table.customers["customer_id"].tolist() == ["C1", "C2", "C3", "C4"]  # numbered as ever
    assert table.per_customer("net", 0, 10**6).tolist() == [120.0, 100.0, 0.0, 0.0]


def test_each_groups_table_holds_its_customers_rows_alone(sales):
    chain = sales.customer_table(MONTH, _options(sales))
    stores = {}
    for store, table in sales.group_tables("store", MONTH, 3, chain):
        ids = table.customers["customer_id"].to_numpy()
        months = table.months
        stores[store] = {ids[code]: [(int(m), p, r, int(o)) for m, p, r, o in
                                     months.loc[months["customer"] == code, ["month", "purchases", "returned",
                                                                             "orders"]].itertuples(index=False)]
                         for code in np.unique(months["customer"])}
    assert stores == STORES


def test_one_group_seen_alone_keeps_the_chains_dates(sales):
    west = sales.of_group("store", "West", "West")
    assert west.accounting.as_dict() == WEST
    assert west.provenance.group == "West"
    assert west.data_range == sales.data_range and west.has_purchases
    assert west.group_roles == []
    table = west.customer_table(MONTH, _options(west))
    assert table.customers["customer_id"].tolist() == ["C2", "C4"]
    assert table.per_customer("purchases", 0, 10**6).tolist() == [80.0, 40.0]


def test_the_group_without_a_store_is_a_group(sales):
    alone = sales.of_group("store", None, "(no store)")
    assert (alone.accounting.rows_read, alone.accounting.purchases) == (2, 1)  # the blank row has no store either
    assert alone.accounting.exclusions["empty_row"].example_rows == [7]
    assert alone.customer_table(MONTH, _options(alone)).customers["customer_id"].tolist() == ["C3"]


def test_the_report_is_the_same(sales):
    report = analyse(sales, ReportOptions(month="2024-03", active_window=1, clv=False, language="en"))
    current = report.current
    assert (current.S, current.N, current.E, current.R, current.L) == (1, 2, 2, 0, 1)  # C2 bought in February only
    assert report.groups["store"].loc["West", "N"] == 1
    assert report.sales.accounting.as_dict() == CHAIN


def test_the_profit_check_names_the_row(sales):
    from retention_xl.errors import UsageError

    with pytest.raises(UsageError, match=r"profit of 1 used rows is unknown \(e.g. rows 12\)"):
        analyse(sales, ReportOptions(month="2024-03", clv=False, value="profit"))


def test_leaving_the_sales_frees_what_held_the_rows(sales_file):
    scanned = scan_sales(sales_file, as_of=AS_OF)
    with scanned:
        assert Path(scanned.spill).is_dir()
    assert not Path(scanned.spill).exists()
