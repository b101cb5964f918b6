"""Sales from a folder or glob of Parquet files (Hive partitions too) or of CSV files, and the extras named when
missing."""

import json
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from compare import assert_close
from helpers.dependencies import has_spark

from retention_xl.read import sources
from retention_xl.table import spark_engine
from retention_xl.read.scan.duckdb_scan import scan_sales
from retention_xl.errors import InputError, UsageError
from retention_xl.read.reader import read_sales
from retention_xl.report import ReadOptions, ReportOptions, analyse, create_report
from retention_xl.engine_choice import scan_wanted

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_workbooks" / "sales_sample.xlsx"


def _figures(sales) -> dict:
    summary = analyse(sales, ReportOptions(clv=False)).summary()
    return {key: summary[key] for key in ("month", "S", "N", "E", "R", "L", "revenue", "cohorts", "stores",
                                          "pareto_share", "customers")}


def _sample_rows(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["订单号"] != "合计"]  # a total row says nothing about a store


def test_a_hive_partitioned_folder_gives_the_stores_of_its_folders(sample_sales, tmp_path, sample_rows_once):
    rows = _sample_rows(sample_rows_once)
    for store, part in rows.groupby("门店"):
        folder = tmp_path / "sales" / f"门店={store}"
        folder.mkdir(parents=True)
        for number, chunk in enumerate((part.iloc[: len(part) // 2], part.iloc[len(part) // 2:])):
            pq.write_table(pa.Table.from_pandas(chunk.drop(columns=["门店"]), preserve_index=False),
                           folder / f"part-{number}.parquet")
    (tmp_path / "sales" / "_SUCCESS").write_text("")  # a marker file that is not data
    from_folder = read_sales(tmp_path / "sales", as_of="2026-01-01")
    assert from_folder.accounting.rows_read == len(rows) and from_folder.accounting.balances()
    assert from_folder.provenance.columns["store"] == "门店"
    assert _figures(from_folder) == _figures(sample_sales)


def test_a_glob_of_files(sample_sales, tmp_path, sample_rows_once):
    rows = _sample_rows(sample_rows_once)
    for month, part in rows.groupby(pd.to_datetime(rows["订单日期"]).dt.to_period("M")):
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), tmp_path / f"sales-{month}.parquet")
    from_glob = read_sales(str(tmp_path / "sales-*.parquet"), as_of="2026-01-01")
    assert _figures(from_glob) == _figures(sample_sales)


@pytest.mark.slow  # a report from the folder by each engine, Spark included
def test_a_folder_of_csv_files_each_in_its_own_form(sample_sales, tmp_path, sample_rows_once):
    """Exports of several months: each file's encoding, separator and header row found on its own."""
    rows = _sample_rows(sample_rows_once)
    folder = tmp_path / "exports"
    folder.mkdir()
    forms = [("utf-8", ",", "门店销售导出,,\n"), ("gb18030", ";", ""), ("utf-8-sig", "\t", "")]
    months = list(rows.groupby(pd.to_datetime(rows["订单日期"]).dt.to_period("M")))
    for number, (month, part) in enumerate(months):
        encoding, separator, title = forms[number % len(forms)]
        text = title + part.to_csv(index=False, sep=separator)
        if number == 4:  # blank lines: this file is read line by line
            text = text.replace("\n", "\n\n", 3)
        with open(folder / f"sales-{month}.csv", "w", encoding=encoding, newline="") as handle:
            handle.write(text)
    from_folder = read_sales(folder, as_of="2026-01-01")
    assert from_folder.accounting.rows_read == len(rows) + 3 and from_folder.accounting.balances()
    assert _figures(from_folder) == _figures(sample_sales)
    assert scan_wanted(folder, "auto")  # CSV files are scanned by DuckDB, as Parquet files are
    summaries = {}
    engines = ("pandas", "auto") + (("spark",) if has_spark() else ())
    for engine in engines:
        output = tmp_path / f"{engine}.xlsx"
        report = create_report(folder, output, ReportOptions(engine=engine),
                               json_path=output.with_suffix(".json"), read=ReadOptions(as_of="2026-01-01"))
        summaries[engine] = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
        summaries[engine].pop("timings")
        assert any(stage.startswith("classify_") for stage in report.timings) or engine == "pandas"  # scanned
    assert summaries["auto"].pop("engine") == "duckdb" and summaries["pandas"].pop("engine") == "pandas"
    assert_close(summaries["auto"], summaries["pandas"])
    if "spark" in summaries:  # Spark's executors read the files written as Parquet under the CSV rules
        assert summaries["spark"].pop("engine") == "spark"
        assert_close(summaries["spark"], summaries["pandas"])
    assert report.current.retention == analyse(sample_sales.transactions).current.retention


@pytest.mark.slow  # read in memory, by DuckDB and by Spark
def test_csv_files_are_numbered_as_data_lines_across_the_files(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text("客户,日期,金额\nA,2024-01-02,10\nB,2024-01-03,x\n", encoding="utf-8")
    more = "".join(f"F{i},2024-02-{i % 28 + 1:02d},3\n" for i in range(150))  # one malformed line in 1% is allowed
    (folder / "b.csv").write_text("说明\n客户,日期,金额\nC,2024-02-02,5\nD,2024-02-03,1,2,3\nE,,7\n" + more,
                                  encoding="utf-8")
    (folder / "c.csv").write_text("客户,日期,金额\nG,2024-03-02,5\n" + more + "H,2024-03-03\n", encoding="utf-8")
    (folder / "d.csv").write_text("客户,日期,金额\nI,2024-03-04,y\n", encoding="utf-8")
    accounting = read_sales(folder, as_of="2026-01-01").accounting
    assert accounting.exclusions["invalid_amount"].example_rows == [2, 308]  # a.csv's second line, d.csv's first
    assert accounting.exclusions["malformed_line"].example_rows == [4, 307]  # b.csv's second, c.csv's last
    assert accounting.exclusions["malformed_line"].count == 2
    assert accounting.exclusions["invalid_date"].example_rows == [5]        # b.csv, its third data line
    assert accounting.balances()
    for spark in (False, True) if has_spark() else (False,):
        scanned = scan_sales(folder, as_of="2026-01-01", spark=spark)
        try:
            assert scanned.accounting.as_dict() == accounting.as_dict()
        finally:
            scanned.close()
    create_report(folder, tmp_path / "r.xlsx", ReportOptions(language="en", clv=False),
                  read=ReadOptions(as_of="2026-01-01"))
    definitions = openpyxl.load_workbook(tmp_path / "r.xlsx").worksheets[-1]
    notes = [cell.value for cell in definitions["A"] if isinstance(cell.value, str) and "several files" in cell.value]
    assert notes and "numbered across them in path order" in notes[0]


def test_csv_files_must_have_the_same_columns(tmp_path):
    (tmp_path / "a.csv").write_text("客户,日期,金额\nA,2024-01-02,10\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("客户,日期,金额,订单号\nC,2024-02-02,5,o1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"b\.csv.*are not those of a\.csv"):
        read_sales(str(tmp_path / "*.csv"))


def test_what_a_folder_or_glob_cannot_be(tmp_path):
    with pytest.raises(InputError, match="no files match"):
        read_sales(str(tmp_path / "nothing-*.parquet"))
    (tmp_path / "mixed").mkdir()
    pq.write_table(pa.table({"a": [1]}), tmp_path / "mixed" / "a.parquet")
    (tmp_path / "mixed" / "b.csv").write_text("a\n1\n")
    with pytest.raises(InputError, match="b.csv is not one"):
        read_sales(tmp_path / "mixed")
    (tmp_path / "workbooks").mkdir()
    (tmp_path / "workbooks" / "a.csv").write_text("a\n1\n")
    (tmp_path / "workbooks" / "b.xlsx").write_bytes(SAMPLE.read_bytes())
    with pytest.raises(InputError, match="b.xlsx is neither"):
        read_sales(tmp_path / "workbooks")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no files"):
        read_sales(tmp_path / "empty")


def test_a_missing_extra_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(UsageError, match=r"pip install 'retention-xl\[spark\]'"):
        spark_engine.session()
    monkeypatch.setitem(sys.modules, "adbc_driver_postgresql", None)
    with pytest.raises(UsageError, match=r"pip install 'retention-xl\[postgres\]'"):
        sources.read_postgres("postgresql://ana@db.example/shop", table="sales")


def test_passwords_never_shown():
    with pytest.raises(UsageError) as raised:
        sources.read_postgres("postgresql://ana:s3cret@db.example/shop", table="sales")
    assert "s3cret" not in str(raised.value) and "ana@db.example" in str(raised.value)
