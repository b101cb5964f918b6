"""Excel's rules for turning cell values into numbers, without Excel.

Worksheet functions receive what Excel sends: numbers, text, booleans, blanks
(``None``) and error values. This module applies the rules a careful Excel user
expects, so that the functions in ``retention_xl.udfs`` stay one line each:

* a single argument behaves like Excel arithmetic (``=A1+0``): a blank is 0, text
  that reads as a number (``"1,200"``, ``"45%"``, ``" ¥3,000 "``) is that number, other
  text is ``#VALUE!``;
* a range behaves like ``SUM``: blanks, text and booleans are skipped;
* an error value passed in (``#N/A`` ...) comes back out unchanged, as in Excel.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Sequence


DIV0 = "#DIV/0!"
VALUE = "#VALUE!"
NUM = "#NUM!"
NA = "#N/A"
ERROR_CODES = frozenset({DIV0, VALUE, NUM, NA, "#NAME?", "#NULL!", "#REF!", "#SPILL!", "#CALC!", "#GETTING_DATA"})


class ExcelError(Exception):
    """A value that should reach the cell as an Excel error such as ``#NUM!``."""

    def __init__(self, code: str, reason: str = ""):
        super().__init__(f"{code} {reason}".strip())
        self.code = code


def is_error(value: object) -> bool:
    """True for an Excel error value as :func:`cell` hands it over (its text, e.g. ``"#N/A"``).

    >>> is_error("#N/A"), is_error("N/A")
    (True, False)
    """
    return isinstance(value, str) and value in ERROR_CODES


def cell(value: object) -> object:
    """One cell as any xlwings integration hands it over, in one form.

    Office.js (xlwings Server and Lite) sends blanks as ``""`` (``JsNull`` in Pyodide)
    and errors as objects; the Windows add-in sends blanks as None and, with
    ``err_to_str``, errors as their text. Here a blank is None and an error its text.

    >>> cell(""), cell({"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}), cell(3.5)
    (None, '#N/A', 3.5)
    """
    if isinstance(value, dict):
        if value.get("type") == "Error":
            code = value.get("basicValue")
            return code if code in ERROR_CODES else VALUE
        return cell(value.get("basicValue"))
    if value == "" or type(value).__name__ == "JsNull":
        return None
    return value


_WHOLE_FLOAT_TEXT = re.compile(r"-?\d+\.0+")


def customer_key(cell: object) -> str | None:
    """A customer id as one cell holds it, as the key that identifies the customer.

    The one rule for ids (:func:`retention_xl.read.cells.customer_ids` applies it a column
    at a time): a number Excel stored as ``17850.0`` is ``"17850"``, full-width forms
    become ASCII, outer spaces go, and a blank is no customer.

    >>> customer_key(17850.0), customer_key(" 17850.0 "), customer_key("Ａ-01"), customer_key("  ")
    ('17850', '17850', 'A-01', None)
    """
    if cell is None or isinstance(cell, bool):
        return None
    if isinstance(cell, float):
        if math.isnan(cell):
            return None
        if cell.is_integer():
            return str(int(cell))
    text = str(cell)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).replace("\u3000", " ")
    text = text.strip()
    if _WHOLE_FLOAT_TEXT.fullmatch(text):
        text = text.split(".")[0]
    return text or None


_NUMERIC_TEXT = re.compile(r"^\(?[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?(e[-+]?\d+)?\)?%?$", re.IGNORECASE)
_CURRENCY = "¥￥$€£元"


def parse_number_text(text: str) -> float | None:
    """Read text the way Excel's ``VALUE`` does, or return None if it is not a number.

    This is the rule for the worksheet functions, which must answer as Excel's own
    arithmetic would. Sales files are read by :func:`retention_xl.read.cells.amounts`
    instead, whose rule is the bookkeeper's: currency codes (RMB, CNY) are allowed and
    a percent sign is not, since an amount is never a percentage.

    Accepts thousands separators, a trailing percent sign, a currency sign,
    full-width digits and parentheses for negatives.

    >>> parse_number_text("1,200"), parse_number_text("45%"), parse_number_text("(3.5)")
    (1200.0, 0.45, -3.5)
    >>> parse_number_text("n/a") is None
    True
    """
    cleaned = unicodedata.normalize("NFKC", text).strip()
    for sign in _CURRENCY:
        cleaned = cleaned.replace(sign, "")
    cleaned = cleaned.replace(" ", "")
    if not cleaned or not any(ch.isdigit() for ch in cleaned) or not _NUMERIC_TEXT.match(cleaned):
        return None
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    if negative:
        cleaned = cleaned[1:-1]
    percent = cleaned.endswith("%")
    if percent:
        cleaned = cleaned[:-1]
    try:
        number = float(cleaned.replace(",", ""))
    except ValueError:
        return None
    if percent:
        number /= 100
    return -number if negative else number


def to_number(value: object) -> float:
    """One cell as Excel arithmetic sees it: blank is 0, numeric text is its number.

    Raises :class:`ExcelError` with the cell's own error, or ``#VALUE!`` for text
    that is not a number and for TRUE/FALSE (a count or amount is never a boolean).

    >>> to_number(None), to_number(" 1,200 "), to_number(3)
    (0.0, 1200.0, 3.0)
    """
    value = cell(value)
    if value is None:
        return 0.0
    if is_error(value):
        raise ExcelError(value)
    if isinstance(value, bool):
        raise ExcelError(VALUE, "TRUE/FALSE is not a number")
    if isinstance(value, numbers.Real):  # Python's numbers and NumPy's alike
        try:
            return float(value)
        except OverflowError:  # an integer beyond the range of Excel's numbers
            raise ExcelError(NUM, f"{value} is too large") from None
    if isinstance(value, str):
        number = parse_number_text(value) if value.strip() else 0.0
        if number is None:
            raise ExcelError(VALUE, f"{value!r} is not a number")
        return number
    raise ExcelError(VALUE, f"unsupported value {value!r}")


def as_matrix(value: object) -> list[list[object]]:
    """Whatever xlwings passed (a scalar, ``None`` or nested lists) as a 2-D list.

    Raises ``#VALUE!`` for a ragged or empty range, which no spreadsheet can pass.
    """
    if isinstance(value, list):
        # map() keeps these checks at C speed: a column of a million cells is a million rows.
        matrix = value if value and set(map(type, value)) == {list} else [value]
        if not matrix[0] or len(set(map(len, matrix))) != 1:
            raise ExcelError(VALUE, "a range must be a rectangle of cells")
        return matrix
    return [[value]]


def as_cells(value: object) -> list[list[object]]:
    """A range as a 2-D list of :func:`cell` values."""
    return [[cell(v) for v in row] for row in as_matrix(value)]


def first_error(matrix: Sequence[Sequence[object]]) -> str | None:
    """The first error value in reading order, as ``SUM`` would report it."""
    for row in matrix:
        for value in row:
            if is_error(value):
                return value
    return None


def numbers_like_sum(matrix: Sequence[Sequence[object]]) -> list[float]:
    """The numbers of a range the way ``SUM`` sees them: blanks, text, booleans skipped.

    An error anywhere in the range is raised as that error.

    >>> numbers_like_sum([[1, ""], ["x", 2.5], [True, "3"]])
    [1.0, 2.5]
    """
    flat = [v for row in as_matrix(matrix) for v in row]
    # A column of plain numbers is the common case: convert it in one step.
    if set(map(type, flat)) <= {float, int}:
        return list(map(float, flat))
    values = [cell(v) for v in flat]
    error = first_error([values])
    if error:
        raise ExcelError(error)
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]


def excel_result(compute: Callable[[], object]) -> object:
    """Run ``compute`` and turn the core's exceptions into Excel error values.

    ``ZeroDivisionError`` becomes ``#DIV/0!``, ``ValueError`` ``#NUM!``; an
    :class:`ExcelError` keeps its code. A NaN or infinite result becomes ``#NUM!``.
    """
    try:
        result = compute()
    except ExcelError as error:
        return error.code
    except ZeroDivisionError:
        return DIV0
    except (ValueError, OverflowError):
        return NUM
    if isinstance(result, float) and (math.isnan(result) or math.isinf(result)):
        return NUM
    return result


def elementwise(function: Callable[..., float], *arguments: object) -> object:
    """Apply ``function`` cell by cell over same-shaped ranges, as Excel array maths does.

    A single cell is broadcast against a range. Ranges of different shapes give
    ``#VALUE!``. Each result cell carries its own error, so one bad row does not
    hide the others. A 1x1 result is returned as a scalar.

    >>> elementwise(lambda a, b: a / b, [[1], [4]], 2)
    [[0.5], [2.0]]
    """
    try:
        matrices = [as_matrix(argument) for argument in arguments]
    except ExcelError as error:
        return error.code
    shapes = {(len(m), len(m[0]) if m else 0) for m in matrices if (len(m), len(m[0]) if m else 0) != (1, 1)}
    if len(shapes) > 1:
        return VALUE
    rows, columns = shapes.pop() if shapes else (1, 1)

    def cell(matrix: list[list[object]], r: int, c: int) -> object:
        return matrix[0][0] if len(matrix) == 1 and len(matrix[0]) == 1 else matrix[r][c]

    result = [
        [
            excel_result(lambda r=r, c=c: function(*(to_number(cell(m, r, c)) for m in matrices)))
            for c in range(columns)
        ]
        for r in range(rows)
    ]
    return result[0][0] if (rows, columns) == (1, 1) else result


def _numbers_or_errors(matrix: list[list[object]]) -> list[object]:
    """Each cell of ``matrix`` in reading order as :func:`to_number` reads it, or its error code."""
    flat = [v for row in matrix for v in row]
    if set(map(type, flat)) <= {float, int}:  # a column of plain numbers, converted in one step
        return list(map(float, flat))
    numbers_or_codes = []
    for value in flat:
        try:
            numbers_or_codes.append(to_number(value))
        except ExcelError as error:
            numbers_or_codes.append(error.code)
    return numbers_or_codes


def elementwise_columns(function: Callable[..., list[float]], *arguments: object) -> object:
    """Like :func:`elementwise`, for a ``function`` that takes whole columns of numbers at once.

    ``function`` gets one list per argument (a single cell broadcast to the ranges' size)
    holding only the rows where every argument is a number, and returns one number per
    row; NaN or infinity becomes ``#NUM!``. A row with an unreadable cell keeps that
    cell's error, as :func:`elementwise` gives it.

    >>> elementwise_columns(lambda a, b: [x / y for x, y in zip(a, b)], [[1], ["x"], [4]], 2)
    [[0.5], ['#VALUE!'], [2.0]]
    """
    try:
        matrices = [as_matrix(argument) for argument in arguments]
    except ExcelError as error:
        return error.code
    shapes = {(len(m), len(m[0])) for m in matrices if (len(m), len(m[0])) != (1, 1)}
    if len(shapes) > 1:
        return VALUE
    rows, columns = shapes.pop() if shapes else (1, 1)
    size = rows * columns
    cells = [_numbers_or_errors(m) * (size if len(m) * len(m[0]) == 1 else 1) for m in matrices]
    codes: list[object] = [None] * size  # per row, the first argument's error code
    for column in cells:
        if str in set(map(type, column)):  # only a column holding an error is read cell by cell
            codes = [code if code is not None or not isinstance(c, str) else c for code, c in zip(codes, column)]
    readable = [i for i, code in enumerate(codes) if code is None]
    every_row = len(readable) == size
    try:
        answers = function(*(cells if every_row else ([column[i] for i in readable] for column in cells))) \
            if readable else []
    except ExcelError as error:
        return error.code
    except (ValueError, ZeroDivisionError):
        return NUM
    if every_row and all(map(math.isfinite, answers)):  # the common case, without a loop in Python
        codes = list(answers)
    else:
        for i, answer in zip(readable, answers):
            codes[i] = answer if math.isfinite(answer) else NUM
    if (rows, columns) == (1, 1):
        return codes[0]
    return [[v] for v in codes] if columns == 1 else [codes[r * columns:(r + 1) * columns] for r in range(rows)]
