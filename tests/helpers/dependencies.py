"""One check for each thing beyond the Python packages that some tests need: Spark, PostgreSQL, LibreOffice, Node.

Each ``require_*`` skips the calling test, saying what is missing, when it is not installed; on CI (the
environment variable ``CI`` set, as ``.ci/run`` does) it fails instead, because CI installs everything and a
silent skip there would hide a broken set-up. ``conftest.py`` calls them for the markers ``spark``,
``postgres``, ``libreoffice`` and ``pyodide``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import NoReturn

import pytest


def _missing(what: str, how: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{what}, and CI must have it: {how}")
    pytest.skip(f"{what}: {how}")


def has_spark() -> bool:
    """pyspark is installed and Java is there to run it."""
    has_java = shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))
    return has_java and importlib.util.find_spec("pyspark") is not None


def require_spark() -> None:
    """Spark in local mode: pyspark (the ``spark`` extra) and Java 17 or later."""
    if importlib.util.find_spec("pyspark") is None:
        _missing("pyspark is not installed", "pip install -e '.[test]' brings it")
    if not has_spark():
        _missing("no Java here", ".ci/run installs openjdk-17-jre-headless")


def require_postgres() -> None:
    """A PostgreSQL server: the one ``RETENTION_XL_TEST_POSTGRES`` names, or Debian's cluster started as root."""
    if importlib.util.find_spec("adbc_driver_postgresql") is None:
        _missing("the ADBC PostgreSQL driver is not installed", "pip install -e '.[test]' brings it")
    if os.environ.get("RETENTION_XL_TEST_POSTGRES"):
        return
    if shutil.which("pg_lsclusters") is None or shutil.which("pg_ctlcluster") is None:
        _missing("no PostgreSQL server here", ".ci/run installs Debian's package postgresql")
    if os.geteuid() != 0:
        _missing("starting Debian's PostgreSQL cluster needs root",
                 "run as root or point RETENTION_XL_TEST_POSTGRES at a server")


def require_soffice() -> str:
    """The LibreOffice binary that recalculates workbooks headless."""
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if binary is None:
        _missing("LibreOffice (soffice) is not installed", ".ci/run installs libreoffice-calc-nogui")
    return binary


def require_node(tool: str = "node") -> str:
    """``node`` or ``npm``, which run Pyodide as xlwings Lite does."""
    found = shutil.which(tool)
    if found is None:
        _missing(f"{tool} is not installed (the Pyodide tests need node and npm)", ".ci/run installs nodejs and npm")
    return found


REQUIREMENTS = {
    "spark": require_spark,
    "postgres": require_postgres,
    "libreoffice": require_soffice,
    "pyodide": require_node,
}
