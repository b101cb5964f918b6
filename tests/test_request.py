"""create_report takes the sales, the output, the options and how to read them; the keywords it took before keep
working for one release, each with a DeprecationWarning, and give the same report."""

import warnings
from pathlib import Path

import pytest

from retention_xl.options import Database, ReadOptions
from retention_xl.report import ReportOptions, analyse, create_report

SAMPLE = Path(__file__).resolve().parents[1] / "sample_workbooks" / "sales_sample.xlsx"
OPTIONS = ReportOptions(month="2024-12", active_window=3, clv=False, language="en")


def _summary(report) -> dict:
    summary = report.summary()
    summary.pop("timings")
    return summary


def test_the_old_keywords_warn_and_give_the_same_report(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new form warns of nothing
        new = create_report(SAMPLE, tmp_path / "new.xlsx", OPTIONS, read=ReadOptions(as_of="2026-01-01"))
    with pytest.warns(DeprecationWarning, match=r"create_report\(sales_file=\.\.\., as_of=\.\.\.\) is deprecated"):
        old = create_report(sales_file=SAMPLE, output=tmp_path / "old.xlsx", options=OPTIONS, as_of="2026-01-01")
    assert _summary(old) == _summary(new)


def test_an_old_reading_keyword_is_added_to_the_new_reading_options(tmp_path):
    with pytest.warns(DeprecationWarning, match="read=ReadOptions"):
        report = create_report(SAMPLE, tmp_path / "r.xlsx", OPTIONS, read=ReadOptions(as_of="2026-01-01"),
                               columns={"customer": "会员号"})
    assert report.sales.columns["customer_id"] == "会员号" and report.sales.accounting.as_of == "2026-01-01"


def test_an_old_database_source_is_read_as_a_database(tmp_path):
    from retention_xl.errors import InputError

    closed = "postgresql://nobody@127.0.0.1:1/none"  # no server listens there: the error names the table asked for
    with pytest.warns(DeprecationWarning, match="Database"), pytest.raises(InputError, match=r"\(table sales\)"):
        create_report(None, tmp_path / "r.xlsx", ReportOptions(clv=False), source=closed, table="sales")
    with pytest.raises(InputError, match=r"\(table sales\)"):
        create_report(Database(closed, table="sales"), tmp_path / "r.xlsx", ReportOptions(clv=False))


def test_a_file_and_a_database_together_are_refused(tmp_path):
    from retention_xl.errors import UsageError

    with pytest.warns(DeprecationWarning), pytest.raises(UsageError, match="not both"):
        create_report(SAMPLE, tmp_path / "r.xlsx", source="postgresql://ana@db/shop", table="sales")


def test_the_old_form_of_analyse_warns_and_gives_the_same_report(sample_sales):
    new = analyse(sample_sales, OPTIONS)
    with pytest.warns(DeprecationWarning, match=r"analyse\(transactions, options, sales"):
        old = analyse(sample_sales.transactions, OPTIONS, sample_sales)
    assert _summary(old) == _summary(new)


def test_the_readings_record_is_still_read_from_the_sales_with_a_warning(sample_sales):
    with pytest.warns(DeprecationWarning, match=r"sales\.columns is now sales\.provenance\.columns"):
        assert sample_sales.columns == sample_sales.provenance.columns
    with pytest.raises(AttributeError):
        sample_sales.no_such_thing
