"""Every example in the docstrings runs and gives what it shows."""

import doctest
import importlib

import pytest

MODULES = ["metrics", "excel_values", "sales_functions", "workbook.formulas", "read.cells", "read.dates",
           "read.columns", "read.header_words", "read.cleaning", "figures.customers", "i18n", "report", "errors",
           "sample", "table.contract", "table.numpy_builder", "figures.month", "figures.actions",
           "figures.models.clv", "clv", "figures.models.expectation", "figures.models.spend", "workbook.sheet",
           "workbook.cached", "table.duckdb_engine", "split", "read.scan.scan_columns", "table.spark_engine",
           "table.engine_sql", "table.engine_table", "workbook.summary_json", "old_paths", "reasons", "xlsx_format",
           "read.csvencoding", "read.rawtable", "read.reader", "figures.customer_value", "figures.summary",
           "read.sales", "pipeline", "engine_choice", "options", "deprecation", "read.row_rules", "table.order_keys",
           "figures.loyalty", "loyalty_scales", "read.answers", "read.survey", "read.file_kind"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"retention_xl.{name}")
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0 and failures == 0
