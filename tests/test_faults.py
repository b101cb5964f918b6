"""Faults while writing: signals at every stage of a real 1,000,000-row report, a killed run, a full
disk and a read-only folder. No fault leaves a temporary file, a partial report, or a damaged old one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

# A million rows interrupted at every stage, file systems mounted and filled: seconds per test.
pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_workbooks" / "sales_sample.xlsx"
OLD_REPORT = b"the report of last month"


@pytest.fixture(scope="module")
def million_rows(tmp_path_factory) -> Path:
    """A 1,000,000-row Parquet sales file: 100,000 customers over 24 months."""
    path = tmp_path_factory.mktemp("big") / "sales.parquet"
    rng = np.random.default_rng(7)
    rows = 1_000_000
    customers = np.char.add("C", rng.integers(0, 100_000, rows).astype(str))
    start = np.datetime64("2023-01-01T00:00", "s")
    dates = start + rng.integers(0, 730 * 86_400, rows).astype("timedelta64[s]")
    table = pa.table({"客户编号": customers, "订单日期": pa.array(dates, pa.timestamp("s")),
                      "金额": np.round(rng.lognormal(4, 0.9, rows), 2)})
    pq.write_table(table, path)
    return path


def command(sales: Path, output: Path, *extra: str) -> list[str]:
    """The command; with progress lines on standard error unless ``--quiet`` is among ``extra``."""
    shown = [] if "--quiet" in extra else ["--progress"]
    return [sys.executable, "-m", "retention_xl.cli", "report", str(sales), "-o", str(output), "--as-of", "2026-01-01",
            *shown, *extra]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "retention-xl" in p.name or p.suffix in (".tmp", ".streaming"))


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("stage", ["Reading", "figures", "models", "Writing", "streaming"])
def test_a_signal_at_any_stage_leaves_the_folder_as_it_was(million_rows, tmp_path, sig, code, stage):
    output = tmp_path / "report.xlsx"
    output.write_bytes(OLD_REPORT)
    process = subprocess.Popen(command(million_rows, output), stderr=subprocess.PIPE, text=True, cwd=REPO)
    seen = []
    for line in process.stderr:
        seen.append(line)
        if stage in line:
            time.sleep(0.2)
            process.send_signal(sig)
            break
    rest = process.stderr.read()
    assert process.wait(timeout=120) == code, seen + [rest]
    assert rest.strip().endswith("no report was written"), rest
    assert output.read_bytes() == OLD_REPORT
    assert leftovers(tmp_path) == []


def test_after_a_killed_run_the_next_run_removes_its_temporary_files(million_rows, tmp_path):
    output = tmp_path / "report.xlsx"
    process = subprocess.Popen(command(million_rows, output), stderr=subprocess.PIPE, text=True, cwd=REPO)
    for line in process.stderr:
        if "streaming" in line:
            time.sleep(0.3)
            process.kill()
            break
    process.wait(timeout=60)
    stale = leftovers(tmp_path)
    assert stale, "the killed run should have left its temporary files"
    assert not output.exists()
    # A concurrent run's live file (this test's own process id) must be left alone.
    live = tmp_path / f".report.retention-xl-{os.getpid()}-live.xlsx.tmp"
    live.write_bytes(b"still being written")
    done = subprocess.run(command(SAMPLE, output, "--quiet"), capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert leftovers(tmp_path) == [live.name]


def _mount(*arguments: str) -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the fault tests mount file systems and need root, which CI has")
        pytest.skip("needs root to mount a file system")
    subprocess.run(["mount", *arguments], check=True, capture_output=True)


@pytest.fixture
def full_disk(tmp_path):
    folder = tmp_path / "small"
    folder.mkdir()
    _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder))
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def read_only(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "report.xlsx").write_bytes(OLD_REPORT)
    _mount("--bind", str(folder), str(folder))
    subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True)
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_exits_3_and_keeps_the_old_report(full_disk):
    output = full_disk / "report.xlsx"
    output.write_bytes(OLD_REPORT)
    done = subprocess.run(command(SAMPLE, output, "--quiet"), capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 3, done.stderr
    assert done.stderr.count("\n") == 1 and "disk is full" in done.stderr
    assert output.read_bytes() == OLD_REPORT
    assert leftovers(full_disk) == []


def test_a_read_only_folder_exits_3_before_reading(read_only):
    done = subprocess.run(command(REPO / "no-such-sales.xlsx", read_only / "report.xlsx", "--quiet"),
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 3, done.stderr
    assert done.stderr.count("\n") == 1 and "Read-only file system" in done.stderr
    assert (read_only / "report.xlsx").read_bytes() == OLD_REPORT


def test_a_signal_while_writing_one_workbook_per_store(tmp_path):
    from retention_xl.sample import write_sample_workbook

    sales = write_sample_workbook(tmp_path / "sales.xlsx", seed=3)
    output = tmp_path / "report.xlsx"
    process = subprocess.Popen(command(sales, output, "--split-by", "store"), stderr=subprocess.PIPE, text=True, cwd=REPO)
    for line in process.stderr:
        if "one workbook per store" in line:
            process.send_signal(signal.SIGTERM)
            break
    rest = process.stderr.read()
    assert process.wait(timeout=120) == 143, rest
    folder = tmp_path / "report_by_store"
    assert leftovers(tmp_path) == [] and (not folder.exists() or leftovers(folder) == [])
    for workbook in folder.glob("*.xlsx") if folder.exists() else []:
        openpyxl.load_workbook(workbook)  # every workbook there is complete


def test_a_signal_while_csv_files_become_parquet_leaves_no_temporary_folder(million_rows, tmp_path):
    """CSV files are written as Parquet into the scan's temporary folder, two at a time: a signal stops both and
    the folder goes with them."""
    exports = tmp_path / "exports"
    exports.mkdir()
    table = pq.read_table(million_rows)
    import pyarrow.csv as pacsv

    for number in range(2):
        pacsv.write_csv(table, exports / f"sales-{number}.csv")
    spill = tmp_path / "tmp"
    spill.mkdir()
    output = tmp_path / "report.xlsx"
    process = subprocess.Popen(command(exports, output), stderr=subprocess.PIPE, text=True, cwd=REPO,
                               env={**os.environ, "TMPDIR": str(spill)})
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "into Parquet for DuckDB" in line:
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            break
    rest = process.stderr.read()
    assert process.wait(timeout=60) == 143, seen + [rest]
    assert rest.strip().endswith("no report was written"), rest
    assert not output.exists() and list(spill.iterdir()) == []
