"""Every example in the docstrings runs and gives what it shows."""

import doctest
import importlib

import pytest

MODULES = ["metrics", "excel_values", "sales_functions", "formulas", "values", "columns", "header_words", "cleaning", "customers", "i18n",
           "report", "errors", "sample", "activity", "analysis", "actions", "clv", "expectation", "spend",
           "workbook.sheet", "workbook.cached", "duckdb_engine", "split", "scan_columns", "spark_engine", "engine_sql", "engine_table",
           "summary_json", "csvencoding", "rawtable", "reader", "loyalty", "loyalty_scales"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"retention_xl.{name}")
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0 and failures == 0
