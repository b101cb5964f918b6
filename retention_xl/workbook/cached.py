"""The value saved with each formula, so that what reads the file without recalculating still sees it.

openpyxl saves a formula with an empty value (``<c r="B7"><f>C27</f><v></v></c>``). Excel
and LibreOffice compute it on opening, but a phone or mail preview, ``openpyxl``
with ``data_only=True`` and pandas read the saved value: a blank. The writer knows the
value of every formula it writes (:class:`.sheet.WrittenWorkbook`), so after openpyxl
has saved a sheet its formula cells are given their values here, typed as a
spreadsheet saves them: numbers plain (a date as its serial number, a percentage as
the fraction), text ``t="str"``, booleans ``t="b"``, error values ``t="e"``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from xml.sax.saxutils import escape

import numpy as np
from openpyxl.utils.datetime import to_excel

from ..excel_values import ERROR_CODES

# A formula cell as openpyxl writes it: no type, the formula text escaped (no "<" inside), an empty value;
# an array formula's <f> carries its range (t="array" ref="E2:M26").
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*)><f([^>]*)>([^<]*)</f>(?:<v></v>|<v */>)</c>')


def value_xml(value: object) -> tuple[str, str]:
    """The type attribute and the ``<v>`` text a spreadsheet saves for a formula whose result is ``value``.

    >>> value_xml(0.125), value_xml(3), value_xml(dt.date(2024, 3, 1))
    (('', '0.125'), ('', '3'), ('', '45352'))
    >>> value_xml("A&B"), value_xml(""), value_xml(True), value_xml("#DIV/0!")
    ((' t="str"', 'A&amp;B'), (' t="str"', ''), (' t="b"', '1'), (' t="e"', '#DIV/0!'))
    """
    if isinstance(value, (bool, np.bool_)):
        return ' t="b"', "1" if value else "0"
    if isinstance(value, str):
        return (' t="e"', value) if value in ERROR_CODES else (' t="str"', escape(value))
    if isinstance(value, dt.date):  # a datetime too
        value = to_excel(value)
    number = value.item() if hasattr(value, "item") else value  # numpy's numbers as Python's
    if isinstance(number, int):
        return "", str(number)
    if isinstance(number, float) and math.isfinite(number):
        text = repr(number)  # the shortest text that reads back as the same double
        return "", text[:-2] if text.endswith(".0") else text
    raise ValueError(f"a formula's value must be a finite number, text, a date or a boolean, not {value!r}")


class FormulaValues:
    """The values of one sheet's formulas by cell (``{"B7": 0.92}``), filled into its XML a piece at a time.

    ``unknown`` collects formula cells with no value given, ``filled`` those given theirs:
    both say whether the sheet was written as the writer recorded it.

    >>> values = FormulaValues({"B7": 0.5})
    >>> values.fill(b'<c r="B7" s="3"><f>A7/2</f><v></v></c><c r="C7"><f>1</f><v></v></c>')
    b'<c r="B7" s="3"><f>A7/2</f><v>0.5</v></c><c r="C7"><f>1</f><v></v></c>'
    >>> values.unknown, values.missing()
    (['C7'], [])
    >>> FormulaValues({"E2": "月份"}).fill('<c r="E2"><f t="array" ref="E2:M26">BRIDGE(A2:A9)</f><v/></c>'.encode())
    b'<c r="E2" t="str"><f t="array" ref="E2:M26">BRIDGE(A2:A9)</f><v>\xe6\x9c\x88\xe4\xbb\xbd</v></c>'

    """

    def __init__(self, values: dict[str, object]):
        self.values = values
        self.filled: set[str] = set()
        self.unknown: list[str] = []

    def fill(self, xml: bytes) -> bytes:
        """``xml`` (whole ``<c>`` elements) with each known formula cell's value and type filled in."""
        return _FORMULA_CELL.sub(self._filled_cell, xml)

    def _filled_cell(self, cell: re.Match) -> bytes:
        coordinate = cell.group(1).decode("ascii")
        if coordinate not in self.values:
            self.unknown.append(coordinate)
            return cell.group(0)
        self.filled.add(coordinate)
        kind, text = value_xml(self.values[coordinate])
        return b'<c r="%b"%b%b><f%b>%b</f><v>%b</v></c>' % (cell.group(1), cell.group(2), kind.encode("ascii"),
                                                            cell.group(3), cell.group(4), text.encode("utf-8"))

    def missing(self) -> list[str]:
        """Cells given a value that held no formula to fill."""
        return sorted(set(self.values) - self.filled)
