"""Reading sales files as shops keep them: layouts, encodings, value forms, errors, accounting."""

import datetime as dt
import hashlib
import os
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from retention_xl.read.cleaning import clean_transactions
from retention_xl.errors import InputError
from retention_xl.read.reader import read_sales

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail_II_2009-2010.parquet"


def write_xlsx(path, rows, sheet="销售明细", extra_sheets=(), merges=(), start_column=1):
    book = openpyxl.Workbook()
    first = book.active
    first.title = sheet
    for name, content in extra_sheets:
        extra = book.create_sheet(name, 0)
        for row in content:
            extra.append(row)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=start_column):
            if value is not None:
                first.cell(row=r, column=c, value=value)
    for merge in merges:
        first.merge_cells(merge)
    book.save(path)
    return path


def fingerprint(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


def as_records(sales):
    frame = sales.transactions
    return [
        (row.customer_id, row.date.strftime("%Y-%m-%d"), row.amount)
        for row in frame[["customer_id", "date", "amount"]].itertuples(index=False)
    ]


class TestAsANewUserWouldTryIt:
    def test_title_row_chinese_headers_text_dates_and_total_row(self, tmp_path):
        path = write_xlsx(
            tmp_path / "三月销售.xlsx",
            [
                ["2024年3月门店销售明细"],
                ["制表：财务部", None, None, "单位：元"],
                ["订单号", "客户编号", "订单日期", "金额"],
                ["A001", "C001", "2024-03-05", 1200],
                ["A002", "C002", "2024/3/6", "¥2,300.50"],
                ["A003", "C001", "2024年3月7日", 800],
                ["A004", "C003", "2024-03-08", -100],
                ["合计", None, None, 4200.5],
            ],
        )
        before = fingerprint(path)
        sales = read_sales(path)
        assert as_records(sales) == [
            ("C001", "2024-03-05", 1200.0),
            ("C002", "2024-03-06", 2300.5),
            ("C001", "2024-03-07", 800.0),
            ("C003", "2024-03-08", -100.0),
        ]
        assert sales.transactions["order_id"].tolist() == ["A001", "A002", "A003", "A004"]
        assert sales.transactions["row"].tolist() == [4, 5, 6, 7]
        accounting = sales.accounting
        assert (accounting.rows_read, accounting.purchases, accounting.returns) == (5, 3, 1)
        assert accounting.exclusions["total_row"].count == 1
        assert accounting.exclusions["total_row"].example_rows == [8]
        assert accounting.balances()
        assert sales.provenance.header_row == 3
        assert sales.provenance.columns == {"order_id": "订单号", "customer_id": "客户编号", "date": "订单日期",
                                            "amount": "金额"}
        assert fingerprint(path) == before


class TestLayouts:
    def test_first_sheet_with_data_is_chosen(self, tmp_path):
        path = write_xlsx(
            tmp_path / "book.xlsx",
            [["客户", "日期", "金额"], ["C1", dt.datetime(2024, 1, 2), 10]],
            sheet="数据",
            extra_sheets=[("说明", [["本工作簿由系统导出"], ["请勿修改"]])],
        )
        sales = read_sales(path)
        assert sales.provenance.sheet == "数据"

    def test_sheet_by_name(self, tmp_path):
        path = write_xlsx(
            tmp_path / "book.xlsx",
            [["客户", "日期", "金额"], ["C1", dt.datetime(2024, 1, 2), 10]],
            sheet="2024",
            extra_sheets=[("2023", [["客户", "日期", "金额"], ["C9", dt.datetime(2023, 1, 2), 99]])],
        )
        assert as_records(read_sales(path, sheet="2024")) == [("C1", "2024-01-02", 10.0)]
        assert as_records(read_sales(path)) == [("C9", "2023-01-02", 99.0)]

    def test_missing_sheet_lists_the_sheets(self, tmp_path):
        path = write_xlsx(tmp_path / "book.xlsx", [["客户", "日期", "金额"]], sheet="一月")
        with pytest.raises(InputError) as raised:
            read_sales(path, sheet="二月")
        message = str(raised.value)
        assert "book.xlsx" in message and '"二月"' in message and '"一月"' in message

    def test_merged_header_cells_and_a_group_row_above(self, tmp_path):
        path = write_xlsx(
            tmp_path / "merged.xlsx",
            [
                ["客户信息", None, "交易", None, None],
                ["会员号", "客户名称", "交易日期", "金额", None],
                ["M1", "张三", dt.datetime(2024, 2, 1), 50, None],
                ["M2", "李四", dt.datetime(2024, 2, 2), 70, None],
            ],
            merges=["A1:B1", "C1:E1", "D2:E2"],
        )
        sales = read_sales(path)
        assert as_records(sales) == [("M1", "2024-02-01", 50.0), ("M2", "2024-02-02", 70.0)]
        assert sales.transactions["customer_name"].tolist() == ["张三", "李四"]
        assert sales.accounting.rows_read == 2

    def test_table_away_from_a1_with_trailing_empty_rows_and_columns(self, tmp_path):
        path = tmp_path / "offset.xlsx"
        write_xlsx(
            path,
            [[None], [None], ["Customer ID", "InvoiceDate", "Amount"], ["7", dt.datetime(2024, 5, 1), 5]],
            start_column=3,
        )
        book = openpyxl.load_workbook(path)
        sheet = book.active
        for row in range(5, 30):  # formatted but empty: counts neither as data nor as excluded
            sheet.cell(row=row, column=3).number_format = "0.00"
            sheet.cell(row=row, column=9).value = None
        sheet.cell(row=40, column=12).number_format = "0.00"
        book.save(path)
        sales = read_sales(path)
        assert as_records(sales) == [("7", "2024-05-01", 5.0)]
        assert sales.accounting.rows_read == 1
        assert sales.transactions["row"].tolist() == [4]

    @pytest.mark.parametrize(
        "headers",
        [
            ["客戶編號", "交易日期", "金額"],
            ["會員號", "訂單日期", "銷售額"],
            ["CustomerID", "InvoiceDate", "Revenue"],
            ["Customer ID", "Order Date", "Sales"],
            ["会员号", "日期", "销售额"],
        ],
    )
    def test_header_languages(self, tmp_path, headers):
        path = write_xlsx(tmp_path / "h.xlsx", [headers, ["X1", dt.datetime(2024, 1, 1), 9.5]])
        assert as_records(read_sales(path)) == [("X1", "2024-01-01", 9.5)]

    @pytest.mark.parametrize(
        "headers", [["客户", "日期", "数量", "单价"], ["Customer", "InvoiceDate", "Quantity", "UnitPrice"], ["客戶", "日期", "數量", "單價"]]
    )
    def test_quantity_times_unit_price(self, tmp_path, headers):
        path = write_xlsx(tmp_path / "q.xlsx", [headers, ["C1", dt.datetime(2024, 1, 1), 3, 2.5], ["C1", dt.datetime(2024, 1, 2), -1, 2.5]])
        assert [amount for *_, amount in as_records(read_sales(path))] == [7.5, -2.5]

    def test_explicit_mapping_overrides_detection(self, tmp_path):
        path = write_xlsx(
            tmp_path / "odd.xlsx",
            [["旺旺", "成交时间", "实付", "金额"], ["B1", "2024-01-01", 80, 100], ["B2", "2024-01-02", 45, 50]],
        )
        with pytest.raises(InputError, match="cannot find the header row"):
            read_sales(path)
        sales = read_sales(path, columns={"customer": "旺旺", "date": "成交时间", "amount": "实付"})
        assert as_records(sales) == [("B1", "2024-01-01", 80.0), ("B2", "2024-01-02", 45.0)]

    def test_mapping_by_column_letter(self, tmp_path):
        path = write_xlsx(tmp_path / "letters.xlsx", [["a", "b", "c"], ["B1", "2024-01-01", 80]])
        sales = read_sales(path, columns={"customer": "A", "date": "B", "amount": "C"})
        assert as_records(sales) == [("B1", "2024-01-01", 80.0)]

    def test_unknown_headers_are_listed_with_how_to_map(self, tmp_path):
        path = write_xlsx(tmp_path / "unknown.xlsx", [["甲", "乙", "丙"], ["x", "y", 1]])
        with pytest.raises(InputError) as raised:
            read_sales(path)
        message = str(raised.value)
        assert 'A="甲"' in message and 'C="丙"' in message
        assert "--customer" in message and "--config" in message
        assert "unknown.xlsx" in message


class TestValueForms:
    def test_dates_as_cells_serials_and_text(self, tmp_path):
        path = write_xlsx(
            tmp_path / "dates.xlsx",
            [
                ["客户", "日期", "金额"],
                ["C1", dt.datetime(2024, 3, 5), 1],
                ["C1", 45356, 1],  # Excel serial for 2024-03-05
                ["C1", "2024-03-05", 1],
                ["C1", "2024/3/5", 1],
                ["C1", "2024年3月5日", 1],
                ["C1", "2024-03-05 14:30:00", 1],
            ],
        )
        assert {date for _, date, _ in as_records(read_sales(path))} == {"2024-03-05"}

    def test_day_first_is_detected(self, tmp_path):
        path = write_xlsx(tmp_path / "dmy.xlsx", [["客户", "日期", "金额"], ["C1", "05/03/2024", 1], ["C2", "25/03/2024", 1]])
        sales = read_sales(path)
        assert [d for _, d, _ in as_records(sales)] == ["2024-03-05", "2024-03-25"]
        assert sales.provenance.dayfirst is True

    def test_month_first_is_detected(self, tmp_path):
        path = write_xlsx(tmp_path / "mdy.xlsx", [["客户", "日期", "金额"], ["C1", "05/03/2024", 1], ["C2", "12/25/2024", 1]])
        assert [d for _, d, _ in as_records(read_sales(path))] == ["2024-05-03", "2024-12-25"]

    def test_day_first_can_be_set(self, tmp_path):
        path = write_xlsx(tmp_path / "set.xlsx", [["客户", "日期", "金额"], ["C1", "05/03/2024", 1]])
        assert as_records(read_sales(path, dayfirst=True)) == [("C1", "2024-03-05", 1.0)]
        assert as_records(read_sales(path, dayfirst=False)) == [("C1", "2024-05-03", 1.0)]

    def test_mixed_date_orders_are_an_error_naming_the_column(self, tmp_path):
        path = write_xlsx(tmp_path / "mixed.xlsx", [["客户", "日期", "金额"], ["C1", "25/03/2024", 1], ["C2", "03/25/2024", 1]])
        with pytest.raises(InputError) as raised:
            read_sales(path)
        assert "column B" in str(raised.value) and "--dayfirst" in str(raised.value)

    def test_amount_text_forms(self, tmp_path):
        path = write_xlsx(
            tmp_path / "amounts.xlsx",
            [["客户", "日期", "金额"], ["C1", "2024-01-01", "¥1,200.50"], ["C1", "2024-01-02", "１２０"],
             ["C1", "2024-01-03", "(35.00)"], ["C1", "2024-01-04", " 8 "], ["C1", "2024-01-05", "US$ 5"]],
        )
        sales = read_sales(path)
        assert [a for *_, a in as_records(sales)] == [1200.5, 120.0, -35.0, 8.0]
        assert sales.accounting.exclusions["invalid_amount"].example_rows == [6]

    def test_ids_excel_turned_into_floats_and_full_width_spaces(self, tmp_path):
        path = write_xlsx(
            tmp_path / "ids.xlsx",
            [["客户编号", "日期", "金额"], [17850.0, "2024-01-01", 1], ["17850", "2024-01-02", 1],
             ["\u300017850 ", "2024-01-03", 1], ["Ｃ０１", "2024-01-04", 1]],
        )
        assert [c for c, *_ in as_records(read_sales(path))] == ["17850", "17850", "17850", "C01"]


class TestCleaningAndAccounting:
    def test_every_row_is_accounted_for(self, tmp_path):
        path = write_xlsx(
            tmp_path / "messy.xlsx",
            [
                ["客户", "日期", "金额"],
                ["C1", "2024-01-01", 100],       # 2 purchase
                [None, "2024-01-01", 100],       # 3 missing customer
                ["C2", "not a date", 100],       # 4 invalid date
                ["C3", "2024-01-02", 0],         # 5 zero amount
                [None, None, None],              # 6 empty (inside the table)
                ["C4", "2024-01-03", "n/a"],     # 7 invalid amount
                ["C1", "2024-01-04", -30],       # 8 return
                ["总计", None, 170],              # 9 total
            ],
        )
        accounting = read_sales(path).accounting
        assert accounting.rows_read == 8
        assert (accounting.purchases, accounting.returns) == (1, 1)
        counts = {reason: e.count for reason, e in accounting.exclusions.items() if e.count}
        assert counts == {"empty_row": 1, "total_row": 1, "missing_customer": 1, "invalid_date": 1,
                          "invalid_amount": 1, "zero_amount": 1}
        examples = {reason: e.example_rows for reason, e in accounting.exclusions.items() if e.count}
        assert examples == {"empty_row": [6], "total_row": [9], "missing_customer": [3], "invalid_date": [4],
                            "invalid_amount": [7], "zero_amount": [5]}
        assert accounting.balances()

    def test_cancelled_invoices_are_returns(self):
        raw = pd.DataFrame({"Invoice": ["489434", "C489449"], "Customer ID": [13085.0, 13085.0],
                            "InvoiceDate": ["2009-12-01 07:45:00", "2009-12-01 10:33:00"],
                            "Quantity": [12, -12], "Price": [6.95, 6.95]})
        result = clean_transactions(raw, "Customer ID", "InvoiceDate", quantity_col="Quantity",
                                    unit_price_col="Price", order_id_col="Invoice")
        assert (result.accounting.purchases, result.accounting.returns) == (1, 1)
        assert result.transactions["amount"].tolist() == pytest.approx([83.4, -83.4])

    def test_categorical_columns_are_cleaned_per_distinct_value(self):
        raw = pd.DataFrame({
            "who": pd.Categorical(["17850.0", "17850", "合计", None, " B "]),
            "when": ["2024-01-01", "2024-01-02", None, "2024-01-03", "2024-01-04"],
            "paid": [10, 20, 30, 40, 50],
        })
        result = clean_transactions(raw, "who", "when", "paid")
        assert result.transactions["customer_id"].astype(str).tolist() == ["17850", "17850", "B"]
        counts = {k: e.count for k, e in result.accounting.exclusions.items() if e.count}
        assert counts == {"total_row": 1, "missing_customer": 1}

    def test_functional_api_on_a_user_dataframe(self):
        raw = pd.DataFrame({"member": ["m1", "m2"], "paid_on": [dt.date(2024, 1, 1), "2024-01-02"], "paid": [10, 20]})
        result = clean_transactions(raw, customer_id_col="member", datetime_col="paid_on", amount_col="paid")
        assert result.transactions["customer_id"].tolist() == ["m1", "m2"]
        assert result.transactions["date"].dt.day.tolist() == [1, 2]


HEADER = ["客户编号", "订单日期", "金额"]
ROWS = [["C1", "2024-03-05", "1,200"], ["C2", "2024-03-06", "35"]]


class TestCsvAndParquet:
    @pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
    def test_csv_encodings_simplified(self, tmp_path, encoding):
        path = tmp_path / f"sales-{encoding}.csv"
        text = "\n".join([",".join(HEADER)] + [",".join(f'"{v}"' for v in row) for row in ROWS]) + "\n"
        path.write_bytes(text.encode(encoding))
        sales = read_sales(path)
        assert as_records(sales) == [("C1", "2024-03-05", 1200.0), ("C2", "2024-03-06", 35.0)]

    def test_csv_big5_traditional(self, tmp_path):
        path = tmp_path / "big5.csv"
        path.write_bytes("客戶編號,交易日期,金額\n甲客戶,2024/3/5,100\n乙客戶,2024/3/6,200\n".encode("big5"))
        sales = read_sales(path)
        assert [c for c, *_ in as_records(sales)] == ["甲客戶", "乙客戶"]
        assert sales.provenance.encoding == "big5"

    def test_csv_title_line_semicolons_and_blank_lines_keep_row_numbers(self, tmp_path):
        path = tmp_path / "semi.csv"
        path.write_text("Sales export;;\nCustomer;Date;Amount\nA;2024-01-01;5\n\nB;2024-01-02;0\n", encoding="utf-8")
        sales = read_sales(path)
        assert as_records(sales) == [("A", "2024-01-01", 5.0)]
        assert sales.accounting.exclusions["empty_row"].example_rows == [4]
        assert sales.accounting.exclusions["zero_amount"].example_rows == [5]

    def test_parquet(self, tmp_path):
        path = tmp_path / "sales.parquet"
        pd.DataFrame({"Customer ID": [1.0, 2.0], "InvoiceDate": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                      "Amount": [3.0, 4.0]}).to_parquet(path)
        assert as_records(read_sales(path)) == [("1", "2024-01-01", 3.0), ("2", "2024-01-02", 4.0)]


class TestErrors:
    def check(self, path, *fragments, **options):
        with pytest.raises(InputError) as raised:
            read_sales(path, **options)
        message = str(raised.value)
        assert Path(path).name in message
        for fragment in fragments:
            assert fragment in message, message
        return message

    def test_missing_file(self, tmp_path):
        self.check(tmp_path / "nope.xlsx", "not found")

    def test_empty_file(self, tmp_path):
        path = tmp_path / "empty.xlsx"
        path.write_bytes(b"")
        self.check(path, "empty")

    def test_damaged_workbook(self, tmp_path):
        path = tmp_path / "damaged.xlsx"
        path.write_bytes(b"PK\x03\x04" + os.urandom(2000))
        self.check(path, "cannot be opened as a workbook")

    def test_not_a_spreadsheet(self, tmp_path):
        path = tmp_path / "photo.xlsx"
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(500))
        self.check(path, "not a valid .xlsx file")

    def test_binary_file_named_csv(self, tmp_path):
        path = tmp_path / "binary.csv"
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00" + os.urandom(500))
        self.check(path, "not a spreadsheet")

    def test_password_protected(self, tmp_path):
        # An encrypted .xlsx is an OLE2 container holding an "EncryptedPackage" stream.
        path = tmp_path / "locked.xlsx"
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 600)
        self.check(path, "password-protected")

    def test_empty_workbook(self, tmp_path):
        path = tmp_path / "blank.xlsx"
        openpyxl.Workbook().save(path)
        self.check(path, "empty")

    def test_header_but_no_rows(self, tmp_path):
        path = write_xlsx(tmp_path / "header-only.xlsx", [["客户", "日期", "金额"]])
        self.check(path, "no data rows")

    def test_no_usable_rows_says_why(self, tmp_path):
        path = write_xlsx(tmp_path / "bad-dates.xlsx", [["客户", "日期", "金额"], ["C1", "someday", 5], ["C2", "later", 6]])
        message = self.check(path, "no usable sales rows", "invalid date", "rows 2, 3", "column B")
        assert 'sheet "销售明细"' in message

    def test_input_is_never_modified(self, tmp_path):
        path = write_xlsx(tmp_path / "keep.xlsx", [["客户", "日期", "金额"], ["C1", "someday", 5]])
        before = fingerprint(path)
        with pytest.raises(InputError):
            read_sales(path)
        assert fingerprint(path) == before


@pytest.fixture(scope="module")
def frame():
    return pd.read_parquet(SHARED_DATA)


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="the Online Retail II data set is not beside the repository")
@pytest.mark.slow  # the real data: 525,461 rows written and read in each format
class TestRealData:
    """Online Retail II (UCI, CC BY 4.0): 525,461 real rows with blanks, cancellations and text dates."""

    def check(self, sales, frame):
        accounting = sales.accounting
        assert accounting.rows_read == len(frame)
        assert accounting.balances()
        assert accounting.exclusions["missing_customer"].count == frame["Customer ID"].isna().sum()
        amount = frame["Quantity"] * frame["Price"]
        known = frame["Customer ID"].notna()
        assert accounting.purchases == int(((amount > 0) & known).sum())
        assert accounting.returns == int(((amount < 0) & known).sum())
        assert sales.transactions["amount"].sum() == pytest.approx(amount[known].sum())
        assert sales.provenance.columns["customer_id"] == "Customer ID"

    def test_csv(self, frame, tmp_path_factory):
        path = tmp_path_factory.mktemp("real") / "online_retail.csv"
        frame.to_csv(path, index=False)
        self.check(read_sales(path), frame)

    @pytest.mark.slow  # 525,461 rows written as a workbook and read back
    def test_xlsx(self, frame, tmp_path_factory):
        import xlsxwriter

        path = tmp_path_factory.mktemp("real") / "online_retail.xlsx"
        book = xlsxwriter.Workbook(path, {"constant_memory": True})
        sheet = book.add_worksheet("Year 2009-2010")
        sheet.write_row(0, 0, list(frame.columns))
        for index, row in enumerate(frame.itertuples(index=False), start=1):
            sheet.write_row(index, 0, ["" if isinstance(v, float) and v != v else v for v in row])
        book.close()
        self.check(read_sales(path), frame)


@given(st.lists(st.one_of(st.text(max_size=8), st.integers(-10**6, 10**6).map(float),
                          st.sampled_from(["17850.0", " 17850 ", "Ａ-01", "\u3000x\u3000", "", "-3.00", "1.50"])),
                max_size=20))
def test_one_rule_for_customer_ids_in_a_column_and_in_a_cell(cells):
    from retention_xl.excel_values import customer_key
    from retention_xl.read.cells import customer_ids

    column = customer_ids(pd.Series(cells, dtype=object)).tolist()
    assert [None if pd.isna(v) else v for v in column] == [customer_key(c) for c in cells]
