"""Facts of the xlsx format that the reader and the writers both use: Excel's column letters, its day 0,
the XML namespaces of a workbook package and where a sheet lives in it.

>>> column_letter(27), column_index("AB"), str(EXCEL_EPOCH.date())
('AB', 27, '1899-12-30')
"""

from __future__ import annotations

import posixpath
import zipfile

import pandas as pd

# Excel's day 0 (serial numbers count days from here, after Lotus' 1900 leap-year bug).
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIPS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# No entity is expanded and nothing is fetched, whatever a damaged or hostile file declares.
SAFE_PARSING = {"resolve_entities": False, "no_network": True, "load_dtd": False}


def column_letter(index: int) -> str:
    """Excel's letter for a 0-based column index.

    >>> column_letter(0), column_letter(27)
    ('A', 'AB')
    """
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    """The 0-based index of an Excel column letter, the inverse of :func:`column_letter`.

    >>> column_index("A"), column_index("ab")
    (0, 27)
    """
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index - 1


def sheet_member(package: zipfile.ZipFile, sheet: str) -> str:
    """The archive member holding the worksheet called ``sheet``, found through the workbook's relationships.

    Raises ``KeyError`` when the workbook has no such sheet or its relationships do not name it.
    """
    from lxml import etree  # here, not at the top: the worksheet functions read dates and never a package

    parser = etree.XMLParser(**SAFE_PARSING)
    workbook = etree.fromstring(package.read("xl/workbook.xml"), parser)
    ids = {node.get("name"): node.get(f"{RELATIONSHIPS}id") for node in workbook.iter(f"{MAIN}sheet")}
    relations = etree.fromstring(package.read("xl/_rels/workbook.xml.rels"), parser)
    targets = {node.get("Id"): node.get("Target") for node in relations.iter(f"{PACKAGE_RELATIONSHIPS}Relationship")}
    target = targets[ids[sheet]]
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
