import os
from pathlib import Path

import pytest
from helpers.dependencies import REQUIREMENTS

# xlwings decides at import time whether to load its Office.js custom-functions server
# (the protocol Excel on the web, Windows, macOS and xlwings Lite speak). The tests
# drive the worksheet functions through that real machinery, so this must come first.
os.environ.setdefault("XLWINGS_ON_SERVER", "true")
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

SAMPLE = Path(__file__).resolve().parents[1] / "sample_workbooks" / "sales_sample.xlsx"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A test marked with what it needs from outside Python is skipped without it, and fails without it on CI.

    Checked before the test's fixtures are set up, so that no Spark session or server is started in vain.
    """
    for marker, require in REQUIREMENTS.items():
        if item.get_closest_marker(marker) is not None:
            require()


@pytest.fixture(scope="session")
def sample_rows_once():
    """The bundled sample's rows as they stand below its title (Chinese headers, total row and all), read once.

    Shared by every test that asks for it: a test that changes the rows takes ``sample_rows`` instead.
    """
    import pandas as pd  # here, not at the top: the import-time tests start without pandas

    return pd.read_excel(SAMPLE, header=1)


@pytest.fixture
def sample_rows(sample_rows_once):
    """A copy of the bundled sample's rows of the test's own."""
    return sample_rows_once.copy()


@pytest.fixture(scope="session")
def sample_sales():
    """The bundled sample read as the report reads it, as of 2026-01-01, once for every test that asks for it."""
    from retention_xl.read.reader import read_sales

    return read_sales(SAMPLE, as_of="2026-01-01")
