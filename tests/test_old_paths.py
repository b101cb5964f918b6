"""The module paths before the packages keep working for one release: the very module of the new path, with one
DeprecationWarning naming it."""

import importlib
import importlib.util
import subprocess
import sys
import warnings

import pytest

from retention_xl.old_paths import OLD_PATHS

# Every module directly under retention_xl before the packages.
MODULES_BEFORE = """accounting actions activity analysis cleaning cli clv columns csvencoding csvfile customer_files customers
duckdb_engine duckdb_scan engine_sql engine_table errors excel_values excelfile expectation fitting formulas groups
header_words i18n metrics options order_numbers outputs rawtable reader report result roles sales_functions sample
scan_columns scanned_report scanned_tables sources spark_engine spark_scan spend split summary_json udfs value values
workbook xlsxhead""".split()


def _forget(name: str, monkeypatch) -> None:
    """Make ``name`` not imported yet, for this test only."""
    package, _, old = name.rpartition(".")
    for names, key in ((sys.modules, name), (vars(sys.modules[package]), old)):  # the module, the package's attribute
        monkeypatch.setitem(names, key, None)  # monkeypatch puts back what was there (or nothing) at the end
        del names[key]


def _import_fresh(name: str, monkeypatch) -> tuple[object, list[warnings.WarningMessage]]:
    """Import an old path as if for the first time."""
    _forget(name, monkeypatch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(name)
    return module, caught


@pytest.mark.parametrize("old, new", sorted(OLD_PATHS.items()))
def test_an_old_path_is_the_new_module_with_one_warning(old, new, monkeypatch):
    module, caught = _import_fresh(f"retention_xl.{old}", monkeypatch)
    assert module is importlib.import_module(f"retention_xl.{new}")
    assert [(w.category, str(w.message)) for w in caught] == [
        (DeprecationWarning, f"retention_xl.{old} is now retention_xl.{new}; the old path goes in the next release")]
    assert module.__spec__.name == module.__name__ == f"retention_xl.{new}"  # it still says where it lives


def test_every_module_of_before_is_still_there_or_redirected():
    gone = [name for name in MODULES_BEFORE
            if name not in OLD_PATHS and not importlib.util.find_spec(f"retention_xl.{name}")]
    assert gone == []
    assert not set(OLD_PATHS) - set(MODULES_BEFORE), "only modules that existed are redirected"


def test_the_warning_points_at_the_import_statement(monkeypatch):
    _forget("retention_xl.activity", monkeypatch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from retention_xl.activity import build_customer_months
    assert build_customer_months is importlib.import_module("retention_xl.table.numpy_builder").build_customer_months
    assert [w.filename for w in caught] == [__file__]


def test_the_package_imports_no_pandas_or_numpy():
    """The redirect is installed by the package itself, and imports nothing heavy until an old path is asked for."""
    probe = "import sys, retention_xl; print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'pandas'}))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_unknown_name_is_still_not_found():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("retention_xl.no_such_module")
