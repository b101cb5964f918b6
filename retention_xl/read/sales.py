"""The seam between reading and the report: :class:`Sales`, which every way of holding the rows implements.

A report needs few things of its sales: how they were read and what became of every row
(:class:`Provenance`), the dates they cover, the customer x month table up to a month, each
group's table, and the same sales seen from one group. The rows read in memory
(:class:`SalesData`, here) and the rows scanned in DuckDB
(:class:`retention_xl.read.scan.scanned_tables.ScannedSales`) answer them each their own way, so
that :func:`retention_xl.pipeline.analyse` and :func:`retention_xl.split.write_split`
are written once for both.

>>> import pandas as pd
>>> rows = pd.DataFrame({"customer_id": ["a", "b"], "date": pd.to_datetime(["2024-01-05", "2024-02-03"]),
...                      "amount": [5.0, -2.0], "order_id": [None, None], "row": [2, 3]})
>>> with SalesData.of_rows(rows) as sales:
...     sales.has_purchases, [str(day.date()) for day in sales.data_range], sales.group_roles
(True, ['2024-01-05', '2024-02-03'], [])
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from ..roles import GROUP_ROLES
from ..table.contract import CustomerMonths, CustomerTable
from ..table.numpy_builder import build_customer_months, with_order_keys
from . import order_numbers, sources
from .accounting import Accounting
from .answers import Answers
from .columns import used_columns
from .csvencoding import EncodingChoice

Progress = Callable[[str], None]


@dataclass
class Provenance:
    """How the sales were read and what became of every row: what the workbook and ``--json`` say of them.

    ``accounting`` counts every row read under its reason; ``file`` is the file, folder or glob read
    (None for a database, which ``label`` then names without its password); ``columns`` maps each role
    to its header. In one group's workbook ``group`` names the group whose rows these are.
    """

    accounting: Accounting | None
    file: Path | None
    sheet: str | None
    header_row: int
    columns: dict[str, str]
    dayfirst: bool | None
    encoding: str | None = None
    group: str | None = None  # in one group's workbook: the group (store ...) whose rows these are
    label: str | None = None  # a database source, shown without its password (``file`` is then None)
    encoding_choice: EncodingChoice | None = None  # a CSV file's: how sure, and what else it reads as
    eight_digit_example: str | None = None  # an eight-digit date of the file, where they were read as YYYYMMDD
    shared_orders: order_numbers.SharedOrders | None = None  # order numbers several customers bought under
    answers: Answers | None = None  # the customers' satisfaction and recommendation answers, where there are any

    def reading(self) -> dict:
        """The choices the reader made that a user should be able to check, for ``--json``: the encoding
        of a CSV file (with the other encodings it also reads in, when the choice was not clear-cut) and
        the forms of date read.

        >>> Provenance(None, None, None, 1, {}, None, "cp1252", encoding_choice=EncodingChoice(
        ...     "cp1252", "", ("gb18030",)), eight_digit_example="20190103").reading()
        {'encoding': 'cp1252', 'encoding_clear_cut': False, 'encoding_also_reads_as': ['gb18030'], 'dates': ['YYYYMMDD']}
        """
        result = {}
        if self.encoding_choice is not None:
            result = {"encoding": self.encoding_choice.encoding, "encoding_clear_cut": self.encoding_choice.clear_cut,
                      "encoding_also_reads_as": list(self.encoding_choice.others)}
        if self.shared_orders is not None and self.shared_orders.noted:
            result |= {"order_numbers": self.shared_orders.numbers,
                       "order_numbers_shared_by_customers": self.shared_orders.shared}
        return result | ({"dates": ["YYYYMMDD"]} if self.eight_digit_example else {})

    def reading_note(self) -> str | None:
        """What to tell on the command line about how the file was read: only what might be wrong."""
        notes = []
        if self.encoding_choice is not None and not self.encoding_choice.clear_cut:
            notes.append(f"{self.source_name} was read as {self.encoding_choice.describe()}; if names look wrong, "
                         f"give --encoding {self.encoding_choice.others[0]}")
        if self.eight_digit_example:
            notes.append(f"eight-digit dates such as {self.eight_digit_example} were read as year, month and day "
                         "(YYYYMMDD)")
        if self.shared_orders is not None and self.shared_orders.noted:
            notes.append(self.shared_orders.note())
        return "; ".join(notes) or None

    @property
    def source_name(self) -> str:
        """What the sales were read from, as the report shows it."""
        return self.label if self.file is None else self.file.name

    @property
    def from_several_files(self) -> bool:
        """Whether the rows came from a folder's or a glob's files (their row numbers then count across them)."""
        return self.file is not None and sources.several_files(self.file)

    def used_columns(self) -> dict[str, str]:
        """The columns read, by role, as ``--json`` lists them (see :func:`retention_xl.read.columns.used_columns`)."""
        return used_columns(self.columns)

    def of_group(self, role: str, value, display: str, accounting: Accounting | None = None) -> Provenance:
        """The same reading seen from one group: the accounting of its rows alone (by default the one the
        reader kept per group), its name and its answers (those given on its rows, and a survey file's). The
        shared order numbers stay the chain's."""
        if accounting is None:
            accounting = self.accounting.by_group[role][None if pd.isna(value) else value]
        answers = self.answers and self.answers.of_group(role, value)
        return replace(self, accounting=accounting, group=display, answers=answers)


class Sales(ABC):
    """Clean sales, wherever their rows are held: what the report reads of them.

    Subclasses give :attr:`provenance`, :attr:`scanned` and the abstract members. A
    :class:`Sales` is a context manager: leaving it frees what holds the rows (a DuckDB
    database and its temporary folder); :meth:`close` does the same.
    """

    provenance: Provenance | None
    scanned: bool = False  # the rows lie in DuckDB, not in Python
    portable: bool = True  # can be sent to another process, whose report is computed there
    computes_beside: bool = False  # the group tables are built by an engine, on a thread of their own
    timings: dict[str, float]

    @property
    def accounting(self) -> Accounting | None:
        """Every row read, used or set aside, by reason."""
        return self.provenance.accounting if self.provenance is not None else None

    @property
    @abstractmethod
    def has_purchases(self) -> bool:
        """Whether any used row is a purchase."""

    @property
    @abstractmethod
    def data_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The first and last date the data cover (in one group's view: the chain's)."""

    @property
    @abstractmethod
    def has_profit(self) -> bool:
        """Whether the rows carry a profit (or a cost to take it from)."""

    @abstractmethod
    def unknown_profit(self) -> tuple[int, list[int]]:
        """The used rows whose profit is unknown: how many, and the first rows' numbers."""

    @property
    @abstractmethod
    def group_roles(self) -> list[str]:
        """The group columns (store, salesperson, channel, region) the rows have."""

    @property
    def several_files(self) -> bool:
        """Whether the rows were read from a folder or glob of files."""
        return self.provenance is not None and self.provenance.from_several_files

    @abstractmethod
    def customer_table(self, until: pd.Period, options, progress: Progress | None = None) -> CustomerTable:
        """The customer x month table up to the end of month ``until``, built by ``options.engine``."""

    @abstractmethod
    def group_tables(self, role: str, until: pd.Period, window: int,
                     chain: CustomerTable) -> Iterator[tuple[object, CustomerMonths]]:
        """(group value, or None for the rows without one; the group's customer x month table) for each value
        of group column ``role``; ``chain`` is the table :meth:`customer_table` built up to ``until``."""

    @abstractmethod
    def groups(self, role: str) -> list:
        """The values of group column ``role`` among the used rows (None: rows without one), in order of their
        first row."""

    @abstractmethod
    def of_group(self, role: str, value, display: str) -> Sales:
        """The same sales seen from one group: the rows whose ``role`` is ``value`` (None: none), their
        accounting and customers, shown as ``display``. The dates the data cover stay the chain's: a store
        that sold nothing for months was still open to buyers in them."""

    def prepare_split(self, role: str, progress: Progress | None = None) -> None:
        """Make :meth:`of_group` quick for group column ``role``, where the rows' keeping allows it."""

    def stop(self) -> None:
        """Make work in progress on another thread (the group tables) end soon."""

    def close(self) -> None:
        """Free what holds the rows."""

    def __enter__(self) -> Sales:
        return self

    def __exit__(self, *exception) -> None:
        self.close()


@dataclass
class SalesData(Sales):
    """Clean transactions held in memory, and how they were obtained.

    ``transactions`` has one row per purchase or return: ``customer_id``,
    ``customer_name`` (where the sheet has one), ``date``, ``amount`` (negative for
    returns), ``order_id`` (where the sheet has one) and ``row`` (its row in the file),
    and any group column (``store`` ...) and ``profit`` the sheet has.
    """

    transactions: pd.DataFrame
    provenance: Provenance | None = None
    # The dates the data cover: their own first and last, or in one group's view the chain's.
    dates_covered: tuple[pd.Timestamp, pd.Timestamp] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    _keyed: pd.DataFrame | None = field(default=None, repr=False)  # with order keys hashed once for the groups

    @classmethod
    def of_rows(cls, transactions: pd.DataFrame, provenance: Provenance | None = None,
                dates_covered: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> SalesData:
        """Any DataFrame of clean transactions (see :func:`retention_xl.read.cleaning.clean_transactions`) as sales."""
        return cls(transactions, provenance, dates_covered)

    def __getattr__(self, name: str):
        # The reading's record was once part of these sales: ``sales.columns`` and the like keep working
        # for one release.
        provenance = self.__dict__.get("provenance")
        if provenance is None or name.startswith("_") or not hasattr(provenance, name):
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        warnings.warn(f"sales.{name} is now sales.provenance.{name}", DeprecationWarning, stacklevel=2)
        return getattr(provenance, name)

    @property
    def has_purchases(self) -> bool:
        return bool((self.transactions["amount"] > 0).any())

    @property
    def data_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        if self.dates_covered is None:  # once: each group's view takes it over
            self.dates_covered = (self.transactions["date"].min(), self.transactions["date"].max())
        return self.dates_covered

    @property
    def has_profit(self) -> bool:
        return "profit" in self.transactions

    def unknown_profit(self) -> tuple[int, list[int]]:
        unknown = self.transactions["profit"].isna().to_numpy()
        return int(unknown.sum()), [int(row) for row in self.transactions["row"].to_numpy()[unknown][:5]]

    @property
    def group_roles(self) -> list[str]:
        return [role for role in GROUP_ROLES if role in self.transactions]

    def customer_table(self, until: pd.Period, options, progress: Progress | None = None) -> CustomerTable:
        if progress:
            progress(f"The customer x month table ({options.engine})…")
        rows = self.transactions
        if options.engine == "duckdb":
            from ..table.duckdb_engine import build_customer_months as build_with_duckdb

            return build_with_duckdb(rows, until, memory=options.memory_limit)
        if options.engine == "spark":
            from ..table.spark_engine import build_customer_months as build_with_spark

            return build_with_spark(rows, until, options.spark_master)
        if self.group_roles:
            self._keyed = rows = with_order_keys(rows)  # for the chain's table and each group's
        return build_customer_months(rows, until)

    def group_tables(self, role: str, until: pd.Period, window: int,
                     chain: CustomerTable) -> Iterator[tuple[object, CustomerMonths]]:
        rows = self._keyed if self._keyed is not None else self.transactions
        for value, part in rows.groupby(rows[role], dropna=False, sort=False, observed=True):
            yield (None if pd.isna(value) else value), build_customer_months(part, until)

    def groups(self, role: str) -> list:
        return [None if pd.isna(value) else value for value in self.transactions[role].drop_duplicates()]

    def of_group(self, role: str, value, display: str) -> SalesData:
        keys = self.transactions[role]
        rows = self.transactions[keys.isna()] if value is None or pd.isna(value) else self.transactions[keys == value]
        provenance = self.provenance and self.provenance.of_group(role, value, display)
        return SalesData(rows.drop(columns=[role]).reset_index(drop=True), provenance, self.data_range)


def in_memory(sales: Sales | pd.DataFrame) -> Sales:
    """``sales`` as :class:`Sales`: a DataFrame of clean transactions becomes :class:`SalesData`.

    >>> in_memory(pd.DataFrame({"amount": [1.0]})).has_purchases
    True
    """
    return SalesData.of_rows(sales) if isinstance(sales, pd.DataFrame) else sales


