"""Real exports read right, or the report says what it did: SAP and German headers, the person behind a
per-order customer id, a report month given as a year alone, the eight-digit date quoted from the file, the
header example in the file's own headers, and order numbers shared by several customers."""

from __future__ import annotations

import re

import openpyxl
import pytest

from retention_xl.read.columns import detect_roles
from retention_xl.errors import UsageError
from retention_xl.options import ReportOptions

from helpers.command import run_report, write_csv

AS_OF = "2026-01-01"
ENGINES = ["pandas", "duckdb"]


def run(tmp_path, capsys, sales, *options):
    """(exit code, standard output, standard error, figures or None)."""
    return run_report(tmp_path, capsys, sales, *options, as_of=AS_OF)


def orders(date_of, customers=12):
    """Two months of orders: (order, customer, date, amount), each date written by ``date_of(month, day)``."""
    return [[f"US-{month}{c:03d}", f"DP-{c:05d}", date_of(month, 3 + c), f"{10 + c}.5"]
            for c in range(customers) for month in (1, 2)]


def roles(headers):
    return {role: headers[position] for role, position in detect_roles(headers).items()}


# --- header roles -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers, expected", [
    (["VBELN", "ERDAT", "KUNNR", "NAME1", "NETWR", "WAERK"],
     {"order_id": "VBELN", "date": "ERDAT", "customer_id": "KUNNR", "amount": "NETWR"}),
    (["Sales Document", "Document Date", "Sold-to party", "Net value", "Currency"],
     {"order_id": "Sales Document", "date": "Document Date", "customer_id": "Sold-to party", "amount": "Net value"}),
    (["Auftragsnummer", "Bestelldatum", "Versanddatum", "Kundennummer", "Kundenname", "Umsatz", "Menge", "Gewinn"],
     {"order_id": "Auftragsnummer", "date": "Bestelldatum", "customer_id": "Kundennummer",
      "customer_name": "Kundenname", "amount": "Umsatz", "quantity": "Menge", "profit": "Gewinn"}),
    (["Kunde", "Belegdatum", "Betrag", "Bestellnummer"],
     {"customer_id": "Kunde", "date": "Belegdatum", "amount": "Betrag", "order_id": "Bestellnummer"}),
])
def test_sap_and_german_headers(headers, expected):
    assert roles(headers) == expected


def test_the_sap_document_date_before_the_day_the_record_was_created():
    assert roles(["KUNNR", "ERDAT", "AUDAT", "NETWR"])["date"] == "AUDAT"
    assert roles(["KUNNR", "ERDAT", "FKDAT", "NETWR"])["date"] == "FKDAT"


@pytest.mark.parametrize("headers, customer", [
    (["order_id", "customer_id", "order_purchase_timestamp", "payment_value", "customer_unique_id"],
     "customer_unique_id"),
    (["Customer ID", "Customer Person ID", "Date", "Amount"], "Customer Person ID"),
    (["customer_id", "customer_member_id", "date", "amount"], "customer_member_id"),
    (["客户编号", "客户会员号", "日期", "金额"], "客户会员号"),
    (["member_id", "customer_id", "date", "amount"], "member_id"),  # no person word: the known name, leftmost
])
def test_the_customer_id_that_names_the_person_is_preferred(headers, customer):
    assert roles(headers)["customer_id"] == customer


@pytest.mark.parametrize("engine", ENGINES)
def test_a_per_order_customer_id_gives_way_to_the_person(engine, tmp_path, capsys):
    header = ["order_id", "customer_id", "order_purchase_timestamp", "payment_value", "customer_unique_id"]
    # One person, three orders, a new customer_id each time (as Olist writes them).
    rows = [[f"o{i}", f"c{i}", f"2024-0{1 + i}-05 10:00:00", "20.0", "person-1"] for i in range(3)]
    code, out, err, figures = run(tmp_path, capsys, write_csv(tmp_path / "olist.csv", header, rows),
                                  "--engine", engine, "--month", "2024-03")
    assert code == 0, err
    assert "customer ← customer_unique_id" in out
    assert figures["columns"]["customer"] == "customer_unique_id"
    assert figures["N"] == 0 and figures["E"] == 1


# --- the report month ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["05/2021", "2021/05", "2021-5", "May-2021", "2021-05"])
def test_ways_of_writing_a_month(written):
    assert ReportOptions(month=written).validated().month == "2021-05"


@pytest.mark.parametrize("written", ["2021", " 2021 ", 2021])
def test_a_year_alone_is_no_month(written):
    with pytest.raises(UsageError, match=r"--month 2021 is a year, not a month: give the month as well"):
        ReportOptions(month=written).validated()


def test_a_year_alone_on_the_command_line(tmp_path, capsys):
    sales = write_csv(tmp_path / "s.csv", ["Customer", "Date", "Amount"], [["a", "2021-01-05", "3"]])
    code, _, err, _ = run(tmp_path, capsys, sales, "--month", "2021")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "is a year, not a month" in err


# --- eight-digit dates ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_the_eight_digit_note_quotes_a_date_of_the_file(engine, tmp_path, capsys):
    rows = orders(lambda month, day: f"2019{month:02d}{day:02d}")
    code, out, err, _ = run(tmp_path, capsys, write_csv(tmp_path / "sap.csv", ["VBELN", "KUNNR", "ERDAT", "NETWR"],
                                                        rows), "--engine", engine)
    assert code == 0, err
    quoted = re.search(r"eight-digit dates such as (\d{8}) were read", out)
    assert quoted and quoted.group(1) in {row[2] for row in rows}, out
    book = openpyxl.load_workbook(tmp_path / "report.xlsx", read_only=True)
    texts = [cell for row in book["Definitions & data"].iter_rows(values_only=True) for cell in row
             if isinstance(cell, str)]
    assert any(f"such as {quoted.group(1)} read as year, month and day" in text for text in texts)


# --- the header example ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_the_header_example_uses_the_files_own_headers(engine, tmp_path, capsys):
    rows = [[f"A{c}", f"03.0{1 + c % 2}.2019", f"K{c}", f"1{c},5"] for c in range(6)]
    sales = write_csv(tmp_path / "de.csv", ["Beleg", "Tag", "Partner", "Wert"], rows, delimiter=";",
                      encoding="cp1252")
    code, _, err, _ = run(tmp_path, capsys, sales, "--engine", engine)
    assert code == 2, err
    assert "会员号" not in err
    assert 'e.g. --customer "Beleg" --date "Tag" --amount "Wert"' in err


# --- order numbers shared by several customers ---------------------------------------------------------------

def shared_order_rows():
    """Twenty customers, two months; in March every order number is also used by the next customer."""
    rows = [[f"K{c:02d}", f"2024-02-{1 + c:02d}", f"F{c}", "10"] for c in range(20)]
    rows += [[f"K{c:02d}", f"2024-03-{1 + c:02d}", f"M{c // 2}", "10"] for c in range(20)]
    return rows


@pytest.mark.parametrize("engine", ENGINES)
def test_order_numbers_shared_by_customers_count_once_per_customer_and_are_said(engine, tmp_path, capsys):
    sales = write_csv(tmp_path / "shared.csv", ["Customer ID", "Order Date", "Order ID", "Sales"], shared_order_rows())
    code, out, err, figures = run(tmp_path, capsys, sales, "--engine", engine, "--month", "2024-03")
    assert code == 0, err
    assert figures["orders"] == 20 and figures["average_order_value"] == 10
    assert figures["reading"]["order_numbers"] == 30
    assert figures["reading"]["order_numbers_shared_by_customers"] == 10
    assert "10 of 30 order numbers (33%) are shared by several customers: each counts as one order per customer" in out
    book = openpyxl.load_workbook(tmp_path / "report.xlsx", read_only=True)
    texts = [cell for row in book["Definitions & data"].iter_rows(values_only=True) for cell in row
             if isinstance(cell, str)]
    assert any("10 of 30 order numbers are shared by several customers" in text for text in texts)
    assert any("a number that several customers share counts once for each of them" in text for text in texts)


def test_order_numbers_of_one_customer_each_are_not_mentioned(tmp_path, capsys):
    rows = [[customer, date, f"U{index}", amount] for index, (customer, date, _, amount) in
            enumerate(shared_order_rows())]
    sales = write_csv(tmp_path / "own.csv", ["Customer ID", "Order Date", "Order ID", "Sales"], rows)
    code, out, err, figures = run(tmp_path, capsys, sales, "--month", "2024-03")
    assert code == 0, err
    assert "order_numbers" not in figures["reading"] and "shared by several customers" not in out


@pytest.mark.parametrize("engine", ENGINES)
def test_an_empty_person_id_column_says_which_column_to_name(engine, tmp_path, capsys):
    header = ["order_id", "customer_id", "order_purchase_timestamp", "payment_value", "customer_unique_id"]
    rows = [[f"o{i}", f"c{i}", f"2024-0{1 + i}-05 10:00:00", "20.0", ""] for i in range(3)]
    code, _, err, _ = run(tmp_path, capsys, write_csv(tmp_path / "olist.csv", header, rows), "--engine", engine)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert 'column "customer_unique_id" is empty in every row: name the customer column with --customer' in err
    if engine == "pandas":  # the DuckDB scan of a CSV file holds only the columns it reads
        assert '--customer "customer_id"' in err


def test_shared_order_numbers_are_those_bought_under_by_two_customers_or_more():
    import numpy as np
    import pandas as pd

    from retention_xl.read.order_numbers import in_transactions

    rng = np.random.default_rng(7)
    rows = pd.DataFrame({"customer_id": rng.integers(0, 300, 5000).astype(str),
                         "order_id": pd.Series(rng.integers(0, 900, 5000).astype(str)).where(rng.random(5000) > 0.1),
                         "amount": rng.normal(1.0, 1.0, 5000)})
    bought = rows[(rows["amount"] > 0) & rows["order_id"].notna()]
    customers_per_order = bought.groupby("order_id")["customer_id"].nunique()
    found = in_transactions(rows)
    assert (found.shared, found.numbers) == (int((customers_per_order > 1).sum()), len(customers_per_order))
    assert 0 < found.shared < found.numbers


def test_columns_lined_up_with_spaces_are_said_to_need_splitting(tmp_path, capsys):
    """A text report printed in columns (CDNOW's own log is one) is refused with how to split it, not with
    options naming the whole line."""
    lines = [" customer_id  date number_of_cds  dollar_value"] + [
        f" {n:05d} 199701{1 + n % 28:02d}  1   {10 + n}.77" for n in range(1, 40)]
    sales = tmp_path / "log.txt"
    sales.write_text("\r\n".join(lines) + "\r\n")
    code, _, err, _ = run_report(tmp_path, capsys, sales, as_of="2024-01-01")
    assert code == 2
    assert "lined up with spaces" in err and "Text to Columns" in err and "--date" not in err
