"""The Actions sheet for scripts: ``--json``'s ``actions`` against the sheet, and the advice's counted words."""

import datetime as dt
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from helpers.data import real_data_slow

from retention_xl.figures import actions as actions_module
from retention_xl.figures.actions import WHO_LIMIT, WordedAction, render_action
from retention_xl.i18n import labels
from retention_xl.report import ReadOptions, ReportOptions, create_report

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_workbooks" / "sales_sample.xlsx"
REAL_DATA = REPO.parent / "shared" / "data" / "online_retail_II_2009-2010.parquet"
SECTION_STYLES = ("rx_section", "rx_warning")


def sheet_sections(path: Path, words: dict) -> list[dict]:
    """The Actions sheet read as a person reads it: each section's title, its listed customers and the
    "… and N more" count."""
    sheet = openpyxl.load_workbook(path)[words["sheet.actions"]]
    sections, header = [], None
    for row in sheet.iter_rows(min_row=3):
        first, rest = row[0], [cell.value for cell in row[1:]]
        if first.style in SECTION_STYLES:
            sections.append({"title": first.value, "customers": [], "more": 0})
            header = None
        elif first.value == words["actions.who"]:
            header = rest
        elif header is not None and rest and rest[0] is not None and row[1].style == "rx_subtitle":
            sections[-1]["more"] = int(re.search(r"[\d,]+", rest[0]).group().replace(",", ""))
            header = None
        elif header is not None and rest and rest[0] is not None:
            sections[-1]["customers"].append(dict(zip(header, rest)))
        else:
            header = None
    return sections


def report_and_json(tmp_path, sales, month, window, language, valued=False):
    output, json_path = tmp_path / "report.xlsx", tmp_path / "report.json"
    report = create_report(sales, output, ReportOptions(month=month, active_window=window, language=language,
                                                        clv=valued),
                           json_path=json_path, read=ReadOptions(as_of="2026-01-01"))
    return report, output, json.loads(json_path.read_text(encoding="utf-8"))["actions"]


CASES = {  # name: (sales, month, window, language, customer-value models)
    "sample-en": (SAMPLE, "2024-12", 12, "en", False),
    "sample-zh-CN-valued": (SAMPLE, "2024-12", 12, "zh-CN", True),
    "online-retail-zh-TW": (REAL_DATA, "2010-11", 6, "zh-TW", False),
}


@pytest.mark.parametrize("case", real_data_slow(sorted(CASES)))
def test_the_json_actions_are_the_sheets_sections(case, tmp_path):
    sales, month, window, language, valued = CASES[case]
    if not sales.exists():
        pytest.skip(f"{sales} is not here")
    report, output, sections = report_and_json(tmp_path, sales, month, window, language, valued)
    words = labels(language)
    on_sheet = sheet_sections(output, words)
    assert [section["title"] for section in on_sheet] == [section["title"] for section in sections]
    assert [section["key"] for section in sections] == [action.key for action in report.actions]
    for shown, section in zip(on_sheet, sections):
        where = section["key"]
        assert len(shown["customers"]) + shown["more"] == section["count"], where
        assert len(section["customers"]) == section["count"] and section["not_listed"] == 0, where
        assert len(shown["customers"]) == min(section["count"], WHO_LIMIT), where
        stake = next(iter(action for action in report.actions if action.key == where)).stake_label
        for person, listed in zip(shown["customers"], section["customers"]):
            assert str(person[words["who.customer_id"]]) == listed["customer_id"], where
            assert person.get(words["who.customer_name"]) == listed["customer_name"], where
            assert person[words["who.segment"]] == words[f"segment.{listed['segment']}"], where
            assert person[words["who.last_purchase"]] == dt.datetime.fromisoformat(listed["last_purchase"]), where
            assert person[words["who.days_since_last"]] == listed["days_since_last"], where
            assert person[words[stake]] == pytest.approx(listed["value"], abs=0.005), where
        values = [person["value"] for person in section["customers"]]
        assert values == sorted(values, reverse=True), where
        table = report.customers.set_index("customer_id")
        ranking = -table["window_profit"] if section["ranked_by"] == "loss" else table[section["ranked_by"]]
        for person in section["customers"]:
            assert person["value"] == pytest.approx(ranking[person["customer_id"]], abs=0.005), where


def test_customers_valued_by_profit_and_the_loss_makers_ranked_by_their_loss(tmp_path, sample_rows):
    rows = sample_rows
    # Every fifth member sold at a loss: cost above the amount.
    losing = rows["会员号"].str[-1].isin(["0", "5"])
    rows["成本"] = rows["金额"] * losing.map({True: 1.3, False: 0.6})
    sales = tmp_path / "sales_with_cost.csv"
    rows.to_csv(sales, index=False)
    output, json_path = tmp_path / "report.xlsx", tmp_path / "report.json"
    report = create_report(sales, output, ReportOptions(month="2024-12", active_window=12, language="en", clv=False,
                                                        value="profit"),
                           json_path=json_path, read=ReadOptions(as_of="2026-01-01"))
    sections = json.loads(json_path.read_text(encoding="utf-8"))["actions"]
    by_key = {section["key"]: section for section in sections}
    assert by_key["loss_making"]["ranked_by"] == "loss" and by_key["champions"]["ranked_by"] == "window_profit"
    table = report.customers.set_index("customer_id")
    for person in by_key["loss_making"]["customers"]:
        assert person["value"] == pytest.approx(-table.loc[person["customer_id"], "window_profit"], abs=0.005)
    on_sheet = sheet_sections(output, labels("en"))
    assert [section["title"] for section in on_sheet] == [section["title"] for section in sections]
    for shown, section in zip(on_sheet, sections):
        assert [str(person["Customer"]) for person in shown["customers"]] == \
            [person["customer_id"] for person in section["customers"][:WHO_LIMIT]], section["key"]


def test_a_large_section_lists_its_first_customers_and_counts_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(actions_module, "LISTED_LIMIT", 25)
    report, output, sections = report_and_json(tmp_path, SAMPLE, "2024-12", 12, "en")
    large = [section for section in sections if section["count"] > 25]
    assert large, "the sample should have a class of more than 25 customers"
    for section in sections:
        assert len(section["customers"]) == min(section["count"], 25), section["key"]
        assert section["not_listed"] == section["count"] - len(section["customers"]), section["key"]
    on_sheet = sheet_sections(output, labels("en"))
    for shown, section in zip(on_sheet, sections):  # the sheet still counts every customer
        assert len(shown["customers"]) + shown["more"] == section["count"], section["key"]


def test_every_action_key_is_documented_for_scripts():
    readme = (REPO / "docs" / "command-line.md").read_text(encoding="utf-8")
    macros = (REPO / "templates" / "en" / "actions.j2").read_text(encoding="utf-8")
    keys = set(re.findall(r"macro (\w+)_title\(", macros))
    assert keys and all(f"| `{key}` |" in readme for key in keys), keys - set(re.findall(r"\| `(\w+)` \|", readme))


def render_all(language: str, count: int) -> dict[str, WordedAction]:
    """Every action's title, reasons and advice in ``language``, with every count equal to ``count``."""
    figures = {"count": count, "N": count, "L": count, "window": count, "active_months": count, "revenue": 1234.5,
               "share": 0.25, "top": 0.2, "measure": "revenue", "repeat_rate": 0.2, "low": 0.3,
               "strict_retention": 0.9, "previous_strict_retention": 0.95, "txn_growth": -0.1, "threshold": 0.3,
               "value": 99.0, "loss": 12.0, "key_accounts": count, "month": "2024-05", "days_min": count,
               "days_max": count, "orders_min": count, "orders_max": count, "floor": 30, "multiple": 3}
    macros = (REPO / "templates" / "en" / "actions.j2").read_text(encoding="utf-8")
    texts = {}
    for key in re.findall(r"macro (\w+)_title\(", macros):
        action = actions_module.Action(key=key, figures=figures, who=pd.DataFrame(), remaining=0)
        texts[key] = render_action(action, language)
    return texts


def test_one_customer_and_one_month_are_singular_in_english():
    for key, worded in render_all("en", 1).items():
        text = f"{worded.why} {worded.what}"
        assert not re.search(r"\b1 (\w+ ){0,4}?(customers|months|champions)\b", text), (key, text)
        assert not re.search(r"\b1 (\w+ ){0,4}?(customer|month)s? (who )?(have|are)\b", text), (key, text)
        assert "(s)" not in text and "each of them" not in text, (key, text)
    one = {key: worded.why for key, worded in render_all("en", 1).items()}
    assert "1 customer who bought more often and spent more than most" in one["cant_lose"]
    assert "(1 order, " in one["cant_lose"] and "has not bought for 1 day." in one["cant_lose"]
    assert "1 champion or loyal customer brings" in one["champions"]
    assert "in the last 1 month," in one["warning_low_repeat"]
    many = {key: worded.why for key, worded in render_all("en", 2).items()}
    assert "2 customers who bought more often" in many["cant_lose"] and "have not bought for 2 days." in many["cant_lose"]
    assert "2 champions and loyal customers bring" in many["champions"]
    assert "in the last 2 months," in many["warning_low_repeat"]


@pytest.mark.parametrize("language", ["zh-CN", "zh-TW"])
def test_chinese_counts_customers_with_a_measure_word_and_one_customer_is_not_they(language):
    they = "他们" if language == "zh-CN" else "他們"
    for count in (1, 2):
        for key, worded in render_all(language, count).items():
            if key != "warning_low_repeat":  # counts no customers
                assert f"{count} 位" in worded.why, (key, worded.why)
            if count == 1:
                assert they not in worded.why, (key, worded.why)


def test_labels_name_one_month_in_the_singular(tmp_path):
    output, json_path = tmp_path / "report.xlsx", tmp_path / "report.json"
    report = create_report(SAMPLE, output, ReportOptions(month="2024-12", active_window=1, language="en", horizon=1),
                           json_path=json_path, read=ReadOptions(as_of="2026-01-01"))
    assert report.summary()["window_reason"] == "1 month, as given"
    book = openpyxl.load_workbook(output)
    texts = [cell.value for sheet in book for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert any("bought in the last 1 month " in text for text in texts)
    assert "Lifetime value, next 1 month" in texts
    for text in texts:
        assert "(s)" not in text and not re.search(r"\b1 (months|customers)\b", text), text


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_json_titles_of_a_profit_valued_report_are_the_sheets_and_only_the_titles_are_rendered(
        language, tmp_path, monkeypatch):
    from retention_xl.figures.summary import actions_json

    rows = pd.read_excel(SAMPLE, header=1)
    rows["成本"] = rows["金额"] * rows["会员号"].str[-1].isin(["0", "5"]).map({True: 1.3, False: 0.6})
    sales = tmp_path / "sales_with_cost.csv"
    rows.to_csv(sales, index=False)
    output = tmp_path / "report.xlsx"
    report = create_report(sales, output, ReportOptions(month="2024-12", active_window=12, language=language,
                                                        clv=False, value="profit"),
                           read=ReadOptions(as_of="2026-01-01"))
    rendered = []
    worded = actions_module._worded
    monkeypatch.setattr(actions_module, "_worded", lambda key, part, *rest: rendered.append(part) or
                        worded(key, part, *rest))
    sections = actions_json(report.actions, language)
    assert set(rendered) == {"title"} and len(rendered) == len(report.actions)
    on_sheet = sheet_sections(output, report.labels())
    assert [section["title"] for section in on_sheet] == [section["title"] for section in sections]
    assert any(section["key"] == "loss_making" for section in sections)
