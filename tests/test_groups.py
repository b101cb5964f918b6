"""A chain's report: every store's figures are the report of that store's rows alone; the chain is all rows."""

import openpyxl
import pandas as pd
import pytest

from retention_xl.read.cleaning import clean_transactions
from retention_xl.figures.groups import MISSING
from retention_xl.i18n import labels
from retention_xl.report import ReadOptions, ReportOptions, analyse, write_workbook

STORES = ["上海/徐汇", "..", "Store x", "store X", None]


def chain_rows() -> pd.DataFrame:
    rows = []
    for c in range(60):
        store = STORES[c % 4]
        for month in (1, 2, 3):
            if month == 1 or (c + month) % 3:
                rows.append((f"C{c:02d}", f"2024-{month:02d}-{5 + c % 20:02d}", 100 + c, store, f"S{c % 3}"))
    rows.append(("C01", "2024-03-28", 50, "Store x", "S0"))       # C01 also buys at a second store
    rows.append(("C99", "2024-02-10", 70, "孤店", "S1"))           # a store with one customer
    rows.append(("C98", "2024-03-10", 30, None, None))             # a sale without a store or salesperson
    frame = pd.DataFrame(rows, columns=["客户编号", "订单日期", "金额", "门店", "导购"])
    return clean_transactions(frame, "客户编号", "订单日期", "金额", as_of="2026-01-01",
                              group_cols={"store": "门店", "salesperson": "导购"}).transactions


@pytest.fixture(scope="module")
def report():
    return analyse(chain_rows(), ReportOptions(month="2024-03", active_window=1, clv=False, language="en"))


def test_every_store_is_its_own_rows_alone(report):
    transactions = chain_rows()
    stores = report.groups["store"]
    assert len(stores) == 6  # four named stores (two differ only by case), the one-customer store, no store
    for name, figures in stores.iterrows():
        rows = transactions[transactions["store"].isna()] if name is MISSING else \
            transactions[transactions["store"] == name]
        if name == "孤店":  # its only sale is in February: checked by hand
            assert (figures["S"], figures["E"], figures["L"], figures["N"], figures["revenue"]) == (1, 0, 1, 0, 0)
            continue
        alone = analyse(rows, ReportOptions(month="2024-03", active_window=1, clv=False)).current
        for key in ("S", "N", "E", "R", "L", "orders", "repurchase_rate", "return_rate"):
            expected = getattr(alone, key)
            if expected is None:  # no buyers the month before: no rate
                assert pd.isna(figures[key]), (name, key)
            else:
                assert figures[key] == pytest.approx(expected), (name, key)
        assert figures["revenue"] == pytest.approx(alone.revenue)


def test_the_chain_is_all_rows_not_the_sum_of_stores(report):
    whole = analyse(chain_rows(), ReportOptions(month="2024-03", active_window=1, clv=False))
    assert report.current.E == whole.current.E
    assert report.groups["store"]["E"].sum() > report.current.E  # C01 is counted at two stores


def test_lost_here_but_bought_elsewhere(report):
    # C99 bought at 孤店 in February only, so 孤店 lost C99 in March; C99 bought nowhere in March.
    assert report.groups["store"].loc["孤店", "L"] == 1 and report.groups["store"].loc["孤店", "moved"] == 0
    assert report.groups["store"]["moved"].min() >= 0


def test_json_and_sheets(report, tmp_path):
    summary = report.summary()
    assert set(summary["stores"]) == {"上海/徐汇", "..", "Store x", "store X", "孤店", ""}
    assert set(summary["salespeople"]) == {"S0", "S1", "S2", ""}
    path = tmp_path / "chain.xlsx"
    write_workbook(report, path)
    words = labels("en")
    book = openpyxl.load_workbook(path)
    assert words["sheet.stores"] in book.sheetnames and words["sheet.staff"] in book.sheetnames
    stores = book[words["sheet.stores"]]
    names = [stores.cell(row=r, column=1).value for r in range(5, 5 + 7)]
    assert words["group.missing.store"] in names and names[-1] == words["group.chain"]
    assert "(no store)" == words["group.missing.store"]


def test_no_group_columns_no_group_sheets(tmp_path):
    rows = chain_rows().drop(columns=["store", "salesperson"])
    report = analyse(rows, ReportOptions(month="2024-03", active_window=1, clv=False, language="en"))
    path = tmp_path / "plain.xlsx"
    write_workbook(report, path)
    assert labels("en")["sheet.stores"] not in openpyxl.load_workbook(path).sheetnames
    assert "stores" not in report.summary()


def test_channels_and_regions_as_compact_sections(tmp_path):
    rows = chain_rows()
    rows["channel"] = pd.Series(["线上" if i % 2 else "门店" for i in range(len(rows))], dtype="string")
    rows["region"] = pd.Series(["华东" if i % 3 else "华南" for i in range(len(rows))], dtype="string")
    report = analyse(rows, ReportOptions(month="2024-03", active_window=1, clv=False, language="en"))
    assert set(report.summary()["channels"]) == {"线上", "门店"} and set(report.summary()["regions"]) == {"华东", "华南"}
    path = tmp_path / "channels.xlsx"
    write_workbook(report, path)
    sheet = openpyxl.load_workbook(path)[labels("en")["sheet.channels"]]
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert texts.count(labels("en")["group.chain"]) == 2 and "线上" in texts and "华南" in texts


@pytest.mark.libreoffice
@pytest.mark.slow
def test_one_workbook_per_store_with_safe_names(tmp_path):
    from libreoffice import recalculated_values

    from retention_xl.split import write_split

    transactions = chain_rows()
    report = analyse(transactions, ReportOptions(month="2024-03", active_window=1, clv=False, language="en"))
    folder = tmp_path / "by_store"
    result = write_split(report, transactions, "store", folder)
    files = sorted(p.name for p in folder.iterdir())
    assert all((folder / name).resolve().parent == folder.resolve() for name in files)  # nothing outside
    assert set(result.files.values()) == {"上海/徐汇", "..", "Store x", "store X", "孤店", "(no store)"}
    assert len({name.casefold() for name in files}) == len(files)  # the case twins got two files
    assert result.failed == result.skipped == {}  # 孤店's only sale is before the month, but its customer counts
    shanghai = next(name for name, group in result.files.items() if group == "上海/徐汇")
    book = openpyxl.load_workbook(folder / shanghai)
    customers = book[labels("en")["sheet.customers"]]
    ids = {customers.cell(row=r, column=1).value for r in range(2, customers.max_row + 1)}
    own = set(transactions.loc[transactions["store"] == "上海/徐汇", "customer_id"])
    assert ids <= own  # no other store's customers
    values = recalculated_values(folder / shanghai, tmp_path)
    assert not [v for sheet in values.values() for v in sheet.values() if isinstance(v, str) and v.startswith("#")]


def test_each_groups_accounting_is_its_own_rows_and_they_add_up_to_the_files():
    frame = pd.DataFrame([("A", "2024-01-05", 10, "东店"), (None, "2024-01-06", 5, "东店"), ("B", "bad", 7, "西店"),
                          ("C", "2024-01-07", -3, "西店"), ("D", "2024-01-08", 4, None), ("E", "2024-01-09", 0, None)],
                         columns=["c", "d", "a", "store"])
    accounting = clean_transactions(frame, "c", "d", "a", as_of="2026-01-01", group_cols={"store": "store"}).accounting
    east, west, none = (accounting.by_group["store"][key] for key in ("东店", "西店", None))
    assert (east.rows_read, east.purchases, east.exclusions["missing_customer"].example_rows) == (2, 1, [3])
    assert (west.purchases, west.returns, west.exclusions["invalid_date"].example_rows) == (0, 1, [4])
    assert (none.purchases, none.exclusions["zero_amount"].example_rows) == (1, [7])
    for part in (east, west, none):
        assert part.balances() and part.as_of == accounting.as_of
    assert sum(p.rows_read for p in (east, west, none)) == accounting.rows_read


@pytest.mark.libreoffice
@pytest.mark.slow
def test_a_salespersons_workbook_is_their_call_list_and_their_rows_only(tmp_path):
    from libreoffice import recalculated_values

    from retention_xl.report import create_report

    rows = [(f"C{c:02d}", f"2024-{m:02d}-{5 + c % 20:02d}", 100 + c, f"S{c % 2}")
            for c in range(24) for m in (1, 2, 3) if m == 1 or (c + m) % 3]
    rows += [(None, "2024-03-09", 40, "S1"), ("C90", "not a date", 40, "S0")]  # one bad row for each salesperson
    sales = tmp_path / "sales.csv"
    pd.DataFrame(rows, columns=["客户编号", "订单日期", "金额", "导购"]).to_csv(sales, index=False)
    report = create_report(sales, tmp_path / "chain.xlsx", ReportOptions(month="2024-03", clv=False, language="en"),
                           split_by="salesperson", read=ReadOptions(as_of="2026-01-01"))
    words = labels("en")
    s1 = openpyxl.load_workbook(tmp_path / "chain_by_salesperson" / "S1.xlsx")
    actions = [[c.value for c in row] for row in s1[words["sheet.actions"]].iter_rows()]
    assert actions[2][0] == words["call.title"] and actions[4][0] == words["call.rank"]
    listed = [row[1] for row in actions[5:] if isinstance(row[0], int)]
    own = {f"C{c:02d}" for c in range(24) if c % 2 == 1}
    assert set(listed) == own  # every customer of theirs, and nobody else's
    customers = report.customers.set_index("customer_id")
    from retention_xl.figures.actions import CALL_PRIORITY
    ranks = [CALL_PRIORITY.index(customers.loc[c, "action"]) for c in listed]
    assert ranks == sorted(ranks)
    definitions = [[c.value for c in row] for row in s1[words["sheet.definitions"]].iter_rows()]
    texts = {row[0]: row for row in definitions}
    assert texts[words["acct.rows_read"]][1] == sum(1 for r in rows if r[3] == "S1")
    assert texts[words["acct.excluded.missing_customer"]][2] == str(rows.index(rows[-2]) + 2)
    assert texts[words["acct.excluded.invalid_date"]][1] == 0  # S0's bad row is not S1's
    assert words["acct.group_note"].format(group="S1") in texts
    values = recalculated_values(tmp_path / "chain_by_salesperson" / "S1.xlsx", tmp_path)
    assert not [v for sheet in values.values() for v in sheet.values() if isinstance(v, str) and v.startswith("#")]


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_split_by_a_column_the_sales_lack_stops_before_anything_is_written(engine, tmp_path):
    """The missing column is found as the sales are read: no chain workbook is left without its split."""
    from retention_xl.errors import UsageError
    from retention_xl.report import create_report

    sales = tmp_path / "sales.parquet"
    pd.DataFrame({"客户编号": ["a", "b"], "订单日期": ["2024-01-05", "2024-02-06"], "金额": [10.0, 20.5]}).to_parquet(sales)
    with pytest.raises(UsageError, match=r"--split-by channel: the sales file has no channel column"):
        create_report(sales, tmp_path / "chain.xlsx", ReportOptions(engine=engine, clv=False),
                      split_by="channel", json_path=tmp_path / "chain.json", read=ReadOptions(as_of="2026-01-01"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sales.parquet"]


def test_the_stores_counts_are_whole_numbers_in_json(report):
    from retention_xl.figures.summary import groups_json
    stores = groups_json(report.groups["store"])
    for figures in stores.values():
        for key in ("S", "N", "E", "R", "L", "orders"):
            assert type(figures[key]) is int, (key, figures[key])
    assert "" in stores  # the rows without a store


@pytest.mark.parametrize("language, header, guide", [
    ("zh-CN", "业务员", False), ("zh-CN", "导购", True), ("zh-TW", "業務員", False), ("zh-TW", "導購", True),
    ("zh-CN", "導購", True), ("en", "业务员", False), ("en", "导购", True),
])
def test_the_staff_are_called_salespeople_unless_the_column_calls_them_shopping_guides(language, header, guide, tmp_path):
    """导购 is an in-store shopping guide; an account manager is not one, so the report says it only where the data do."""
    from retention_xl.report import create_report

    rows = [(f"C{c:02d}", f"2024-{m:02d}-{5 + c:02d}", 100 + c, f"S{c % 2}" if c else None)
            for c in range(12) for m in (2, 3)]
    sales = tmp_path / "sales.csv"
    pd.DataFrame(rows, columns=["客户编号", "订单日期", "金额", header]).to_csv(sales, index=False)
    output = tmp_path / "chain.xlsx"
    split = language == "zh-CN" and header != "導購"  # a workbook per salesperson, named by the same words
    create_report(sales, output, ReportOptions(month="2024-03", clv=False, language=language),
                  split_by="salesperson" if split else None, read=ReadOptions(as_of="2026-01-01"))
    words = labels(language)
    word = (lambda key: words[f"{key}@guide" if guide else key])
    assert word("group.salesperson") == {"zh-CN": ("销售人员", "导购"), "zh-TW": ("銷售人員", "導購"),
                                         "en": ("Salesperson", "Shop assistant")}[language][guide]
    book = openpyxl.load_workbook(output)
    staff = [[cell.value for cell in row] for row in book[word("sheet.staff")].iter_rows()]
    assert staff[0][0] == word("group.title.salesperson").format(month="2024-03")
    assert staff[1][0] == word("group.note.salesperson")  # a salesperson's customers, not a store's
    assert not [store for store in ("store", "门店", "門店") if store in staff[1][0]]
    assert staff[3][0] == word("group.salesperson") and word("group.missing.salesperson") in [row[0] for row in staff]
    definitions = [cell for row in book[words["sheet.definitions"]].iter_rows(values_only=True) for cell in row]
    assert any(isinstance(cell, str) and f"{word('role.salesperson')} ← {header}" in cell for cell in definitions)
    shown = [cell for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row if isinstance(cell, str)]
    wrong = {"zh-CN": ("导购", "销售人员"), "zh-TW": ("導購", "銷售人員"), "en": ("Shop assistant", "Salesperson")}[language]
    assert not [text for text in shown if wrong[guide] in text.replace(f"← {header}", "")]
    if split:
        files = {path.stem for path in (tmp_path / "chain_by_salesperson").iterdir()}
        assert files == {"S0", "S1", word("group.missing.salesperson")}
