"""Hostile sales files and options: each ends in a correct report or in one clear line and exit 2/3.

Every case is generated here (none is a stored file). A case either asserts the
report's figures and accounting (from ``--json``, which must be strict JSON) and that
the workbook opens, or the exit code and the single line on standard error.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retention_xl import cli

HEADER = ["订单号", "客户编号", "客户名称", "订单日期", "金额"]
AS_OF = "2026-01-01"


def base_rows(customers: int = 30) -> list[list]:
    """Three months of clean sales: each customer buys in January and most come back."""
    rows = []
    for c in range(customers):
        for month in (1, 2, 3):
            if month == 1 or (c + month) % 3:
                rows.append([f"O{c}-{month}", f"C{c:03d}", f"客户{c}", f"2024-{month:02d}-{10 + c % 15:02d}",
                             f"{100 + c}.50"])
    return rows


def write_csv(path: Path, rows, header=HEADER, encoding="utf-8", delimiter=","):
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_lines(path: Path, lines: list[str]):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xlsx(path: Path, rows, header=HEADER, build=None):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "销售"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if build:
        build(sheet)
    book.save(path)
    return path


def run(tmp_path, capsys, sales, *options, output="report.xlsx", json_name="figures.json"):
    """The command as a user runs it; returns (exit code, stderr lines, figures or None)."""
    out = tmp_path / output if isinstance(output, str) else output
    argv = ["report", str(sales), "-o", str(out), "--as-of", AS_OF, "--quiet"]
    if json_name:
        argv += ["--json", str(tmp_path / json_name)]
    code = cli.main(argv + list(options))
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    figures = None
    if code == 0 and json_name:
        figures = json.loads((tmp_path / json_name).read_text(encoding="utf-8"),
                             parse_constant=lambda name: pytest.fail(f"not strict JSON: {name}"))
        openpyxl.load_workbook(out)  # the workbook opens
    return code, err, figures


def assert_one_line(code, err, expected_code, *words):
    assert code == expected_code, err
    assert len(err) == 1, err
    for word in words:
        assert word in err[0], err[0]


def excluded(figures, reason):
    return figures["accounting"]["excluded"][reason]


def no_leftovers(folder: Path):
    return [p.name for p in folder.iterdir() if "retention-xl" in p.name]


# --- output paths ------------------------------------------------------------------------


def test_json_naming_the_sales_file_is_refused_and_the_file_kept(tmp_path, capsys):
    sales = write_csv(tmp_path / "sales.csv", base_rows())
    before = sales.read_bytes()
    code, err, _ = run(tmp_path, capsys, sales, json_name="sales.csv")
    assert_one_line(code, err, 2, "overwrite the sales file")
    assert sales.read_bytes() == before


def test_report_naming_the_sales_workbook_is_refused(tmp_path, capsys):
    sales = write_xlsx(tmp_path / "sales.xlsx", base_rows())
    before = sales.read_bytes()
    code, err, _ = run(tmp_path, capsys, sales, output=tmp_path / "sales.xlsx", json_name=None)
    assert_one_line(code, err, 2, "overwrite the sales file")
    assert sales.read_bytes() == before


def test_json_and_report_the_same_file(tmp_path, capsys):
    sales = write_csv(tmp_path / "sales.csv", base_rows())
    code, err, _ = run(tmp_path, capsys, sales, json_name="report.xlsx")
    assert_one_line(code, err, 2, "same file")


def test_json_through_a_link_to_the_sales_file(tmp_path, capsys):
    sales = write_csv(tmp_path / "sales.csv", base_rows())
    os.symlink(sales, tmp_path / "link.json")
    code, err, _ = run(tmp_path, capsys, sales, json_name="link.json")
    assert_one_line(code, err, 2, "overwrite the sales file")
    assert (tmp_path / "link.json").is_symlink() and sales.read_text(encoding="utf-8").startswith("订单号")


def test_json_with_a_dotted_path_to_the_sales_file(tmp_path, capsys, monkeypatch):
    sales = write_csv(tmp_path / "sales.csv", base_rows())
    monkeypatch.chdir(tmp_path)
    code, err, _ = run(tmp_path, capsys, sales, json_name="./sub/../sales.csv")
    assert_one_line(code, err, 2, "overwrite the sales file")


def test_missing_output_folder_exits_3_before_reading(tmp_path, capsys):
    code, err, _ = run(tmp_path, capsys, tmp_path / "does-not-exist.csv", output=tmp_path / "no" / "r.xlsx",
                       json_name=None)
    assert_one_line(code, err, 3, "does not exist")


def test_output_that_is_a_folder_exits_3(tmp_path, capsys):
    sales = write_csv(tmp_path / "sales.csv", base_rows())
    (tmp_path / "out.xlsx").mkdir()
    code, err, _ = run(tmp_path, capsys, sales, output=tmp_path / "out.xlsx", json_name=None)
    assert_one_line(code, err, 3, "is a folder")


def test_report_that_is_not_xlsx(tmp_path, capsys):
    sales = write_csv(tmp_path / "sales.csv", base_rows())
    code, err, _ = run(tmp_path, capsys, sales, output="report.xls", json_name=None)
    assert_one_line(code, err, 2, ".xlsx")


# --- CSV lines ------------------------------------------------------------------------------


def test_many_lines_with_missing_fields_refuse_the_file(tmp_path, capsys):
    rows = base_rows(90)
    lines = [",".join(HEADER)] + [",".join(r[:-1]) if i % 4 == 0 else ",".join(r) for i, r in enumerate(rows)]
    code, err, _ = run(tmp_path, capsys, write_lines(tmp_path / "s.csv", lines))
    assert_one_line(code, err, 2, "do not have the header's 5 fields", "lines 2, 6, 10")


def test_one_line_with_a_missing_field_is_counted_with_its_line(tmp_path, capsys):
    rows = base_rows(60)
    lines = [",".join(HEADER)] + [",".join(r) for r in rows]
    lines[7] = ",".join(rows[6][:-1])
    code, err, figures = run(tmp_path, capsys, write_lines(tmp_path / "s.csv", lines))
    assert code == 0, err
    assert excluded(figures, "malformed_line") == {"count": 1, "example_rows": [8]}
    assert figures["accounting"]["rows_read"] == len(rows)


def test_an_extra_field_is_counted(tmp_path, capsys):
    rows = base_rows(60)
    lines = [",".join(HEADER)] + [",".join(r) for r in rows]
    lines[3] += ",surprise"
    code, err, figures = run(tmp_path, capsys, write_lines(tmp_path / "s.csv", lines))
    assert code == 0, err
    assert excluded(figures, "malformed_line") == {"count": 1, "example_rows": [4]}


def test_row_numbers_after_blank_and_broken_lines_are_physical_lines(tmp_path, capsys):
    rows = base_rows(60)
    lines = [",".join(HEADER)] + [",".join(r) for r in rows]
    lines.insert(3, "")                                   # line 4 is blank
    lines[6] = lines[6].replace("2024-", "20x4-")         # line 7 has a bad date
    code, err, figures = run(tmp_path, capsys, write_lines(tmp_path / "s.csv", lines))
    assert code == 0, err
    assert excluded(figures, "empty_row")["example_rows"] == [4]
    assert excluded(figures, "invalid_date")["example_rows"] == [7]


def test_a_huge_field_is_read(tmp_path, capsys):
    rows = base_rows()
    rows[0][2] = "备注" * 100_000
    code, err, figures = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows))
    assert code == 0, err
    assert figures["accounting"]["adjusted"]["text_cut"]["count"] == 1


# --- amounts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "-inf", "NaN", "1e400"])
def test_non_finite_amounts_are_set_aside(tmp_path, capsys, value):
    rows = base_rows()
    rows[0][4] = value
    code, err, figures = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows))
    assert code == 0, err
    assert excluded(figures, "non_finite_amount") == {"count": 1, "example_rows": [2]}


def test_decimal_comma_column(tmp_path, capsys):
    rows = base_rows()
    for row in rows:
        row[4] = row[4].replace(".", ",")                # 100,50
    rows[1][4] = "1.234,56"
    code, err, figures = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows, delimiter=";"), "--month", "2024-01",
                             "--window", "1")
    assert code == 0, err
    january = [r for r in rows if r[3].startswith("2024-01")]
    expected = sum(float(r[4].replace(".", "").replace(",", ".")) for r in january)
    assert figures["revenue"] == pytest.approx(expected)


def test_thousands_commas_stay_thousands(tmp_path, capsys):
    rows = base_rows()
    for row in rows:
        row[4] = "1,200"
    code, err, figures = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows), "--month", "2024-01", "--window", "1")
    assert code == 0, err
    assert figures["revenue"] == pytest.approx(1200 * 30)


def test_a_column_proving_both_decimal_marks_is_refused(tmp_path, capsys):
    rows = base_rows()
    rows[0][4], rows[1][4] = "123,45", "1,234.50"
    code, err, _ = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows))
    assert_one_line(code, err, 2, "--decimal", "column")


def test_decimal_option_decides(tmp_path, capsys):
    rows = base_rows()
    for row in rows:
        row[4] = "2,5"
    code, err, figures = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows, delimiter=";"), "--decimal", ",",
                             "--month", "2024-01", "--window", "1")
    assert code == 0, err
    assert figures["revenue"] == pytest.approx(2.5 * 30)


def test_every_row_a_return(tmp_path, capsys):
    rows = base_rows()
    for row in rows:
        row[4] = "-" + row[4]
    code, err, _ = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows))
    assert_one_line(code, err, 2)


def test_parentheses_are_returns(tmp_path, capsys):
    rows = base_rows()
    rows[0][4] = "(100.50)"
    code, err, figures = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows))
    assert code == 0, err
    assert figures["accounting"]["returns"] == 1


# --- dates ------------------------------------------------------------------------------------


def test_a_date_far_in_the_future_does_not_become_the_report_month(tmp_path, capsys):
    rows = base_rows()
    rows[0][3] = "2100-12-31"
    code, err, figures = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows))
    assert code == 0, err
    assert figures["month"] == "2024-02"  # the data end on 24 March: February is the last complete month
    assert figures["data_range"][1] == "2024-03-24"
    assert excluded(figures, "future_date") == {"count": 1, "example_rows": [2]}
    assert figures["accounting"]["as_of"] == AS_OF


def test_as_of_sets_aside_later_dates(tmp_path, capsys):
    rows = base_rows()
    code, err, figures = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows), "--as-of", "2024-02-29")
    assert code == 0, err
    assert figures["data_range"][1] == "2024-02-24"
    assert excluded(figures, "future_date")["count"] == sum(r[3].startswith("2024-03") for r in rows)


@pytest.mark.parametrize("value", ["0001-01-01", "1850-06-01", "2024-02-30", "9999-12-31 00:00"])
def test_dates_out_of_range_are_counted(tmp_path, capsys, value):
    rows = base_rows()
    rows[0][3] = value
    code, err, figures = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows), "--as-of", "9999-12-31")
    assert code == 0, err
    assert excluded(figures, "date_out_of_range") == {"count": 1, "example_rows": [2]}


@pytest.mark.parametrize("serial", [0, -5])
def test_excel_serial_zero_and_negative_are_out_of_range(tmp_path, capsys, serial):
    rows = base_rows()
    values = [[r[0], r[1], r[2], dt.datetime.fromisoformat(r[3]), float(r[4])] for r in rows]
    values[0][3] = serial

    def as_dates(sheet):
        for cell in sheet["D"][1:]:
            cell.number_format = "yyyy-mm-dd"

    code, err, figures = run(tmp_path, capsys, write_xlsx(tmp_path / "s.xlsx", values, build=as_dates))
    assert code == 0, err
    assert excluded(figures, "date_out_of_range") == {"count": 1, "example_rows": [2]}


def test_mixed_day_orders_are_refused(tmp_path, capsys):
    rows = base_rows()
    rows[0][3], rows[1][3] = "31/01/2024", "01/31/2024"
    code, err, _ = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows))
    assert_one_line(code, err, 2, "--dayfirst")


def _parquet(path, dates, rows):
    table = pa.table({"客户编号": [r[1] for r in rows], "订单日期": dates, "金额": [float(r[4]) for r in rows]})
    pq.write_table(table, path)
    return path


def test_parquet_dates_before_1677_are_out_of_range(tmp_path, capsys):
    rows = base_rows()
    stamps = [dt.datetime.fromisoformat(r[3]) for r in rows]
    stamps[0] = dt.datetime(1500, 1, 1)
    path = _parquet(tmp_path / "s.parquet", pa.array(stamps, pa.timestamp("us")), rows)
    code, err, figures = run(tmp_path, capsys, path)
    assert code == 0, err
    assert excluded(figures, "date_out_of_range")["count"] == 1


def test_parquet_dates_with_a_timezone_are_read_as_their_wall_clock(tmp_path, capsys):
    rows = base_rows()
    local = pd.to_datetime([r[3] for r in rows]).tz_localize("Asia/Shanghai")
    local = local.where(np.arange(len(local)) != 0, pd.Timestamp("2024-02-01 04:00", tz="Asia/Shanghai"))
    path = _parquet(tmp_path / "s.parquet", pa.array(local.tz_convert("UTC").tz_convert("Asia/Shanghai")), rows)
    code, err, figures = run(tmp_path, capsys, path, "--month", "2024-02", "--window", "1")
    assert code == 0, err
    # 2024-02-01 04:00 in Shanghai is still January in UTC: read as February, the shop's own clock.
    february = sum(float(r[4]) for r in rows[1:] if r[3].startswith("2024-02")) + float(rows[0][4])
    assert figures["revenue"] == pytest.approx(february)


# --- text -------------------------------------------------------------------------------------


def test_control_characters_in_ids_and_names(tmp_path, capsys):
    rows = base_rows()
    rows[0][2] = "bell\x07name"
    rows[3][2] = "\x1b[31mred\x1b[0m"
    rows[5][1] = rows[5][1] + "\x00"
    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({h: [r[i] for r in rows] for i, h in enumerate(HEADER)}), path)
    code, err, figures = run(tmp_path, capsys, path)
    assert code == 0, err
    assert figures["accounting"]["adjusted"]["control_characters"]["count"] == 3


def test_a_megabyte_name_is_cut_to_a_cell(tmp_path, capsys):
    rows = base_rows()
    rows[0][2] = "名" * 1_000_000
    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({h: [r[i] for r in rows] for i, h in enumerate(HEADER)}), path)
    code, err, figures = run(tmp_path, capsys, path)
    assert code == 0, err
    assert figures["accounting"]["adjusted"]["text_cut"] == {"count": 1, "example_rows": [1]}


def test_formula_looking_names_stay_text(tmp_path, capsys):
    rows = base_rows()
    for row in rows:
        if row[1] == "C000":
            row[2] = '=HYPERLINK("http://example.com","x")'
    code, err, _ = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows))
    assert code == 0, err
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    names = [c for row in book.worksheets[2].iter_rows() for c in row if c.value == rows[0][2]]
    assert names and all(c.data_type == "s" for c in names)


def test_ids_excel_turned_into_floats_are_one_customer(tmp_path, capsys):
    rows = [[r[0], 17850.0 if i % 2 else "17850", r[2], r[3], float(r[4])] for i, r in enumerate(base_rows(3))]
    code, err, figures = run(tmp_path, capsys, write_xlsx(tmp_path / "s.xlsx", rows))
    assert code == 0, err
    assert figures["customers"] == 1


# --- layout -------------------------------------------------------------------------------------


def test_empty_sheet(tmp_path, capsys):
    book = openpyxl.Workbook()
    book.save(tmp_path / "s.xlsx")
    code, err, _ = run(tmp_path, capsys, tmp_path / "s.xlsx")
    assert_one_line(code, err, 2, "empty")


def test_header_only(tmp_path, capsys):
    code, err, _ = run(tmp_path, capsys, write_xlsx(tmp_path / "s.xlsx", []))
    assert_one_line(code, err, 2, "no data rows")


def test_a_single_row(tmp_path, capsys):
    code, err, figures = run(tmp_path, capsys, write_xlsx(tmp_path / "s.xlsx", [["O1", "C1", "甲", "2024-03-05", 10]]),
                             "--window", "1", "--month", "2024-03")
    assert code == 0, err
    assert (figures["E"], figures["N"], figures["revenue"]) == (1, 1, 10)


def test_merged_title_and_hidden_rows(tmp_path, capsys):
    def build(sheet):
        sheet.insert_rows(1, 2)
        sheet["A1"] = "2024 年销售明细"
        sheet.merge_cells("A1:E1")
        sheet.row_dimensions[5].hidden = True

    rows = base_rows()
    code, err, figures = run(tmp_path, capsys, write_xlsx(tmp_path / "s.xlsx", rows, build=build))
    assert code == 0, err
    assert figures["accounting"]["rows_read"] == len(rows)


def test_duplicate_headers(tmp_path, capsys):
    rows = [r + [r[4]] for r in base_rows()]
    code, err, figures = run(tmp_path, capsys, write_xlsx(tmp_path / "s.xlsx", rows, header=HEADER + ["金额"]))
    assert code == 0 or (code == 2 and len(err) == 1), err


def test_a_pivot_table_layout_has_no_header(tmp_path, capsys):
    rows = [["华东", 100, 200, 300], ["华南", 50, 60, 70], ["总计", 150, 260, 370]]
    code, err, _ = run(tmp_path, capsys, write_xlsx(tmp_path / "s.xlsx", rows, header=["地区", "1月", "2月", "3月"]))
    assert_one_line(code, err, 2, "header")


def test_formulas_in_amount_cells_without_saved_values_are_not_used(tmp_path, capsys):
    rows = [[r[0], r[1], r[2], r[3], "=100+1"] for r in base_rows()]
    code, err, _ = run(tmp_path, capsys, write_xlsx(tmp_path / "s.xlsx", rows))
    assert_one_line(code, err, 2, "formula without value", "open the file in Excel, save it")


def test_a_few_formulas_without_values_are_counted_apart(tmp_path, capsys):
    rows = [[r[0], r[1], r[2], r[3], float(r[4])] for r in base_rows()]
    rows[2][4] = "=SUM(1,2)"
    code, err, figures = run(tmp_path, capsys, write_xlsx(tmp_path / "s.xlsx", rows))
    assert code == 0, err
    assert excluded(figures, "formula_without_value") == {"count": 1, "example_rows": [4]}
    assert excluded(figures, "invalid_amount")["count"] == 0


def test_a_sheet_claiming_every_cell_of_excel(tmp_path, capsys):
    import re
    import zipfile

    source = write_xlsx(tmp_path / "clean.xlsx", [[r[0], r[1], r[2], r[3], float(r[4])] for r in base_rows()])
    target = tmp_path / "huge.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data)
            new.writestr(info, data)
    code, err, figures = run(tmp_path, capsys, target)
    assert code == 0, err
    assert figures["accounting"]["rows_read"] == len(base_rows())


def with_a_far_cell(tmp_path, reference: str, in_first_row: bool) -> Path:
    """A clean 13 KB workbook plus one number at ``reference``, written inside the first row or in a row of its own."""
    import zipfile

    source = write_xlsx(tmp_path / "clean.xlsx", [[r[0], r[1], r[2], r[3], float(r[4])] for r in base_rows()])
    target = tmp_path / f"far_{reference}.xlsx"
    cell = f'<c r="{reference}" t="n"><v>1</v></c>'.encode()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                row = "".join(filter(str.isdigit, reference)).encode()
                data = data.replace(b"</row>", cell + b"</row>", 1) if in_first_row else \
                    data.replace(b"</sheetData>", b'<row r="' + row + b'">' + cell + b"</row></sheetData>")
            new.writestr(info, data)
    return target


def run_with_little_memory(tmp_path, sales: Path) -> subprocess.CompletedProcess:
    """The command in a process allowed 1.5 GiB of address space: a reader that allocates by address fails there
    instead of taking the machine down."""
    program = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (3 << 29, 3 << 29)); "
               "from retention_xl import cli; sys.exit(cli.main(sys.argv[1:]))")
    argv = [sys.executable, "-c", program, "report", str(sales), "-o", str(tmp_path / "r.xlsx"), "--as-of", AS_OF,
            "--quiet", "--json", str(tmp_path / "r.json")]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("reference, in_first_row", [("XFD1048576", True), ("ZZ900000", False)])
def test_a_cell_far_from_the_table_is_refused_without_allocating_its_grid(tmp_path, reference, in_first_row):
    sales = with_a_far_cell(tmp_path, reference, in_first_row)
    assert sales.stat().st_size < 20_000
    done = run_with_little_memory(tmp_path, sales)
    err = [line for line in done.stderr.splitlines() if line.strip()]
    assert_one_line(done.returncode, err, 2, f"its cells reach {reference}", "new sheet")


def test_a_stray_value_a_little_way_off_is_read(tmp_path):
    done = run_with_little_memory(tmp_path, with_a_far_cell(tmp_path, "AB2000", in_first_row=False))
    assert done.returncode == 0, done.stderr
    accounting = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["accounting"]
    assert accounting["rows_read"] == 1999  # rows 2 to 2000: the data, then empty rows down to the stray value
    assert accounting["excluded"]["empty_row"]["count"] == 1999 - len(base_rows())


def test_total_rows_are_counted(tmp_path, capsys):
    rows = base_rows() + [["", "合计", "", "", "9999"]]
    code, err, figures = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows))
    assert code == 0, err
    assert excluded(figures, "total_row")["count"] == 1


@pytest.mark.parametrize("encoding", ["gb18030", "big5"])
def test_chinese_encodings(tmp_path, capsys, encoding):
    rows = [[r[0], r[1], "王" + r[2][-1], r[3], r[4]] for r in base_rows()]
    header = ["订单号", "客户编号", "客户名称", "订单日期", "金额"] if encoding == "gb18030" else \
        ["訂單號", "客戶編號", "客戶名稱", "訂單日期", "金額"]
    code, err, figures = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", rows, header=header, encoding=encoding))
    assert code == 0, err
    assert figures["customers"] == 30


# --- every row counted once ----------------------------------------------------------------------


def pipeline_rows() -> list[list]:
    """Clean rows with a salesperson, one row in the middle and eight at the end holding only the salesperson."""
    rows = [r + [f"业务员{int(r[1][1:]) % 3}"] for r in base_rows()]
    rows.insert(4, ["", "", "", "", "", "业务员9"])
    return rows + [["", "", "", "", "", f"业务员{i}"] for i in range(8)]


@pytest.mark.parametrize("kind, engine", [("csv", "pandas"), ("csv", "duckdb"), ("xlsx", "pandas"),
                                          ("parquet", "pandas"), ("parquet", "duckdb")])
def test_a_row_holding_only_a_salesperson_is_a_row_missing_its_customer(tmp_path, capsys, kind, engine):
    rows, header = pipeline_rows(), HEADER + ["业务员"]
    if kind == "csv":
        sales = write_csv(tmp_path / "s.csv", rows, header=header)
    elif kind == "xlsx":
        sales = write_xlsx(tmp_path / "s.xlsx", [[value if value != "" else None for value in r] for r in rows],
                           header=header)
    else:
        sales = tmp_path / "s.parquet"
        pq.write_table(pa.table({name: [r[i] or None for r in rows] for i, name in enumerate(header)}), sales)
    code, err, figures = run(tmp_path, capsys, sales, "--engine", engine)
    assert code == 0, err
    assert figures["accounting"]["rows_read"] == len(rows)
    assert excluded(figures, "missing_customer")["count"] == 9
    assert excluded(figures, "empty_row")["count"] == 0


def test_blank_lines_ending_a_csv_file_are_not_rows_but_empty_records_are(tmp_path, capsys):
    rows = base_rows()
    path = write_csv(tmp_path / "s.csv", rows + [["", "", "", "", ""]])
    path.write_text(path.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    code, err, figures = run(tmp_path, capsys, path)
    assert code == 0, err
    assert figures["accounting"]["rows_read"] == len(rows) + 1
    assert excluded(figures, "empty_row") == {"count": 1, "example_rows": [len(rows) + 2]}


# --- the month covered ---------------------------------------------------------------------------


@pytest.mark.parametrize("language, words", [
    ("en", "The data end on 2017-12-30, one day before the month ends: the report covers 2017-11, the last "
           "complete month; use --month 2017-12 if December is complete."),
    ("zh-CN", "数据截止于 2017-12-30，距月末还有 1 天：本报告统计最后一个完整月份 2017-11；如 12 月的数据已完整，请用 --month 2017-12。"),
    ("zh-TW", "資料截至 2017-12-30，距月底還有 1 天：本報告統計最後一個完整月份 2017-11；如 12 月的資料已完整，請用 --month 2017-12。"),
])
def test_data_ending_a_day_before_the_month_ends_say_so(tmp_path, capsys, language, words):
    rows = [[f"O{c}-{m}", f"C{c:03d}", "", f"2017-{m:02d}-{10 + c:02d}", "100"] for c in range(20) for m in (10, 11)]
    rows.append(["O-last", "C001", "", "2017-12-30", "100"])
    sales = write_csv(tmp_path / "s.csv", rows)
    code = cli.main(["report", str(sales), "-o", str(tmp_path / "r.xlsx"), "--as-of", AS_OF, "--lang", language])
    out = capsys.readouterr().out
    assert code == 0
    assert "The data end on 2017-12-30, one day before the month ends" in out and "mid-month" not in out
    summary = openpyxl.load_workbook(tmp_path / "r.xlsx").worksheets[0]
    assert summary["A3"].value.startswith(words)


# --- files that are not sales files ----------------------------------------------------------------
# --- files that are not sales files ----------------------------------------------------------------


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (os.urandom(3000), "not"),
    (b"PK\x03\x04" + os.urandom(500), "workbook"),
])
def test_files_that_are_not_spreadsheets(tmp_path, capsys, content, words):
    path = tmp_path / "s.xlsx"
    path.write_bytes(content)
    code, err, _ = run(tmp_path, capsys, path)
    assert_one_line(code, err, 2, words)


def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as package:
        for name, data in members.items():
            package.writestr(name, data)
    return path


NUMBERS_PARTS = {"Index/Document.iwa": b"\x00\x01", "Metadata/Properties.plist": b"<plist/>", "preview.jpg": b"\xff"}


@pytest.mark.parametrize("name, members, words", [
    ("s.numbers", NUMBERS_PARTS, ["Apple Numbers", "File > Export To > Excel"]),
    ("s.xlsx", NUMBERS_PARTS, ["Apple Numbers", "File > Export To > Excel"]),
    ("s.xlsx", {"2024/sales.csv": b"a,b", "notes.txt": b"x"}, ["ZIP archive", '"2024/sales.csv"', "unpack it"]),
    ("s.xlsx", {"photo.jpg": b"\xff\xd8"}, ["ZIP archive", "save it as .xlsx"]),
])
def test_files_excel_cannot_read_get_advice_that_works(tmp_path, capsys, name, members, words):
    code, err, _ = run(tmp_path, capsys, zip_of(tmp_path / name, members))
    assert_one_line(code, err, 2, *words)
    assert "calamine" not in err[0] and "_rels" not in err[0]


@pytest.mark.parametrize("magic, kind", [(b"Rar!\x1a\x07\x00", "RAR"), (b"7z\xbc\xaf\x27\x1c", "7-Zip")])
def test_other_archives_renamed_xlsx_say_what_they_are(tmp_path, capsys, magic, kind):
    path = tmp_path / "s.xlsx"
    path.write_bytes(magic + bytes(200))
    code, err, _ = run(tmp_path, capsys, path)
    assert_one_line(code, err, 2, f"is a {kind} archive", "unpack it")


def test_missing_file_and_folder(tmp_path, capsys):
    code, err, _ = run(tmp_path, capsys, tmp_path / "missing.xlsx")
    assert_one_line(code, err, 2, "not found")
    code, err, _ = run(tmp_path, capsys, tmp_path)
    assert_one_line(code, err, 2, "folder")


def test_xml_entity_declarations_are_refused(tmp_path, capsys):
    import zipfile

    source = write_xlsx(tmp_path / "clean.xlsx", base_rows())
    target = tmp_path / "bomb.xlsx"
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>')
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = bomb.encode() + data.split(b"?>", 1)[-1]
            new.writestr(info, data)
    code, err, _ = run(tmp_path, capsys, target)
    assert_one_line(code, err, 2, "unsafe")


def test_parquet_text_that_is_not_utf8(tmp_path, capsys):
    rows = base_rows()
    table = pa.table({"客户编号": pa.array([r[1].encode("gb18030") + b"\xff" for r in rows], pa.binary()),
                      "订单日期": [r[3] for r in rows], "金额": [float(r[4]) for r in rows]})
    path = tmp_path / "s.parquet"
    pq.write_table(table, path)
    code, err, _ = run(tmp_path, capsys, path)
    assert_one_line(code, err, 2, "UTF-8")


# --- options ----------------------------------------------------------------------------------


@pytest.mark.parametrize("options, words", [
    (["--encoding", "no-such-codec"], "encoding"),
    (["--window", "abc"], "--window"),
    (["--as-of", "yesterday"], "--as-of"),
    (["--month", "March"], "2024-03"),
    (["--lang", "klingon"], "language"),
    (["--top", "0"], "key-account share"),
    (["--lapse-days", "-1"], "--lapse-days"),
    (["--window", "0"], "window"),
    (["--high", "0.2", "--low", "0.5"], "low"),
])
def test_bad_options_give_one_line(tmp_path, capsys, options, words):
    sales = write_csv(tmp_path / "s.csv", base_rows())
    code, err, _ = run(tmp_path, capsys, sales, *options)
    assert_one_line(code, err, 2, words)


def test_config_whose_columns_are_not_a_table(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('columns = "客户编号"\n', encoding="utf-8")
    code, err, _ = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", base_rows()), "--config", str(config))
    assert_one_line(code, err, 2, "columns")


def test_no_temporary_files_are_left(tmp_path, capsys):
    code, err, _ = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", base_rows()))
    assert code == 0, err
    assert no_leftovers(tmp_path) == []


@pytest.mark.libreoffice
@pytest.mark.slow
def test_a_report_from_hostile_rows_recalculates_in_libreoffice(tmp_path):
    from libreoffice import recalculated_values

    from retention_xl.report import ReadOptions, ReportOptions, create_report, write_workbook

    import io

    rows = base_rows(60)
    rows[0][2] = "bell\x07" + "名" * 40_000
    rows[1][4] = "inf"
    rows[2][3] = "2100-12-31"
    rows[3][3] = "0001-01-01"
    rows[4][1] = '=HYPERLINK("http://example.com","x")'
    rows[5][4] = "(12.50)"
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([HEADER] + rows)
    lines = text.getvalue().splitlines()
    lines.insert(5, "")
    lines[9] = lines[9].rsplit(",", 1)[0]
    sales = write_lines(tmp_path / "s.csv", lines)
    report = create_report(sales, tmp_path / "first.xlsx", ReportOptions(language="en"), read=ReadOptions(as_of=AS_OF))
    written = write_workbook(report, tmp_path / "r.xlsx")
    values = recalculated_values(tmp_path / "r.xlsx", tmp_path)
    for (sheet, cell), expected in written.expected.items():
        got = values[sheet].get(cell)
        if isinstance(expected, str):
            assert got == expected, (sheet, cell)
        else:
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-9), (sheet, cell)
    accounting = report.sales.accounting
    assert accounting.balances()
    assert accounting.exclusions["malformed_line"].count == 1
    assert accounting.adjustments["text_cut"].count == 1 and accounting.adjustments["control_characters"].count == 1


def test_the_report_is_an_ordinary_file_not_a_private_one(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        code, err, _ = run(tmp_path, capsys, write_csv(tmp_path / "s.csv", base_rows()))
    finally:
        os.umask(old)
    assert code == 0, err
    assert (tmp_path / "report.xlsx").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "figures.json").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
@pytest.mark.parametrize("lines, reason", [
    ("customer,date,amount\n合计,,100\n", "total row: 1"),
    ("customer,date,amount,customer_name\n,,,\n,,,\n", "empty row: 2"),
], ids=["total-row", "empty-rows"])
def test_a_file_without_a_filled_row_is_not_told_its_customer_column_is_empty(engine, lines, reason, tmp_path,
                                                                               capsys):
    """Only a total row, or only empty rows: no row has anything in it, so naming another customer column cannot
    help; the message says what the rows were."""
    sales = tmp_path / "sales.csv"
    sales.write_text(lines, encoding="utf-8")
    code, err, _ = run(tmp_path, capsys, sales, "--engine", engine)
    assert code == 2 and len(err) == 1, err
    assert reason in err[0] and "empty in every row" not in err[0] and "--customer" not in err[0]
