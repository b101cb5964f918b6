"""The Actions sheet's words agree with the customers they list: no claim of a silence, of rare buying or of a
key-account rule that the customers' own rows contradict, and every count of a section is its list's."""

import openpyxl
import pandas as pd
import pytest

from retention_xl.figures.actions import environment, render_action
from retention_xl.read.cleaning import clean_transactions
from retention_xl.i18n import labels
from retention_xl.report import ReportOptions, analyse, write_workbook

ACTION_KEYS = ("warning_low_repeat", "key_quiet", "cant_lose", "at_risk", "lost_this_month", "new_customers",
               "champions", "potential", "need_attention", "between_purchases", "hibernating", "probably_gone",
               "quiet_alive", "loss_making")
# Words that claim a long or growing silence, or rare buying, whatever the customers' rows say.
UNFOUNDED = {
    "en": ("for a while", "long ago", "rarely", "long time", "less and less", "fall asleep", "drifting", "a few times"),
    "zh-CN": ("一段时间", "很久", "次数少", "越来越少", "即将沉睡", "疏远", "数次"),
    "zh-TW": ("一段時間", "很久", "次數少", "越來越少", "即將沉睡", "疏遠", "數次"),
}


def _figures(**changes) -> dict:
    """Figures for every action's texts: customers quiet 1 to 4 days with 40 to 46 orders, of a 30-day floor."""
    return {"count": 16, "revenue": 1000.0, "share": 0.2, "active_months": 3, "top": 0.2, "measure": "revenue",
            "N": 3, "L": 16, "strict_retention": 0.9, "previous_strict_retention": 0.95, "txn_growth": -0.1,
            "month": "2024-05", "threshold": 0.3, "value": 500.0, "loss": 40.0, "key_accounts": 0,
            "repeat_rate": 0.2, "low": 0.3, "window": 12, "days_min": 1, "days_max": 4, "orders_min": 40,
            "orders_max": 46, "floor": 30, "multiple": 3} | changes


@pytest.mark.parametrize("language", sorted(UNFOUNDED))
def test_no_action_text_claims_a_silence_or_rare_buying_the_figures_do_not_show(language):
    macros = environment(language).get_template("actions.j2").module
    for key in ACTION_KEYS:
        text = "".join(str(getattr(macros, f"{key}_{part}")(_figures())) for part in ("why", "what"))
        text += str(getattr(macros, f"{key}_title")())
        assert not [words for words in UNFOUNDED[language] if words in text], key
        if key in ("cant_lose", "at_risk", "need_attention", "between_purchases", "hibernating", "potential"):
            assert "46" in text and ("1–4" in text or key == "potential"), key  # the facts quoted instead
    quiet = str(macros.need_attention_why(_figures(days_min=31, days_max=90)))
    assert ("fall asleep" if language == "en" else "即將沉睡" if language == "zh-TW" else "即将沉睡") in quiet


def _sales(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["c", "d", "a", "cost"])
    return clean_transactions(frame, "c", "d", "a", as_of="2026-01-01", cost_col="cost").transactions


# Window revenue and profit in March: X 1000/-100 (a loss), Y 500/200, Z 100/50, W 50/-5 (a loss). A third of the
# four is two key accounts: X and Y by revenue, Y and Z by profit.
LOSSES = [("X", "2024-03-05", 1000, 1100), ("Y", "2024-03-06", 500, 300), ("Z", "2024-03-07", 100, 50),
          ("W", "2024-03-08", 50, 55)]


@pytest.mark.parametrize("value, key_accounts", [("revenue", 1), ("profit", 0)])
def test_the_loss_making_text_says_how_many_are_key_accounts_under_each_value_measure(value, key_accounts):
    report = analyse(_sales(LOSSES), ReportOptions(month="2024-03", active_window=3, clv=False, value=value,
                                                   top_fraction=1 / 3))
    action = next(a for a in report.actions if a.key == "loss_making")
    customers = report.customers.set_index("customer_id")
    losing = sorted(action.listed["customer_id"])
    assert losing == ["W", "X"] and int(customers.loc[losing, "key_account"].sum()) == key_accounts
    assert action.figures["key_accounts"] == key_accounts
    texts = {language: render_action(action, language).why for language in ("en", "zh-CN", "zh-TW")}
    if value == "revenue":
        assert "1 of them is a key account" in texts["en"] and "Pareto share like any other" in texts["en"]
        assert "其中 1 位是重点客户" in texts["zh-CN"] and "其中 1 位是重點客戶" in texts["zh-TW"]
    else:
        assert "none of them is a key account" in texts["en"] and "counts as zero" in texts["en"]
        assert "其中没有重点客户" in texts["zh-CN"] and "其中沒有重點客戶" in texts["zh-TW"]
    assert "never as key accounts" not in texts["en"] and "也不会被列为重点客户" not in texts["zh-CN"]


def _leaving() -> pd.DataFrame:
    """Twenty customers buy in January and February; in March five of them do: fifteen leave a one-month base."""
    rows = [(f"c{c:02d}", f"2024-{month:02d}-{1 + c}", 100 + c, 50) for c in range(20) for month in (1, 2)]
    rows += [(f"c{c:02d}", f"2024-03-{1 + c}", 100, 50) for c in range(5)]
    return _sales(rows)


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_the_customers_who_left_are_all_listed_with_a_filter_that_finds_them(language, tmp_path):
    report = analyse(_leaving(), ReportOptions(month="2024-03", active_window=1, clv=False, language=language))
    action = next(a for a in report.actions if a.key == "lost_this_month")
    assert report.current.L == 15 == action.total == action.figures["L"] == action.figures["count"]
    section = next(s for s in report.summary()["actions"] if s["key"] == "lost_this_month")
    assert section["count"] == section["figures"]["L"] == len(section["customers"]) == 15
    words = labels(language)
    path = tmp_path / "left.xlsx"
    write_workbook(report, path)
    shown = [c for row in openpyxl.load_workbook(path)[words["sheet.actions"]].iter_rows(values_only=True)
             for c in row if isinstance(c, str)]
    more = [text for text in shown if text.startswith("…")]
    assert more and not [text for text in more if "“”" in text or "“ ”" in text or "「」" in text]
    left = next(text for text in more if "2024-02" in text)
    assert words["status.lapsed"] in left and "5" in left  # 15 listed: 10 shown, 5 more
    customers = report.customers
    found = customers[(customers["status"] == "lapsed") & (customers["last_purchase"].dt.strftime("%Y-%m") == "2024-02")]
    assert len(found) == 15


def test_the_commands_last_lines_count_one_customer_and_one_workbook_in_the_singular(tmp_path, capsys):
    from retention_xl import cli

    sales = tmp_path / "one.csv"
    sales.write_text("customer,date,amount,store\nA,2024-01-05,10,S1\nA,2024-02-10,12,S1\n", encoding="utf-8")
    code = cli.main(["report", str(sales), "-o", str(tmp_path / "one.xlsx"), "--month", "2024-02",
                     "--as-of", "2024-12-31", "--store", "store", "--split-by", "store", "--no-clv"])
    out = capsys.readouterr().out
    assert code == 0
    assert "1 customer in the base" in out and "1 customer listed" in out and "Wrote 1 workbook into" in out
    assert "1 customers" not in out and "1 workbooks" not in out
