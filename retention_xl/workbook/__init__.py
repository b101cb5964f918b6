"""The formatted monthly workbook: one module per sheet, assembled and saved here.

Six sheets, named in the report's language: Summary, Cohorts, Customers, Classes,
Actions, Definitions & data; for a chain also Stores, Staff and Channels & regions
(:mod:`.groups`). Headline figures are live formulas over the
workbook's own tables (see :mod:`retention_xl.workbook.formulas`); every formula written is
recorded with the value Python computed for it (:class:`WrittenWorkbook`) and saved
with that value, so that a preview or a program reading the file sees the figures,
and tests can check that a spreadsheet application recalculates it to the same number.

This module decides the order of the sheets, saves the workbook atomically and owns
every temporary file: the report appears complete or not at all.

Adding a sheet is writing a module with a function ``write_x(sheet, report, customers)``
and adding one line to :data:`SHEETS` (with when the report has that sheet).
"""

from __future__ import annotations

import os
from pathlib import Path


from openpyxl import Workbook

from .customer_files import customer_file_path, write_customer_file
from ..outputs import check_outputs, remove_stale, temporary, write_error
from . import stream
from .actions import write_actions
from .classes import write_classes
from .cohorts import write_cohorts
from .customers import link_customer_file, write_customers
from .definitions import write_definitions
from .groups import write_channels, write_staff, write_stores
from .loyalty import write_loyalty
from .sheet import SheetWriter, WrittenWorkbook, display_width, register_styles
from .summary import write_summary

__all__ = ["SHEETS", "WrittenWorkbook", "display_width", "save_workbook", "write_report_workbook", "write_workbook"]


def _always(report) -> bool:
    return True


def _has_groups(*roles: str):
    """Whether the report has figures for any of these group columns (store, salesperson ...)."""
    return lambda report: any(role in report.groups and not report.groups[role].empty for role in roles)


# The tabs in order: (label key of the sheet's title, its writer, whether the report has it). Every
# writer receives the Customers sheet's column ranges, so that sheet is laid out before the others.
SHEETS = (
    ("summary", write_summary, _always),
    ("cohorts", lambda sheet, report, customers: write_cohorts(sheet, report), _always),
    ("customers", None, _always),
    ("classes", write_classes, _always),
    ("loyalty", write_loyalty, lambda report: report.loyalty is not None),
    ("stores", write_stores, _has_groups("store")),
    ("staff", write_staff, _has_groups("salesperson")),
    ("channels", write_channels, _has_groups("channel", "region")),
    ("actions", lambda sheet, report, customers: write_actions(sheet, report), _always),
    ("definitions", lambda sheet, report, customers: write_definitions(sheet, report), _always),
)


def write_report_workbook(report, path, progress=None) -> WrittenWorkbook:
    """Write ``report`` (a :class:`retention_xl.report.RetentionReport`) to ``path`` atomically.

    The workbook is built in temporary files beside ``path`` and moved into place
    only when complete (:func:`save_workbook`), every formula with its value.
    """
    say = progress or (lambda message: None)
    path = Path(path)
    words = report.labels()
    book = Workbook()
    register_styles(book, words["font"])
    present = [(key, write) for key, write, applies in SHEETS if applies(report)]
    written = WrittenWorkbook(sheets={key: words[f"sheet.{key}"] for key, _ in present})
    worksheets = [book.active] + [book.create_sheet() for _ in present[1:]]
    sheets = {}
    for (key, _), worksheet in zip(present, worksheets):
        worksheet.title = written.sheets[key]
        sheets[key] = SheetWriter(worksheet, words, written)

    say("  customers sheet…")
    customers, rows = write_customers(sheets["customers"], report.customers, report.options.horizon)
    file_format = report.options.customer_file or (None if customers.complete else "parquet")
    if file_format is not None:
        written.customer_file = customer_file_path(path, file_format)
        say(f"  all {len(report.customers):,} customers into {written.customer_file.name}…")
        link_customer_file(sheets["customers"], customers, written.customer_file.name)
        write_customer_file(report.customers, written.customer_file)
    say("  summary, cohorts, classes, actions…")
    for key, write in present:
        if write is not None:
            write(sheets[key], report, customers)
    book.calculation.fullCalcOnLoad = True

    remove_stale(path.parent)
    say("  saving…")
    streamed = stream.Rows(customers.title, rows) if customers.rows else None
    save_workbook(book, path, written.expected, streamed, say)
    return written


def save_workbook(book: Workbook, path, values: dict[tuple[str, str], object], rows: stream.Rows | None = None,
                  progress=None, what: str = "report") -> None:
    """Save ``book`` to ``path`` atomically, every formula with its value saved beside it.

    ``values`` gives the value of every formula cell, ``{(sheet title, "B7"): value}``, as a
    spreadsheet computes it; ``rows`` are streamed into their sheet (:mod:`.stream`). The
    workbook is written to temporary files beside ``path`` and moved into place only when
    complete; they are removed whatever happens. ``what`` names the file in an error.
    """
    say = progress or (lambda message: None)
    path = Path(path)
    temporaries = [temporary(path, ".xlsx.tmp"), temporary(path, ".xlsx.streaming")]
    try:
        book.save(temporaries[0])
        if rows is not None:
            say(f"  streaming {rows.count:,} rows into {rows.title}…")
        stream.finish(temporaries[0], temporaries[1], values, rows)
        os.replace(temporaries[1], path)
    except OSError as error:
        raise write_error(path, what, error) from None
    finally:
        for name in temporaries:
            if os.path.exists(name):
                os.unlink(name)


def write_workbook(report, path, progress=None) -> WrittenWorkbook:
    """Check ``path`` and write the workbook there; see :func:`write_report_workbook`."""
    path = Path(path)
    check_outputs(report.sales.file if report.sales is not None else None, {"report": path})
    return write_report_workbook(report, path, progress)


