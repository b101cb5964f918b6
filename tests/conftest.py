import os

import pytest
from helpers.dependencies import REQUIREMENTS

# xlwings decides at import time whether to load its Office.js custom-functions server
# (the protocol Excel on the web, Windows, macOS and xlwings Lite speak). The tests
# drive the worksheet functions through that real machinery, so this must come first.
os.environ.setdefault("XLWINGS_ON_SERVER", "true")
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A test marked with what it needs from outside Python is skipped without it, and fails without it on CI.

    Checked before the test's fixtures are set up, so that no Spark session or server is started in vain.
    """
    for marker, require in REQUIREMENTS.items():
        if item.get_closest_marker(marker) is not None:
            require()
