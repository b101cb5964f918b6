"""The module paths before the packages, kept working for one release.

``import retention_xl.reader`` or ``from retention_xl.activity import build_customer_months``
gives the very module of the new path (:data:`OLD_PATHS`), with one ``DeprecationWarning``
naming it. One finder on :data:`sys.meta_path` does it for every old path, so that no
file is kept only to forward imports; it imports nothing until an old path is asked for,
so the worksheet functions still load alone.

>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     import retention_xl.formulas as formulas
>>> import retention_xl.workbook.formulas
>>> formulas is retention_xl.workbook.formulas, str(caught[0].message)
(True, 'retention_xl.formulas is now retention_xl.workbook.formulas; the old path goes in the next release')
"""

from __future__ import annotations

import importlib
import sys
import warnings
from importlib.machinery import ModuleSpec

OLD_PATHS = {
    "accounting": "read.accounting", "cleaning": "read.cleaning", "columns": "read.columns",
    "csvencoding": "read.csvencoding", "csvfile": "read.csvfile", "excelfile": "read.excelfile",
    "header_words": "read.header_words", "order_numbers": "read.order_numbers", "rawtable": "read.rawtable",
    "reader": "read.reader", "sources": "read.sources", "xlsxhead": "read.xlsxhead",
    "values": "read.cells",
    "duckdb_scan": "read.scan.duckdb_scan", "scan_columns": "read.scan.scan_columns",
    "scanned_tables": "read.scan.scanned_tables", "spark_scan": "read.scan.spark_scan",
    "activity": "table.numpy_builder", "engine_sql": "table.engine_sql", "duckdb_engine": "table.duckdb_engine",
    "spark_engine": "table.spark_engine", "engine_table": "table.engine_table",
    "analysis": "figures.month", "customers": "figures.customers", "groups": "figures.groups",
    "actions": "figures.actions", "value": "figures.customer_value", "result": "figures.result",
    "spend": "figures.models.spend", "expectation": "figures.models.expectation", "fitting": "figures.models.fitting",
    "formulas": "workbook.formulas", "customer_files": "workbook.customer_files",
    "summary_json": "workbook.summary_json",
}
"""Old module (under ``retention_xl``) -> the module that holds it now. Where a module was split in two, the old
path leads to the part with its main function (``activity``: :func:`build_customer_months`)."""

PACKAGE = __name__.rpartition(".")[0]


class OldPathFinder:
    """Finds an old module path and loads it as the module of its new path (one object under both names)."""

    @staticmethod
    def find_spec(name: str, path=None, target=None) -> ModuleSpec | None:
        """A spec for ``retention_xl.<old>`` loaded by :class:`OldPathLoader`; None for any other name."""
        package, _, old = name.rpartition(".")
        if package != PACKAGE or old not in OLD_PATHS:
            return None
        return ModuleSpec(name, OldPathLoader(f"{PACKAGE}.{OLD_PATHS[old]}"))


class OldPathLoader:
    """Loads an old path as the already imported (or now imported) module of its new path."""

    def __init__(self, new_name: str):
        self.new_name = new_name
        self.new_spec: ModuleSpec | None = None

    def create_module(self, spec: ModuleSpec):
        """The new path's module itself, rather than a fresh one."""
        warnings.warn(f"{spec.name} is now {self.new_name}; the old path goes in the next release",
                      DeprecationWarning, stacklevel=2)
        module = importlib.import_module(self.new_name)
        self.new_spec = module.__spec__
        return module

    def exec_module(self, module) -> None:
        """Nothing to run: the module ran under its new path. The import machinery has just given it the old
        path's ``__spec__``; the new path's is put back, so that the module still says where it lives."""
        module.__spec__ = self.new_spec


def redirect_old_paths() -> None:
    """Install the finder once (a second call, as on a reload of the package, adds nothing)."""
    if not any(isinstance(finder, OldPathFinder) for finder in sys.meta_path):
        sys.meta_path.append(OldPathFinder())
