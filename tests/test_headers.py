"""Header roles by whole words: the column each role is read from, how it is chosen, and how it is shown."""

import csv
import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from retention_xl import cli
from retention_xl.read.columns import columns_line, detect_roles, find_header
from retention_xl.errors import InputError
from retention_xl.read.header_words import header_words
from retention_xl.read.reader import read_sales

AS_OF = "2024-06-30"


def roles(headers, taken=()):
    return {role: headers[position] for role, position in detect_roles(headers, taken).items()}


# --- one header row at a time ---------------------------------------------------------------


@pytest.mark.parametrize("headers, salesperson", [
    (["opportunity_id", "sales_agent", "account", "engage_date", "close_date", "close_value"], "sales_agent"),
    (["Salesperson Name", "Customer", "Date", "Amount"], "Salesperson Name"),
    (["SalesAgent", "Customer", "Date", "Sales"], "SalesAgent"),
    (["业务员姓名", "客户编号", "日期", "金额"], "业务员姓名"),
    (["業務員姓名", "客戶編號", "日期", "金額"], "業務員姓名"),
    (["客户经理姓名", "客户名称", "日期", "销售额"], "客户经理姓名"),
])
def test_a_salesperson_is_never_the_amount_or_the_customer(headers, salesperson):
    found = roles(headers)
    assert found["salesperson"] == salesperson
    assert salesperson not in (found.get("amount"), found.get("customer_id"), found.get("customer_name"))
    assert "amount" in found and ("customer_id" in found or "customer_name" in found)


@pytest.mark.parametrize("header", ["订单 ID", "订单ID", "Order ID", "order_id", "訂單 ID", "訂單ID", "Invoice No.",
                                    "交易编号", "销售单号"])
def test_an_order_number_by_its_words(header):
    assert roles([header, "客户 ID", "订单日期", "销售额"])["order_id"] == header


@pytest.mark.parametrize("headers, date", [
    (["account", "engage_date", "close_date", "close_value"], "close_date"),
    (["Customer ID", "Ship Date", "Order Date", "Sales"], "Order Date"),
    (["客户 ID", "发货日期", "订单日期", "销售额"], "订单日期"),
    (["客戶 ID", "發貨日期", "訂單日期", "銷售額"], "訂單日期"),
    (["会员号", "订单创建时间", "订单付款时间", "实收金额"], "订单付款时间"),
    (["会员号", "注册日期", "日期", "金额"], "日期"),
    (["Customer", "Created Date", "Due Date", "Amount"], "Created Date"),  # both of other events: the leftmost
])
def test_the_sales_date_is_chosen_among_several(headers, date):
    assert roles(headers)["date"] == date


@pytest.mark.parametrize("header", ["支付渠道", "Shipping Cost", "Cost centre", "毛利率", "利润率", "Gross profit %",
                                    "Profit (%)", "Discount Amount", "优惠金额", "Tax Amount", "Customer Segment",
                                    "会员手机号", "Product Name", "商品名称", "Row ID", "行 ID", "Sales export"])
def test_headers_that_play_no_role(header):
    assert roles([header]) == {}


@pytest.mark.parametrize("header, role", [
    ("销售金额(元)", "amount"), ("Sales Qty", "quantity"), ("QUANTITYORDERED", "quantity"), ("PRICEEACH", "unit_price"),
    ("Unit Cost", "unit_cost"), ("成本价", "unit_cost"), ("Store Code", "store"), ("门店名称", "store"),
    ("Sales Channel", "channel"), ("Region Name", "region"), ("买家会员名", "customer_name"), ("Account Name", "customer_name"),
    ("Account Manager", "salesperson"), ("客戶 編號（ID）", "customer_id"), ("Customer #", "customer_id"),
])
def test_headers_read_by_their_words(header, role):
    assert list(roles([header])) == [role]


def test_words_of_headers():
    assert header_words("CustomerID") == ("customer", "id")
    assert header_words("close_value") == ("close", "value")
    assert header_words("客户经理姓名") == ("客户经理", "姓名")
    assert header_words("report") == ("report",)  # not "rep" + something


def test_a_column_named_by_hand_serves_that_role_only():
    headers = ["account", "engage_date", "close_date", "close_value"]
    found = find_header([headers], {"date": "engage_date"})
    assert {role: headers[p] for role, p in found.positions.items()} == \
        {"customer_id": "account", "amount": "close_value", "date": "engage_date"}
    # The column detection preferred is taken by hand for another role: the next best stands in.
    assert roles(headers, taken=[2])["date"] == "engage_date"


def test_the_columns_line():
    assert columns_line({"salesperson": "sales_agent", "amount": "close_value", "date": "close_date",
                         "customer_id": "account"}) == \
        "columns: customer ← account, date ← close_date, amount ← close_value, salesperson ← sales_agent"


# --- whole files, every reader and engine ---------------------------------------------------------------


PIPELINE = ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date", "close_date",
            "close_value"]
PIPELINE_COLUMNS = {"customer": "account", "date": "close_date", "amount": "close_value", "salesperson": "sales_agent"}


def pipeline_rows():
    """Deals closed from January to May 2024, each engaged two months before it closed."""
    rows = []
    for number in range(60):
        close = dt.date(2024, 1 + number % 5, 1 + number % 27)
        engage = close - dt.timedelta(days=61)
        rows.append([f"OP{number:03d}", f"Agent {number % 3}", "GTX", f"Account {number % 11}", "Won",
                     engage.isoformat(), close.isoformat(), 100 + number])
    return rows


SUPERSTORE = ["行 ID", "订单 ID", "订单日期", "发货日期", "客户 ID", "客户名称", "销售额", "数量", "利润"]


def superstore_rows():
    """Two orders by the same customer on the same day, and one order of two lines."""
    rows, line = [], 0
    for number in range(40):
        day = dt.date(2024, 1 + number % 5, 3 + number % 20)
        customer = f"C{number % 7}"
        for order in (f"CN-{number}-A", f"CN-{number}-B") if number % 4 == 0 else (f"CN-{number}-A",) * 2:
            line += 1
            rows.append([line, order, day.isoformat(), (day + dt.timedelta(days=3)).isoformat(), customer,
                         f"顾客{customer}", 50 + number, 2, 10])
    return rows


def write_file(path: Path, header, rows) -> Path:
    if path.suffix == ".csv":
        with open(path, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([header, *rows])
    elif path.suffix == ".xlsx":
        book = openpyxl.Workbook()
        for row in [header, *rows]:
            book.active.append(row)
        book.save(path)
    else:
        frame = pd.DataFrame(rows, columns=header)
        frame.to_parquet(path)
    return path


def report(tmp_path, sales, *options):
    """(exit code, standard output lines, standard error, figures) of the command as a user runs it."""
    argv = ["report", str(sales), "-o", str(tmp_path / "report.xlsx"), "--json", str(tmp_path / "figures.json"),
            "--as-of", AS_OF, "--month", "2024-04", "--no-clv", *options]
    return cli.main(argv)


READERS = [(".xlsx", "pandas"), (".csv", "pandas"), (".parquet", "pandas"), (".csv", "duckdb"),
           (".parquet", "duckdb")]
# The columns are chosen before Spark starts: one case shows they reach its figures.
WITH_SPARK = READERS + [pytest.param(".parquet", "spark", marks=[pytest.mark.spark, pytest.mark.slow])]


@pytest.mark.parametrize("suffix, engine", WITH_SPARK)
def test_every_reader_uses_the_close_date_and_says_so(tmp_path, capsys, suffix, engine):
    sales = write_file(tmp_path / f"pipeline{suffix}", PIPELINE, pipeline_rows())
    assert report(tmp_path, sales, "--engine", engine) == 0
    out = capsys.readouterr().out.splitlines()
    assert "columns: customer ← account, date ← close_date, amount ← close_value, salesperson ← sales_agent" in out
    figures = json.loads((tmp_path / "figures.json").read_text(encoding="utf-8"))
    assert figures["columns"] == PIPELINE_COLUMNS
    assert figures["data_range"] == ["2024-01-01", "2024-05-25"]  # the close dates, not the engage dates
    assert set(figures["salespeople"]) == {"Agent 0", "Agent 1", "Agent 2"}


@pytest.mark.parametrize("suffix, engine", READERS)
def test_orders_are_counted_by_the_order_id(tmp_path, capsys, suffix, engine):
    rows = superstore_rows()
    sales = write_file(tmp_path / f"superstore{suffix}", SUPERSTORE, rows)
    assert report(tmp_path, sales, "--engine", engine) == 0
    figures = json.loads((tmp_path / "figures.json").read_text(encoding="utf-8"))
    assert figures["columns"] == {"customer": "客户 ID", "name": "客户名称", "date": "订单日期", "amount": "销售额",
                                  "quantity": "数量", "order": "订单 ID", "profit": "利润"}
    april = [row for row in rows if row[2].startswith("2024-04")]
    purchase_days = len({(row[4], row[2]) for row in april})
    assert figures["orders"] == len({row[1] for row in april}) > purchase_days


@pytest.mark.parametrize("suffix, engine", READERS)
def test_a_name_given_by_hand_that_is_no_header(tmp_path, capsys, suffix, engine):
    sales = write_file(tmp_path / f"superstore{suffix}", SUPERSTORE, superstore_rows())
    assert report(tmp_path, sales, "--engine", engine, "--store", "门店") == 2
    error = capsys.readouterr().err.strip()
    assert "no column named '门店' (given with --store); the headers are: '行 ID', '订单 ID', '订单日期', " in error
    assert "cannot find the header row" not in error and len(error.splitlines()) == 1


def test_a_name_given_by_hand_in_a_sheet_with_a_title(tmp_path):
    book = openpyxl.Workbook()
    for row in [["2024 年销售明细"], [], ["会员号", "日期", "金额"], ["V1", "2024-01-02", 10]]:
        book.active.append(row)
    book.save(tmp_path / "titled.xlsx")
    with pytest.raises(InputError) as raised:
        read_sales(tmp_path / "titled.xlsx", columns={"salesperson": "导购", "customer": "会员号"})
    assert "no column named '导购' (given with --salesperson); the headers are: '会员号', '日期', '金额'" in \
        str(raised.value)


@pytest.mark.parametrize("header", ["Total Price", "TotalPrice", "TOTAL_PRICE", "Line Total", "Line Price",
                                    "Extended Price", "总价", "總價"])
def test_a_total_price_is_the_lines_amount(header):
    """A total or line price is the line's amount, not a price to multiply by the quantity."""
    assert roles(["Customer", "Order Date", "Qty", header]) == \
        {"customer_id": "Customer", "date": "Order Date", "quantity": "Qty", "amount": header}


@pytest.mark.parametrize("header", ["Unit Price", "Price", "单价", "Sales Price"])
def test_a_price_beside_a_quantity_is_the_unit_price(header):
    assert roles(["Customer", "Order Date", "Qty", header]) == \
        {"customer_id": "Customer", "date": "Order Date", "quantity": "Qty", "unit_price": header}


def test_the_amount_of_a_total_price_is_not_multiplied_by_the_quantity(tmp_path):
    """2 units at a total price of 20.00 are 20.00 of revenue, not 40.00."""
    path = tmp_path / "sales.csv"
    path.write_text("Customer,Order Date,Qty,Total Price\nA,2024-01-05,2,20.00\nB,2024-01-06,3,30.00\n",
                    encoding="utf-8")
    sales = read_sales(path, as_of=AS_OF)
    assert sales.transactions["amount"].tolist() == [20.0, 30.0]
