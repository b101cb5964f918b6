"""The seed's loyalty measures: satisfaction and likelihood to recommend beside repeat purchase.

A small chain whose every figure was worked out by hand (window 1, report month 2024-03):

=====  =====================================  =======  ===========================  =====================
id     purchases (store)                      in S/E   answers (sales sheet)        latest in Feb 1-Mar 31
=====  =====================================  =======  ===========================  =====================
A      02-10 100, 02-11 50, 03-05 1000 (东店)  S, E     非常满意 + 10; "great" + 11;  2 (不满意), promoter
                                                       2 stars on 03-05
B      02-12 80 (东店)                         S, lost  非常不满意, 不可能             1, detractor
C      02-15 60, 03-10 70, 03-10 30 (西店)     S, E     比较满意 + 8; 3 then 5 on     5, passive
                                                       the same day (the last row)
D      02-20 40 (西店)                         S, lost  none                         none
E      03-15 90 (西店)                         new      满意, 很大可能                 3, promoter
F      01-05 20 (东店)                         -        非常满意 (before the window)   none
=====  =====================================  =======  ===========================  =====================

Satisfaction index (2 + 1 + 5 + 3) / 4 = 2.75; NPS (2 promoters - 1 detractor) / 4 = 0.25. A is the one key
account (the top 20% of E's 3 customers, rounded up): unhappy, and a promoter.
"""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pandas as pd
import pytest

from excel_protocol import call_scalar, error
from libreoffice import assert_saved_values_are_recalculated, recalculated_values
from retention_xl.cli import main
from retention_xl.read.columns import role_of_header
from retention_xl.i18n import LANGUAGES, labels
from retention_xl.loyalty_scales import recommend_level, satisfaction_level
from retention_xl.read.reader import read_sales
from retention_xl.report import ReadOptions, ReportOptions, analyse, create_report

SALES = [  # customer, date, amount, store, satisfaction, recommend
    ("A", "2024-02-10", 100, "东店", "非常满意", 10),
    ("A", "2024-02-11", 50, "东店", "great", 11),
    ("A", "2024-03-05", 1000, "东店", "2", None),
    ("B", "2024-02-12", 80, "东店", "非常不满意", "不可能"),
    ("C", "2024-02-15", 60, "西店", 4, 8),
    ("C", "2024-03-10", 70, "西店", 3, None),
    ("C", "2024-03-10", 30, "西店", "5星", None),
    ("D", "2024-02-20", 40, "西店", None, None),
    ("E", "2024-03-15", 90, "西店", "满意", "很大可能"),
    ("F", "2024-01-05", 20, "东店", "非常满意", None),
]
OPTIONS = dict(month="2024-03", active_window=1, clv=False)


def sales_file(tmp_path, rows=SALES, headers=("会员号", "日期", "金额", "门店", "满意度", "推荐意愿")):
    path = tmp_path / "sales.xlsx"
    pd.DataFrame(rows, columns=list(headers)).assign(日期=lambda t: pd.to_datetime(t["日期"])).to_excel(path, index=False)
    return path


@pytest.fixture
def report(tmp_path):
    sales = read_sales(sales_file(tmp_path), as_of="2024-12-31")
    return analyse(sales, ReportOptions(language="en", **OPTIONS))


def test_the_months_figures_match_the_hand_count(report):
    month = report.loyalty.current
    assert month.satisfaction == {5: 1, 4: 0, 3: 1, 2: 1, 1: 1}
    assert month.recommend == {2: 2, 1: 1, 0: 1}
    assert month.satisfaction_index == pytest.approx(2.75) and month.nps == pytest.approx(0.25)
    assert month.repeat_rate == report.current.repeat_rate


def test_retention_by_answer_adds_up_to_the_bridge(report):
    table = report.loyalty.by_answer
    assert table.loc["satisfaction"].to_dict("index") == {5: {"S": 1, "L": 0}, 4: {"S": 0, "L": 0}, 3: {"S": 0, "L": 0},
                                                          2: {"S": 1, "L": 0}, 1: {"S": 1, "L": 1},
                                                          "none": {"S": 1, "L": 1}}
    assert table.loc["recommend"].to_dict("index") == {2: {"S": 1, "L": 0}, 1: {"S": 1, "L": 0}, 0: {"S": 1, "L": 1},
                                                       "none": {"S": 1, "L": 1}}
    for question in ("satisfaction", "recommend"):
        assert table.loc[question].sum().to_dict() == {"S": report.current.S, "L": report.current.L} == {"S": 4, "L": 2}


def test_each_store_has_its_own_s_and_l_as_on_the_stores_sheet(report):
    by_store = report.loyalty.by_store
    assert by_store.loc[("东店", "satisfaction")].to_dict("index")[1] == {"S": 1, "L": 1}
    assert by_store.loc[("西店", "satisfaction")].to_dict("index")["none"] == {"S": 1, "L": 1}
    stores = report.groups["store"]
    for store in ("东店", "西店"):
        for question in ("satisfaction", "recommend"):
            totals = by_store.loc[(store, question)].sum()
            assert (totals.S, totals.L) == (stores.at[store, "S"], stores.at[store, "L"])


def test_bad_answers_are_counted_and_the_sale_is_kept(tmp_path):
    sales = read_sales(sales_file(tmp_path), as_of="2024-12-31")
    adjusted = sales.accounting.adjustments
    assert (adjusted["satisfaction_not_on_scale"].count, adjusted["satisfaction_not_on_scale"].example_rows) == (1, [3])
    assert (adjusted["recommend_not_on_scale"].count, adjusted["recommend_not_on_scale"].example_rows) == (1, [3])
    assert sales.accounting.purchases == len(SALES) and sales.accounting.balances()


def test_customers_sheet_and_actions(report):
    people = report.customers.set_index("customer_id")
    assert people.loc["A", "satisfaction"] == 2 and people.loc["C", "satisfaction"] == 5  # the last row of the day
    assert np.isnan(people.loc["F", "satisfaction"])  # answered before the answer window
    keys = [action.key for action in report.actions]
    assert keys[0] == "unhappy_key" and keys[-1] == "promoter_key"
    assert report.actions[0].listed["customer_id"].tolist() == ["A"]


def test_without_answers_nothing_changes(tmp_path):
    plain = [row[:4] for row in SALES]
    sales = read_sales(sales_file(tmp_path, plain, ("会员号", "日期", "金额", "门店")), as_of="2024-12-31")
    report = analyse(sales, ReportOptions(language="en", **OPTIONS))
    assert report.loyalty is None and "satisfaction" not in report.customers
    assert "loyalty" not in report.summary() and "satisfaction_not_on_scale" not in sales.accounting.adjustments
    assert not any(action.key.endswith("_key") for action in report.actions)


def test_a_survey_file_with_its_own_accounting(tmp_path):
    plain = [row[:4] for row in SALES]
    sales = sales_file(tmp_path, plain, ("会员号", "日期", "金额", "门店"))
    survey = tmp_path / "survey.csv"
    survey.write_text("Customer ID,Date,Overall satisfaction,Likelihood to recommend\n"
                      "A,2024-03-06,Dissatisfied,9\n"       # used
                      "C,2024-03-20,5,very likely\n"         # used
                      "C,2024-03-21,,Unlikely\n"              # used: C's latest recommendation
                      "Z,2024-03-07,4,8\n"                    # nobody of the sales
                      ",2024-03-07,4,8\n"                     # no customer
                      "B,2024-03-08,so-so,\n"                 # no answer on a scale
                      "D,2030-01-01,3,7\n"                    # in the future
                      "E,2024-03-16,Satisfied,12\n",          # used, its recommendation on no scale
                      encoding="utf-8")
    report = create_report(sales, tmp_path / "out.xlsx", ReportOptions(language="en", **OPTIONS),
                           read=ReadOptions(survey=survey, as_of="2024-12-31"), json_path=tmp_path / "out.json")
    reading = report.sales.answers.survey
    assert reading.rows_read == 8 and reading.used == 4 and reading.balances()
    assert {reason: e.count for reason, e in reading.exclusions.items() if e.count} == {
        "missing_customer": 1, "future_date": 1, "no_answer": 1, "unknown_customer": 1}
    assert reading.exclusions["unknown_customer"].example_rows == [5]
    assert reading.not_on_scale["recommend"].example_rows == [9]
    month = report.loyalty.current
    assert month.satisfaction == {5: 1, 4: 0, 3: 1, 2: 1, 1: 0} and month.recommend == {2: 1, 1: 0, 0: 1}
    written = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["loyalty"]
    assert written["survey"]["excluded"]["no_answer"] == {"count": 1, "example_rows": [7]}
    assert written["nps"] == {"value": 0.0, "customers": 2}


def test_a_stores_workbook_has_that_stores_answers(tmp_path):
    # B also buys at 西店, without an answer: 西店's workbook does not take the one B gave at 东店.
    rows = [*SALES, ("B", "2024-03-20", 10, "西店", None, None)]
    sales = read_sales(sales_file(tmp_path, rows), as_of="2024-12-31")
    east, west = (analyse(sales.of_group("store", store, store), ReportOptions(language="en", **OPTIONS)).loyalty.current
                  for store in ("东店", "西店"))
    assert (east.satisfaction, east.recommend) == ({5: 0, 4: 0, 3: 0, 2: 1, 1: 1}, {2: 1, 1: 0, 0: 1})
    assert (west.satisfaction, west.recommend) == ({5: 1, 4: 0, 3: 1, 2: 0, 1: 0}, {2: 1, 1: 1, 0: 0})

    survey = tmp_path / "survey.csv"
    survey.write_text("Customer ID,Date,Overall satisfaction\nD,2024-03-20,1\n", encoding="utf-8")
    create_report(sales_file(tmp_path), tmp_path / "out.xlsx", ReportOptions(language="en", **OPTIONS),
                  read=ReadOptions(survey=survey, as_of="2024-12-31"), split_by="store")
    sheet = labels("en")["sheet.loyalty"]
    for store in ("东店", "西店"):
        assert sheet in openpyxl.load_workbook(tmp_path / "out_by_store" / f"{store}.xlsx").sheetnames


@pytest.mark.parametrize("header, role", [
    ("满意度", "satisfaction"), ("客户满意度", "satisfaction"), ("評分", "satisfaction"), ("星级", "satisfaction"),
    ("review_score", "satisfaction"), ("Rating", "satisfaction"), ("Customer Satisfaction", "satisfaction"),
    ("推荐意愿", "recommend"), ("推薦可能性", "recommend"), ("NPS", "recommend"),
    ("Likelihood to recommend", "recommend"), ("评价内容", None), ("review_comment_message", None),
    ("Shipping rating", None), ("review_id", None)])
def test_answer_columns_are_recognised_in_three_languages(header, role):
    found = role_of_header(header)
    assert (found.role if found else None) == role


def test_both_scales_of_each_measure():
    assert [satisfaction_level(v) for v in ("非常滿意", "Fairly satisfied", "满意", "不满意", "Very dissatisfied")] \
        == [5, 4, 3, 2, 1]
    assert [satisfaction_level(v) for v in (1, 5, "3", "★★", 0, 6, 2.5, "good")] == [1, 5, 3, 2, None, None, None, None]
    assert [recommend_level(v) for v in ("很大可能", "可能", "不可能", "Very likely", "likely", "unlikely")] \
        == [2, 1, 0, 2, 1, 0]
    assert [recommend_level(v) for v in (10, 9, 8, 7, 6, 0, "9", -1, 11, 8.5)] == [2, 2, 1, 1, 0, 0, 2, None, None, None]


def test_the_json_and_the_command_line(tmp_path, capsys):
    out = tmp_path / "out.json"
    assert main(["report", str(sales_file(tmp_path)), "-o", str(tmp_path / "r.xlsx"), "--json", str(out),
                 "--month", "2024-03", "--window", "1", "--no-clv", "--as-of", "2024-12-31", "--lang", "en"]) == 0
    assert "loyalty: satisfaction index 2.75 (4 answering), NPS +25.0% (4 answering)" in capsys.readouterr().out
    loyalty = json.loads(out.read_text(encoding="utf-8"))["loyalty"]
    assert loyalty["satisfaction_index"] == {"value": 2.75, "customers": 4}
    assert loyalty["recommend"]["levels"] == {"promoter": 2, "passive": 1, "detractor": 1}
    assert loyalty["retention_by_answer"]["satisfaction"]["1"] == {"S": 1, "L": 1, "strict_retention": 0.0}
    assert set(loyalty["stores"]) == {"东店", "西店"}
    assert loyalty["answer_window"] == ["2024-02-01", "2024-03-31"]


def test_a_scan_says_the_answers_need_the_in_memory_reader(tmp_path, capsys):
    csv = tmp_path / "sales.csv"
    pd.read_excel(sales_file(tmp_path)).to_csv(csv, index=False)
    assert main(["report", str(csv), "-o", str(tmp_path / "r.xlsx"), "--engine", "duckdb", "--month", "2024-03",
                 "--no-clv", "--as-of", "2024-12-31"]) == 0
    assert "the loyalty figures need the in-memory reader" in capsys.readouterr().out
    summary = openpyxl.load_workbook(tmp_path / "r.xlsx")[labels("zh-CN")["sheet.summary"]]
    assert labels("zh-CN")["loyalty.needs_memory"] in summary["A3"].value


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_loyalty_formulas_recalculate_in_libreoffice(tmp_path, language):
    sales = read_sales(sales_file(tmp_path), as_of="2024-12-31")
    report = analyse(sales, ReportOptions(language=language, **OPTIONS))
    path = tmp_path / "loyalty.xlsx"
    from retention_xl.report import write_workbook

    write_workbook(report, path)
    values = recalculated_values(path, tmp_path)
    assert assert_saved_values_are_recalculated(path, values) > 0
    words = labels(language)
    sheet = values[words["sheet.loyalty"]]
    found = {label: sheet.get(f"C{row + 1}") for row in range(60)
             if (label := sheet.get(f"A{row + 1}")) in (words["kpi.satisfaction_index"], words["kpi.nps"])}
    assert found == {words["kpi.satisfaction_index"]: pytest.approx(2.75), words["kpi.nps"]: pytest.approx(0.25)}


class TestWorksheetFunctions:
    def test_nps(self):
        assert call_scalar("NPS", [[10], [9], [8], [3], [""], ["x"]]) == 0.25
        assert call_scalar("NPS", [["很大可能"], ["不可能"], ["Likely"], [True]]) == 0.0

    def test_satisfaction_index(self):
        assert call_scalar("SATISFACTION_INDEX", [["非常满意"], [4], ["★★★☆☆"], ["不滿意"]]) == 3.5

    def test_error_values(self):
        div0 = {"type": "Error", "errorType": "Div0"}
        num = {"type": "Error", "errorType": "Num"}
        assert call_scalar("NPS", [[""], ["no answer"]]) == div0
        assert call_scalar("NPS", [[11]]) == call_scalar("NPS", [[8.5]]) == num
        assert call_scalar("SATISFACTION_INDEX", [[0]]) == call_scalar("SATISFACTION_INDEX", [[6]]) == num
        assert call_scalar("SATISFACTION_INDEX", [[5], [error("#N/A")]]) == {"type": "Error", "errorType": "NotAvailable"}
