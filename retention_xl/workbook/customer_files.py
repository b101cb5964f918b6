"""The whole customer table as a file beside the workbook, for more customers than a sheet holds.

A sheet holds 1,048,575 customers; the Customers sheet keeps the ones that matter most
(the base first, by window value) and links to the file holding all of them. The file
is Parquet -- typed, compact, read by pandas, DuckDB, Spark and Power BI -- or CSV on
request (UTF-8 with a byte-order mark, so that Excel reads Chinese names right). Its
columns are the Customers sheet's, named by their keys (``customer_id``, ``revenue`` ...).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import outputs

FORMATS = ("parquet", "csv")


def customer_file_path(report_path: str | Path, file_format: str) -> Path:
    """Where the customer table of ``report_path`` goes.

    >>> customer_file_path("out/report.xlsx", "parquet").as_posix()
    'out/report_customers.parquet'
    """
    report_path = Path(report_path)
    return report_path.with_name(f"{report_path.stem}_customers.{file_format}")


def write_customer_file(customers: pd.DataFrame, path: Path) -> Path:
    """Write every customer row to ``path`` (``.parquet`` or ``.csv``) atomically; returns ``path``."""
    def write(name: str) -> None:
        if path.suffix == ".csv":
            customers.to_csv(name, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")
        else:
            customers.to_parquet(name, index=False)

    outputs.write_atomically(path, "customer table", write)
    return path
