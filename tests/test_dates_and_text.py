"""Dates as ERP systems and hostile files write them, and Parquet text that is not UTF-8, through every reader:
eight-digit dates are read (and the report says so), a date column nothing of which can be read is one line
saying what its values look like, dates beyond pandas' range are counted, and bytes that are not UTF-8 are
one line naming the column."""

from __future__ import annotations

import re

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers.command import run_report, write_csv

AS_OF = "2026-01-01"
ENGINES = ["pandas", "duckdb"]
HEADER = ["Sales Order", "Customer", "Date", "Net Value"]


def erp_rows(date_of) -> list[list]:
    """Three months of an order export; ``date_of(year, month, day)`` writes each date."""
    rows = []
    for c in range(24):
        for month in (1, 2, 3):
            if month == 1 or (c + month) % 3:
                rows.append([f"45{c:04d}{month}", f"K{c:03d}", date_of(2018, month, 3 + c % 25), 100 + c])
    return rows


def run(tmp_path, capsys, sales, *options):
    """(exit code, standard output, standard error lines, figures or None)."""
    code, out, err, figures = run_report(tmp_path, capsys, sales, *options, as_of=AS_OF)
    return code, out, [line for line in err.splitlines() if line.strip()], figures


def excluded(figures, reason):
    return figures["accounting"]["excluded"][reason]


# DuckDB scans Parquet and CSV files; a workbook is read in memory only.
@pytest.mark.parametrize("kind, engine", [
    (kind, engine) for kind in ("csv numbers", "csv text", "parquet numbers", "parquet text", "xlsx numbers")
    for engine in ENGINES if not (kind.startswith("xlsx") and engine == "duckdb")])
def test_eight_digit_erp_dates_are_read_and_said(kind, engine, tmp_path, capsys):
    rows = erp_rows(lambda year, month, day: year * 10_000 + month * 100 + day)
    if kind.endswith("text"):
        rows = [[order, customer, str(date), amount] for order, customer, date, amount in rows]
    if kind.startswith("csv"):
        path = write_csv(tmp_path / "orders.csv", HEADER, rows)
    elif kind.startswith("parquet"):
        path = tmp_path / "orders.parquet"
        pq.write_table(pa.table({name: [row[i] for row in rows] for i, name in enumerate(HEADER)}), path)
    else:
        book = openpyxl.Workbook()
        for row in [HEADER, *rows]:
            book.active.append(row)
        path = tmp_path / "orders.xlsx"
        book.save(path)
    code, out, err, figures = run(tmp_path, capsys, path, "--engine", engine)
    assert code == 0, err
    assert figures["accounting"]["purchases"] == len(rows)
    assert figures["data_range"] == ["2018-01-03", "2018-03-26"]
    assert figures["reading"]["dates"] == ["YYYYMMDD"]
    dates_in_file = {str(row[2]) for row in rows}
    quoted = re.search(r"eight-digit dates such as (\d{8}) were read as year, month and day \(YYYYMMDD\)", out)
    assert quoted and quoted.group(1) in dates_in_file, out
    book = openpyxl.load_workbook(tmp_path / "report.xlsx", read_only=True)
    texts = [cell for row in book["Definitions & data"].iter_rows(values_only=True) for cell in row
             if isinstance(cell, str)]
    assert any(f"such as {quoted.group(1)} read" in text and "YYYYMMDD" in text for text in texts)


@pytest.mark.parametrize("engine", ENGINES)
def test_impossible_eight_digit_dates_are_out_of_range(engine, tmp_path, capsys):
    rows = erp_rows(lambda year, month, day: year * 10_000 + month * 100 + day)
    rows[0][2], rows[1][2] = 20181301, 18991231
    sales = write_csv(tmp_path / "orders.csv", HEADER, rows)
    code, _, err, figures = run(tmp_path, capsys, sales, "--engine", engine)
    assert code == 0, err
    assert excluded(figures, "date_out_of_range") == {"count": 2, "example_rows": [2, 3]}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_date_column_nothing_of_which_reads_says_what_it_holds(engine, tmp_path, capsys):
    rows = erp_rows(lambda year, month, day: f"{year}-{day + 12}-{month:02d}")  # year, day, month: no month 15
    sales = write_csv(tmp_path / "orders.csv", HEADER, rows)
    code, _, err, _ = run(tmp_path, capsys, sales, "--engine", engine)
    assert code == 2 and len(err) == 1, err
    assert 'no date could be read in column "Date"' in err[0] or 'no date could be read in column C ("Date")' in err[0]
    assert 'its values look like "2018-15-01", "2018-15-02", "2018-16-01".' in err[0] and "--date" in err[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_blank_date_column_is_said_to_be_blank(engine, tmp_path, capsys):
    rows = erp_rows(lambda year, month, day: "")
    sales = write_csv(tmp_path / "orders.csv", HEADER, rows)
    code, _, err, _ = run(tmp_path, capsys, sales, "--engine", engine)
    assert code == 2 and len(err) == 1, err
    assert ': its cells are blank. Dates are read from' in err[0] and '"None"' not in err[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_day_month_text_that_never_reads_points_at_the_day_order_options(engine, tmp_path, capsys):
    rows = erp_rows(lambda year, month, day: f"{day + 29}/{month:02d}/{year}")  # no month has day 32
    sales = write_csv(tmp_path / "orders.csv", HEADER, rows)
    code, _, err, _ = run(tmp_path, capsys, sales, "--engine", engine)
    assert code == 2 and len(err) == 1, err
    assert "--dayfirst or --monthfirst" in err[0] and '"32/01/2018"' in err[0]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "31.12.9999", "9999年12月31日", "0001/01/01",
                                   "01/01/0001", "9999-12-31T23:59:59.999999"])
def test_text_dates_beyond_pandas_range_are_counted(value, engine, tmp_path, capsys):
    rows = erp_rows(lambda year, month, day: f"{year}-{month:02d}-{day:02d}")
    rows[0][2] = value
    sales = write_csv(tmp_path / "orders.csv", HEADER, rows)
    code, _, err, figures = run(tmp_path, capsys, sales, "--engine", engine)
    assert code == 0, err
    assert excluded(figures, "date_out_of_range") == {"count": 1, "example_rows": [2]}
    assert figures["accounting"]["purchases"] == len(rows) - 1


@pytest.mark.parametrize("engine", ENGINES)
def test_text_times_with_different_utc_offsets_are_their_wall_clock(engine, tmp_path, capsys):
    rows = erp_rows(lambda year, month, day: f"{year}-{month:02d}-{day:02d}T10:00:00")
    rows[0][2], rows[1][2] = "2018-01-03T23:30:00+08:00", "2018-01-04T01:00:00-05:00"
    sales = write_csv(tmp_path / "orders.csv", HEADER, rows)
    code, _, err, figures = run(tmp_path, capsys, sales, "--engine", engine)
    assert code == 0, err
    assert figures["accounting"]["purchases"] == len(rows)
    assert figures["data_range"][0] == "2018-01-03"


@pytest.mark.parametrize("engine", [*ENGINES, "duckdb --figures-in-engine"])
def test_text_times_all_with_one_utc_offset_keep_the_shops_own_day(engine, tmp_path, capsys):
    """Arrow would read these as UTC instants, moving the first of each month back into the month before."""
    rows = erp_rows(lambda year, month, day: f"{year}-{month:02d}-{1 if day == 3 else day:02d}T02:00:00+08:00")
    sales = write_csv(tmp_path / "orders.csv", HEADER, rows)
    code, _, err, figures = run(tmp_path, capsys, sales, "--engine", *engine.split())
    assert code == 0, err
    assert figures["accounting"]["purchases"] == len(rows)
    assert figures["data_range"] == ["2018-01-01", "2018-03-26"]


def _parquet_with_bad_bytes(path, where: str):
    """A Parquet file whose customer column's text, or whose store column's name, holds bytes that are not UTF-8
    (written as another program would, with the bytes patched in place)."""
    rows = erp_rows(lambda year, month, day: f"{year}-{month:02d}-{day:02d}")
    table = pa.table({"Customer": [f"客{row[1]}" for row in rows], "Date": [row[2] for row in rows],
                      "Net Value": [float(row[3]) for row in rows], "门店": ["东店"] * len(rows)})
    pq.write_table(table, path, use_dictionary=False, write_statistics=False, store_schema=False, compression="none")
    data = path.read_bytes()
    if where == "text":
        data = data.replace("客K000".encode(), b"\xff\xfe\xfdK000")
    else:
        data = data.replace("门店".encode(), "门".encode() + b"\xff\xfe\xfd")
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("engine", [
    *ENGINES, pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow])
])
def test_parquet_text_that_is_not_utf8_names_the_column(engine, tmp_path, capsys):
    path = _parquet_with_bad_bytes(tmp_path / "sales.parquet", "text")
    code, _, err, _ = run(tmp_path, capsys, path, "--engine", engine)
    assert code == 2 and len(err) == 1, err
    assert 'column "Customer"' in err[0] and "not valid UTF-8" in err[0]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("folder", [False, True])
def test_a_parquet_column_name_that_is_not_utf8_is_named(engine, folder, tmp_path, capsys):
    target = tmp_path / "sales"
    target.mkdir()
    path = _parquet_with_bad_bytes(target / "part-0.parquet", "name")
    code, _, err, _ = run(tmp_path, capsys, target if folder else path, "--engine", engine)
    assert code == 2 and len(err) == 1, err
    assert 'column "门\\xff\\xfe\\xfd"' in err[0] and "name of the column is not valid UTF-8" in err[0]
