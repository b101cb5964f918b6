"""Turning the cells of one column into dates, a column at a time: real date cells, Excel serial numbers,
eight-digit numbers and date text, with the day order found from the values.

As in :mod:`retention_xl.read.cells`, a cell that cannot be read becomes ``NaT`` for the
caller to count; a column whose day order cannot be told raises :class:`AmbiguousDates`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..xlsx_format import EXCEL_EPOCH
from .cells import by_category, normalised_text

# Serial numbers a sales date can plausibly have: 1954-10-13 .. 2119-01-08.
_SERIAL_RANGE = (20_000, 80_000)

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

    text = normalised_text(series.where(~(is_datetime | is_number)))
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
    text = normalised_text(series.where(~kinds))
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
