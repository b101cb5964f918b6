"""The sales the tests read: the bundled sample, and the real Online Retail II data where a copy is beside the
repository (``../shared/data``)."""

from __future__ import annotations

import pytest

from helpers.wheel import REPO

SAMPLE = REPO / "sample_workbooks" / "sales_sample.xlsx"
REAL_DATA = REPO.parent / "shared" / "data" / "online_retail_II_2009-2010.parquet"


def real_data_slow(cases: list) -> list:
    """``cases`` as test parameters, those named ``online-retail…`` marked slow: the real data's 525,461 rows take
    seconds in each test, which the quick loop leaves out."""
    return [pytest.param(case, marks=pytest.mark.slow) if str(case).startswith("online-retail") else case
            for case in cases]
