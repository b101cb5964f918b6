"""Every cell of the report stays as it was: the workbook compared with golden fingerprints.

Regenerate after an intended change with ``RETENTION_XL_UPDATE_GOLDEN=1 pytest tests/test_golden.py``
and review the diff of ``tests/golden/`` like any other change.
"""

import json
import os
from pathlib import Path

import pytest
from helpers.data import real_data_slow

from golden import fingerprints
from retention_xl.i18n import LANGUAGES
from retention_xl.read.reader import read_sales
from retention_xl.report import ReportOptions, analyse, write_workbook

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
REAL_DATA = REPO.parent / "shared" / "data" / "online_retail_II_2009-2010.parquet"
CASES = {  # name: (sales file, month, window, customer-value models)
    "sample": (REPO / "sample_workbooks" / "sales_sample.xlsx", "2024-12", 12, False),
    "sample-short-window": (REPO / "sample_workbooks" / "sales_sample.xlsx", "2024-06", 3, False),
    "online-retail": (REAL_DATA, "2010-11", 6, False),
    "sample-valued": (REPO / "sample_workbooks" / "sales_sample.xlsx", "2024-12", 12, True),
}


@pytest.fixture(scope="module")
def sales():
    cache = {}

    def read(path):
        if not path.exists():
            pytest.skip(f"{path} is not here")
        if path not in cache:
            cache[path] = read_sales(path, as_of="2026-01-01")  # fixed, so that the Definitions sheet is too
        return cache[path]

    return read


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", real_data_slow(sorted(CASES)))
def test_workbook_matches_its_golden_fingerprints(sales, case, language, tmp_path):
    path, month, window, valued = CASES[case]
    data = sales(path)
    options = ReportOptions(month=month, active_window=window, language=language, clv=valued)
    report = analyse(data, options)
    output = tmp_path / "report.xlsx"
    write_workbook(report, output)
    got = fingerprints(output)
    golden = GOLDEN / f"{case}-{language}.json"
    if os.environ.get("RETENTION_XL_UPDATE_GOLDEN"):
        golden.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert got == json.loads(golden.read_text(encoding="utf-8"))
