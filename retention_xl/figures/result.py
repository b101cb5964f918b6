"""The report's result: every figure and table of the month, and the views on them that the
workbook and ``--json`` show (:class:`RetentionReport`). :mod:`retention_xl.report` makes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import month as analysis
from .. import metrics
from .actions import Action
from .customers import SEGMENTS, STATUSES
from ..i18n import fill, labels_for
from ..options import ReportOptions
from .customer_value import CustomerValue, value_summary
from .summary import JSON_GROUPS, actions_json, groups_json, loyalty_json

PARETO_POINTS = 20
@dataclass
class RetentionReport:
    """The month's figures and tables; see :mod:`retention_xl.figures.month` for the definitions."""

    month: pd.Period
    options: ReportOptions
    current: analysis.MonthFigures
    previous: analysis.MonthFigures | None
    trend: list[analysis.MonthFigures]
    cohorts: analysis.Cohorts
    customers: pd.DataFrame
    actions: list[Action]
    first_date: pd.Timestamp
    last_date: pd.Timestamp
    month_was_defaulted_mid_month: bool
    window_reason: str = analysis.WINDOW_GIVEN
    # How the sales were read and every row accounted for (retention_xl.read.sales.Provenance): handed over
    # as data, so that the figures depend on no reader.
    sales: object = None
    timings: dict[str, float] = field(default_factory=dict)
    value: CustomerValue = field(default_factory=CustomerValue)
    groups: dict[str, pd.DataFrame] = field(default_factory=dict)  # store, salesperson ... -> figures per group
    split: object = None  # the workbooks per group, where asked for (retention_xl.split.SplitResult)
    customer_file: Path | None = None  # the whole customer table beside the workbook, where it was written
    loyalty: object = None  # satisfaction and recommendation where the sales carry answers (figures/loyalty.py)

    def window_description(self) -> str:
        """Which activity window the report uses and why, in a sentence."""
        return fill(analysis.WINDOW_REASONS[self.window_reason], window=self.options.active_window,
                    month=str(self.month))

    def labels(self) -> dict[str, str]:
        """The report's words: its language's, for its value measure, naming the staff as the salesperson
        column does (see :func:`retention_xl.i18n.labels_for`)."""
        column = self.sales.columns.get("salesperson") if self.sales is not None else None
        return labels_for(self.options.language, self.options.value, column)

    def trend_frame(self) -> pd.DataFrame:
        """One row per month of the trend, with every figure of :class:`MonthFigures`."""
        return pd.DataFrame([figures.as_dict() for figures in self.trend]).set_index("month")

    def segment_table(self) -> pd.DataFrame:
        """Customers and net revenue per RFM segment (all eleven, in a fixed order), and their expected
        value where the customer-value models ran."""
        grouped = self.customers.groupby("segment")["revenue"].agg(["size", "sum"])
        table = grouped.reindex(list(SEGMENTS), fill_value=0).rename(columns={"size": "customers", "sum": "revenue"})
        table = _with_shares(table)
        if "clv" in self.customers:
            table["clv"] = self.customers.groupby("segment")["clv"].sum().reindex(list(SEGMENTS), fill_value=0.0)
        return table

    def status_table(self) -> pd.DataFrame:
        """Customers and net revenue per lifecycle status."""
        grouped = self.customers.groupby("status")["revenue"].agg(["size", "sum"])
        table = grouped.reindex(list(STATUSES), fill_value=0).rename(columns={"size": "customers", "sum": "revenue"})
        return _with_shares(table)

    def key_account_table(self) -> pd.DataFrame:
        """Key accounts against the other customers of the base: count and window revenue (profit, where the
        report measures value by profit; the column keeps the name ``revenue``)."""
        base = self.customers[self.customers["in_base"]]
        window_value = f"window_{self.options.value}"
        table = pd.DataFrame(
            {
                "customers": [int(base["key_account"].sum()), int((~base["key_account"]).sum())],
                "revenue": [float(base.loc[base["key_account"], window_value].sum()),
                            float(base.loc[~base["key_account"], window_value].sum())],
            },
            index=["key", "other"],
        )
        return _with_shares(table)

    def pareto_curve(self) -> pd.DataFrame:
        """Share of the base's window revenue (profit) held by the top 0%, 5%, 10% ... 100% of the base."""
        window_value = f"window_{self.options.value}"
        amounts = self.customers.loc[self.customers["in_base"], window_value].clip(lower=0).to_numpy()
        fractions = np.arange(0, PARETO_POINTS + 1) / PARETO_POINTS
        shares = metrics.pareto_curve(amounts, fractions.tolist()) if amounts.sum() > 0 else [np.nan] * len(fractions)
        return pd.DataFrame({"top_fraction": fractions, "revenue_share": shares})

    def summary(self) -> dict:
        """The figures scripts need, as written by ``--json``."""
        current = self.current.as_dict()
        cohort_counts = {
            cohort: [int(v) for v in row.dropna().tolist()] for cohort, row in self.cohorts.active.iterrows()
        }
        return {
            "month": current["month"],
            "active_window": self.options.active_window,
            "window_reason": self.window_description(),
            **{k: current[k] for k in ("S", "N", "E", "R", "L")},
            **{k: current[k] for k in ("retention", "strict_retention", "txn_growth", "repeat_rate", "repeat_tier",
                                       "pareto_share", "revenue", "orders", "average_order_value",
                                       "repurchase_rate", "return_rate")},
            "previous_month": self.previous.as_dict() if self.previous else None,
            "cohorts": cohort_counts,
            **self._profit_summary(),
            "customers": int(len(self.customers)),
            "key_accounts": int(self.customers["key_account"].sum()),
            "data_range": [str(self.first_date.date()), str(self.last_date.date())],
            "accounting": self.sales.accounting.as_dict() if self.sales else None,
            "columns": self.sales.used_columns() if self.sales else None,
            "reading": self.sales.reading() if self.sales else None,
            "customer_value": value_summary(self.value, self.customers),
            "actions": actions_json(self.actions, self.options.language),
            **{JSON_GROUPS[role]: groups_json(table) for role, table in self.groups.items()},
            "engine": self.options.engine,  # what built the table: the pipeline names it in the options
            **({"split": self.split.as_dict()} if self.split is not None else {}),
            **({"customer_file": str(self.customer_file)} if self.customer_file is not None else {}),
            **({"loyalty": loyalty_json(self.loyalty)} if self.loyalty is not None else {}),
            "timings": {stage: round(seconds, 3) for stage, seconds in self.timings.items()},
        }

    def _profit_summary(self) -> dict:
        """Profit, the value measure and the loss-making customers, where the data carry profit."""
        if self.current.profit is None:
            return {}
        losing = self.customers["in_base"] & (self.customers["window_profit"] < 0)
        return {"profit": self.current.profit, "value": self.options.value,
                "loss_making": {"customers": int(losing.sum()),
                                "loss": round(float(-self.customers.loc[losing, "window_profit"].sum()), 2)}}


def _with_shares(table: pd.DataFrame) -> pd.DataFrame:
    table = table.astype({"customers": int, "revenue": float})
    customers, revenue = table["customers"].sum(), table["revenue"].sum()
    table["customer_share"] = table["customers"] / customers if customers else np.nan
    table["revenue_share"] = table["revenue"] / revenue if revenue else np.nan
    return table
