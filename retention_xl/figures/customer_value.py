"""What each customer is worth: the customer-value models applied to the report's customer x month table.

The BG/NBD summary comes from the customer x month table (see its contract in
:mod:`retention_xl.table.contract`): frequency = purchase days - 1, recency = last - first
purchase day, T = end of the report month - first purchase day, in weeks; spend per
repeat purchase day = (net revenue - the first day's amount) / (purchase days - 1).

The models are used only where the data can support them: at least
:data:`MIN_REPEAT_CUSTOMERS` repeat customers and :data:`MIN_MONTHS` months of data
before the end of the report month. The holdout check -- fit on all but the last
:data:`HOLDOUT_MONTHS` months, predict them, compare -- needs
:data:`MIN_MONTHS` + :data:`HOLDOUT_MONTHS` months.

At their limits the models say so rather than print numbers they cannot support:

* where the data show no customer leaving (:func:`retention_xl.clv.dropout_detected`),
  there is no P(alive), and the expected purchases and values come from the model in
  which nobody leaves: each customer's past rate of buying carried forward;
* where the spend model has no finite mean (q <= 1), or a mean far above the observed one
  (:func:`retention_xl.clv.spend_model_usable`), the spend per purchase is the customer's
  own mean (:func:`retention_xl.clv.observed_spend`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..table.contract import CustomerTable, month_number

MIN_REPEAT_CUSTOMERS = 100
MIN_MONTHS = 6
HOLDOUT_MONTHS = 3
FREQUENCY_GROUPS = 8  # 0, 1, ..., 6, 7+
CORRELATION_WARNING = 0.3
HOLDOUT_MISS = 0.25  # a holdout error beyond this, either way, is said on the Summary
EXPECTED_DAYS = 90
WEEK = 7.0

if TYPE_CHECKING:
    from .models import clv


def _models():
    """The models' module, imported where a run fits or reads a model: it brings SciPy (about a third of a
    second), which a report without the models never needs."""
    from .models import clv

    return clv


@dataclass
class Holdout:
    """Repeat purchase days predicted for the last months against those that happened, by frequency group."""

    months: int
    table: pd.DataFrame      # index 0..7 (7 = 7+): customers, predicted, actual
    predicted: float
    actual: float

    @property
    def error(self) -> float | None:
        """(predicted - actual) / actual, or None when nothing happened."""
        return (self.predicted - self.actual) / self.actual if self.actual else None


@dataclass
class CustomerValue:
    """The fitted models and, per customer id, P(alive), expected purchase days and lifetime value."""

    bgnbd: clv.BgNbdFit | None = None
    nbd: clv.NbdFit | None = None            # the model in which nobody leaves, fitted beside BG/NBD
    gamma_gamma: clv.GammaGammaFit | None = None
    customers: pd.DataFrame | None = None    # index customer_id: p_alive, expected_purchases, clv
    holdout: Holdout | None = None
    spend_correlation: float | None = None
    observed_mean_spend: float | None = None  # per repeat purchase day, what the spend model is checked against
    horizon: int = 12
    discount: float = 0.01
    unavailable: str | None = None           # why there are no predictions (a label key)
    no_holdout: str = "value.no_holdout"     # why there is no holdout check, where there is none (a label key)
    details: dict = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.customers is not None

    @property
    def dropout_detected(self) -> bool:
        """Whether the data show customers leaving; without it there is no P(alive)."""
        return self.bgnbd is not None and self.nbd is not None and _models().dropout_detected(self.bgnbd, self.nbd)

    @property
    def purchase_model(self) -> clv.BgNbdFit | clv.NbdFit:
        """The model the expected purchases come from: BG/NBD where drop-out is detected, else the NBD."""
        return self.bgnbd if self.dropout_detected else self.nbd

    @property
    def spend_refused(self) -> bool:
        """Whether the spend model was refused: no finite mean spend (q <= 1), or one far above the observed mean."""
        return self.gamma_gamma is not None and not _models().spend_model_usable(self.gamma_gamma,
                                                                                  self.observed_mean_spend)

    @property
    def holdout_missed(self) -> bool:
        """Whether the holdout check missed the purchase days that happened by more than :data:`HOLDOUT_MISS`."""
        return self.holdout is not None and self.holdout.error is not None and abs(self.holdout.error) > HOLDOUT_MISS


def summary_from_table(table: CustomerTable, last_month: int, end_day: int) -> pd.DataFrame:
    """The BG/NBD summary (in weeks) of every customer who bought by the end of month ``last_month``.

    ``end_day`` is that moment as days since 1970-01-01 (the last day of the month).
    """
    return _summary(table, last_month, end_day)[0]


def _summary(table: CustomerTable, last_month: int, end_day: int) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`summary_from_table` and the customer code of each of its rows."""
    days, net, last = table.purchase_history(last_month)
    first = table.customers["first_purchase_day"].to_numpy()
    buyers = (days > 0) & (first >= 0) & (first <= end_day)
    frequency = (days - 1)[buyers].astype(np.int64)
    repeat_net = (net - table.customers["first_day_amount"].to_numpy())[buyers]
    with np.errstate(divide="ignore", invalid="ignore"):
        monetary = np.where(frequency > 0, repeat_net / np.maximum(frequency, 1), 0.0)
    summary = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last[buyers] - first[buyers]) / WEEK,
            "T": (end_day - first[buyers]) / WEEK,
            "monetary_value": monetary,
        },
        index=pd.Index(table.customers["customer_id"].to_numpy()[buyers], name="customer_id"),
    )
    return summary, np.flatnonzero(buyers)


def _end_day(month: pd.Period) -> int:
    return _day_number(month.end_time)


def _day_number(moment: pd.Timestamp) -> int:
    return int((pd.Timestamp(moment).normalize() - pd.Timestamp("1970-01-01")).days)


def _repeat_customers(summary: pd.DataFrame) -> int:
    """Customers of ``summary`` who came back and spent: those the models learn from."""
    return int(((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum())


def _months_of_data(table: CustomerTable, month: pd.Period) -> int:
    """Months from the table's first purchase to the end of ``month`` (0 for a table without one). A group's
    table counts from the group's own first purchase: a store opened last month has a month of data however
    long the chain has sold."""
    firsts = table.first_month
    firsts = firsts[firsts >= 0]
    return month_number(month) - int(firsts.min()) + 1 if firsts.size else 0


def _holdout(table: CustomerTable, month: pd.Period, value: CustomerValue) -> Holdout | None:
    """Fit the model the values come from on the data up to ``month`` - 3, predict the 3 months after,
    and count what happened; None where those first months had too few repeat customers to fit on."""
    clv = _models()
    calibration_end = month - HOLDOUT_MONTHS
    summary, codes = _summary(table, month_number(calibration_end), _end_day(calibration_end))
    if _repeat_customers(summary) < MIN_REPEAT_CUSTOMERS:
        return None
    if value.dropout_detected:
        model = clv.fit_bgnbd(summary, near=value.bgnbd)
    else:
        model = clv.fit_nbd(summary, near=value.nbd)
    weeks = (_end_day(month) - _end_day(calibration_end)) / WEEK
    predicted = clv.expected_purchases(model, summary, weeks)
    actual = table.per_customer("purchase_days", month_number(calibration_end) + 1, month_number(month))[codes]
    group = np.minimum(summary["frequency"].to_numpy(), FREQUENCY_GROUPS - 1)
    frame = pd.DataFrame({"group": group, "predicted": predicted, "actual": actual})
    by_group = frame.groupby("group").agg(customers=("actual", "size"), predicted=("predicted", "sum"),
                                          actual=("actual", "sum"))
    by_group = by_group.reindex(range(FREQUENCY_GROUPS), fill_value=0)
    return Holdout(HOLDOUT_MONTHS, by_group, float(predicted.sum()), float(actual.sum()))


def customer_value(table: CustomerTable, month: pd.Period, horizon: int = 12, discount: float = 0.01,
                   as_of: pd.Timestamp | None = None) -> CustomerValue:
    """The models fitted on everything up to the end of ``month``, each customer valued over ``horizon`` months.

    The months of data count from the table's first purchase. Each customer's age T counts to ``as_of``, a day
    of ``month`` (default: its last day) for a table that holds nothing after that day.
    """
    result = CustomerValue(horizon=horizon, discount=discount)
    months_of_data = _months_of_data(table, month)
    if months_of_data < MIN_MONTHS:
        result.unavailable = "value.too_short"
        return result
    end_day = _end_day(month) if as_of is None else _day_number(as_of)
    summary = summary_from_table(table, month_number(month), end_day)
    repeaters = _repeat_customers(summary)
    if repeaters < MIN_REPEAT_CUSTOMERS:
        result.unavailable = "value.too_few"
        result.details = {"repeat_customers": repeaters}
        return result
    with _models().blas_threads():
        _fit_and_predict(result, summary)
        if months_of_data >= MIN_MONTHS + HOLDOUT_MONTHS:
            result.holdout = _holdout(table, month, result)
            if result.holdout is None:
                result.no_holdout = "value.no_holdout_few"
    return result


def _fit_and_predict(result: CustomerValue, summary: pd.DataFrame) -> None:
    """The fits, and each customer's P(alive) (where drop-out is detected), expected purchases and value."""
    clv = _models()
    result.bgnbd, result.gamma_gamma = clv.fit_bgnbd(summary), clv.fit_gamma_gamma(summary)
    result.nbd = clv.fit_nbd(summary, near=result.bgnbd)
    result.observed_mean_spend = clv.observed_mean_spend(summary)
    model, spend_model = result.purchase_model, None if result.spend_refused else result.gamma_gamma
    alive = clv.p_alive(model, summary) if result.dropout_detected else np.full(len(summary), np.nan)
    result.customers = pd.DataFrame(
        {
            "p_alive": alive,
            "expected_purchases": clv.expected_purchases(model, summary, EXPECTED_DAYS / WEEK),
            "clv": np.round(clv.customer_lifetime_value(model, spend_model, summary, result.horizon,
                                                        result.discount), 2),
        },
        index=summary.index,
    )
    result.spend_correlation = spend_correlation(summary)


def spend_correlation(summary: pd.DataFrame) -> float | None:
    """Pearson's correlation of purchase frequency and mean spend among repeat customers, or None where it
    has no meaning: fewer than two of them, or all alike in frequency or in spend (a zero spread).

    >>> summary = pd.DataFrame({"frequency": [0, 2, 2, 2], "monetary_value": [0.0, 10.0, 20.0, 30.0]})
    >>> spend_correlation(summary) is None
    True
    >>> spend_correlation(summary.assign(frequency=[0, 1, 2, 3]))
    1.0
    """
    spenders = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    frequency, spend = spenders["frequency"].to_numpy(float), spenders["monetary_value"].to_numpy(float)
    if len(spenders) < 2 or np.ptp(frequency) == 0 or np.ptp(spend) == 0:
        return None
    return float(np.corrcoef(frequency, spend)[0, 1])


VALUE_COLUMNS = ("p_alive", "expected_purchases", "clv")


def with_value(customers: pd.DataFrame, value: CustomerValue) -> pd.DataFrame:
    """The customer table with P(alive), expected purchase days and lifetime value, where the models ran."""
    if not value.available:
        return customers
    predictions = value.customers.reindex(customers["customer_id"].to_numpy())
    return customers.assign(**{column: predictions[column].to_numpy() for column in VALUE_COLUMNS})


def value_summary(value: CustomerValue, customers: pd.DataFrame) -> dict:
    """The models' parameters, the holdout check and the key accounts' values, for ``--json``."""
    if not value.available:
        return {"available": False, "reason": value.unavailable, **value.details}
    key = customers[customers["key_account"]]
    holdout = None
    if value.holdout is not None:
        holdout = {
            "months": value.holdout.months, "predicted": round(value.holdout.predicted, 2),
            "actual": value.holdout.actual, "error": value.holdout.error,
            "by_frequency": {("7+" if group == FREQUENCY_GROUPS - 1 else str(group)): {
                "customers": int(row.customers), "predicted": round(float(row.predicted), 2),
                "actual": float(row.actual)} for group, row in value.holdout.table.iterrows()},
        }
    detected = value.dropout_detected
    return {
        "available": True, "horizon_months": value.horizon, "monthly_discount": value.discount,
        "dropout_detected": detected,
        "bgnbd": {k: getattr(value.bgnbd, k) for k in ("r", "alpha", "a", "b", "log_likelihood")} if detected else None,
        "nbd": {k: getattr(value.nbd, k) for k in ("r", "alpha", "log_likelihood")},
        "gamma_gamma": {k: getattr(value.gamma_gamma, k) for k in ("p", "q", "v", "log_likelihood")},
        "spend_model": "observed_mean" if value.spend_refused else "gamma_gamma",
        "spend_correlation": value.spend_correlation,
        "holdout": holdout,
        "holdout_missed": value.holdout_missed,
        "key_accounts": [{"customer_id": customer, "p_alive": alive, "clv": lifetime} for customer, alive, lifetime in zip(
            key["customer_id"].astype(str).tolist(), key["p_alive"].astype(float).tolist(), key["clv"].astype(float).tolist())],
    }
