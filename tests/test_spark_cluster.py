"""The same report from a real Spark standalone cluster: a master and a worker on 127.0.0.1, started through
pyspark's own ``bin/spark-class`` and stopped afterwards by the process ids started here."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from compare import assert_close

pytestmark = [pytest.mark.spark, pytest.mark.slow]  # a JVM, a master and a worker to start
REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_workbooks" / "sales_sample.xlsx"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(spark_home: Path, log: Path, *arguments: str) -> subprocess.Popen:
    env = dict(os.environ, SPARK_HOME=str(spark_home), SPARK_LOCAL_IP="127.0.0.1", SPARK_NO_DAEMONIZE="1")
    with open(log, "wb") as output:
        return subprocess.Popen([str(spark_home / "bin" / "spark-class"), *arguments], env=env, stdout=output,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    logs = tmp_path_factory.mktemp("spark")
    port, master_ui, worker_ui = _free_port(), _free_port(), _free_port()
    url = f"spark://127.0.0.1:{port}"
    master = _start(spark_home, logs / "master.log", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                    "--port", str(port), "--webui-port", str(master_ui))
    worker = _start(spark_home, logs / "worker.log", "org.apache.spark.deploy.worker.Worker", url, "--host",
                    "127.0.0.1", "--cores", "2", "--memory", "1g", "--webui-port", str(worker_ui))
    try:
        deadline = time.monotonic() + 120
        while True:  # the master's status page lists the worker once it has registered
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{master_ui}/json/", timeout=5) as page:
                    if json.load(page).get("aliveworkers", 0) >= 1:
                        break
            except (OSError, ValueError):  # not up yet; while starting, the master may answer with its HTML page
                pass
            assert master.poll() is None and worker.poll() is None, (logs / "master.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the Spark worker did not register within 120 s"
            time.sleep(1)
        yield url
    finally:
        _stop(worker)
        _stop(master)
    assert master.poll() is not None and worker.poll() is not None


def _report(tmp_path: Path, name: str, *options: str, sales: Path = SAMPLE) -> dict:
    output = tmp_path / f"{name}.json"
    result = subprocess.run([sys.executable, "-m", "retention_xl.cli", "report", sales, "-o", tmp_path / f"{name}.xlsx",
                             "--json", output, "--as-of", "2026-01-01", "--no-clv", *options],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    if "--progress" in options:
        assert "Spark: reading and classifying every row" in result.stderr  # Spark read the files, not DuckDB
    else:
        assert result.stderr == ""  # Java's own output stays off the terminal
    summary = json.loads(output.read_text(encoding="utf-8"))
    summary.pop("timings")
    return summary


def test_a_standalone_cluster_gives_the_same_report(cluster, tmp_path):
    by_cluster = _report(tmp_path, "cluster", "--engine", "spark", "--spark-master", cluster)
    by_pandas = _report(tmp_path, "pandas")
    assert by_cluster.pop("engine") == "spark" and by_pandas.pop("engine") == "pandas"
    assert_close(by_cluster, by_pandas)


def test_the_cluster_reads_and_classifies_a_folder_of_parquet_files(cluster, tmp_path, sample_rows_once):
    """The executors read the files, clean and classify every row: the figures equal those read in memory."""
    rows = sample_rows_once
    folder = tmp_path / "sales folder"
    folder.mkdir()
    half = len(rows) // 2
    rows[:half].to_parquet(folder / "2023 [a].parquet", index=False)
    rows[half:].to_parquet(folder / "2024 [b].parquet", index=False)
    by_cluster = _report(tmp_path, "cluster", "--engine", "spark", "--spark-master", cluster, "--progress",
                         sales=folder)
    by_pandas = _report(tmp_path, "pandas", "--engine", "pandas", sales=folder)
    assert by_cluster.pop("engine") == "spark" and by_pandas.pop("engine") == "pandas"
    assert_close(by_cluster, by_pandas)


def test_a_master_that_does_not_answer_is_one_line_and_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "retention_xl.cli", "report", SAMPLE, "-o", tmp_path / "r.xlsx",
                             "--engine", "spark", "--spark-master", "nonsense://nowhere", "--no-clv"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Spark did not start" in result.stderr
    assert not (tmp_path / "r.xlsx").exists()
