"""Writing the Customers sheet three ways, side by side, on the report of the 1,048,575-row sheet.

    python benchmarks/writers.py [SALES.xlsx]      # default: benchmarks/out/sales_1048575.xlsx (run.py makes it)

1. openpyxl, normal mode: one cell object per value, number formats per cell;
2. openpyxl, write-only mode: rows appended as styled write-only cells;
3. retention_xl: openpyxl lays out the sheet, the rows are streamed (retention_xl.workbook.stream).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from retention_xl.workbook import stream
from retention_xl.figures.customers import COLUMNS
from retention_xl.read.reader import read_sales
from retention_xl.report import analyse

HERE = Path(__file__).resolve().parent
FORMATS = {"first_purchase": "yyyy-mm-dd", "last_purchase": "yyyy-mm-dd", "orders": "#,##0", "revenue": "#,##0.00",
           "window_orders": "#,##0", "window_revenue": "#,##0.00", "days_since_last": "#,##0"}


def plain(value):
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    if value is None or value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


def rows(table):
    for record in table.itertuples(index=False):
        yield [plain(v) for v in record]


def normal_mode(table, path):
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for r, values in enumerate(rows(table), start=2):
        for c, (key, value) in enumerate(zip(COLUMNS, values), start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if key in FORMATS:
                cell.number_format = FORMATS[key]
    book.save(path)


def write_only_mode(table, path):
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(COLUMNS))
    for values in rows(table):
        cells = []
        for key, value in zip(COLUMNS, values):
            cell = WriteOnlyCell(sheet, value=value)
            if key in FORMATS:
                cell.number_format = FORMATS[key]
            cells.append(cell)
        sheet.append(cells)
    book.save(path)


def streamed(table, path):
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    first = next(rows(table.head(1)))
    for c, (key, value) in enumerate(zip(COLUMNS, first), start=1):
        # An empty template cell needs a style of its own, or openpyxl leaves it out of the row.
        sheet.cell(row=2, column=c, value=value).number_format = FORMATS.get(key, "General" if value is not None else "@")
    layout = path.with_suffix(".layout.xlsx")
    book.save(layout)
    kinds = {"customer_id": "text", "customer_name": "text", "segment": "text", "status": "text", "action": "text",
             "first_purchase": "date", "last_purchase": "date", "in_base": "text", "key_account": "text"}
    columns = [stream.Column(sheet.cell(row=1, column=c).column_letter, kinds.get(key, "number"),
                               table[key].astype(str) if kinds.get(key) == "text" and key not in ("customer_id", "customer_name")
                               else table[key])
               for c, key in enumerate(COLUMNS, start=1)]
    stream.finish(layout, path, {}, stream.Rows(sheet.title, columns))
    layout.unlink()


def main():
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "out" / "sales_1048575.xlsx"
    sales = read_sales(source)
    table = analyse(sales.transactions, None, sales).customers
    print(f"Customers sheet: {len(table):,} rows x {len(COLUMNS)} columns")
    print("| writer | seconds |")
    print("|---|---:|")
    for name, writer in (("openpyxl normal mode", normal_mode), ("openpyxl write-only mode", write_only_mode),
                         ("openpyxl layout + streamed rows (retention_xl)", streamed)):
        started = time.perf_counter()
        writer(table, HERE / "out" / "writer.xlsx")
        print(f"| {name} | {time.perf_counter() - started:.1f} |", flush=True)


if __name__ == "__main__":
    main()
