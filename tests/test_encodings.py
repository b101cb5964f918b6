"""CSV files in the encodings sales exports come in are read right by every reader of CSV (in memory, and
DuckDB's scan, which writes them as Parquet first); where the encoding is not clear-cut the report says which
it used, or the command stops in one line naming the candidates and --encoding.

Every file holds the characters that make the guess hard: accented names, €, ’ and ß in Windows-1252,
simplified and traditional Chinese in GBK and Big5.
"""

from __future__ import annotations

import codecs
import json

import openpyxl
import pytest

from retention_xl import cli
from retention_xl.read.csvencoding import UnclearEncoding, choose_encoding

AS_OF = "2026-01-01"
ENGINES = ["pandas", "duckdb"]
ENGLISH = ["Customer ID", "Customer Name", "Date", "Amount", "Invoice"]
SIMPLIFIED = ["客户编号", "客户名称", "订单日期", "金额", "订单号"]
TRADITIONAL = ["客戶編號", "客戶名稱", "訂單日期", "金額", "訂單號"]
WESTERN = ["Corrida Auto Réplicas, Ltd", "Müller GmbH", "Straße & Söhne", "Café € Bistro", "O’Brien Ltd"]
MIXED = ["Réplicas €", "客户甲", "門市", "O’Brien", "Straße"]

# case: (how the file is written, its header, the names it holds, European layout, the encoding it is read in)
CASES = {
    "cp1252": ("cp1252", ENGLISH, WESTERN, True, "cp1252"),
    "latin-1": ("latin-1", ENGLISH, ["Réplicas Ltd", "Müller GmbH", "Straße AG", "Ångström ± 5°"], True, "cp1252"),
    "gbk": ("gbk", SIMPLIFIED, ["客户甲", "上海门市", "张三", "北京贸易有限公司"], False, "gb18030"),
    "big5": ("big5", TRADITIONAL, ["門市", "客戶乙", "陳大文", "台北門市"], False, "big5"),
    "utf-8": ("utf-8", ENGLISH, MIXED, False, "utf-8"),
    "utf-8 with BOM": ("utf-8-sig", SIMPLIFIED, MIXED, True, "utf-8-sig"),
    "utf-16 LE with BOM": ("utf-16-le", ENGLISH, MIXED, False, "utf-16"),
    "utf-16 BE with BOM": ("utf-16-be", TRADITIONAL, MIXED, True, "utf-16"),
}


def sales_lines(names: list[str], european: bool, customers: int = 24) -> list[list[str]]:
    """Three months of sales, each customer's name drawn from ``names``; European files write dates
    DD.MM.YYYY and amounts with a decimal comma."""
    rows = []
    for c in range(customers):
        for month in (1, 2, 3):
            if month == 1 or (c + month) % 3:
                day = 13 + c % 15
                date = f"{day:02d}.{month:02d}.2024" if european else f"2024-{month:02d}-{day:02d}"
                amount = f"1.{c:03d},50" if european else f"1{c:03d}.50"
                rows.append([f"C{c:03d}", names[c % len(names)], date, amount, f"O{c}-{month}"])
    return rows


def write_file(path, header, rows, how: str, delimiter: str) -> None:
    """The file as the exporting program writes it: its encoding, with the byte-order mark of UTF-16 files."""
    lines = [delimiter.join(f'"{cell}"' if delimiter in cell else cell for cell in row) for row in [header, *rows]]
    text = "\r\n".join(lines) + "\r\n"
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(how, b"")
    path.write_bytes(bom + text.encode(how))


def run(tmp_path, capsys, sales, *options):
    """The command as a user runs it: (exit code, standard output, standard error lines, figures or None)."""
    argv = ["report", str(sales), "-o", str(tmp_path / "report.xlsx"), "--as-of", AS_OF, "--lang", "en",
            "--json", str(tmp_path / "figures.json"), *options]
    code = cli.main(argv)
    captured = capsys.readouterr()
    figures = json.loads((tmp_path / "figures.json").read_text(encoding="utf-8")) if code == 0 else None
    return code, captured.out, [line for line in captured.err.splitlines() if line.strip()], figures


def workbook_texts(tmp_path, sheet: str) -> list[str]:
    book = openpyxl.load_workbook(tmp_path / "report.xlsx", read_only=True)
    return [cell for row in book[sheet].iter_rows(values_only=True) for cell in row if isinstance(cell, str)]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(CASES))
def test_each_encoding_is_read_right_by_every_reader(case, engine, tmp_path, capsys):
    how, header, names, european, expected = CASES[case]
    rows = sales_lines(names, european)
    delimiter = "\t" if how.startswith("utf-16") else ";" if european else ","
    write_file(tmp_path / "sales.csv", header, rows, how, delimiter)
    code, out, err, figures = run(tmp_path, capsys, tmp_path / "sales.csv", "--engine", engine)
    assert code == 0, err
    assert figures["reading"]["encoding"] == expected and figures["reading"]["encoding_clear_cut"], figures["reading"]
    assert figures["accounting"]["rows_read"] == len(rows) == figures["accounting"]["purchases"]
    assert "Note:" not in out
    listed = workbook_texts(tmp_path, "Customers")
    assert set(names) <= set(listed), set(names) - set(listed)


@pytest.mark.parametrize("engine", ENGINES)
def test_blank_lines_of_a_utf16_file_keep_their_line_numbers(engine, tmp_path, capsys):
    rows = sales_lines(MIXED, False)
    path = tmp_path / "sales.csv"
    write_file(path, ENGLISH, rows, "utf-16-le", "\t")
    text = path.read_bytes()[2:].decode("utf-16-le").split("\r\n")
    text.insert(5, "")  # line 6 is blank
    path.write_bytes(codecs.BOM_UTF16_LE + "\r\n".join(text).encode("utf-16-le"))
    code, _, err, figures = run(tmp_path, capsys, path, "--engine", engine)
    assert code == 0, err
    assert figures["accounting"]["excluded"]["empty_row"] == {"count": 1, "example_rows": [6]}
    assert figures["accounting"]["excluded"]["invalid_date"]["count"] == 0


@pytest.mark.slow  # a file of more than a megabyte, written and read by each engine
@pytest.mark.parametrize("engine", ENGINES)
def test_an_accented_name_past_the_first_megabyte_decides(engine, tmp_path, capsys):
    rows = sales_lines(["Plain Name Ltd"], True, customers=24)
    filler = [[f"X{i:06d}", "Plain Filler Customer " + "x" * 40, "15.01.2024", "1,50", f"F{i}"] for i in range(14_000)]
    rows = filler + rows + [["C999", "Corrida Auto Réplicas, Ltd", "16.02.2024", "12,50", "O999"]]
    write_file(tmp_path / "sales.csv", ENGLISH, rows, "cp1252", ";")
    assert (tmp_path / "sales.csv").stat().st_size > 1 << 20
    code, _, err, figures = run(tmp_path, capsys, tmp_path / "sales.csv", "--engine", engine)
    assert code == 0, err
    assert figures["reading"]["encoding"] == "cp1252"
    assert "Corrida Auto Réplicas, Ltd" in workbook_texts(tmp_path, "Customers")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_choice_that_is_not_clear_cut_is_said(engine, tmp_path, capsys):
    # A few simplified names under an English header: GBK, though Big5 reads the bytes too.
    write_file(tmp_path / "sales.csv", ENGLISH, sales_lines(["上海门市", "Acme"], False), "gbk", ",")
    code, out, err, figures = run(tmp_path, capsys, tmp_path / "sales.csv", "--engine", engine)
    assert code == 0, err
    assert figures["reading"] == {"encoding": "gb18030", "encoding_clear_cut": False,
                                  "encoding_also_reads_as": ["big5"]}
    assert "Note: sales.csv was read as GB18030 (it also reads as Big5" in out and "--encoding big5" in out
    assert "上海门市" in workbook_texts(tmp_path, "Customers")
    reading = [text for text in workbook_texts(tmp_path, "Definitions & data") if text.startswith("Encoding: GB18030")]
    assert reading and "--encoding big5" in reading[0] and "上海门市" in reading[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_encoding_that_cannot_be_told_stops_with_the_candidates(engine, tmp_path, capsys):
    write_file(tmp_path / "sales.csv", ENGLISH, sales_lines(["客户", "Acme"], False), "gbk", ",")
    code, _, err, _ = run(tmp_path, capsys, tmp_path / "sales.csv", "--engine", engine, "--quiet")
    assert code == 2 and len(err) == 1, err
    assert "sales.csv" in err[0] and "--encoding gb18030" in err[0] and "--encoding big5" in err[0]
    code, _, err, figures = run(tmp_path, capsys, tmp_path / "sales.csv", "--engine", engine, "--encoding", "gb18030")
    assert code == 0, err
    assert figures["reading"]["encoding"] == "gb18030" and figures["reading"]["encoding_clear_cut"]
    assert "客户" in workbook_texts(tmp_path, "Customers")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_folder_of_windows_1252_files(engine, tmp_path, capsys):
    folder = tmp_path / "exports"
    folder.mkdir()
    rows = sales_lines(WESTERN, True)
    for number, part in enumerate((rows[:30], rows[30:])):
        write_file(folder / f"part-{number}.csv", ENGLISH, part, "cp1252", ";")
    code, _, err, figures = run(tmp_path, capsys, folder, "--engine", engine)
    assert code == 0, err
    assert figures["reading"]["encoding"] == "cp1252" and figures["accounting"]["purchases"] == len(rows)
    assert set(WESTERN) <= set(workbook_texts(tmp_path, "Customers"))


@pytest.mark.parametrize("text, encoding, expected", [
    ("Corrida Auto Réplicas, Ltd", "cp1252", "cp1252"),   # valid GB18030 too: 閜
    ("Informação Ltda", "cp1252", "cp1252"),
    ("Señor Núñez", "cp1252", "cp1252"),
    ("Œuvre «quoted» 5 €", "cp1252", "cp1252"),
    ("Ærø Ångström ½", "latin-1", "cp1252"),                # the same letters in both
    ("王小明", "gbk", "gb18030"),
    ("北京贸易有限公司", "gbk", "gb18030"),
    ("門市", "big5", "big5"),
    ("許功蓋", "big5", "big5"),                              # a second byte that is a backslash
    ("高雄分店", "big5", "big5"),
])
def test_short_words_are_told_apart(text, encoding, expected):
    data = f"Customer,Amount\r\n{text},5\r\nAcme,6\r\n".encode(encoding)
    assert choose_encoding(data, complete=True).encoding == expected


def test_utf8_and_byte_order_marks_decide_at_once():
    text = "Customer,Amount\r\nRéplicas 客户,5\r\n"
    assert choose_encoding(text.encode("utf-8")).encoding == "utf-8"
    assert choose_encoding(text.encode("utf-8-sig")).encoding == "utf-8-sig"
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        choice = choose_encoding(bom + text.encode(codec))
        assert (choice.encoding, choice.text, choice.clear_cut) == ("utf-16", text, True)


def test_a_header_that_only_one_reading_finds_decides():
    data = "客户,金额\r\n客户,5\r\n".encode("gbk")
    with pytest.raises(UnclearEncoding, match="--encoding gb18030 or --encoding big5"):
        choose_encoding(data.split(b"\r\n", 1)[1], complete=True)  # the name alone reads both ways
    choice = choose_encoding(data, finds_header=lambda decoded: decoded.startswith("客户"), complete=True)
    assert (choice.encoding, choice.clear_cut) == ("gb18030", True)
