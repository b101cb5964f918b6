"""The generated workbook, opened and recalculated by LibreOffice, and the command that makes it."""

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter
import pandas as pd
import pytest

from libreoffice import assert_saved_values_are_recalculated, recalculated_values
from retention_xl import report as report_module
from retention_xl.i18n import LANGUAGES, labels
from retention_xl.read.reader import read_sales
from retention_xl.report import ReadOptions, ReportOptions, analyse, create_report, write_workbook
from retention_xl.sample import sample_sales
from retention_xl.workbook import display_width

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_workbooks" / "sales_sample.xlsx"
ERROR_TEXTS = ("#DIV/0!", "#VALUE!", "#NUM!", "#N/A", "#NAME?", "#NULL!", "#REF!", "Err:")


@pytest.fixture(scope="module")
def sample_sales_data():
    return read_sales(SAMPLE)


def assert_recalculates_to_python(written, values):
    assert written.expected, "the workbook should contain formulas"
    for (sheet, cell), expected in written.expected.items():
        got = values[sheet].get(cell)
        if isinstance(expected, str):
            assert got == expected, (sheet, cell, got, expected)
        else:
            assert isinstance(got, (int, float)), (sheet, cell, got, expected)
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-9), (sheet, cell)


def assert_no_error_cells(values):
    for sheet, cells in values.items():
        for cell, value in cells.items():
            assert not (isinstance(value, str) and value.startswith(ERROR_TEXTS)), (sheet, cell, value)


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_formula_recalculates_in_libreoffice_to_the_python_value(sample_sales_data, language, tmp_path):
    report = analyse(sample_sales_data, ReportOptions(language=language))
    path = tmp_path / f"report-{language}.xlsx"
    written = write_workbook(report, path)
    values = recalculated_values(path, tmp_path)
    words = labels(language)
    sheets = ("summary", "cohorts", "customers", "classes", "stores", "actions", "definitions")  # the sample has stores
    assert list(values) == [words[f"sheet.{k}"] for k in sheets]
    assert_recalculates_to_python(written, values)
    assert_no_error_cells(values)
    assert len(written.expected) > 400  # KPI, trend, cohort, class formulas
    assert assert_saved_values_are_recalculated(path, values) == len(written.expected)  # what a preview shows


@pytest.mark.libreoffice
@pytest.mark.slow
def test_month_to_month_view_with_a_short_history(tmp_path):
    frame = sample_sales(seed=11, customers=80)
    transactions = pd.DataFrame({
        "customer_id": frame["会员号"], "customer_name": frame["会员姓名"], "date": frame["订单日期"],
        "amount": frame["金额"], "order_id": frame["订单号"],
    })
    report = analyse(transactions, ReportOptions(month="2023-03", active_window=1, language="en"))
    path = tmp_path / "short.xlsx"
    written = write_workbook(report, path)
    values = recalculated_values(path, tmp_path)
    assert_recalculates_to_python(written, values)
    assert_no_error_cells(values)
    assert assert_saved_values_are_recalculated(path, values) == len(written.expected)


@pytest.mark.libreoffice
@pytest.mark.slow
def test_text_from_the_data_never_becomes_a_formula(tmp_path):
    hostile = ['=HYPERLINK("http://example.com","click")', "+SUM(1,2)", "-1+1", "@cmd", "=1/0"]
    rows = []
    for index, name in enumerate(hostile):
        for month in (1, 2, 3):
            rows.append((name, name, pd.Timestamp(2024, month, 10 + index), 100.0 + index, f"o{index}{month}"))
    transactions = pd.DataFrame(rows, columns=["customer_id", "customer_name", "date", "amount", "order_id"])
    report = analyse(transactions, ReportOptions(language="en", active_window=1))
    path = tmp_path / "hostile.xlsx"
    write_workbook(report, path)

    sheet = openpyxl.load_workbook(path)[labels("en")["sheet.customers"]]
    written = {sheet.cell(row=r, column=1).value: sheet.cell(row=r, column=1).data_type for r in range(2, 2 + len(hostile))}
    assert written == {name: "s" for name in hostile}

    values = recalculated_values(path, tmp_path)[labels("en")["sheet.customers"]]
    ids = {values[f"A{r}"] for r in range(2, 2 + len(hostile))}
    names = {values[f"B{r}"] for r in range(2, 2 + len(hostile))}
    assert ids == set(hostile) and names == set(hostile)


def test_layout_for_managers(sample_sales_data, tmp_path):
    report = analyse(sample_sales_data, ReportOptions())
    path = tmp_path / "layout.xlsx"
    write_workbook(report, path)
    book = openpyxl.load_workbook(path)
    words = labels("zh-CN")
    customers = book[words["sheet.customers"]]
    assert customers.freeze_panes == "B2"
    assert customers.auto_filter.ref.startswith("A1:")
    assert customers.print_title_rows == "$1:$1"
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
    summary = book[words["sheet.summary"]]
    assert summary["A1"].font.name == "Microsoft YaHei"
    assert len(summary._charts) == 1 and len(book[words["sheet.cohorts"]]._charts) == 1
    assert book[words["sheet.cohorts"]].conditional_formatting
    # Columns are wide enough for their widest value (no ### in Excel).
    def shown(value):
        if isinstance(value, dt.datetime):
            return 10  # yyyy-mm-dd
        if isinstance(value, (int, float)):
            return len(f"{value:,.2f}")
        return display_width(value)

    for column in range(1, customers.max_column + 1):
        letter = get_column_letter(column)
        longest = max(shown(customers[f"{letter}{r}"].value) for r in range(2, 200))
        assert customers.column_dimensions[letter].width >= min(longest, 38), letter
    assert (book[words["sheet.actions"]]["A3"].value or "") != ""


def test_summary_columns_fit_large_amounts(sample_sales_data, tmp_path):
    transactions = sample_sales_data.transactions.assign(amount=sample_sales_data.transactions["amount"] * 10_000)
    report = analyse(transactions, ReportOptions(language="en"))
    path = tmp_path / "large.xlsx"
    written = write_workbook(report, path)
    summary = openpyxl.load_workbook(path)["Summary"]
    for (sheet, cell), value in written.expected.items():
        if sheet == "Summary" and isinstance(value, float):
            letter = "".join(ch for ch in cell if ch.isalpha())
            assert summary.column_dimensions[letter].width >= len(f"{value:,.2f}"), cell


def test_templates_define_the_same_words_in_every_language():
    keys = {language: set(labels(language)) for language in LANGUAGES}
    assert keys["zh-CN"] == keys["zh-TW"] == keys["en"]
    macros = {}
    for language in LANGUAGES:
        text = (REPO / "templates" / language / "actions.j2").read_text(encoding="utf-8")
        macros[language] = {line.split("macro ")[1].split("(")[0] for line in text.splitlines() if "{% macro" in line}
    assert macros["zh-CN"] == macros["zh-TW"] == macros["en"]


class TestWritingSafely:
    def test_a_failure_leaves_no_report_and_keeps_the_old_one(self, sample_sales_data, tmp_path, monkeypatch):
        report = analyse(sample_sales_data, ReportOptions())
        path = tmp_path / "report.xlsx"
        path.write_bytes(b"previous report")

        def broken(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr("retention_xl.workbook.write_report_workbook", broken)
        with pytest.raises(RuntimeError):
            write_workbook(report, path)
        assert path.read_bytes() == b"previous report"
        assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]

    def test_report_never_overwrites_the_sales_file(self, tmp_path):
        copy = tmp_path / "sales.xlsx"
        copy.write_bytes(SAMPLE.read_bytes())
        before = hashlib.sha256(copy.read_bytes()).hexdigest()
        with pytest.raises(report_module.UsageError):
            create_report(copy, copy)
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == before


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "retention_xl.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


class TestCommandLine:
    def test_report_and_json(self, tmp_path):
        sales = tmp_path / "sales.xlsx"
        sales.write_bytes(SAMPLE.read_bytes())
        before = hashlib.sha256(sales.read_bytes()).hexdigest()
        result = run_cli("report", sales, "-o", tmp_path / "out.xlsx", "--json", tmp_path / "out.json", "--lang", "zh-TW")
        assert result.returncode == 0, result.stderr
        assert "Wrote" in result.stdout
        summary = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
        assert summary["S"] - summary["L"] + summary["N"] + summary["R"] == summary["E"]
        assert summary["month"] == "2024-12" and summary["active_window"] == 12
        assert openpyxl.load_workbook(tmp_path / "out.xlsx").sheetnames[0] == labels("zh-TW")["sheet.summary"]
        assert hashlib.sha256(sales.read_bytes()).hexdigest() == before

    @pytest.mark.parametrize(
        "args, code, fragment",
        [
            (["report", "missing.xlsx", "-o", "out.xlsx"], 2, "missing.xlsx: file not found"),
            (["report", SAMPLE, "-o", "out.xlsx", "--month", "1999-01"], 2, "outside the data"),
            (["report", SAMPLE, "-o", "out.xlsx", "--lang", "fr"], 2, "unknown language"),
            (["report", SAMPLE, "-o", "no/such/folder/out.xlsx"], 3, "does not exist"),
            (["report", SAMPLE, "-o", "out.xlsx", "--sheet", "Nope"], 2, 'has no sheet "Nope"'),
            (["report", SAMPLE, "-o", "out.xlsx", "--window", "0"], 2, "active window"),
        ],
    )
    def test_errors_are_one_line_with_an_exit_code(self, tmp_path, args, code, fragment):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == code
        assert fragment in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "out.xlsx").exists()

    def test_config_file_maps_columns(self, tmp_path):
        sales = tmp_path / "odd.csv"
        sales.write_text("买家,成交时间,实付\nB1,2024-01-03,80\nB2,2024-01-05,45\nB1,2024-02-01,10\n", encoding="utf-8")
        config = tmp_path / "mapping.toml"
        config.write_text('language = "en"\nwindow = 1\n[columns]\ncustomer = "买家"\ndate = "成交时间"\namount = "实付"\n',
                          encoding="utf-8")
        result = run_cli("report", sales, "-o", tmp_path / "out.xlsx", "--config", config, "--month", "2024-02",
                         "--json", tmp_path / "s.json")
        assert result.returncode == 0, result.stderr
        summary = json.loads((tmp_path / "s.json").read_text())
        assert (summary["S"], summary["E"], summary["L"]) == (2, 1, 1)

    def test_unknown_config_setting(self, tmp_path):
        config = tmp_path / "c.json"
        config.write_text('{"colums": {}}', encoding="utf-8")
        result = run_cli("report", SAMPLE, "-o", tmp_path / "out.xlsx", "--config", config)
        assert result.returncode == 2 and "colums" in result.stderr


@pytest.mark.libreoffice
@pytest.mark.slow
def test_more_customers_than_a_sheet_holds(sample_sales_data, tmp_path, monkeypatch):
    monkeypatch.setattr("retention_xl.workbook.customers.EXCEL_MAX_ROWS", 101)  # a sheet of 100 data rows
    report = analyse(sample_sales_data, ReportOptions(language="en"))
    path = tmp_path / "truncated.xlsx"
    written = write_workbook(report, path)
    words = labels("en")
    book = openpyxl.load_workbook(path)
    assert book[words["sheet.customers"]].max_row == 101
    assert "Only the first 100 of 1,200 customers" in book[words["sheet.summary"]]["A3"].value
    assert "truncated_customers.parquet" in book[words["sheet.summary"]]["A3"].value
    everyone = pd.read_parquet(tmp_path / "truncated_customers.parquet")  # the whole table, beside the workbook
    assert everyone["customer_id"].tolist() == report.customers["customer_id"].tolist()
    link = next(c for c in book[words["sheet.customers"]][1] if c.hyperlink is not None)
    assert link.hyperlink.target == "truncated_customers.parquet"
    ids = [row[0].value for row in book[words["sheet.customers"]].iter_rows(min_row=2)]
    assert ids == everyone["customer_id"].head(100).tolist()  # the sheet keeps the top of the ranking
    values = recalculated_values(path, tmp_path)
    assert_recalculates_to_python(written, values)
    assert_no_error_cells(values)
    segments = report.segment_table()
    classes = values[words["sheet.classes"]]
    assert classes["B5"] == segments["customers"].iloc[0]  # all customers counted, not just those listed


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_configured_top_share_is_the_one_every_text_names(sample_sales_data, tmp_path, language):
    report = analyse(sample_sales_data, ReportOptions(language=language, top_fraction=0.1))
    path = tmp_path / "top.xlsx"
    write_workbook(report, path)
    book = openpyxl.load_workbook(path)
    texts = [cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, str)]
    comments = [cell.comment.text for row in book.worksheets[0].iter_rows() for cell in row if cell.comment]
    assert not [t for t in texts + comments if "20%" in t]
    assert any("10%" in t for t in texts) and any("10%" in t for t in comments)


def test_an_honest_default_window_on_a_short_history(tmp_path):
    """A year of data: the default window is the longest the data cover, and the Summary says so."""
    frame = sample_sales(seed=5, customers=120)
    transactions = pd.DataFrame({
        "customer_id": frame["会员号"], "customer_name": frame["会员姓名"], "date": frame["订单日期"],
        "amount": frame["金额"], "order_id": frame["订单号"],
    })
    first = transactions["date"].min()
    month = (first.to_period("M") + 7)
    report = analyse(transactions, ReportOptions(month=str(month), language="en"))
    assert report.options.active_window == 6 and report.window_reason == "covered"
    assert "longest of 12, 6, 3 and 1" in report.summary()["window_reason"]
    explicit = analyse(transactions, ReportOptions(month=str(month), active_window=12, language="en"))
    assert explicit.options.active_window == 12 and explicit.summary()["window_reason"] == "12 months, as given"
    assert [f.window_covered for f in explicit.trend][-1] is False

    path = tmp_path / "window.xlsx"
    write_workbook(explicit, path)
    summary = openpyxl.load_workbook(path)[labels("en")["sheet.summary"]]
    covered_column = [c for c in summary[26] if c.value == labels("en")["trend.window_covered"]][0].column
    chart_columns = range(covered_column + 1, covered_column + 3)
    for row in range(27, 27 + len(explicit.trend)):
        covered = summary.cell(row=row, column=covered_column).value == "✓"
        for column in chart_columns:  # the chart plots numbers only, and nothing for months not covered
            value = summary.cell(row=row, column=column).value
            assert (value is None) if not covered else (isinstance(value, str) and value.startswith("="))


def test_the_retention_chart_is_not_smoothed_or_clamped(sample_sales_data, tmp_path):
    import re
    import zipfile

    report = analyse(sample_sales_data, ReportOptions(language="en"))
    path = tmp_path / "chart.xlsx"
    write_workbook(report, path)
    with zipfile.ZipFile(path) as package:
        chart = next(package.read(n).decode() for n in package.namelist() if n.startswith("xl/charts/chart")
                     and "Retention" in package.read(n).decode())
    assert re.findall(r"<smooth val=\"(\d)\"", chart) == ["0", "0"]
    assert "<max " not in chart and 'dispBlanksAs val="gap"' in chart


def test_every_customer_as_csv_on_request(sample_sales_data, tmp_path):
    report = analyse(sample_sales_data, ReportOptions(customer_file="csv", clv=False))
    write_workbook(report, tmp_path / "report.xlsx")
    everyone = pd.read_csv(tmp_path / "report_customers.csv", encoding="utf-8-sig", dtype={"customer_id": str})
    assert everyone["customer_id"].tolist() == report.customers["customer_id"].tolist()
    assert everyone["customer_name"].tolist() == report.customers["customer_name"].tolist()  # Chinese intact
    assert report.summary()["customer_file"] == str(tmp_path / "report_customers.csv")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_progress_names_every_stage_of_the_computation(tmp_path):
    """Each stage that can take long on big data says so before it starts, in the order they run."""
    messages = []
    create_report(SAMPLE, tmp_path / "r.xlsx", ReportOptions(), progress=messages.append,
                  read=ReadOptions(as_of="2026-01-01"))
    stages = ["customer x month table", "month's figures", "customers…", "customer-value models", "each group",
              "Writing r.xlsx"]
    positions = [next((i for i, message in enumerate(messages) if stage in message), None) for stage in stages]
    assert None not in positions, messages
    assert positions == sorted(positions)
