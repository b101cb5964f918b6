"""How far a sheet's cells reach, measured from its XML a block at a time: the same whatever the blocks' size,
the inflater (ISA-L or zlib) or the way the part is stored in the package."""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest

from retention_xl.read import xlsxhead


def workbook_with_a_far_cell(path, compression: int, reference: str = "AB1234567"):
    """A small sheet plus one number at ``reference``, its package written with ``compression``."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "销售"
    for row in range(1, 300):
        sheet.append([f"O{row}", f"C{row % 40:03d}", row * 1.5])
    plain = path.with_name("plain.xlsx")
    book.save(plain)
    cell = f'<row r="{reference[2:]}"><c r="{reference}"><v>1</v></c></row>'.encode()
    with zipfile.ZipFile(plain) as old, zipfile.ZipFile(path, "w", compression) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", cell + b"</sheetData>")
            new.writestr(info.filename, data)
    return path


def exact_extent(path) -> tuple[int, int, int]:
    """Rows, columns and cells of the grid, from the whole XML at once."""
    with zipfile.ZipFile(path) as package:
        xml = package.read("xl/worksheets/sheet1.xml")
    references = re.findall(rb'r="([A-Z]+)([0-9]+)"', xml)
    columns = max(xlsxhead.column_index(letters.decode()) for letters, _ in references) + 1
    return max(int(digits) for _, digits in references), columns, len(references)


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
@pytest.mark.parametrize("inflater", ["isal", "zlib"])
@pytest.mark.parametrize("block", [7, 4096, 1 << 22])
def test_the_extent_is_the_same_read_any_way(tmp_path, monkeypatch, compression, inflater, block):
    if inflater == "zlib":
        monkeypatch.setattr(xlsxhead, "_fast_zlib", None)
    elif xlsxhead._fast_zlib is None:
        pytest.skip("ISA-L is not installed")
    path = workbook_with_a_far_cell(tmp_path / "far.xlsx", compression)
    with zipfile.ZipFile(path) as package:
        blocks = xlsxhead._inflated(path, package, "xl/worksheets/sheet1.xml", size=block)
        found = xlsxhead._extent(blocks, xlsxhead._ANY_REFERENCE)
        far = xlsxhead._extent(xlsxhead._inflated(path, package, "xl/worksheets/sheet1.xml", size=block),
                               xlsxhead._FAR_REFERENCE)
    assert (found.rows, found.columns, found.cells) == exact_extent(path)
    assert (far.rows, far.columns, far.cells) == (1234567, 28, 1)


@pytest.mark.parametrize("reference, far", [("Z1049999", False), ("A1050000", True), ("B2000000", True),
                                            ("C12345678", True), ("AA1", True), ("Z999", False)])
def test_which_references_are_far(reference, far):
    assert bool(xlsxhead._FAR_REFERENCE.search(f'<c r="{reference}">'.encode())) == far


def test_a_sheet_of_excels_full_height_is_measured_by_its_bound(tmp_path):
    path = workbook_with_a_far_cell(tmp_path / "tall.xlsx", zipfile.ZIP_DEFLATED, reference="E1048576")
    extent = xlsxhead.sheet_extent(path, "销售", limit=50_000_000)
    assert (extent.rows, extent.columns, extent.cells) == (xlsxhead.NEAR_ROWS, xlsxhead.NEAR_COLUMNS, 0)
    assert xlsxhead.sheet_extent(path, "销售", limit=0).corner == "E1048576"


@pytest.mark.parametrize("reference", ["A1050000", "B2000000", "C12345678", "AA1", "XFD1048576", "Z1049999", "Z999",
                                       "A1000000"])
def test_the_screen_passes_every_far_reference(reference):
    xml = f'<row r="1"><c r="{reference}"><v>1</v></c></row>'.encode()
    screened = xlsxhead._may_hold(xlsxhead._FAR_SCREEN, xml, 0, len(xml))
    assert screened or not xlsxhead._FAR_REFERENCE.search(xml)
    assert screened == (reference != "Z999")  # a near reference of seven digits is passed on too
