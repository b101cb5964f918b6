"""Sales from a folder or glob of Parquet files (Hive partitions too), and the extras named when missing."""

import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retention_xl import sources, spark_engine
from retention_xl.errors import InputError, UsageError
from retention_xl.reader import read_sales
from retention_xl.report import ReportOptions, analyse

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_workbooks" / "sales_sample.xlsx"


@pytest.fixture(scope="module")
def sample():
    return read_sales(SAMPLE, as_of="2026-01-01")


def _figures(sales) -> dict:
    summary = analyse(sales.transactions, ReportOptions(clv=False), sales).summary()
    return {key: summary[key] for key in ("month", "S", "N", "E", "R", "L", "revenue", "cohorts", "stores",
                                          "pareto_share", "customers")}


def _sample_rows() -> pd.DataFrame:
    rows = pd.read_excel(SAMPLE, header=1)
    return rows[rows["订单号"] != "合计"]  # a total row says nothing about a store


def test_a_hive_partitioned_folder_gives_the_stores_of_its_folders(sample, tmp_path):
    rows = _sample_rows()
    for store, part in rows.groupby("门店"):
        folder = tmp_path / "sales" / f"门店={store}"
        folder.mkdir(parents=True)
        for number, chunk in enumerate((part.iloc[: len(part) // 2], part.iloc[len(part) // 2:])):
            pq.write_table(pa.Table.from_pandas(chunk.drop(columns=["门店"]), preserve_index=False),
                           folder / f"part-{number}.parquet")
    (tmp_path / "sales" / "_SUCCESS").write_text("")  # a marker file that is not data
    from_folder = read_sales(tmp_path / "sales", as_of="2026-01-01")
    assert from_folder.accounting.rows_read == len(rows) and from_folder.accounting.balances()
    assert from_folder.columns["store"] == "门店"
    assert _figures(from_folder) == _figures(sample)


def test_a_glob_of_files(sample, tmp_path):
    rows = _sample_rows()
    for month, part in rows.groupby(pd.to_datetime(rows["订单日期"]).dt.to_period("M")):
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), tmp_path / f"sales-{month}.parquet")
    from_glob = read_sales(str(tmp_path / "sales-*.parquet"), as_of="2026-01-01")
    assert _figures(from_glob) == _figures(sample)


def test_what_a_folder_or_glob_cannot_be(tmp_path):
    with pytest.raises(InputError, match="no files match"):
        read_sales(str(tmp_path / "nothing-*.parquet"))
    (tmp_path / "mixed").mkdir()
    pq.write_table(pa.table({"a": [1]}), tmp_path / "mixed" / "a.parquet")
    (tmp_path / "mixed" / "b.csv").write_text("a\n1\n")
    with pytest.raises(InputError, match="b.csv is not one"):
        read_sales(tmp_path / "mixed")
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
