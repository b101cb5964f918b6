"""The runnable examples keep working."""

import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

# Each example runs as a script of its own: a Python start and a report or a workbook each.
pytestmark = pytest.mark.slow
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


SPARK_EXAMPLE = pytest.param("spark_report.py", marks=pytest.mark.spark)


@pytest.mark.parametrize("script", [SPARK_EXAMPLE if name == "spark_report.py" else name
                                    for name in sorted(p.name for p in EXAMPLES.glob("*.py"))])
def test_example_runs(script, tmp_path):
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


def test_functions_demo_shows_the_sales_list_functions_with_their_tables(tmp_path):
    """The second sheet: a sales list, the five sales-list functions over it, and each table saved."""
    subprocess.run([sys.executable, str(EXAMPLES / "functions_demo.py"), str(tmp_path / "demo.xlsx")], check=True)
    formulas_sheet = openpyxl.load_workbook(tmp_path / "demo.xlsx")["销售清单函数"]
    arrays = {c.value.text.split("(")[0]: c.value.ref for row in formulas_sheet.iter_rows() for c in row
              if type(c.value).__name__ == "ArrayFormula"}
    assert sorted(arrays) == ["=COHORT_TABLE", "=CUSTOMER_BRIDGE", "=CUSTOMER_SEGMENTS", "=CUSTOMER_VALUE", "=P_ALIVE"]
    saved = openpyxl.load_workbook(tmp_path / "demo.xlsx", data_only=True)["销售清单函数"]
    for ref in arrays.values():
        anchor, corner = ref.split(":")
        last_row = "".join(ch for ch in corner if ch.isdigit())
        first_column = "".join(ch for ch in anchor if ch.isalpha())
        assert saved[anchor].value is not None and saved[f"{first_column}{last_row}"].value is not None, ref
    assert saved[arrays["=CUSTOMER_BRIDGE"].split(":")[0]].value == "月份"
