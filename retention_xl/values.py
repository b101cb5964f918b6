"""Turning the cells of one column into customer ids, dates or amounts, a column at a time.

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

# Excel's day 0 (serial numbers count days from here, after Lotus' 1900 leap-year bug).
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Serial numbers a sales date can plausibly have: 1954-10-13 .. 2119-01-08.
_SERIAL_RANGE = (20_000, 80_000)

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


def _text(series: pd.Series) -> pd.Series:
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
    text = _text(series)
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
        key = _text(text[maybe]).str.lower().str.replace(r"[\s:：_\-()（）]", "", regex=True)
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
    text = _text(series).str.replace(_AMOUNT_JUNK, "", regex=True)
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
    return _text(series).str.contains(_NAN_TEXT, regex=True).fillna(False).astype(bool)


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


_DATE_PARTS = re.compile(
    r"^(?P<a>\d{1,4})[-/.年](?P<b>\d{1,2})[-/.月](?P<c>\d{1,4})日?"
    r"(?:[ T]+(?P<hour>\d{1,2})[:：](?P<minute>\d{2})(?:[:：](?P<second>\d{2})(?:\.\d+)?)?)?$"
)


class AmbiguousDates(ValueError):
    """Day-first and month-first readings both occur in one column."""


def dates(series: pd.Series, dayfirst: bool | None = None) -> tuple[pd.Series, bool | None]:
    """Dates from real date cells, Excel serial numbers or text; returns (dates, dayfirst used).

    Text may be ``2024-03-05``, ``2024/3/5``, ``2024年3月5日`` (with an optional time) or
    ``05/03/2024``; eight digits, as a number or text, are year, month and day (``20180111``,
    as ERP systems export them), other numbers Excel serial numbers. For day/month/year text
    the order is detected from the values (a first part above 12 means day-first, a second
    part above 12 month-first);
    when no value decides it, ``dayfirst`` (default month-first) is used and the
    second value returned says which was applied. ``AmbiguousDates`` is raised
    when the column holds both orders.

    >>> parsed, order = dates(pd.Series(["2024-03-05", "2024/3/6", "2024年3月7日", "31/03/2024", 45360, "20240310", None]))
    >>> [d.strftime("%Y-%m-%d") if not pd.isna(d) else None for d in parsed], order
    (['2024-03-05', '2024-03-06', '2024-03-07', '2024-03-31', '2024-03-09', '2024-03-10', None], True)
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        return _in_range(_wall_clock(series)), None
    if pd.api.types.is_bool_dtype(series):
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]"), None
    if pd.api.types.is_numeric_dtype(series):
        return _from_number(series.astype(float)), None

    result = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    is_datetime = is_number = pd.Series(False, index=series.index)
    if series.dtype == object:  # cells of mixed kinds, as a DataFrame built by hand may hold
        is_datetime = series.map(lambda v: hasattr(v, "year"), na_action="ignore").fillna(False).astype(bool)
        if is_datetime.any():
            result[is_datetime] = _in_range(pd.to_datetime(series[is_datetime], errors="coerce"))
        is_number = series.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), na_action="ignore")
        is_number = is_number.fillna(False).astype(bool)
        if is_number.any():
            result[is_number] = _from_number(series[is_number].astype(float))

    text = _text(series.where(~(is_datetime | is_number)))
    pending = (text.notna() & (text != "")).fillna(False).astype(bool)
    if not pending.any():
        return _in_range(result), None
    # Fast path for ISO text ("2024-03-05", "2024-03-05 14:30:00"), the common export.
    iso = _iso_dates(text[pending])
    result[pending & iso.reindex(text.index).notna()] = iso.dropna()
    pending &= result.isna()
    if not pending.any():
        return _in_range(result), None

    # A serial number in a column that also holds text arrives as text ("45357"), as does an ERP's 20180111.
    serial = pd.to_numeric(text[pending].where(text[pending].str.fullmatch(r"\d+(\.\d+)?").fillna(False).astype(bool)),
                           errors="coerce").astype(float)
    if serial.notna().any():
        result[serial.notna().reindex(text.index, fill_value=False)] = _from_number(serial.dropna())
        pending &= result.isna()
        if not pending.any():
            return _in_range(result), None

    built, used, has_dmy = _from_date_text(text[pending], dayfirst)
    result[pending] = built
    return _in_range(result), (used if has_dmy else None)


FIRST_DATE = np.datetime64("1900-01-01")
_NS_LIMIT = np.datetime64("2262-04-11")
_DATE_LIKE_TEXT = r"^\d{1,4}[-/.年]\d{1,2}[-/.月]\d{1,4}|^\d+(?:\.\d+)?$"


_ZONE = r"(?:Z|[+-]\d{2}:?\d{2})$"


def _iso_dates(text: pd.Series) -> pd.Series:
    """ISO 8601 text as dates; a time with a UTC offset is read as the wall-clock time it shows, as a
    zoned Parquet date is."""
    try:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    except ValueError:  # offsets that differ from row to row
        parsed = pd.to_datetime(text.str.replace(_ZONE, "", regex=True), format="ISO8601", errors="coerce")
    return _in_range(_wall_clock(parsed))


def _wall_clock(series: pd.Series) -> pd.Series:
    """Timezone-aware dates as the wall-clock time of their own stored zone, without the zone."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_localize(None)
    return series


def _in_range(series: pd.Series) -> pd.Series:
    """Dates from 1900-01-01 on, as nanosecond timestamps; earlier or later ones (and Excel's
    day 0 and negative serials, which read as 1899) become missing."""
    values = series.to_numpy()
    keep = (values >= FIRST_DATE) & (values < _NS_LIMIT)
    if keep.all():
        return series.astype("datetime64[ns]")
    kept = np.where(keep, values, np.datetime64("NaT")).astype("datetime64[ns]")
    return pd.Series(kept, index=series.index)


@by_category
def looks_like_date(series: pd.Series) -> pd.Series:
    """True where a cell holds a date, a serial number or text shaped like a date.

    A missing date in such a cell is out of range (``0001-01-01``, ``2024-02-30``,
    a serial of 0) rather than unreadable.

    >>> looks_like_date(pd.Series(["2024-02-30", "0001-01-01", "soon", None, 0])).tolist()
    [True, True, False, False, True]
    """
    if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.notna() if not pd.api.types.is_bool_dtype(series) else pd.Series(False, index=series.index)
    if series.dtype == object:
        kinds = series.map(lambda v: hasattr(v, "year") or (isinstance(v, (int, float)) and not isinstance(v, bool)),
                           na_action="ignore").fillna(False).astype(bool)
    else:
        kinds = pd.Series(False, index=series.index)
    text = _text(series.where(~kinds))
    return kinds | text.str.contains(_DATE_LIKE_TEXT, regex=True).fillna(False).astype(bool)


def _from_date_text(text: pd.Series, dayfirst: bool | None) -> tuple[pd.Series, bool | None, bool]:
    """Dates from year-first or day/month/year text; returns (dates, dayfirst used, whether any was d/m/y)."""
    parts = text.str.extract(_DATE_PARTS)
    # A year is written with its digits: 0001/01/01 is the year 1, not 2001; only a two-digit year means 20xx.
    year_first = (parts["a"].str.len() > 2).fillna(False).astype(bool)
    short_year = (parts["c"].str.len() <= 2).fillna(False).astype(bool)
    for column in ("a", "b", "c", "hour", "minute", "second"):
        parts[column] = pd.to_numeric(parts[column], errors="coerce").astype(float)
    day_month_year = parts["a"].notna() & ~year_first
    used = dayfirst
    if day_month_year.any():
        dmy = parts[day_month_year]
        says_dayfirst = bool((dmy["a"] > 12).any())
        says_monthfirst = bool((dmy["b"] > 12).any())
        if says_dayfirst and says_monthfirst and dayfirst is None:
            raise AmbiguousDates("the column mixes day/month/year and month/day/year dates")
        if dayfirst is None:
            used = True if says_dayfirst else False
    year = parts["a"].where(year_first, parts["c"])
    year = year.where(year_first | ~short_year, year + 2000)
    month = parts["b"].where(year_first, parts["b"] if used else parts["a"])
    day = parts["c"].where(year_first, parts["a"] if used else parts["b"])
    built = pd.to_datetime(
        pd.DataFrame({"year": year, "month": month, "day": day, "hour": parts["hour"].fillna(0),
                      "minute": parts["minute"].fillna(0), "second": parts["second"].fillna(0)}),
        errors="coerce",
    )
    # Years pandas' nanoseconds cannot hold (9999-12-31) become missing here, to be counted as out of range.
    return _in_range(built), used, bool(day_month_year.any())


def _from_number(numbers: pd.Series) -> pd.Series:
    """Eight-digit whole numbers as YYYYMMDD, the rest as Excel serial numbers (missing outside their range)."""
    eight = _is_eight_digits(numbers)
    days = numbers.where(~eight & numbers.between(*_SERIAL_RANGE))
    result = EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
    if eight.any():
        whole = numbers[eight].astype("int64")
        result[eight] = _in_range(pd.to_datetime(pd.DataFrame(
            {"year": whole // 10_000, "month": whole // 100 % 100, "day": whole % 100}), errors="coerce"))
    return result


def _is_eight_digits(numbers: pd.Series) -> pd.Series:
    return (numbers >= 10_000_000) & (numbers < 100_000_000) & (numbers == np.floor(numbers))


def eight_digit_example(series: pd.Series) -> str | None:
    """The first eight-digit date of a column (``20180111``, as a number or text), which :func:`dates` reads as
    YYYYMMDD, or None: the report says so, quoting it.

    >>> eight_digit_example(pd.Series([20190103, 20190104])), eight_digit_example(pd.Series(["2018-01-11", " 20180112 "]))
    ('20190103', '20180112')
    >>> eight_digit_example(pd.Series([45360.0])), eight_digit_example(pd.Series(["2018-01-11"]))
    (None, None)
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = pd.Series(series.cat.categories)
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
        return None
    if pd.api.types.is_numeric_dtype(series):
        return _first_eight_digit_number(series.astype(float))
    numbers = pd.Series(False, index=series.index)
    if series.dtype == object:  # cells of mixed kinds
        numbers = series.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), na_action="ignore")
        numbers = numbers.fillna(False).astype(bool)
        found = _first_eight_digit_number(series[numbers].astype(float)) if numbers.any() else None
        if found is not None:
            return found
    return _first_eight_digit_text(series.where(~numbers) if numbers.any() else series)


def _first_eight_digit_number(numbers: pd.Series) -> str | None:
    eight = numbers[_is_eight_digits(numbers)]
    return None if eight.empty else str(int(eight.iloc[0]))


def _first_eight_digit_text(series: pd.Series) -> str | None:
    """The first text cell that is eight digits (``20180111``, ``２０１８０１１１``, ``20180111.0``), trimmed."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # Arrow's string kernels: a text column of ten million dates is scanned in a fraction of a second.
    text = pc.utf8_trim_whitespace(pa.array(series.astype("string"), type=pa.string(), from_pandas=True))
    found = pc.filter(text, pc.fill_null(pc.and_(pc.equal(pc.utf8_length(text), 8), pc.utf8_is_digit(text)), False))
    if not len(found):  # only the few cells ending in .0 go through the regular expression
        floats = pc.filter(text, pc.fill_null(pc.ends_with(text, ".0"), False))
        found = pc.filter(floats, pc.match_substring_regex(floats, r"^[0-9０-９]{8}\.0+$"))
    return found[0].as_py() if len(found) else None
