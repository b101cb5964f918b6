"""The memory budget of a run given no limit: read from the container's limit (cgroup v2 or v1) or the machine's
memory, stated in the progress line, and given to DuckDB."""

from __future__ import annotations

import pytest

from retention_xl import memory_budget
from retention_xl.memory_budget import LEAST_BUDGET, MemoryBudget, container_memory, default_budget, table_allowance
from retention_xl.options import ReportOptions
from retention_xl.report import ReadOptions, create_report

GiB = 2**30


def cgroup(tmp_path, version: int, text: str):
    """A folder laid out as /sys/fs/cgroup is under cgroup ``version``, holding the memory limit ``text``."""
    file = tmp_path / ("memory.max" if version == 2 else "memory/memory.limit_in_bytes")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text + "\n", encoding="ascii")
    return tmp_path


@pytest.mark.parametrize("version, text, limit", [(2, "2147483648", 2 * GiB), (2, "max", None),
                                                  (1, "1073741824", GiB), (1, "9223372036854771712", None)])
def test_the_containers_limit_is_read_from_either_cgroup_version(tmp_path, version, text, limit):
    assert container_memory(cgroup(tmp_path, version, text)) == limit


def test_a_container_smaller_than_the_machine_sets_the_budget(tmp_path):
    budget = default_budget(cgroup(tmp_path, 2, str(8 * GiB)))
    if memory_budget.machine_memory() <= 8 * GiB:
        pytest.skip("this machine has no more memory than the container")
    assert (budget.total, budget.of, budget.where) == (2 * GiB, 8 * GiB, "container")
    assert budget.duckdb_limit == "1536MiB"
    assert "a memory budget of 2.0 GiB (a quarter of the 8.0 GiB of this container" in budget.describe()


def test_the_budget_is_capped_and_has_a_floor(tmp_path):
    assert default_budget(cgroup(tmp_path / "small", 2, str(GiB))).total == LEAST_BUDGET
    huge = default_budget(tmp_path / "none")
    assert huge.where == "machine" and huge.total == min(max(huge.of // 4, LEAST_BUDGET), memory_budget.BUDGET_CAP)


def test_the_table_python_may_hold_grows_with_the_budget():
    allowed = [table_allowance(MemoryBudget(total, 64 * GiB, "machine")) for total in (LEAST_BUDGET, GiB, 3 * GiB)]
    assert 0 < allowed[0] < allowed[1] < allowed[2] < 3 * GiB / 2


def test_a_scan_given_no_limit_states_its_budget(tmp_path, sample_rows_once):
    path = tmp_path / "sample.parquet"
    sample_rows_once.to_parquet(path, index=False)
    said = []
    create_report(path, tmp_path / "r.xlsx", ReportOptions(engine="duckdb", language="en"),
                  read=ReadOptions(as_of="2026-01-01"),
                  progress=said.append)
    assert [line for line in said if "memory budget" in line] == [f"DuckDB: {default_budget().describe()}…"]
    said.clear()
    create_report(path, tmp_path / "r.xlsx", ReportOptions(engine="duckdb", language="en", memory_limit="1GB"),
                  read=ReadOptions(as_of="2026-01-01"), progress=said.append)
    assert not any("memory budget" in line for line in said)
