"""The Actions sheet: what to do this month, class by class -- why, what, and whom to contact first."""

from __future__ import annotations

import pandas as pd

from ..actions import render_action
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


def _who_table(sheet: SheetWriter, row: int, action, who_keys: list[str], filter_value: str) -> int:
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
        sheet.put(row, 2, sheet.word("actions.more", count=f"{action.remaining:,}", filter=filter_value), "rx_subtitle")
        row += 1
    return row


def write_actions(sheet: SheetWriter, report) -> None:
    words, language = sheet.words, report.options.language
    sheet.put(1, 1, sheet.word("actions.title", month=str(report.month)), "rx_title")
    row = 3
    if not report.actions:
        sheet.put(row, 1, words["actions.none"])
    who_keys = ["customer_id", "customer_name", "segment", "last_purchase", "days_since_last", "revenue"]
    if report.customers["customer_name"].isna().all():
        who_keys.remove("customer_name")
    for action in report.actions:
        worded = render_action(action, language)
        style = "rx_warning" if action.warning else "rx_section"
        sheet.put(row, 1, worded.title, style)
        sheet.style_row(row, 2, 1 + len(who_keys), style)
        row += 1
        for label, text in ((words["actions.why"], worded.why), (words["actions.what"], worded.what)):
            sheet.put(row, 1, label, "rx_bold")
            sheet.wrapped(row, 2, text, TEXT_WIDTH, last_column=1 + len(who_keys))
            row += 1
        if len(action.who):
            row = _who_table(sheet, row, action, who_keys, worded.filter_value)
        row += 1
    sheet.fit_columns(widths={"A": 14, "B": 16, "C": 22, "D": 18, "E": 14, "F": 12, "G": 16})
    sheet.print_setup()
