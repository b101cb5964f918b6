"""Sales read from a real PostgreSQL server (Debian's package), through ADBC, as the command line does it.

The server is the one ``.ci/run`` installs; the fixture starts its cluster with
``pg_ctlcluster`` when it is not running, and creates a role and a database of its own.
``RETENTION_XL_TEST_POSTGRES`` (a URL without password) and ``PGPASSWORD`` point the
tests at another server instead.
"""

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from compare import assert_close

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # a server to start and load
REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_workbooks" / "sales_sample.xlsx"
ROLE, DATABASE = "retention_xl_test", "retention_xl_test"


def _as_postgres(sql: str) -> str:
    result = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _local_server() -> tuple[str, str]:
    """Start Debian's cluster if needed; a fresh role with a random password and its own database."""
    version, name, port, status = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                                                 check=True).stdout.split()[:4]
    if status != "online":
        subprocess.run(["pg_ctlcluster", version, name, "start"], check=True, timeout=120)
    password = secrets.token_urlsafe(16)
    _as_postgres(f"DROP DATABASE IF EXISTS {DATABASE}")
    _as_postgres(f"DROP ROLE IF EXISTS {ROLE}")
    _as_postgres(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{password}'")
    _as_postgres(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")
    return f"postgresql://{ROLE}@127.0.0.1:{port}/{DATABASE}", password


@pytest.fixture(scope="module")
def server(sample_rows_once):
    url = os.environ.get("RETENTION_XL_TEST_POSTGRES")
    password = os.environ.get("PGPASSWORD", "")
    if not url:
        url, password = _local_server()
    sheet = sample_rows_once
    with _connect(url, password) as connection, connection.cursor() as cursor:
        import pyarrow as pa

        cursor.adbc_ingest("sales", pa.Table.from_pandas(sheet, preserve_index=False), mode="replace")
        connection.commit()
    return url, password


def _connect(url: str, password: str):
    """A connection whose password libpq takes from PGPASSWORD, as the product's own connections do."""
    from adbc_driver_postgresql import dbapi

    saved = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = password
    try:
        return dbapi.connect(url)
    finally:
        if saved is None:
            del os.environ["PGPASSWORD"]
        else:
            os.environ["PGPASSWORD"] = saved


def _run(*arguments, password: str | None = None, timeout: int = 300):
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    if password is not None:
        env["PGPASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "retention_xl.cli", "report", *map(str, arguments)],
                          capture_output=True, text=True, env=env, timeout=timeout)


def _figures(path: Path) -> dict:
    summary = json.loads(path.read_text(encoding="utf-8"))
    return {key: summary[key] for key in ("S", "N", "E", "R", "L", "retention", "revenue", "orders", "cohorts",
                                          "customers", "key_accounts", "pareto_share", "stores")}


def test_a_table_gives_the_same_report_as_the_file(server, tmp_path, sample_rows_once):
    url, password = server
    result = _run("--source", url, "--table", "sales", "-o", tmp_path / "db.xlsx", "--json", tmp_path / "db.json",
                  "--as-of", "2026-01-01", "--no-clv", password=password)
    assert result.returncode == 0, result.stderr
    assert _run(SAMPLE, "-o", tmp_path / "file.xlsx", "--json", tmp_path / "file.json", "--as-of", "2026-01-01",
                "--no-clv").returncode == 0
    assert _figures(tmp_path / "db.json") == _figures(tmp_path / "file.json")
    summary = json.loads((tmp_path / "db.json").read_text(encoding="utf-8"))
    assert password not in (tmp_path / "db.json").read_text(encoding="utf-8")
    assert summary["accounting"]["rows_read"] == len(sample_rows_once)


def test_a_query(server, tmp_path):
    url, password = server
    result = _run("--source", url, "--query", "SELECT * FROM sales WHERE 金额 > 0", "-o", tmp_path / "q.xlsx",
                  "--json", tmp_path / "q.json", "--as-of", "2026-01-01", "--no-clv", password=password)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "q.json").read_text(encoding="utf-8"))
    assert summary["accounting"]["returns"] == 0 and summary["accounting"]["purchases"] > 0


@pytest.mark.parametrize("case", ["wrong password", "missing table", "password in the URL", "no table or query"])
def test_database_problems_are_one_line_and_exit_2(server, tmp_path, case):
    url, password = server
    source, options, given = url, ["--table", "sales"], password
    if case == "wrong password":
        given = "not-" + password
    elif case == "missing table":
        options = ["--table", "no_such_table"]
    elif case == "password in the URL":
        source = url.replace(f"{ROLE}@", f"{ROLE}:{password}@")
    else:
        options = []
    result = _run("--source", source, *options, "-o", tmp_path / "r.xlsx", "--no-clv", password=given)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert password not in result.stderr
    assert not (tmp_path / "r.xlsx").exists()


def test_a_dropped_connection_is_one_line_and_exit_2(server, tmp_path):
    url, password = server

    def terminate_the_slow_query():
        deadline = time.monotonic() + 60
        with _connect(url, password) as connection, connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()")
                if cursor.fetchall():
                    return
                connection.rollback()  # a new transaction sees a new snapshot of pg_stat_activity
                time.sleep(0.2)

    killer = threading.Thread(target=terminate_the_slow_query)
    killer.start()
    result = _run("--source", url, "--query", "SELECT s.* FROM sales s, (SELECT pg_sleep(30)) AS wait",
                  "-o", tmp_path / "r.xlsx", "--no-clv", password=password)
    killer.join()
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "r.xlsx").exists()


def test_duckdb_takes_the_rows_as_they_stream_with_the_figures_of_reading_them_in_memory(server, tmp_path,
                                                                                        sample_rows_once):
    """By default the rows go from the server into DuckDB, never into Python; every figure and count is as in memory."""
    url, password = server
    summaries = {}
    for engine in ("auto", "pandas"):
        result = _run("--source", url, "--table", "sales", "-o", tmp_path / f"{engine}.xlsx", "--json",
                      tmp_path / f"{engine}.json", "--as-of", "2026-01-01", "--engine", engine, password=password)
        assert result.returncode == 0, result.stderr
        summaries[engine] = json.loads((tmp_path / f"{engine}.json").read_text(encoding="utf-8"))
        summaries[engine].pop("timings")
    assert (summaries["auto"].pop("engine"), summaries["pandas"].pop("engine")) == ("duckdb", "pandas")
    assert_close(summaries["auto"], summaries["pandas"])
    assert summaries["auto"]["accounting"]["rows_read"] == len(sample_rows_once)


def test_a_table_gets_the_columns_a_file_gets(server, tmp_path):
    """A deal pipeline's table: the close date, not the engage date, and the agent as salesperson, chosen alike
    when DuckDB takes the rows and when they are read in memory; a name given by hand that is no column says so."""
    import pyarrow as pa

    from test_headers import PIPELINE, PIPELINE_COLUMNS, pipeline_rows

    url, password = server
    with _connect(url, password) as connection, connection.cursor() as cursor:
        frame = pd.DataFrame(pipeline_rows(), columns=PIPELINE)
        cursor.adbc_ingest("pipeline", pa.Table.from_pandas(frame, preserve_index=False), mode="replace")
        connection.commit()
    for engine in ("duckdb", "pandas"):
        result = _run("--source", url, "--table", "pipeline", "-o", tmp_path / f"{engine}.xlsx", "--json",
                      tmp_path / f"{engine}.json", "--as-of", "2024-06-30", "--month", "2024-04", "--no-clv",
                      "--engine", engine, password=password)
        assert result.returncode == 0, result.stderr
        assert "columns: customer ← account, date ← close_date, amount ← close_value, salesperson ← sales_agent" \
            in result.stdout.splitlines()
        assert json.loads((tmp_path / f"{engine}.json").read_text(encoding="utf-8"))["columns"] == PIPELINE_COLUMNS
        missing = _run("--source", url, "--table", "pipeline", "-o", tmp_path / "r.xlsx", "--store", "门店",
                       "--engine", engine, password=password)
        assert missing.returncode == 2
        assert "no column named '门店' (given with --store); the headers are: 'opportunity_id', 'sales_agent'" \
            in missing.stderr
