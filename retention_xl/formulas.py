"""The plain Excel formula behind each metric, for workbooks that must work without the add-in.

The report writes these into its cells so an accountant can click a figure and see
where it comes from, and the README documents them. Every formula uses only
functions that Excel 2010+, WPS and LibreOffice Calc all evaluate the same way; the
test suite recalculates them in LibreOffice and compares with
:mod:`retention_xl.metrics`.

Arguments are cell references or ranges as text, e.g. ``"B2"`` or ``"Customers!F2:F900"``.
"""

from __future__ import annotations

from . import metrics


def retention(end: str, new: str, start: str) -> str:
    """``(E − N) / S``.

    >>> retention("B2", "C2", "D2")
    '=(B2-C2)/D2'
    """
    return f"=({end}-{new})/{start}"


def strict_retention(start: str, lost: str) -> str:
    """``(S − L) / S``.

    >>> strict_retention("D2", "E2")
    '=(D2-E2)/D2'
    """
    return f"=({start}-{lost})/{start}"


def txn_growth(this_period: str, last_period: str) -> str:
    """``(this − last) / last``.

    >>> txn_growth("B2", "C2")
    '=(B2-C2)/C2'
    """
    return f"=({this_period}-{last_period})/{last_period}"


def repeat_rate(counts: str) -> str:
    """Share of customers with two or more purchases, from a range of per-customer counts.

    >>> repeat_rate("D2:D9")
    '=COUNTIF(D2:D9,">=2")/COUNT(D2:D9)'
    """
    return f'=COUNTIF({counts},">=2")/COUNT({counts})'


def repeat_tier(
    rate: str,
    labels: tuple[str, str, str],
    high: str | float = metrics.DEFAULT_HIGH_REPEAT,
    low: str | float = metrics.DEFAULT_LOW_REPEAT,
) -> str:
    """Tier label of a repeat-purchase rate; ``labels`` are (high, medium, low).

    >>> repeat_tier("B5", ("High", "Medium", "Low"))
    '=IF(B5>=0.7,"High",IF(B5>=0.3,"Medium","Low"))'
    """
    high_label, medium_label, low_label = (label.replace('"', '""') for label in labels)
    return f'=IF({rate}>={high},"{high_label}",IF({rate}>={low},"{medium_label}","{low_label}"))'


def pareto_share(amounts: str, top_fraction: str | float = metrics.DEFAULT_TOP_FRACTION) -> str:
    """Share of ``SUM(amounts)`` held by the top fraction of customers (one amount each).

    k = fraction × COUNT(amounts) customers: the INT(k) largest amounts in full plus
    the fractional part of the next one, the same Lorenz-curve reading as
    :func:`retention_xl.metrics.pareto_share`.

    >>> pareto_share("E2:E6")  # doctest: +ELLIPSIS
    '=(IF(INT(0.2*COUNT(E2:E6))>0,SUMPRODUCT(LARGE(E2:E6,ROW(INDIRECT("1:"&INT(0.2*COUNT(E2:E6)))))),0)...'
    """
    k = f"{top_fraction}*COUNT({amounts})"
    whole = f"INT({k})"
    return (
        f'=(IF({whole}>0,SUMPRODUCT(LARGE({amounts},ROW(INDIRECT("1:"&{whole})))),0)'
        f"+IF({k}>{whole},({k}-{whole})*LARGE({amounts},{whole}+1),0))/SUM({amounts})"
    )
