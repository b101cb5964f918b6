"""Recommended actions for the month, class by class, and their wording.

:func:`recommend` decides which actions apply and returns each as a key with the
figures that triggered it and the customers to contact first; it knows no
language. :func:`render_action` words an action: the text lives in
``templates/<language>/actions.j2`` as macros ``<key>_title()``, ``<key>_why(f)``
and ``<key>_what(f)``, so it can be edited without code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import jinja2
import pandas as pd

from .. import metrics
from .month import MonthFigures
from .customers import ACTIVE_MONTHS, DEFAULT_LAPSE_DAYS, LAPSE_MULTIPLE, lapsing
from ..i18n import fill, labels, normalize_language, plural, templates_root

WHO_LIMIT = 10
# Customers of an action kept in rank order for scripts (``--json``): every one in a business of a few
# thousand customers, the first of a large chain's (whose JSON would otherwise take seconds); the count
# says how many there are, and the Customers sheet and the customer file hold every one.
LISTED_LIMIT = 2_000
WHO_COLUMNS = ["customer_id", "customer_name", "segment", "last_purchase", "days_since_last", "stake"]
CALL_LIST_LIMIT = 1000  # rows on a salesperson's call list; the Customers sheet holds every customer
# The order in which a salesperson works through their customers: key accounts gone quiet and
# big past spenders first, winning back the long gone last.
CALL_PRIORITY = ("key_quiet", "cant_lose", "at_risk", "new_customers", "need_attention", "about_to_sleep",
                 "potential_loyalist", "promising", "between_purchases", "champions", "loyal", "hibernating", "lost")


@dataclass
class Action:
    """One recommended action: what triggered it and whom it concerns, without wording."""

    key: str
    figures: dict               # the numbers its texts quote
    who: pd.DataFrame           # the customers to contact first, at most WHO_LIMIT
    remaining: int              # further customers not listed
    filter_labels: tuple[str, ...] = ()  # label keys of the Customers-sheet values that list all of them
    warning: bool = False
    stake_label: str = "who.revenue"     # label key of what the customers are ranked by
    ranked_by: str = "revenue"  # the customer-table column (or "loss") that ranks them, shown as ``stake``
    listed: pd.DataFrame | None = None  # the customers in rank order, at most LISTED_LIMIT; ``who`` is its head
    total: int = 0              # all the customers it concerns
    last_purchase_month: str | None = None  # with ``filter_labels``: the month of their last purchase, to filter on


@dataclass
class WordedAction:
    title: str
    why: str
    what: str
    filter_value: str
    more: str  # the line under the customers listed: how many more, and how to find them on the Customers sheet


def render_action(action: Action, language: str, words: dict[str, str] | None = None) -> WordedAction:
    """The title, reasons, advice and Customers-sheet filter of ``action`` in ``language`` (``words``: the
    report's labels, default the language's own)."""
    words = labels(language) if words is None else words

    def text(part: str, *arguments) -> str:
        return _worded(action.key, part, language, *arguments)

    filter_value = " / ".join(words[key] for key in action.filter_labels)
    more = "actions.more_plain" if not filter_value else \
        "actions.more" if action.last_purchase_month is None else "actions.more_in_month"
    return WordedAction(
        title=text("title"), why=text("why", action.figures), what=text("what", action.figures),
        filter_value=filter_value,
        more=fill(words[more], count=f"{action.remaining:,}", filter=filter_value, month=action.last_purchase_month),
    )


def action_title(action: Action, language: str) -> str:
    """The title of ``action`` in ``language``, as the Actions sheet shows it: a title quotes no figure and no
    label, so it is the same under every value measure and staff word, and is rendered alone."""
    return _worded(action.key, "title", language)


def _worded(key: str, part: str, language: str, *arguments) -> str:
    """The text of macro ``<key>_<part>`` of the language's ``actions.j2``, called with ``arguments``."""
    macros = environment(language).get_template("actions.j2").module
    return str(getattr(macros, f"{key}_{part}")(*arguments)).strip()


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def share(value: float) -> str:
    """A configured share as people write it: ``0.2`` is ``20%``, ``0.125`` is ``12.5%``.

    >>> share(0.2), share(0.125)
    ('20%', '12.5%')
    """
    return f"{value * 100:g}%"


def num(value: float) -> str:
    return f"{value:,.0f}"


def money(value: float) -> str:
    return f"{value:,.2f}"


def counted(count: int, one: str, many: str) -> str:
    """A count and the word it takes in English.

    >>> counted(1, "customer", "customers"), counted(1234, "customer has", "customers have")
    ('1 customer', '1,234 customers have')
    """
    return f"{num(count)} {plural(count, one, many)}"


@lru_cache(maxsize=None)
def environment(language: str) -> jinja2.Environment:
    """The jinja2 environment for one language's templates, with the pct/num/money/share filters and
    ``plural``/``counted`` for the words a count takes."""
    folder = templates_root() / normalize_language(language)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=False, undefined=jinja2.StrictUndefined)
    env.filters.update(pct=pct, num=num, money=money, share=share, plural=plural, counted=counted)
    return env


def render_definitions(language: str, **values) -> list[tuple[str, str]]:
    """(term, definition) pairs from ``definitions.j2``."""
    text = environment(language).get_template("definitions.j2").render(**values)
    return [tuple(line.split("\t", 1)) for line in text.strip().splitlines() if "\t" in line]


def ranked(members: pd.DataFrame, sort_by: str, limit: int) -> pd.DataFrame:
    """The first ``limit`` of ``members``, the largest ``sort_by`` first (ties in table order), as
    :data:`WHO_COLUMNS` with ``sort_by`` as ``stake``.

    Only the ranking column is sorted, and only the rows kept are copied: a lapsed class of a large
    chain holds most of its customers.

    >>> people = pd.DataFrame({"customer_id": ["a", "b", "c"], "customer_name": None, "segment": "lost",
    ...                        "last_purchase": pd.Timestamp("2024-01-05"), "days_since_last": 40,
    ...                        "revenue": [5.0, 9.0, 5.0]})
    >>> ranked(people, "revenue", limit=2)[["customer_id", "stake"]].to_dict("records")
    [{'customer_id': 'b', 'stake': 9.0}, {'customer_id': 'a', 'stake': 5.0}]
    """
    order = members[sort_by].reset_index(drop=True).sort_values(ascending=False, kind="stable").index[:limit]
    kept = members.iloc[order]
    return kept.assign(stake=kept[sort_by])[WHO_COLUMNS]


def action_for(key, members: pd.DataFrame, sort_by: str, figures: dict, filter_labels=(), warning=False,
               stake_label: str = "who.revenue", last_purchase_month: str | None = None) -> Action:
    """An action concerning ``members``, the largest by ``sort_by`` listed first."""
    listed = ranked(members, sort_by, LISTED_LIMIT)
    return Action(
        key=key,
        figures=figures,
        who=listed.head(WHO_LIMIT),
        remaining=max(len(members) - WHO_LIMIT, 0),
        filter_labels=tuple(filter_labels),
        warning=warning,
        stake_label=stake_label,
        ranked_by=sort_by,
        listed=listed,
        total=len(members),
        last_purchase_month=last_purchase_month,
    )


def facts(members: pd.DataFrame, lapse_days: int = DEFAULT_LAPSE_DAYS) -> dict:
    """What is true of every one of ``members`` by absolute measures, for texts that must not claim more: the range
    of their days since the last purchase and of their orders, with the lapse rule's floor and multiple.

    >>> people = pd.DataFrame({"days_since_last": [3, 40, 12], "orders": [7, 1, 2]})
    >>> facts(people)
    {'days_min': 3, 'days_max': 40, 'orders_min': 1, 'orders_max': 7, 'floor': 30, 'multiple': 3}
    """
    days, orders = members["days_since_last"], members["orders"]
    return {"days_min": int(days.min()), "days_max": int(days.max()), "orders_min": int(orders.min()),
            "orders_max": int(orders.max()), "floor": lapse_days, "multiple": LAPSE_MULTIPLE}


def _retention_falling(current: MonthFigures, previous: MonthFigures | None) -> bool:
    return previous is not None and (
        (current.strict_retention is not None and previous.strict_retention is not None
         and current.strict_retention < previous.strict_retention)
        or (current.txn_growth is not None and current.txn_growth < 0)
    )


def _class_groups(customers: pd.DataFrame, value: str):
    """(action, members, ranked by, Customers-sheet labels) of the classes that get advice every month."""
    segment = customers["segment"]
    return (
        ("new_customers", customers["status"] == "new", f"window_{value}", ["status.new"]),
        # No lapsing customer is Champions or Loyal, so the Customers sheet's filter lists exactly these.
        ("champions", segment.isin(["champions", "loyal"]), f"window_{value}",
         ["segment.champions", "segment.loyal"]),
        ("potential", segment.isin(["potential_loyalist", "promising"]), value,
         ["segment.potential_loyalist", "segment.promising"]),
        ("need_attention", segment.isin(["need_attention", "about_to_sleep"]), value,
         ["segment.need_attention", "segment.about_to_sleep"]),
        ("between_purchases", segment == "between_purchases", value, ["segment.between_purchases"]),
        ("hibernating", segment.isin(["hibernating", "lost"]), value, ["segment.hibernating", "segment.lost"]),
    )


def _loss_making(customers: pd.DataFrame, value: str) -> list[Action]:
    """Where the data carry profit: the customers of the base whose window profit is below 0, the largest loss first;
    its figures say how many of them are key accounts, which depends on the ``value`` measure."""
    if "window_profit" not in customers:
        return []
    losing = customers[customers["in_base"] & (customers["window_profit"] < 0)].assign(
        loss=lambda t: -t["window_profit"])
    if not len(losing):
        return []
    figures = {"count": len(losing), "loss": float(losing["loss"].sum()), "measure": value,
               "key_accounts": int(losing["key_account"].sum())}
    return [action_for("loss_making", losing, "loss", figures, ["col.window_profit"], stake_label="who.loss")]


PROBABLY_GONE = 0.3   # P(alive) below which a quiet customer is probably gone
STILL_ALIVE = 0.7     # P(alive) from which a quiet customer is only between purchases


def _value_actions(customers: pd.DataFrame, group, lapse) -> list[Action]:
    """Where the customer-value models ran: quiet customers who are probably gone (win them back now, the
    biggest past spenders first; only those lapsing, ``lapse``) apart from those only between purchases (no
    discount needed; only those not lapsing: the lapse rule's verdict is not overruled by the model).

    None where the data show no drop-out: P(alive) is then unknown (blank), and no advice rests on it. Nor
    does any rest on the blank P(alive) of a customer with one purchase day: both comparisons leave them out.
    """
    if "p_alive" not in customers or customers["p_alive"].isna().all():
        return []
    quiet = customers["status"].isin(["at_risk", "lapsed"])
    valuable = customers["revenue"] >= customers["revenue"].median()
    found = []
    gone = customers[quiet & valuable & (customers["p_alive"] < PROBABLY_GONE) & lapse]
    if len(gone):
        found.append(action_for("probably_gone", gone, "revenue", group(gone) | {"threshold": PROBABLY_GONE},
                             ["col.p_alive"]))
    alive = customers[quiet & (customers["p_alive"] >= STILL_ALIVE) & ~lapse]
    if len(alive):
        figures = group(alive) | {"threshold": STILL_ALIVE, "value": float(alive["clv"].sum())}
        found.append(action_for("quiet_alive", alive, "clv", figures, ["col.p_alive"], stake_label="who.clv"))
    return found


def _lost_this_month(current: MonthFigures, previous: MonthFigures | None, customers: pd.DataFrame,
                     active_window: int, value: str, lapse_days: int) -> list[Action]:
    """The customers who left the base this month (the L), where retention fell: their last purchase was in the
    month that has just left the active window. Out of the base is lapsing: every one of the L is listed."""
    if not (current.L and _retention_falling(current, previous)):
        return []
    last_month_of_base = pd.Period(current.month, "M") - active_window
    left = customers[~customers["in_base"] & (customers["last_purchase"].dt.to_period("M") == last_month_of_base)]
    if not len(left):
        return []
    stake = "who.revenue" if value == "revenue" else "who.profit"
    return [action_for("lost_this_month", left, value, {
        "L": current.L, "count": len(left), "month": str(last_month_of_base), "measure": value,
        "strict_retention": current.strict_retention, "previous_strict_retention": previous.strict_retention,
        "txn_growth": current.txn_growth, **facts(left, lapse_days)}, ["status.lapsed"], stake_label=stake,
        last_purchase_month=str(last_month_of_base))]


def recommend(
    current: MonthFigures,
    previous: MonthFigures | None,
    customers: pd.DataFrame,
    *,
    active_window: int,
    low: float = metrics.DEFAULT_LOW_REPEAT,
    top_fraction: float = metrics.DEFAULT_TOP_FRACTION,
    value: str = "revenue",
    lapse_days: int = DEFAULT_LAPSE_DAYS,
) -> list[Action]:
    """The month's actions, most urgent first; each appears only when it applies.

    ``value`` (``"revenue"`` or ``"profit"``) ranks the customers to contact and gives their share. Actions that
    say a customer has gone (``key_quiet``, ``cant_lose``, ``at_risk``, ``lost_this_month``, ``probably_gone``,
    ``hibernating``) list only customers lapsing (:func:`retention_xl.figures.customers.lapsing`, silent longer than
    ``lapse_days``); the first three and the last follow the customer table's segments and actions.
    """
    in_base = customers["in_base"]
    lapse = lapsing(customers, lapse_days)
    window_value = f"window_{value}"
    base_value = float(customers.loc[in_base, window_value].clip(lower=0).sum())
    actions: list[Action] = []
    stake = "who.revenue" if value == "revenue" else "who.profit"

    def group(frame, sort_by=value):
        share = float(frame.loc[frame["in_base"], window_value].clip(lower=0).sum()) / base_value if base_value else None
        return {"count": len(frame), "revenue": float(frame[sort_by].sum()), "share": share,
                "active_months": min(ACTIVE_MONTHS, active_window), "top": top_fraction, "measure": value,
                **facts(frame, lapse_days)}

    def act(key, members, sort_by, figures, filter_labels=()):
        return action_for(key, members, sort_by, figures, filter_labels, stake_label=stake)

    if current.repeat_tier == "low":
        actions.append(action_for("warning_low_repeat", customers.iloc[0:0], "revenue",
                               {"repeat_rate": current.repeat_rate, "low": low, "window": active_window}, warning=True))
    key_quiet = customers[customers["action"] == "key_quiet"]
    if len(key_quiet):
        actions.append(act("key_quiet", key_quiet, window_value, group(key_quiet, window_value), ["action.key_quiet"]))
    for key in ("cant_lose", "at_risk"):
        members = customers[(customers["segment"] == key) & (customers["action"] != "key_quiet")]
        if len(members):
            actions.append(act(key, members, value, group(members), [f"segment.{key}"]))
    actions += _lost_this_month(current, previous, customers, active_window, value, lapse_days)
    actions += _loss_making(customers, value)
    actions += _value_actions(customers, group, lapse)
    for key, mask, sort_by, label_keys in _class_groups(customers, value):
        members = customers[mask]
        if len(members):
            actions.append(act(key, members, sort_by, group(members, sort_by) | {"N": current.N}, label_keys))
    return actions


def call_list(customers: pd.DataFrame, value: str = "revenue", limit: int = CALL_LIST_LIMIT) -> tuple[pd.DataFrame, int]:
    """A salesperson's customers in the order to call them, and how many more did not fit ``limit``.

    Ordered by the reason to call (:data:`CALL_PRIORITY`, from the customer's ``action``),
    then by window ``value`` (revenue or profit), then by lifetime value, then by id.

    >>> people = pd.DataFrame({"customer_id": ["a", "b", "c"], "action": ["lost", "key_quiet", "lost"],
    ...                        "window_revenue": [0.0, 50.0, 0.0], "revenue": [10.0, 90.0, 30.0]})
    >>> call_list(people)[0]["customer_id"].tolist()
    ['b', 'c', 'a']
    """
    priority = customers["action"].map({key: rank for rank, key in enumerate(CALL_PRIORITY)})
    ordered = customers.assign(priority=priority).sort_values(
        ["priority", f"window_{value}", value, "customer_id"], ascending=[True, False, False, True], kind="stable")
    return ordered.head(limit).drop(columns="priority").reset_index(drop=True), max(len(ordered) - limit, 0)
