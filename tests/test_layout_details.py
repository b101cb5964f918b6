"""What a reader sees at a glance: no empty cohort rows on the Cohorts sheet, and the R/F/M scores of the Customers
sheet set apart from the segment text beside them."""

import openpyxl
import pandas as pd

from retention_xl.i18n import labels
from retention_xl.report import ReportOptions, analyse, write_workbook


def _sales() -> pd.DataFrame:
    """First purchases in January and April only; everybody buys again in the months between."""
    rows = [(f"jan{i}", f"2024-0{month}-1{i}", 20.0) for i in range(4) for month in (1, 2, 3, 5)]
    rows += [(f"apr{i}", f"2024-0{month}-0{i + 1}", 30.0) for i in range(3) for month in (4, 6)]
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    return frame.assign(date=pd.to_datetime(frame["date"]), customer_name=pd.NA, order_id=None)


def test_only_months_with_first_purchases_are_cohort_rows_and_scores_are_centred(tmp_path):
    report = analyse(_sales(), ReportOptions(language="zh-CN", month="2024-06", active_window=3, clv=False))
    path = tmp_path / "gaps.xlsx"
    write_workbook(report, path)
    words = labels("zh-CN")
    book = openpyxl.load_workbook(path)
    cohort_rows = [c.value for c in book[words["sheet.cohorts"]]["A"] if isinstance(c.value, str)
                   and c.value[:4] == "2024"]
    assert cohort_rows == ["2024-01", "2024-04"] * 3  # counts, retention and revenue blocks

    sheet = book[words["sheet.customers"]]
    header = [c.value for c in sheet[1]]
    for key in ("r_score", "f_score", "m_score"):
        column = header.index(words[f"col.{key}"]) + 1
        assert all(sheet.cell(row=row, column=column).alignment.horizontal == "center" for row in range(2, 9)), key
