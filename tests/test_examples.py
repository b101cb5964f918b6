"""The runnable examples keep working."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_runs(script, tmp_path):
    if script == "spark_report.py" and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java here: .ci/run installs openjdk-17-jre-headless")
    output = tmp_path / "out.xlsx"
    result = subprocess.run([sys.executable, str(EXAMPLES / script), str(output)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=600)  # a bound for a hung process, not a speed check
    assert result.returncode == 0, result.stderr
    if output.exists():
        openpyxl.load_workbook(output)


def test_functions_demo_uses_all_four_functions(tmp_path):
    subprocess.run([sys.executable, str(EXAMPLES / "functions_demo.py"), str(tmp_path / "demo.xlsx")], check=True)
    sheet = openpyxl.load_workbook(tmp_path / "demo.xlsx").active
    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if isinstance(c.value, str))
    for name in ("=RETENTION(", "=TXN_GROWTH(", "=REPEAT_TIER(", "=PARETO_SHARE("):
        assert name in text
