"""The ``retention-xl`` command.

    retention-xl report SALES.xlsx -o REPORT.xlsx [--month 2024-03] [--lang zh-CN|zh-TW|en]
                 [--window 12] [--json SUMMARY.json] [--sheet NAME] [--customer COL] [--date COL]
                 [--amount COL | --quantity COL --price COL] [--order COL] [--name COL] [--config FILE]
    retention-xl sample SALES.xlsx          # write the bundled demo sales sheet

Exit codes: 0 done; 2 the input or an option cannot be used (the message says which
file, sheet, row and column, and how to fix it); 3 the report cannot be written;
1 an unexpected failure. Errors are one line on standard error, never a traceback
(``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import tomllib
import warnings
from pathlib import Path

import numpy as np

from . import __version__
from .errors import RetentionXLError, UsageError
from .i18n import labels, partial_month_note

EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

CONFIG_KEYS = {"sheet", "columns", "dayfirst", "encoding", "decimal", "as_of", "month", "language", "window", "high",
               "low", "top", "lapse_days", "clv", "horizon", "discount", "engine", "value", "memory_limit",
               "spark_master", "customer_file", "figures_in_engine", "survey"}


class _OneLineParser(argparse.ArgumentParser):
    """Usage mistakes as one line and exit code 2, instead of argparse's usage text."""

    def error(self, message: str):
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


class Terminated(BaseException):
    """SIGTERM arrived: unwind like an interrupt, so every temporary file is removed on the way out."""


def _terminate(signum, frame):
    raise Terminated()


def _day(text: str) -> str:
    """A YYYY-MM-DD day, checked when the options are read."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day like 2024-03-31") from None


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="retention-xl", description="Customer-retention analytics for Excel sales sheets.")
    parser.add_argument("--version", action="version", version=f"retention-xl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)

    report = commands.add_parser("report", help="turn a sales sheet into the monthly retention workbook")
    _add_report_arguments(report)
    _add_reading_arguments(report.add_argument_group("reading the sales file"))
    output = report.add_mutually_exclusive_group()
    output.add_argument("--progress", action="store_true", default=None, help="show progress even when not on a terminal")
    output.add_argument("--quiet", action="store_true", help="print nothing on success")
    report.add_argument("--debug", action="store_true", help="show the traceback of unexpected errors")

    sample = commands.add_parser("sample", help="write the demo sales sheet of a Chinese retailer")
    sample.add_argument("output", type=Path, help="where to write it (.xlsx)")
    sample.add_argument("--seed", type=int, default=2024)
    sample.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return parser


def _add_report_arguments(report: argparse.ArgumentParser) -> None:
    """The report command's arguments: what to read, where to write and the report's options."""
    report.add_argument("sales", type=Path, nargs="?",
                        help="sales file (.xlsx, .xlsm, .xls, .csv, .parquet), a folder of Parquet files (Hive "
                             "partitions too) or of CSV files, or a glob such as 'sales/*.parquet'")
    report.add_argument("-o", "--output", type=Path, required=True, help="the workbook to write (.xlsx)")
    report.add_argument("--month", help="report month YYYY-MM (default: the last complete month in the data)")
    report.add_argument("--lang", "--language", dest="language", help="zh-CN (default), zh-TW or en")
    report.add_argument("--window", type=int, help="months of purchase that keep a customer in the base (default: the longest of 12, 6, 3, 1 "
                        "that the data cover in full)")
    report.add_argument("--json", type=Path, dest="json_path", help="also write the figures as JSON")
    report.add_argument("--high", type=float, help="repeat-purchase rate from which the tier is high (default 0.7)")
    report.add_argument("--low", type=float, help="repeat-purchase rate from which the tier is medium (default 0.3)")
    report.add_argument("--top", type=float, help="share of the base that counts as key accounts (default 0.2)")
    report.add_argument("--lapse-days", dest="lapse_days", type=int, metavar="DAYS",
                        help="days of silence a customer must exceed, as well as a multiple of their usual gap "
                             "between purchases, before a segment or action calls them lapsing (default 30)")
    report.add_argument("--clv", action=argparse.BooleanOptionalAction, default=None,
                        help="P(alive), expected purchases and lifetime value per customer (default: when the data "
                             "allow: 6 months and 100 repeat customers)")
    report.add_argument("--split-by", dest="split_by", choices=["store", "salesperson", "channel", "region"],
                        help="also write one complete workbook per store (salesperson ...) into a folder")
    report.add_argument("--split-dir", dest="split_dir", type=Path,
                        help="the folder for --split-by (default: beside the report, e.g. REPORT_by_store)")
    report.add_argument("--engine", choices=["auto", "pandas", "duckdb", "spark"],
                        help="what reads the sales and builds the customer x month table (default auto: DuckDB's "
                             "scan for a folder, a glob, a database and a Parquet or CSV file of over 2,000,000 rows; "
                             "pandas otherwise; spark: Spark's executors also read and clean Parquet and CSV files)")
    report.add_argument("--value", choices=["revenue", "profit"],
                        help="what ranks customers, key accounts, the Pareto share and actions (default revenue; "
                             "profit needs a profit, cost or unit-cost column)")
    report.add_argument("--customer-file", dest="customer_file", choices=["parquet", "csv"],
                        help="also write every customer to REPORT_customers.parquet (or .csv) beside the workbook; "
                             "Parquet is written anyway when there are more customers than a sheet holds")
    report.add_argument("--memory-limit", dest="memory_limit", metavar="SIZE",
                        help="DuckDB's memory limit, e.g. 4GB; beyond it DuckDB spills to a temporary folder "
                             "(default: half of this machine's memory)")
    report.add_argument("--spark-master", dest="spark_master", metavar="URL",
                        help="with --engine spark: the cluster's master URL, e.g. spark://host:7077 "
                             "(default: local mode on every core)")
    report.add_argument("--figures-in-engine", dest="figures_in_engine", action="store_true", default=None,
                        help="leave the customer x month table in DuckDB and compute every figure there, holding "
                             "one row per customer in memory (chosen by itself when the table would not fit in "
                             "memory); for sales DuckDB scans: Parquet, CSV, folders, globs and databases")
    report.add_argument("--horizon", type=int, metavar="MONTHS", help="months of customer lifetime value (default 12)")
    report.add_argument("--discount", type=float, metavar="RATE",
                        help="monthly discount rate of customer lifetime value (default 0.01)")


def _add_reading_arguments(reading) -> None:
    """How to read the sales: a database instead of a file, the sheet, the columns, dates, encoding, as-of."""
    reading.add_argument("--source", metavar="URL",
                         help="read the sales from PostgreSQL instead, e.g. postgresql://user@host/db (the password "
                              "from PGPASSWORD or ~/.pgpass, never in the URL), with --table or --query")
    reading.add_argument("--table", help="with --source: the table (or schema.table) holding the sales")
    reading.add_argument("--query", help="with --source: an SQL query returning the sales rows")
    reading.add_argument("--sheet", help="worksheet name or 0-based number (default: the first with a sales table)")
    for option, meaning in (
        ("customer", "customer id"), ("name", "customer name"), ("date", "order date"), ("amount", "amount"),
        ("quantity", "quantity"), ("price", "unit price"), ("order", "order or invoice number"),
        ("store", "store or branch"), ("salesperson", "salesperson"), ("channel", "sales channel"),
        ("region", "region"), ("cost", "line's total cost"), ("unit-cost", "unit cost (times the quantity)"),
        ("profit", "line's gross profit"), ("satisfaction", "customer's satisfaction (5 levels or 1-5 stars)"),
        ("recommend", "likelihood to recommend (3 levels or 0-10)"),
    ):
        reading.add_argument(f"--{option}", metavar="COLUMN", help=f"header (or column letter) of the {meaning}")
    order = reading.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", action="store_const", const=True, dest="dayfirst", help="read 05/03/2024 as 5 March")
    order.add_argument("--monthfirst", action="store_const", const=False, dest="dayfirst", help="read 05/03/2024 as May 3")
    reading.add_argument("--survey", type=Path, metavar="FILE",
                         help="a file of satisfaction or recommendation answers (customer, date, answers), in any "
                              "format the sales can be; --satisfaction and --recommend then name its columns")
    reading.add_argument("--encoding", help="CSV encoding, e.g. utf-8, gb18030, big5, cp1252 (default: detected among "
                         "UTF-8, UTF-16, GB18030, Big5, Windows-1252 and Latin-1)")
    reading.add_argument("--decimal", choices=[".", ","],
                         help="decimal mark of amounts written as text (default: read off the column)")
    reading.add_argument("--as-of", dest="as_of", type=_day, metavar="YYYY-MM-DD",
                         help="the day the report is made: later dates are set aside as in the future (default: today)")
    reading.add_argument("--config", type=Path, help="JSON or TOML file with any of: " + ", ".join(sorted(CONFIG_KEYS)))


def load_config(path: Path) -> dict:
    """Options from a JSON or TOML file; unknown keys are an error so typos do not pass silently."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise UsageError(f"{path}: cannot read the config file ({error.strerror})") from None
    try:
        config = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{path}: not valid {'TOML' if path.suffix.lower() == '.toml' else 'JSON'} ({error})") from None
    unknown = set(config) - CONFIG_KEYS
    if unknown:
        raise UsageError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(CONFIG_KEYS))}")
    columns = config.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, (str, int)) for v in columns.values()):
        raise UsageError(f'{path}: "columns" must be a table of column roles and headers, e.g. [columns] customer = "会员号"')
    return config


def _report(args) -> int:
    from .options import sales_location
    from .report import ReadOptions, ReportOptions, create_report

    config = load_config(args.config) if args.config else {}
    columns = dict(config.get("columns", {}))
    for option in ("customer", "name", "date", "amount", "quantity", "price", "order", "store", "salesperson",
                   "channel", "region", "cost", "unit-cost", "profit", "satisfaction", "recommend"):
        if getattr(args, option.replace("-", "_")):
            columns[option] = getattr(args, option.replace("-", "_"))

    def pick(name, config_key=None):
        value = getattr(args, name)
        return value if value is not None else config.get(config_key or name)

    options = ReportOptions()
    for field, value in (
        ("month", pick("month")), ("language", pick("language")), ("active_window", pick("window")),
        ("high", pick("high")), ("low", pick("low")), ("top_fraction", pick("top")),
        ("lapse_days", pick("lapse_days")), ("clv", pick("clv")), ("horizon", pick("horizon")),
        ("discount", pick("discount")),
        ("engine", pick("engine")), ("value", pick("value")), ("memory_limit", pick("memory_limit")),
        ("spark_master", pick("spark_master")), ("customer_file", pick("customer_file")),
        ("figures_in_engine", pick("figures_in_engine")),
    ):
        if value is not None:
            setattr(options, field, value)

    show_progress = not args.quiet and (args.progress or sys.stderr.isatty())
    started = time.perf_counter()

    said = threading.Lock()  # the groups' stage speaks from another thread: one whole line at a time

    def progress(message: str) -> None:
        with said:
            sys.stderr.write(f"[{time.perf_counter() - started:6.1f}s] {message}\n")
            sys.stderr.flush()

    read = ReadOptions(sheet=pick("sheet"), columns=columns or None, dayfirst=pick("dayfirst"),
                       encoding=pick("encoding"), decimal=pick("decimal"), as_of=pick("as_of"),
                       survey=pick("survey"))
    report = create_report(
        sales_location(args.sales, args.source, args.table, args.query), args.output, options, read=read,
        split_by=args.split_by, split_dir=args.split_dir, json_path=args.json_path,
        progress=progress if show_progress else None,
    )
    if not args.quiet:
        _say_done(report, args.output, started)
    return 0


def _say_done(report, output: Path, started: float) -> None:
    """The lines printed after a report: notes on the reading, the columns used, the workbooks written."""
    from .figures.actions import counted
    from .figures.loyalty import loyalty_line
    from .read.columns import columns_line

    current = report.current
    retention = "—" if current.retention is None else f"{current.retention:.1%}"
    if report.month_was_defaulted_mid_month:
        print(partial_month_note(report.last_date, labels("en")))
    note = report.sales.reading_note() if report.sales is not None else None
    if note:
        print(f"Note: {note}.")
    window = report.window_description()
    if report.sales is not None:
        print(columns_line(report.sales.columns))
    loyalty = loyalty_line(report)
    if loyalty:
        print(loyalty)
    if report.split is not None:
        print(f"Wrote {counted(len(report.split.files), 'workbook', 'workbooks')} into {report.split.folder}")
        if report.split.skipped:
            print(report.split.skipped_line())
        for group, reason in report.split.failed.items():
            print(f"retention-xl: no workbook for {group}: {reason}", file=sys.stderr)
    print(f"Wrote {output} for {current.month}: {counted(current.E, 'customer', 'customers')} in the base, "
          f"retention {retention}, {counted(len(report.customers), 'customer', 'customers')} listed; "
          f"active window {window} ({time.perf_counter() - started:.1f} s)")


def _sample(args) -> int:
    from .sample import write_sample_workbook

    path = write_sample_workbook(args.output, seed=args.seed)
    print(f"Wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage mistake already reported in one line
        return int(stop.code or 0)
    if not args.debug:  # standard error carries one line per error and nothing else
        warnings.simplefilter("ignore")
        np.seterr(all="ignore")
    previous_handler = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _report(args) if args.command == "report" else _sample(args)
    except RetentionXLError as error:
        print(f"retention-xl: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("retention-xl: interrupted; no report was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("retention-xl: terminated; no report was written", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception as error:  # the promise is one line, never a traceback
        if args.debug:
            raise
        first_line = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        print(f"retention-xl: unexpected error: {type(error).__name__}: {first_line} (run again with --debug for details)",
              file=sys.stderr)
        return EXIT_UNEXPECTED
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


if __name__ == "__main__":
    sys.exit(main())
