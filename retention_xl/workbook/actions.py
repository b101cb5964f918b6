"""The Actions sheet: what to do this month, class by class -- why, what, and whom to contact first."""

from __future__ import annotations

import pandas as pd

from ..figures.actions import call_list, render_action
from .sheet import SheetWriter

TEXT_WIDTH = 80  # characters across the merged columns of the advice
_WHO_STYLES = {"segment": "rx_text", "last_purchase": "rx_date", "days_since_last": "rx_int", "revenue": "rx_money"}


def _who_cells(person, words) -> dict[str, object]:
    return {
        "customer_id": person.customer_id,
        "customer_name": None if pd.isna(person.customer_name) else person.customer_name,
        "segment": words[f"segment.{person.segment}"],
        "last_purchase": person.last_purchase.to_pydatetime(),
        "days_since_last": int(person.days_since_last),
        "revenue": float(person.stake),
    }


def _who_table(sheet: SheetWriter, row: int, action, who_keys: list[str], more: str) -> int:
    """The customers to contact first; returns the next free row."""
    words = sheet.words
    sheet.put(row, 1, words["actions.who"], "rx_bold")
    sheet.header(row, 2, [words[action.stake_label] if k == "revenue" else words[f"who.{k}"] for k in who_keys])
    row += 1
    for person in action.who.itertuples(index=False):
        cells = _who_cells(person, words)
        for column, key in enumerate(who_keys, start=2):
            if key in _WHO_STYLES:
                sheet.put(row, column, cells[key], _WHO_STYLES[key])
            else:  # text from the data
                sheet.text(row, column, cells[key])
        row += 1
    if action.remaining:
        sheet.put(row, 2, more, "rx_subtitle")
        row += 1
    return row


def _call_list(sheet: SheetWriter, row: int, report) -> int:
    """A salesperson's customers in the order to call them, with the reason; returns the next free row."""
    words, value = sheet.words, report.options.value
    calls, more = call_list(report.customers, value)
    keys = ["customer_id", "customer_name", "action", "last_purchase", "days_since_last", f"window_{value}", value]
    if calls["customer_name"].isna().all():
        keys.remove("customer_name")
    sheet.put(row, 1, words["call.title"], "rx_section")
    sheet.style_row(row, 2, 1 + len(keys), "rx_section")
    sheet.put(row + 1, 1, words["call.note"], "rx_subtitle")
    row += 2
    sheet.header(row, 1, [words["call.rank"]] + [words[f"col.{k}"] for k in keys])
    styles = {"last_purchase": "rx_date", "days_since_last": "rx_int", f"window_{value}": "rx_money", value: "rx_money"}
    for rank, person in enumerate(calls.itertuples(index=False), start=1):
        row += 1
        sheet.put(row, 1, rank, "rx_int")
        for column, key in enumerate(keys, start=2):
            cell = getattr(person, key)
            if key == "action":
                sheet.put(row, column, words[f"action.{cell}"])
            elif key == "last_purchase":
                sheet.put(row, column, cell.to_pydatetime(), styles[key])
            elif key in styles:
                sheet.put(row, column, float(cell), styles[key])
            else:  # text from the data
                sheet.text(row, column, None if pd.isna(cell) else cell)
    if more:
        sheet.put(row + 1, 2, sheet.word("call.more", count=f"{more:,}"), "rx_subtitle")
        row += 1
    return row + 2


def write_actions(sheet: SheetWriter, report) -> None:
    words, language = sheet.words, report.options.language
    sheet.put(1, 1, sheet.word("actions.title", month=str(report.month)), "rx_title")
    row = 3
    if report.options.call_list:
        row = _call_list(sheet, row, report)
    if not report.actions:
        sheet.put(row, 1, words["actions.none"])
    who_keys = ["customer_id", "customer_name", "segment", "last_purchase", "days_since_last", "revenue"]
    if report.customers["customer_name"].isna().all():
        who_keys.remove("customer_name")
    for action in report.actions:
        worded = render_action(action, language, words)
        style = "rx_warning" if action.warning else "rx_section"
        sheet.put(row, 1, worded.title, style)
        sheet.style_row(row, 2, 1 + len(who_keys), style)
        row += 1
        for label, text in ((words["actions.why"], worded.why), (words["actions.what"], worded.what)):
            sheet.put(row, 1, label, "rx_bold")
            sheet.wrapped(row, 2, text, TEXT_WIDTH, last_column=1 + len(who_keys))
            row += 1
        if len(action.who):
            row = _who_table(sheet, row, action, who_keys, worded.more)
        row += 1
    # On a call list, column D holds the recommended action, the longest text of a row.
    sheet.fit_columns(widths={"A": 14, "B": 16, "C": 22, "D": 32 if report.options.call_list else 18, "E": 14,
                              "F": 12, "G": 16, "H": 14})
    sheet.print_setup()
