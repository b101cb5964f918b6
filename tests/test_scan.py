"""DuckDB scanning Parquet out of core gives what the in-memory reader gives: the same rows used or set aside
for the same reasons, the same customer x month table, the same report."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compare import assert_close

from retention_xl.read import csv_parquet, csvfile
from retention_xl.read.scan.duckdb_scan import scan_sales
from retention_xl.table import numpy_builder
from retention_xl.errors import InputError
from retention_xl.read.scan.scan_columns import ScanUnsupported
from retention_xl.read.reader import read_sales
from retention_xl.report import ReadOptions, ReportOptions, create_report

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_workbooks" / "sales_sample.xlsx"
ONLINE_RETAIL = REPO.parent / "shared" / "data" / "online_retail_II_2009-2010.parquet"
AS_OF = "2026-01-01"

# Cells as messy sales exports hold them: each column draws from these.
IDS = ["A-01", " A-01 ", "Ａ-01", "17850", "17850.0", "", "   ", None, "合计", "Total", "bell\x07", "x" * 40000, "B7"]
NAMES = ["张三", "张三 ", None, "", "esc\x1b[1m", "Grand Total", "Li"]
TEXT_DATES = ["2024-03-05", "2024/3/6", "2024年3月7日", "2024-03-09 14:30:00", "45360", "0001-01-01",
              "2024-02-30", "soon", "", None, "2099-01-01", "1899-12-31", "合计", "2024-04-01", "20240311",
              "20241301", "9999年12月31日", "0001/01/01", "2024-03-12T10:00:00+08:00"]
TEXT_AMOUNTS = ["120", "¥1,200", "(35.5)", "-7", "0", "abc", None, "", "inf", "nan", "1e400", "１２０", "12.50"]
ORDERS = ["O1", " O1", "O1.0", "Ｏ1", "12.0", "12", None, "", "Total", "Sum", "订单7", "O2", "O3"]
STORES = ["东店", "西店", " 东店", None, "", "Store x"]
COSTS = ["60", "", None, "n/a", "(5)", "30.5"]


SPARK = pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow])


def _spark(engine: str) -> dict:
    """The scan's arguments for ``engine``: with ``spark``, Spark reads and classifies the rows."""
    return {"spark": True} if engine == "spark" else {}


def _same_reading(frame: pd.DataFrame, tmp_path: Path, name: str = "sales.parquet", **reading):
    """Both readers on ``frame`` written as ``name`` (Parquet, or CSV for a name ending in .csv)."""
    path = tmp_path / name
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return _same_reading_of(path, **reading)


def _same_reading_of(path: Path, spark: bool = False, **reading):
    """The in-memory reading of ``path``, after checking that the scan (with ``spark``, Spark's) reads it the same
    (or refuses it too). A scan may also decline a column type it does not read (ScanUnsupported): the report
    then reads the file in memory, so the in-memory reading is what the user gets."""
    try:
        in_memory = read_sales(path, as_of=AS_OF, **reading)
    except InputError as error:
        with pytest.raises((InputError, ScanUnsupported)) as scanned_error:
            scan_sales(path, as_of=AS_OF, spark=spark, **reading).close()
        assert type(scanned_error.value) in (type(error), ScanUnsupported)
        return None
    try:
        scanned = scan_sales(path, as_of=AS_OF, spark=spark, **reading)
    except ScanUnsupported:
        return in_memory
    try:
        assert (scanned.classified is not None) == spark  # Spark classified the rows, not DuckDB
        assert scanned.provenance.accounting.as_dict() == in_memory.accounting.as_dict()
        assert scanned.provenance.dayfirst == in_memory.provenance.dayfirst
        assert scanned.provenance.reading() == in_memory.provenance.reading()
        used = in_memory.transactions
        assert (scanned.first_date, scanned.last_date) == (used["date"].min(), used["date"].max())
        month = used["date"].max().to_period("M")
        expected = numpy_builder.build_customer_months(used, month)
        got = scanned.customer_months(month)
        pd.testing.assert_frame_equal(got.months, expected.months, check_exact=False, atol=0.005)
        for column in ("customer_id", "first_purchase_day"):
            assert got.customers[column].tolist() == expected.customers[column].tolist(), column
        assert [None if pd.isna(v) else v for v in got.customers["customer_name"]] == \
               [None if pd.isna(v) else v for v in expected.customers["customer_name"]]
        assert np.allclose(got.customers["first_day_amount"], expected.customers["first_day_amount"], atol=0.005)
    finally:
        scanned.close()
    return in_memory


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_eight_digit_dates_are_read_the_same(kind, tmp_path):
    days = [20240305, 20240306, 20241301, 18991231, 45360, 20240229, 20230229]
    frame = pd.DataFrame({"客户编号": [f"C{i % 3}" for i in range(28)], "订单日期": days * 4,
                          "金额": [10.0 + i for i in range(28)]})
    in_memory = _same_reading(frame, tmp_path, name=f"erp.{kind}")
    assert in_memory.provenance.reading()["dates"] == ["YYYYMMDD"]
    assert in_memory.accounting.exclusions["date_out_of_range"].count == 12


@pytest.mark.parametrize("engine", ["duckdb", SPARK])
@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_every_messy_cell_is_read_the_same(kind, engine, tmp_path):
    count = 400
    rng = np.random.default_rng(3)
    pick = lambda pool: [pool[i] for i in rng.integers(0, len(pool), count)]  # noqa: E731
    frame = pd.DataFrame({"会员号": pick(IDS), "姓名": pick(NAMES), "订单日期": pick(TEXT_DATES),
                          "金额": pick(TEXT_AMOUNTS), "订单号": pick(ORDERS), "门店": pick(STORES),
                          "成本": pick(COSTS)})
    frame.loc[count - 3:, :] = None  # blank rows at the end are rows too: counted as empty by both
    sales = _same_reading(frame, tmp_path, name=f"sales.{kind}", **_spark(engine))
    assert sales is not None and sum(e.count for e in sales.accounting.exclusions.values()) > 50


@pytest.mark.parametrize("engine", ["duckdb", SPARK])
@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_rows_filled_only_in_a_store_or_cost_are_counted_the_same(kind, engine, tmp_path):
    count = 60
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"会员号": [f"M{i}" for i in rng.integers(1, 20, count)],
                          "订单日期": [f"2024-0{m}-1{d}" for m, d in zip(rng.integers(1, 4, count), rng.integers(0, 9, count))],
                          "金额": [str(a) for a in rng.integers(10, 90, count)],
                          "门店": pick_from(rng, STORES, count), "成本": pick_from(rng, COSTS, count)})
    frame.loc[[7, count - 4, count - 3], ["会员号", "订单日期", "金额"]] = None
    frame.loc[[7, count - 4, count - 3], "门店"] = ["东店", "\u3000", "西店"]
    frame.loc[[7, count - 4, count - 3], "成本"] = [None, " 3 ", None]
    frame.loc[count - 2:, :] = None
    frame.loc[count - 2:, "门店"] = ["\u3000 ", ""]
    sales = _same_reading(frame, tmp_path, name=f"sales.{kind}", **_spark(engine))
    assert sales.accounting.rows_read == count
    assert sales.accounting.exclusions["missing_customer"].count == 3
    assert sales.accounting.exclusions["empty_row"].count == 2


def pick_from(rng, pool: list, count: int) -> list:
    return [pool[i] for i in rng.integers(0, len(pool), count)]


@pytest.mark.parametrize("engine", ["duckdb", SPARK])
@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_typed_columns_are_read_the_same(kind, engine, tmp_path):
    count = 300
    rng = np.random.default_rng(4)
    days = pd.to_datetime("2023-06-01") + pd.to_timedelta(rng.integers(0, 500, count), unit="D")
    stamps = pd.Series(days).where(rng.random(count) > 0.05)  # some missing
    stamps[:3] = [pd.Timestamp("1850-01-01"), pd.Timestamp("2100-01-01"), pd.Timestamp("1900-01-01")]
    amounts = np.round(rng.normal(80, 60, count), 2)
    amounts[:6] = [np.nan, np.inf, -np.inf, 0.0, np.nan, 5.0]
    ids = rng.integers(1, 60, count).astype(float)
    ids[10:13] = [np.nan, 7.5, 0.0]
    frame = pd.DataFrame({"Customer ID": ids, "InvoiceDate": stamps, "Amount": amounts,
                          "Invoice": rng.integers(1, 200, count), "Quantity": rng.integers(-2, 5, count),
                          "Unit cost": np.round(rng.uniform(1, 30, count), 2)})
    frame["Amount"] = frame["Amount"].astype(object).where(rng.random(count) > 0.03, None)
    _same_reading(frame.astype({"Amount": float}), tmp_path, name=f"typed.{kind}", **_spark(engine))


@pytest.mark.slow  # 25 random tables, each read in memory and scanned
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_random_messy_tables_are_read_the_same(tmp_path, data):
    count = data.draw(st.integers(1, 60))
    column = lambda pool: data.draw(st.lists(st.sampled_from(pool), min_size=count, max_size=count))  # noqa: E731
    frame = pd.DataFrame({"客户编号": column(IDS), "日期": column(TEXT_DATES), "金额": column(TEXT_AMOUNTS),
                          "单号": column(ORDERS), "门店": column(STORES)})
    kind = data.draw(st.sampled_from(["parquet", "csv"]))
    _same_reading(frame, tmp_path, name=f"case-{data.draw(st.integers(0, 10**9))}.{kind}")


@pytest.mark.parametrize("engine", ["duckdb", SPARK])
@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_ambiguous_dates_and_decimals_need_the_same_answer(kind, engine, tmp_path):
    spark = _spark(engine)
    dates = pd.DataFrame({"customer": ["a", "b"], "date": ["05/03/2024", "25/03/2024"], "amount": ["1", "2"]})
    assert _same_reading(dates, tmp_path, name=f"dmy.{kind}", **spark).provenance.dayfirst is True
    mixed = pd.DataFrame({"customer": ["a", "b"], "date": ["13/03/2024", "03/25/2024"], "amount": ["1", "2"]})
    assert _same_reading(mixed, tmp_path, name=f"mixed.{kind}", **spark) is None  # both refuse it
    commas = pd.DataFrame({"customer": ["a", "b"], "date": ["2024-03-01"] * 2, "amount": ["1.234,50", "123,45"]})
    _same_reading(commas, tmp_path, name=f"commas.{kind}", **spark)


def _spark_reads_as_duckdb(path: Path, **reading):
    """Spark's scan of ``path`` reads and counts every row as DuckDB's scan does (where the in-memory reader, which
    reads a folder with its first file's types, refuses the files): the same accounting, customers and table."""
    said = []
    scans = {"duckdb": scan_sales(path, as_of=AS_OF, **reading),
             "spark": scan_sales(path, as_of=AS_OF, progress=said.append, **_spark("spark"), **reading)}
    try:
        assert scans["spark"].classified is not None and not any("cannot read" in line for line in said), said
        duckdb, spark = scans["duckdb"], scans["spark"]
        assert spark.provenance.accounting.as_dict() == duckdb.provenance.accounting.as_dict()
        assert spark.customer_ids == duckdb.customer_ids
        month = duckdb.last_date.to_period("M")
        tables = [scan.customer_months(month) for scan in (duckdb, spark)]
        pd.testing.assert_frame_equal(tables[1].months, tables[0].months, check_exact=False, atol=0.005)
        pd.testing.assert_frame_equal(tables[1].customers, tables[0].customers, check_exact=False, atol=0.005)
        return duckdb.provenance.accounting
    finally:
        for scan in scans.values():
            scan.close()


@pytest.mark.spark
@pytest.mark.slow
def test_files_whose_columns_differ_in_type_are_read_by_spark_as_by_duckdb(tmp_path):
    """Exports of the same sales whose columns came out typed differently: DuckDB reads a column typed in one
    file and text in another as text, and whole numbers beside decimals as decimals; a column some files lack
    is empty there. Spark reads each kind of file on its own and gives the typed values as DuckDB writes
    them as text (``1e-05``, ``1e+20``, ``17850.0``), so every row is cleaned and counted as by DuckDB."""
    folder = tmp_path / "sales"
    folder.mkdir()
    pd.DataFrame({"customer": [17850, 17851, 42], "date": pd.to_datetime(["2024-01-05", "2024-02-06", "2024-02-07"]),
                  "amount": [10.0, 20.5, 1e-05], "order": [1, 2, 3]}).to_parquet(folder / "1.parquet", index=False)
    pd.DataFrame({"customer": ["17850.0", "A-01", "1e+20", "17851"], "date": ["2024-03-07", "7/3/2024", "soon", None],
                  "amount": ["¥1,200", "1e-05", "(3.5)", "12"], "order": [4.0, None, 6.5, 1e20]}
                 ).to_parquet(folder / "2.parquet", index=False)
    pd.DataFrame({"customer": np.array([1, 17850], dtype=np.int32), "date": pd.to_datetime(["2024-03-08"] * 2).date,
                  "amount": np.array([7, -2], dtype=np.int64)}).to_parquet(folder / "3.parquet", index=False)
    pd.DataFrame({"customer": [1e20, 17850.0], "date": pd.to_datetime(["2024-03-09", "2024-03-10"]),
                  "amount": np.array([1e20, 2.5], dtype=np.float32), "order": [7, 8]}
                 ).to_parquet(folder / "4.parquet", index=False)
    accounting = _spark_reads_as_duckdb(folder)
    assert accounting.rows_read == 11 and accounting.purchases >= 7


@pytest.mark.spark
@pytest.mark.slow
def test_a_mix_of_types_spark_would_widen_otherwise_is_cleaned_by_duckdb(tmp_path):
    """Decimals of two scales: DuckDB widens them to a decimal Spark has no rule to match, so DuckDB cleans the rows,
    says so, and Spark only aggregates them; the accounting is DuckDB's."""
    from decimal import Decimal

    folder = tmp_path / "sales"
    folder.mkdir()
    for name, places, amounts in (("1", 2, ["10.25", "3.50"]), ("2", 4, ["7.1250", "-1.0000"])):
        table = pa.table({"customer": ["a", "b"], "date": ["2024-01-05", "2024-02-06"],
                          "amount": pa.array([Decimal(a) for a in amounts], pa.decimal128(12, places))})
        pq.write_table(table, folder / f"{name}.parquet")
    said = []
    scanned = scan_sales(folder, as_of=AS_OF, progress=said.append, **_spark("spark"))
    try:
        assert scanned.classified is None
        assert [line for line in said if "cannot read" in line] == [
            "Spark cannot read these files as DuckDB does (the column amount is decimal(12,2) in some files and "
            "DECIMAL(14,4) as DuckDB reads them all): DuckDB cleans the rows, Spark aggregates them…"]
        by_duckdb = scan_sales(folder, as_of=AS_OF)
        assert scanned.provenance.accounting.as_dict() == by_duckdb.provenance.accounting.as_dict()
        assert (scanned.provenance.accounting.purchases, scanned.provenance.accounting.returns) == (3, 1)
        by_duckdb.close()
    finally:
        scanned.close()


@pytest.mark.parametrize("engine", ["duckdb", SPARK])
def test_files_whose_columns_differ_in_type_are_read_as_in_memory(engine, tmp_path):
    """Where the in-memory reader reads such files too (text in the first file), every scan reads them as it does."""
    folder = tmp_path / "sales"
    folder.mkdir()
    pd.DataFrame({"customer": ["a", "b"], "date": ["2024-01-05", "2024-02-06"], "amount": ["10", "(2.5)"]}
                 ).to_parquet(folder / "1.parquet", index=False)
    pd.DataFrame({"customer": ["a", "c"], "date": pd.to_datetime(["2024-03-07", "2024-03-08"]),
                  "amount": [7.25, 3.0]}).to_parquet(folder / "2.parquet", index=False)
    _same_reading_of(folder, **_spark(engine))


@pytest.mark.spark
@pytest.mark.slow
def test_a_stray_text_value_in_one_csv_file_is_read_the_same_by_spark(tmp_path):
    """A folder of CSV exports where one file's amounts hold a word: that file's amounts are text, the others'
    numbers, and Spark still reads, cleans and counts every row as the in-memory reader does."""
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "jan.csv").write_text("customer,date,amount\nA,2024-01-05,10.5\nB,2024-01-06,0.00001\n", encoding="utf-8")
    (folder / "feb.csv").write_text("customer,date,amount\nA,2024-02-05,twelve\nC,2024-02-06,1e5\n", encoding="utf-8")
    assert _spark_reads_as_duckdb(folder).purchases == 3
    assert _same_reading_of(folder).accounting.purchases == 3


@pytest.mark.spark
@pytest.mark.slow
def test_a_file_gone_while_spark_reads_is_one_line_and_leaves_nothing(tmp_path):
    """Spark listed the files, then one is removed before its executors read it: one line naming the failure,
    and the scan's temporary folder is gone."""
    from retention_xl.errors import EngineError

    folder = tmp_path / "sales"
    folder.mkdir()
    frame = pd.DataFrame({"customer": ["a", "b"], "date": ["2024-01-05", "2024-02-06"], "amount": [10.0, 20.5]})
    frame[:1].to_parquet(folder / "1.parquet", index=False)
    frame[1:].to_parquet(folder / "2.parquet", index=False)

    def remove_a_file(line):
        if line.startswith("Spark: reading and classifying"):
            (folder / "2.parquet").unlink()

    spill = tmp_path / "spill"
    spill.mkdir()
    with pytest.raises(EngineError, match=r"^Spark failed reading and cleaning the rows: .+\(Java's log: ") as error:
        scan_sales(folder, as_of=AS_OF, spark=True, progress=remove_a_file, spill_dir=str(spill))
    assert "\n" not in str(error.value) and list(spill.iterdir()) == []


@pytest.mark.slow
def test_a_table_larger_than_memory_allows_stays_in_duckdb_with_the_same_figures(tmp_path, monkeypatch,
                                                                                  sample_rows_once):
    """Where the customer x month table outgrows what the machine can hold, DuckDB keeps it and computes the
    figures from it, as the fetch passes the memory available, and says so: every cell of the workbook is
    the one computed in memory, and no temporary files are left."""
    import tempfile

    from retention_xl.read.scan import scanned_tables

    path = tmp_path / "sample.parquet"
    sample_rows_once.to_parquet(path, index=False)
    spill = tmp_path / "tmp"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    said = []
    monkeypatch.setattr(scanned_tables, "available_memory", lambda: 20_000)  # room for a table of 10,000 bytes
    create_report(path, tmp_path / "engine.xlsx", ReportOptions(engine="duckdb", language="en"),
                  progress=said.append, read=ReadOptions(as_of=AS_OF))
    assert [line for line in said if "does not fit in memory" in line] == [
        "the customer x month table does not fit in memory: it passed 4,933 customer-months (0.0 GiB) with 0.0 GiB "
        "available, and the report would hold about 2× the table: DuckDB keeps the table and computes the figures "
        "from it…"]
    assert list(spill.iterdir()) == []
    monkeypatch.setattr(scanned_tables, "available_memory", lambda: 2**30)  # the same table fits in a gigabyte
    said.clear()
    create_report(path, tmp_path / "memory.xlsx", ReportOptions(engine="duckdb", language="en"),
                  progress=said.append, read=ReadOptions(as_of=AS_OF))
    assert not any("does not fit" in line for line in said)
    assert_close(_cell_values(tmp_path / "engine.xlsx"), _cell_values(tmp_path / "memory.xlsx"))


@pytest.mark.parametrize("case", ["empty-at-first", "text-further-on", "malformed-further-on"])
def test_a_csv_file_read_a_block_at_a_time_is_read_the_same(case, tmp_path, monkeypatch):
    """Arrow reads a CSV file in blocks and guesses the types from the first: a column empty there, a number
    column with text further on, a line with too many fields far down all give what the in-memory reader gives,
    written as Parquet a chunk at a time."""
    monkeypatch.setattr(csvfile, "ARROW_BLOCK_BYTES", 1 << 12)
    monkeypatch.setattr(csv_parquet, "PARQUET_CHUNK_ROWS", 300)
    count = 2000
    rng = np.random.default_rng(5)
    days = pd.to_datetime("2023-06-01") + pd.to_timedelta(rng.integers(0, 500, count), unit="D")
    frame = pd.DataFrame({"客户": [f"C{i}" for i in rng.integers(1, 80, count)], "日期": days.strftime("%Y-%m-%d"),
                          "金额": np.round(rng.normal(80, 60, count), 2).astype(object),
                          "成本": np.round(rng.uniform(1, 30, count), 2).astype(object)})
    frame.loc[:400, "成本"] = None
    if case == "text-further-on":
        frame.loc[1500, "金额"] = "¥1,200"
    text = frame.to_csv(index=False)
    if case == "malformed-further-on":
        lines = text.splitlines(keepends=True)
        lines[1800] = lines[1800].rstrip("\n") + ",extra\n"  # line 1801
        text = "".join(lines)
    path = tmp_path / "blocks.csv"
    path.write_text(text, encoding="utf-8")
    sales = _same_reading_of(path)
    assert sales.accounting.rows_read == count and sales.accounting.purchases > 1500

    written = csv_parquet.csv_as_parquet([path], {}, None, tmp_path, lone_file=True)
    types = {field.name: str(field.type) for field in pq.read_schema(written.files[0])}
    assert pq.ParquetFile(written.files[0]).metadata.num_rows == count - (case == "malformed-further-on")
    expected = {"empty-at-first": {"金额": "double", "成本": "string"},
                "text-further-on": {"金额": "string", "成本": "string"},  # read again, all as text
                "malformed-further-on": {"金额": "string", "成本": "string"}}[case]  # read line by line
    assert {name: types[name] for name in expected} == expected
    assert written.malformed_lines == ([1801] if case == "malformed-further-on" else [])


@pytest.mark.parametrize("source, engine", [(source, "duckdb") for source in
                                            ("sample", "hive-folder")] +
                         [pytest.param(source, "duckdb", marks=pytest.mark.slow)  # the real data: seconds each
                          for source in ("online-retail", "online-retail-csv")] +
                         [pytest.param(source, "spark", marks=[pytest.mark.spark, pytest.mark.slow])
                          for source in ("online-retail", "online-retail-csv", "hive-folder")] +
                         [(source, "duckdb-in-engine") for source in ("sample", "hive-folder")] +
                         [pytest.param("online-retail", "duckdb-in-engine", marks=pytest.mark.slow)] +
                         [pytest.param("online-retail", "spark-in-engine",
                                       marks=[pytest.mark.spark, pytest.mark.slow])])
def test_the_reports_are_identical(source, engine, tmp_path, sample_rows_once):
    """The report from the scan (``-in-engine``: with every figure computed inside DuckDB) is the one computed
    in memory."""
    if source.startswith("online-retail"):
        if not ONLINE_RETAIL.exists():
            pytest.skip(f"{ONLINE_RETAIL} is not here")
        path = ONLINE_RETAIL
        if source.endswith("csv"):
            import pyarrow.csv as pacsv

            path = tmp_path / "online_retail.csv"
            pacsv.write_csv(pq.read_table(ONLINE_RETAIL), path)
    else:
        rows = sample_rows_once
        path = tmp_path / "sample.parquet"
        rows.to_parquet(path, index=False)
        if source == "hive-folder":
            path = tmp_path / "by_store"
            for store, part in rows[rows["门店"].notna()].groupby("门店"):
                (path / f"门店={store}").mkdir(parents=True)
                part.drop(columns="门店").to_parquet(path / f"门店={store}" / "part-0.parquet", index=False)
    summaries = {}
    for name in ("pandas", engine):
        output = tmp_path / f"{name}.xlsx"
        report = create_report(path, output, ReportOptions(engine=name.split("-")[0],
                                                           figures_in_engine=name.endswith("-in-engine")),
                               json_path=output.with_suffix(".json"), read=ReadOptions(as_of=AS_OF))
        summaries[name] = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
        summaries[name].pop("timings")
        assert summaries[name].pop("engine") == name.split("-")[0]
        if name != "pandas":
            assert any(stage.startswith("classify_") for stage in report.timings)  # scanned, not read into memory
    assert_close(summaries[engine], summaries["pandas"])


def test_auto_scans_folders_and_large_files_only(tmp_path, monkeypatch):
    from retention_xl import engine_choice

    rows = pd.DataFrame({"customer": ["a", "b"], "date": pd.to_datetime(["2024-03-01", "2024-03-02"]),
                         "amount": [1.0, 2.0]})
    rows.to_parquet(tmp_path / "small.parquet")
    assert not engine_choice.scan_wanted(tmp_path / "small.parquet", "auto")
    assert engine_choice.scan_wanted(tmp_path / "small.parquet", "duckdb")
    assert engine_choice.scan_wanted(tmp_path, "auto")
    assert engine_choice.scan_wanted(Path(str(tmp_path / "*.parquet")), "auto")
    rows.to_csv(tmp_path / "small.csv", index=False)
    assert not engine_choice.scan_wanted(tmp_path / "small.csv", "auto")
    assert engine_choice.scan_wanted(tmp_path / "small.csv", "duckdb")
    assert not engine_choice.scan_wanted(SAMPLE, "duckdb")  # a workbook is read in memory
    monkeypatch.setattr(engine_choice, "AUTO_SCAN_ROWS", 1)
    assert engine_choice.scan_wanted(tmp_path / "small.parquet", "auto")
    assert engine_choice.scan_wanted(tmp_path / "small.csv", "auto")


def test_the_lines_of_a_large_csv_file_are_estimated_from_its_first_megabyte(tmp_path):
    lines = "".join(f"C{i % 997},2024-01-{i % 28 + 1:02d},{i % 500}.5\n" for i in range(300_000))
    (tmp_path / "big.csv").write_text("客户,日期,金额\n" + lines, encoding="utf-8")
    assert abs(csvfile.estimated_rows(tmp_path / "big.csv") - 300_001) < 3_000
    (tmp_path / "small.csv").write_text("客户,日期,金额\nA,2024-01-02,3\n", encoding="utf-8")
    assert csvfile.estimated_rows(tmp_path / "small.csv") == 2


def test_a_column_the_scan_cannot_read_falls_back_to_memory(tmp_path):
    rows = pd.DataFrame({"customer": ["a", "b"], "amount": [1.0, 2.0],
                         "date": pd.to_datetime(["2024-03-01 23:30", "2024-03-02 00:00"]).tz_localize("Asia/Shanghai")})
    rows.to_parquet(tmp_path / "zoned.parquet")
    options = ReportOptions(engine="duckdb", clv=False, month="2024-03")
    report = create_report(tmp_path / "zoned.parquet", tmp_path / "r.xlsx", options, read=ReadOptions(as_of=AS_OF))
    assert not any(stage.startswith("classify") for stage in report.timings)  # read in memory
    assert [report.first_date, report.last_date] == list(pd.to_datetime(["2024-03-01 23:30", "2024-03-02 00:00"]))


def test_a_memory_limit_is_a_size(tmp_path):
    result = subprocess.run([sys.executable, "-m", "retention_xl.cli", "report", SAMPLE, "-o", tmp_path / "r.xlsx",
                             "--memory-limit", "lots"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "4GB" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("arguments, message", [
    (["--figures-in-engine"], "--figures-in-engine works on sales DuckDB scans (Parquet or CSV files, folders, globs "
                              "and databases); sales_sample.xlsx is read in memory"),
    (["--figures-in-engine", "--engine", "pandas"], "--figures-in-engine needs an engine that keeps the table"),
])
def test_figures_in_the_engine_need_a_scan(tmp_path, arguments, message):
    """Asked for where the rows are read in memory, the figures in the engine are one line and exit 2, before
    anything is written."""
    result = subprocess.run([sys.executable, "-m", "retention_xl.cli", "report", SAMPLE, "-o", tmp_path / "r.xlsx",
                             *arguments], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_store_figures_built_from_the_window_alone_equal_those_of_the_whole_history(tmp_path):
    """The scan builds a store's table for the active window only; what lies before must not change a figure."""
    def sale(customer, store, day, amount, order):
        return {"会员": customer, "门店": store, "日期": pd.Timestamp(day), "金额": amount, "单号": order}

    rows = [
        sale("a", "东店", "2023-01-05", 100.0, "o1"),   # a's first purchase, long before the window
        sale("a", "东店", "2024-06-03", 50.0, "o2"),
        sale("a", "西店", "2024-06-04", 20.0, "o3"),    # a buys at two stores in the month
        sale("b", "东店", "2024-02-27", 30.0, "o4"),    # an order begun before the window ...
        sale("b", "东店", "2024-04-02", 30.0, "o4"),    # ... and finished in it: not a new order there
        sale("b", "东店", "2024-06-10", 10.0, "o5"),
        sale("c", "北店", "2023-03-01", 80.0, "o6"),    # a store whose sales all precede the window
        sale("d", "南店", "2023-05-01", -15.0, "o7"),   # a store with a return only, before the window
        sale("e", "西店", "2024-05-20", 60.0, "o8"),
        sale("e", "西店", "2024-06-20", -60.0, "o9"),
        sale("f", "东店", "2024-06-21", 40.0, "o10"),   # new at 东店 in the month
        sale("g", None, "2024-05-02", 25.0, "o11"),     # rows without a store only ...
        sale("g", None, "2024-06-02", 35.0, "o12"),
        sale("h", None, "2024-04-12", 45.0, "o13"),     # ... and some rows without one, some at a store
        sale("h", "北店", "2024-06-12", 55.0, "o14"),
    ]
    path = tmp_path / "stores.parquet"
    pd.DataFrame(rows).to_parquet(path, index=False)
    stores = {}
    for engine in ("pandas", "duckdb"):
        output = tmp_path / f"{engine}.xlsx"
        create_report(path, output, ReportOptions(engine=engine, month="2024-06", active_window=3),
                      json_path=output.with_suffix(".json"), read=ReadOptions(as_of=AS_OF))
        stores[engine] = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))["stores"]
    assert_close(stores["duckdb"], stores["pandas"])
    assert set(stores["duckdb"]) == {"东店", "西店", "北店", "南店", ""}
    assert stores["duckdb"]["北店"]["S"] == 0 and stores["duckdb"]["东店"]["orders"] == 3
    assert stores["duckdb"][""]["E"] == 2 and stores["duckdb"]["北店"]["N"] == 1


def test_an_error_elsewhere_stops_the_group_tables_at_once(monkeypatch):
    """The stores' figures are computed in the background; a failure (or Ctrl-C) must not wait for them."""
    import threading
    import time

    from retention_xl.figures import month as analysis
    from retention_xl.pipeline import analyse
    from retention_xl.read.sales import SalesData

    stopped = threading.Event()

    class SlowGroups(SalesData):
        computes_beside = True  # as an engine's groups are

        def group_tables(self, role, until, window, chain):  # an engine's long query, which only stop() ends
            stopped.wait(timeout=60)
            return iter(())

        def stop(self):
            stopped.set()

    def failing_trend(*args, **kwargs):
        raise RuntimeError("failed while the groups were computed")

    sales = read_sales(SAMPLE, as_of=AS_OF)
    monkeypatch.setattr(analysis, "trend", failing_trend)
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="failed while"):
        analyse(SlowGroups(sales.transactions, sales.provenance), ReportOptions(month="2024-12", clv=False))
    assert stopped.is_set() and time.perf_counter() - started < 10


def test_a_stopped_scan_makes_no_more_group_tables(tmp_path):
    rows = pd.DataFrame({"customer": ["a", "b"], "date": pd.to_datetime(["2024-03-01", "2024-03-02"]),
                         "amount": [1.0, 2.0], "store": ["x", "y"]})
    rows.to_parquet(tmp_path / "s.parquet")
    scanned = scan_sales(tmp_path / "s.parquet", as_of=AS_OF)
    try:
        table = scanned.customer_months(pd.Period("2024-03", "M"))
        assert len(list(scanned.group_tables("store", pd.Period("2024-03", "M"), 3, table))) == 2
        scanned.stop()
        with pytest.raises(InterruptedError):
            list(scanned.group_tables("store", pd.Period("2024-03", "M"), 3, table))
    finally:
        scanned.close()


def test_after_the_table_duckdb_keeps_a_sixth_of_its_memory_and_the_groups_still_build(tmp_path):
    """Once Python holds the customer x month table, DuckDB's limit shrinks, so the two do not each
    take the whole limit; the stores' tables are still built from the scanned rows."""
    rows = pd.DataFrame({"customer": ["a", "b", "a"], "date": pd.to_datetime(["2024-02-01", "2024-03-02", "2024-03-05"]),
                         "amount": [1.0, 2.0, 3.0], "store": ["x", "y", "y"]})
    rows.to_parquet(tmp_path / "s.parquet")
    scanned = scan_sales(tmp_path / "s.parquet", as_of=AS_OF, memory="3GB")
    try:
        table = scanned.customer_months(pd.Period("2024-03", "M"))
        assert table.months["purchases"].sum() == 6.0
        limit, = scanned.connection.execute("SELECT current_setting('memory_limit')").fetchone()
        assert limit == "476.0 MiB"  # a sixth of 3 GB, in whole MiB
        stores = dict(scanned.group_tables("store", pd.Period("2024-03", "M"), 1, table))
        assert sorted(stores) == ["x", "y"] and stores["y"].months["purchases"].sum() == 5.0
    finally:
        scanned.close()


def test_a_share_smaller_than_what_duckdb_holds_shrinks_it_only_as_far_as_it_can(tmp_path):
    """At 100M rows DuckDB held more than a sixth of the limit while handing the table over; here the share
    is smaller than what it holds at a few hundred thousand rows, and the table and the stores' still come."""
    count = 300_000
    rng = np.random.default_rng(6)
    rows = pd.DataFrame({"customer": rng.integers(0, count // 2, count).astype(str),
                         "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, count), unit="D"),
                         "amount": np.round(rng.uniform(1, 100, count), 2), "store": rng.choice(["x", "y"], count)})
    rows.to_parquet(tmp_path / "s.parquet")
    scanned = scan_sales(tmp_path / "s.parquet", as_of=AS_OF, memory="2GB")
    scanned.memory_after_table = "8MB"
    try:
        table = scanned.customer_months(pd.Period("2024-03", "M"))
        assert table.months["purchases"].sum() == pytest.approx(rows["amount"].sum())
        limit, = scanned.connection.execute("SELECT current_setting('memory_limit')").fetchone()
        number, unit = limit.split()
        assert unit == "MiB" and 8e6 / 2**20 < float(number) < 1000  # what DuckDB held then: less than 2GB
        stores = dict(scanned.group_tables("store", pd.Period("2024-03", "M"), 1, table))
        assert sorted(stores) == ["x", "y"]
    finally:
        scanned.close()


def test_group_rows_are_taken_a_run_of_keys_at_a_time_across_fetches(monkeypatch):
    """The stores' rows come from DuckDB in chunks; a group whose rows span chunks gets all of them, once."""
    import duckdb

    from retention_xl.read.scan.scan_fetch import Chunks

    monkeypatch.setattr(Chunks, "CHUNK_VECTORS", 1)  # 2,048 rows a fetch
    connection = duckdb.connect()
    result = connection.execute("SELECT (range // 1000)::BIGINT AS key, range AS value FROM range(7000) ORDER BY 1, 2")
    chunks = Chunks(result)
    taken = [chunks.until(last) for last in (0, 2, 2, 5, 9)]
    assert [len(part) for part in taken] == [1000, 2000, 0, 3000, 1000]
    assert np.concatenate([part["value"].to_numpy() for part in taken]).tolist() == list(range(7000))


def test_a_result_fetched_a_chunk_at_a_time_is_the_whole_result():
    """The customer x month table comes over in chunks; joined, they are the result as one fetch gives it."""
    import duckdb

    from retention_xl.read.scan.scan_fetch import fetched

    connection = duckdb.connect()
    query = "SELECT range::INTEGER AS customer, range * 0.5 AS amount FROM range(5000) ORDER BY 1"
    chunked = fetched(connection.execute(query), vectors=1)  # 2,048 rows a fetch: three fetches
    pd.testing.assert_frame_equal(chunked, connection.execute(query).df())
    empty = fetched(connection.execute(f"{query} LIMIT 0"))
    assert empty.empty and list(empty.columns) == ["customer", "amount"]


def _cell_values(path: Path) -> list:
    """Every cell's value, sheet by sheet; the minute the workbook was written left out."""
    import re

    import openpyxl

    def value(cell):
        return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "(written)", cell.value) if isinstance(cell.value, str) \
            else cell.value

    return [[[value(cell) for cell in row] for row in sheet.iter_rows()] for sheet in openpyxl.load_workbook(path)]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["duckdb", SPARK, "duckdb-in-engine"])
def test_workbooks_split_by_store_from_the_scan_are_those_from_memory(engine, tmp_path, sample_rows_once):
    """Each store's workbook from the scanned rows, one store after another in DuckDB (aggregated by DuckDB or
    Spark; ``-in-engine``: every figure computed inside DuckDB), is the workbook computed in memory from that
    store's rows: every cell, its accounting with example rows included (money to the cent: another engine may
    add in another order); and so is the chain's."""
    rows = sample_rows_once
    extra = pd.DataFrame([
        ("X1", "2024-11-03", "M09001", "散客", None, "茶", 1, 30, 30),            # no store: a group of its own
        ("X2", "2024-12-04", "M09001", "散客", None, "茶", 1, 45, 45),
        ("X3", "not a date", "M00001", "张", "杭州湖滨店", "茶", 1, 10, 10),        # set aside, in its store's count
        ("X4", "2024-10-05", "M09002", "退", "快闪店", "茶", -1, 20, -20),          # a store with a return only
    ], columns=rows.columns)
    frame = pd.concat([rows, extra], ignore_index=True).astype({"订单日期": str})
    path = tmp_path / "sales.parquet"
    frame.to_parquet(path, index=False)
    splits = {}
    for each in ("pandas", engine):
        options = ReportOptions(engine=each.split("-")[0], language="en", figures_in_engine=each.endswith("-in-engine"))
        report = create_report(path, tmp_path / f"{each}.xlsx", options, split_by="store",
                               read=ReadOptions(as_of=AS_OF))
        splits[each] = report.split
        if each == engine:
            assert any(stage.startswith("classify") for stage in report.timings)  # the rows stayed in DuckDB
    assert splits[engine].failed == splits["pandas"].failed == {}
    assert splits[engine].skipped == splits["pandas"].skipped == {"快闪店": "no customer in the 12 months before 2024-12"}
    assert splits[engine].files == splits["pandas"].files and len(splits["pandas"].files) == 7
    for name in splits["pandas"].files:
        assert_close(_cell_values(splits[engine].folder / name), _cell_values(splits["pandas"].folder / name))
    assert_close(_cell_values(tmp_path / f"{engine}.xlsx"), _cell_values(tmp_path / "pandas.xlsx"))
