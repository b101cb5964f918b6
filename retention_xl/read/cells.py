"""Turning the cells of one column into customer ids, amounts or text, a column at a time (dates:
:mod:`retention_xl.read.dates`).

Every function takes a pandas Series as a reader produced it (numbers, datetimes,
or text when the column mixes types) and returns a clean Series of the same
length, with missing values (``NaN``/``NaT``/``None``) where a cell cannot be read.
The caller counts those as excluded rows; nothing is silently guessed.
"""

from __future__ import annotations

import re
from functools import wraps

import numpy as np
import pandas as pd

TOTAL_WORDS = ("合计", "合計", "总计", "總計", "小计", "小計", "总额", "總額", "total", "grandtotal", "subtotal", "sum")

_FULL_WIDTH_SPACE = "\u3000"


def by_category(function):
    """Run a column function on the distinct values of a categorical column only.

    Large CSV and Parquet files are read with their text columns dictionary-encoded:
    a few hundred thousand distinct customer ids behind ten million rows. Cleaning
    those distinct values and mapping the codes is much cheaper than cleaning every
    row, and keeps the column compact.
    """

    @wraps(function)
    def wrapper(series: pd.Series, *args, **kwargs):
        if not isinstance(series.dtype, pd.CategoricalDtype):
            return function(series, *args, **kwargs)
        codes = series.cat.codes.to_numpy()
        result = function(pd.Series(series.cat.categories), *args, **kwargs)
        if not len(result):  # every value missing: a column without categories
            codes = np.full(len(codes), -1)
            result = function(pd.Series([None], dtype=object), *args, **kwargs)
        if pd.api.types.is_bool_dtype(result) or pd.api.types.is_float_dtype(result):  # flags, amounts: no categories
            missing = function(pd.Series([None], dtype=object), *args, **kwargs).iloc[0]
            return pd.Series(np.where(codes >= 0, result.to_numpy()[np.maximum(codes, 0)], missing), index=series.index)
        cleaned_codes, uniques = pd.factorize(result)
        new_codes = np.where(codes >= 0, cleaned_codes[np.maximum(codes, 0)], -1)
        return pd.Series(pd.Categorical.from_codes(new_codes, categories=uniques), index=series.index)

    return wrapper


def normalised_text(series: pd.Series) -> pd.Series:
    """Text cells normalised: full-width forms to ASCII, outer spaces stripped."""
    text = series.astype("string")
    # NFKC changes nothing in ASCII text, which is almost every cell; skip those.
    wide = ~_ascii(text)
    if wide.any():
        text = text.copy()
        text[wide] = text[wide].str.normalize("NFKC").str.replace(_FULL_WIDTH_SPACE, " ")
    return text.str.strip()


def _ascii(text: pd.Series) -> np.ndarray:
    """Where text is plain ASCII (a missing value counts as ASCII), by Arrow's kernel: pandas has no test of
    its own before 3.0, and pandas 2 is what Pyodide's releases before 314 build.

    >>> _ascii(pd.Series(["abc", "Ａ-01", None], dtype="string")).tolist()
    [True, False, True]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.string_is_ascii(pa.array(text, type=pa.string(), from_pandas=True))
    return pc.fill_null(found, True).to_numpy(zero_copy_only=False)


@by_category
def customer_ids(series: pd.Series) -> pd.Series:
    """Customer ids as text; a number Excel stored as ``17850.0`` becomes ``"17850"``.

    :func:`retention_xl.excel_values.customer_key` a column at a time (the tests check
    that both give the same key for every cell).

    >>> customer_ids(pd.Series([17850.0, " 17850 ", "17850.0", "Ａ-01", None, ""])).tolist()
    ['17850', '17850', '17850', 'A-01', <NA>, <NA>]
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        numbers = series.astype(float)
        whole = numbers.notna() & (numbers == np.round(numbers))
        text = numbers.astype("string")
        text[whole] = numbers[whole].astype("int64").astype("string")
        return text
    text = normalised_text(series)
    float_like = text.str.fullmatch(r"-?\d+\.0+").fillna(False).astype(bool)
    if float_like.any():
        text = text.copy()
        text[float_like] = text[float_like].str.replace(r"\.0+$", "", regex=True)
    return text.mask(text == "")


@by_category
def is_total_label(series: pd.Series) -> pd.Series:
    """True where a cell says "total" (合计, 總計, Grand Total ...): a summary row, not a sale.

    >>> is_total_label(pd.Series(["合计", "Grand Total:", "Tom", None])).tolist()
    [True, True, False, False]
    """
    result = pd.Series(False, index=series.index)
    if not (pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series)):
        return result
    # Cheap vectorised screen first: only cells mentioning a total word are normalised.
    text = series.astype("string")
    maybe = text.str.contains(r"(?i)合|總|总|小|total|sum", regex=True).fillna(False).astype(bool)
    if maybe.any():
        key = normalised_text(text[maybe]).str.lower().str.replace(r"[\s:：_\-()（）]", "", regex=True)
        result[maybe] = key.isin(TOTAL_WORDS).fillna(False).astype(bool)
    return result


_AMOUNT_JUNK = re.compile(r"[¥￥$€£元\s]|RMB|CNY|NT\$|HK\$|USD", re.IGNORECASE)
# Values that prove how a column writes decimals. A comma followed by exactly three digits
# (1,200) proves nothing: it is a thousands separator in both conventions.
_PROVES_DECIMAL_COMMA = r"^[-+(]?\d{1,3}(?:\.\d{3})+,\d+\)?$|^[-+(]?\d{1,3}(?:\.\d{3}){2,}\)?$|^[-+(]?\d*,(?:\d{1,2}|\d{4,})\)?$"
_PROVES_DECIMAL_POINT = r"^[-+(]?\d{1,3}(?:,\d{3})+\.\d+\)?$|^[-+(]?\d{1,3}(?:,\d{3}){2,}\)?$|^[-+(]?\d*\.(?:\d{1,2}|\d{4,})\)?$"
_NAN_TEXT = r"(?i)^[-+]?nan$"


class AmbiguousDecimal(ValueError):
    """A column holds both decimal-comma and decimal-point numbers."""


def decimal_mark(text: pd.Series) -> str:
    """``","`` when a value proves a decimal comma (``123,45``, ``1.234,56``), else ``"."``.

    Raises ``AmbiguousDecimal`` when values prove both.

    >>> decimal_mark(pd.Series(["1,200", "3,500,000"])), decimal_mark(pd.Series(["1,200", "123,45"]))
    ('.', ',')
    """
    comma = bool(text.str.contains(_PROVES_DECIMAL_COMMA, regex=True).fillna(False).any())
    point = bool(text.str.contains(_PROVES_DECIMAL_POINT, regex=True).fillna(False).any())
    if comma and point:
        raise AmbiguousDecimal("the column mixes decimal commas (123,45) and decimal points (123.45)")
    return "," if comma else "."


@by_category
def amounts(series: pd.Series, decimal: str | None = None) -> pd.Series:
    """Amounts as floats, from numbers or from text such as ``"¥1,200"``, ``"(35.00)"`` or ``"１２０"``.

    The rule for sales files; the worksheet functions follow Excel's own (see
    :func:`retention_xl.excel_values.parse_number_text`). ``decimal`` is the decimal
    mark of text amounts (``"."`` or ``","``); by default it is read off the column
    (:func:`decimal_mark`). Text such as ``inf`` or ``1e400`` gives an infinite amount.

    >>> amounts(pd.Series(["¥1,200", "(35.5)", "１２０", "-7", "abc", None, 3])).tolist()
    [1200.0, -35.5, 120.0, -7.0, nan, nan, 3.0]
    >>> amounts(pd.Series(["1.234,50", "0,5"])).tolist()
    [1234.5, 0.5]
    >>> amounts(pd.Series(["¥1,200", 3, None, "¥1,200"], dtype="category")).tolist()  # each distinct value once
    [1200.0, 3.0, nan, 1200.0]
    """
    if pd.api.types.is_bool_dtype(series):
        return pd.Series(np.nan, index=series.index)
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    text = normalised_text(series).str.replace(_AMOUNT_JUNK, "", regex=True)
    if (decimal or decimal_mark(text)) == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        text = text.str.replace(",", "", regex=False)
    negative = text.str.startswith("(") & text.str.endswith(")")
    text = text.str.strip("()")
    numbers = pd.to_numeric(text.astype(object), errors="coerce").astype(float)
    return numbers.where(~negative.fillna(False).astype(bool), -numbers)


def says_not_a_number(series: pd.Series) -> pd.Series:
    """True where a text cell spells NaN: an amount that is not a finite number, not a blank.

    >>> says_not_a_number(pd.Series(["NaN", "12", None])).tolist()
    [True, False, False]
    """
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return pd.Series(False, index=series.index)
    return normalised_text(series).str.contains(_NAN_TEXT, regex=True).fillna(False).astype(bool)


EXCEL_TEXT_LIMIT = 32_767  # characters one Excel cell holds
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]"
# The same class spelled with the characters themselves, as Arrow's engine reads no backslash escapes for them.
_CONTROL_CHARACTERS = "[" + "".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32), 127, 0xFFFE, 0xFFFF])) + "]"


@by_category
def has_control_characters(series: pd.Series) -> pd.Series:
    """True where text holds characters a workbook cannot store (bell, escape, NUL ...).

    >>> has_control_characters(pd.Series(["ok", "bell\x07", None])).tolist()
    [False, True, False]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    # Arrow's regular expressions scan a million ids in a fraction of pandas' time.
    found = pc.match_substring_regex(pa.array(series.astype("string"), type=pa.string(), from_pandas=True),
                                     _CONTROL_CHARACTERS)
    return pd.Series(pc.fill_null(found, False).to_numpy(zero_copy_only=False), index=series.index)


@by_category
def too_long_for_a_cell(series: pd.Series) -> pd.Series:
    return (series.astype("string").str.len() > EXCEL_TEXT_LIMIT).fillna(False).astype(bool)


@by_category
def visible_text(series: pd.Series) -> pd.Series:
    """Text as a workbook can hold it: control characters removed, cut to 32,767 characters.

    >>> visible_text(pd.Series(["bell\x07", "esc\x1b[31m"])).tolist()
    ['bell', 'esc[31m']
    """
    text = series.astype("string").str.replace(_CONTROL, "", regex=True)
    return text.str.slice(0, EXCEL_TEXT_LIMIT)
