"""Call the worksheet functions exactly as Excel does, through xlwings' Office.js protocol."""

from __future__ import annotations

import asyncio

import xlwings as xw
from xlwings.server import custom_functions_call, custom_functions_meta

from retention_xl import udfs

ERROR_TYPES = {
    "#DIV/0!": "Div0",
    "#N/A": "NotAvailable",
    "#NAME?": "Name",
    "#NULL!": "Null",
    "#NUM!": "Num",
    "#REF!": "Ref",
    "#VALUE!": "Value",
}


def error(code: str) -> dict:
    """An error cell as Excel (custom functions runtime 1.4) sends and expects it."""
    return {"type": "Error", "basicValue": code, "errorType": ERROR_TYPES[code]}


def returned_error(code: str) -> dict:
    return {"type": "Error", "errorType": ERROR_TYPES[code]}


def matrix(value):
    """Excel sends every argument as a 2-D matrix; None stays None (an omitted argument)."""
    if value is None or (isinstance(value, list) and value and isinstance(value[0], list)):
        return value
    if isinstance(value, list):
        return [[v] for v in value]
    return [[value]]


def call(function_name: str, *arguments):
    """The value Excel receives for ``=FUNCTION_NAME(arguments...)``."""
    payload = {
        "func_name": function_name,
        "args": [matrix(argument) for argument in arguments],
        "caller_address": "Sheet1!B2",
        "formula_name": function_name,
        "version": xw.__version__,
        "runtime": "1.4",
        "culture_info_name": "zh-CN",
        "date_format": "yyyy/m/d",
        "client": "Office.js",
    }
    return asyncio.run(custom_functions_call(payload, udfs))


def call_scalar(function_name: str, *arguments):
    result = call(function_name, *arguments)
    assert len(result) == 1 and len(result[0]) == 1, result
    return result[0][0]


def metadata() -> dict:
    """The custom-functions metadata Excel reads to list the functions and their help."""
    return custom_functions_meta(udfs)
