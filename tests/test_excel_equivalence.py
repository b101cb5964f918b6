"""The documented plain-Excel formulas give the worksheet functions' answers in a real spreadsheet.

A workbook holding the formulas of :mod:`retention_xl.workbook.formulas` is recalculated by
LibreOffice Calc; every result must equal what the functions return through
xlwings for the same inputs.
"""

import random

import openpyxl
import pytest

from excel_protocol import call_scalar
from libreoffice import recalculated_values
from retention_xl.workbook import formulas
from retention_xl import metrics
from retention_xl.i18n import LANGUAGES, tier_label

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]

RETENTION_CASES = [(110, 20, 100), (95, 0, 100), (40, 35, 12), (1, 1, 1), (8123, 912, 9004)]
GROWTH_CASES = [(12_000, 10_000), (7_500.5, 10_000), (-300, 1_200), (1, 3)]
RATES = [0.0, 0.2999, 0.3, 0.5, 0.6999, 0.7, 1.0]
THRESHOLD_CASES = [(0.45, 0.5, 0.2), (0.15, 0.5, 0.2), (0.5, 0.5, 0.5)]


def _amount_lists():
    rng = random.Random(20261122)
    yield [50, 20, 10, 10, 10]
    yield [10, 10, 10, 10, 10, 10, 10]
    yield [60, 20, 5, 5, 4, 3, 3]
    yield [round(rng.lognormvariate(6, 1.4), 2) for _ in range(137)]
    yield [rng.choice([0, 5, 5, 80, 1200]) for _ in range(41)]


FRACTIONS = [0.2, 0.25, 1 / 3, 0.5, 0.05, 1.0]
PAIRS = (
    ["C1", "C2", "C1", "C3", "C4", "C2", "C5", "C1", "C6", "C7"],
    [120.0, 30.5, 80.0, 12.0, 240.0, 10.0, 5.5, 40.0, 60.0, 18.0],
)


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """Build one workbook with every case, let LibreOffice compute it, and return the cases."""
    workdir = tmp_path_factory.mktemp("equivalence")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Cases"
    expected = {}  # cell -> (value from metrics, value through the Excel protocol)
    row = 1

    for e, n, s in RETENTION_CASES:
        sheet.append([e, n, s, formulas.retention(f"A{row}", f"B{row}", f"C{row}")])
        expected[f"D{row}"] = (metrics.retention_rate(e, n, s), call_scalar("RETENTION", e, n, s))
        row += 1

    for this, last in GROWTH_CASES:
        sheet.append([this, last, formulas.txn_growth(f"A{row}", f"B{row}")])
        expected[f"C{row}"] = (metrics.txn_growth(this, last), call_scalar("TXN_GROWTH", this, last))
        row += 1

    for language in LANGUAGES:
        labels = tuple(tier_label(t, language) for t in metrics.TIERS)
        for rate in RATES:
            sheet.append([rate, formulas.repeat_tier(f"A{row}", labels)])
            expected[f"B{row}"] = (
                tier_label(metrics.repeat_tier(rate), language),
                call_scalar("REPEAT_TIER", rate, None, None, language),
            )
            row += 1
        for rate, high, low in THRESHOLD_CASES:
            sheet.append([rate, high, low, formulas.repeat_tier(f"A{row}", labels, f"B{row}", f"C{row}")])
            expected[f"D{row}"] = (
                tier_label(metrics.repeat_tier(rate, high, low), language),
                call_scalar("REPEAT_TIER", rate, high, low, language),
            )
            row += 1

    counts_sheet = book.create_sheet("Counts")
    counts = [1, 3, 1, 2, 1, 1, 7, None, "n/a", 1]
    for count in counts:
        counts_sheet.append([count])
    counts_range = f"Counts!A1:A{len(counts)}"
    numbers = [c for c in counts if isinstance(c, int)]
    sheet.append([formulas.repeat_rate(counts_range)])
    expected[f"A{row}"] = (metrics.repeat_rate(numbers), None)
    row += 1

    for column_index, amounts in enumerate(_amount_lists(), start=1):
        amounts_sheet = book.create_sheet(f"Amounts{column_index}")
        for amount in amounts:
            amounts_sheet.append([amount])
        amounts_range = f"Amounts{column_index}!A1:A{len(amounts)}"
        for fraction in FRACTIONS:
            sheet.append([fraction, formulas.pareto_share(amounts_range, f"A{row}")])
            expected[f"B{row}"] = (
                metrics.pareto_share(amounts, fraction),
                call_scalar("PARETO_SHARE", amounts, None, fraction),
            )
            row += 1

    # (customer, amount) rows: a SUMIF helper column gives one total per customer first.
    pairs_sheet = book.create_sheet("Pairs")
    ids, amounts = PAIRS
    for customer, amount in zip(ids, amounts):
        pairs_sheet.append([customer, amount])
    unique_ids = list(dict.fromkeys(ids))
    for index, customer in enumerate(unique_ids, start=1):
        pairs_sheet[f"D{index}"] = customer
        pairs_sheet[f"E{index}"] = f"=SUMIF($A$1:$A${len(ids)},D{index},$B$1:$B${len(ids)})"
    sheet.append([formulas.pareto_share(f"Pairs!E1:E{len(unique_ids)}")])
    expected[f"A{row}"] = (
        metrics.pareto_share_by_customer(ids, amounts),
        call_scalar("PARETO_SHARE", ids, amounts, None),
    )

    path = workdir / "formulas.xlsx"
    book.save(path)
    return recalculated_values(path, workdir)["Cases"], expected


def test_spreadsheet_agrees_with_python(recalculated):
    values, expected = recalculated
    for cell, (from_metrics, through_excel_protocol) in expected.items():
        spreadsheet = values.get(cell)
        if isinstance(from_metrics, str):
            assert spreadsheet == from_metrics, cell
        else:
            assert spreadsheet == pytest.approx(from_metrics, rel=1e-9, abs=1e-12), cell
        if through_excel_protocol is not None:
            assert through_excel_protocol == spreadsheet or through_excel_protocol == pytest.approx(spreadsheet), cell


def test_every_case_was_computed(recalculated):
    values, expected = recalculated
    assert len(expected) > 60
    assert all(values.get(cell) is not None for cell in expected)
