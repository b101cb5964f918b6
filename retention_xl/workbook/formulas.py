"""The plain Excel formula behind each metric, for workbooks that must work without the add-in.

The report writes these into its cells so an accountant can click a figure and see
where it comes from, and the README documents them. Every formula uses only
functions that Excel 2010+, WPS and LibreOffice Calc all evaluate the same way; the
test suite recalculates them in LibreOffice and compares with
:mod:`retention_xl.metrics`.

Arguments are cell references or ranges as text, e.g. ``"B2"`` or ``"Customers!F2:F900"``.
"""

from __future__ import annotations

from .. import metrics


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


def difference(this: str, other: str) -> str:
    """``this − other``, the change column of the summary.

    >>> difference("B6", "C6")
    '=B6-C6'
    """
    return f"={this}-{other}"


def bridge(start: str, lost: str, new: str, reactivated: str) -> str:
    """The base at the end of the month from its parts: ``S − L + N + R``.

    >>> bridge("B6", "B7", "B8", "B9")
    '=B6-B7+B8+B9'
    """
    return f"={start}-{lost}+{new}+{reactivated}"


def ratio(numerator: str, denominator: str) -> str:
    """``numerator / denominator``, e.g. the average order value from purchases and orders.

    >>> ratio("J30", "K30")
    '=J30/K30'
    """
    return f"={numerator}/{denominator}"


def share_of_total(cell: str, cells: str) -> str:
    """``cell`` as a share of ``SUM(cells)``; 0 when the total is 0.

    >>> share_of_total("B5", "$B$5:$B$9")
    '=IF(SUM($B$5:$B$9)=0,0,B5/SUM($B$5:$B$9))'
    """
    return f"=IF(SUM({cells})=0,0,{cell}/SUM({cells}))"


def weighted_retention(active: str, sizes: str) -> str:
    """Customers active at one offset over the sizes of the cohorts that reached it (blank = not reached).

    >>> weighted_retention("D6:D9", "$C$6:$C$9")
    '=SUM(D6:D9)/SUMPRODUCT($C$6:$C$9*ISNUMBER(D6:D9))'
    """
    return f"=SUM({active})/SUMPRODUCT({sizes}*ISNUMBER({active}))"


def _text(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def repeat_rate_in_base(in_base: str, orders: str, yes: str) -> str:
    """Repeat-purchase rate over a customer table: customers in the base with 2+ orders, over the base.

    ``in_base`` holds ``yes`` for customers in the base; ``orders`` their orders in the window.

    >>> repeat_rate_in_base("C!$I$2:$I$9", "C!$G$2:$G$9", "Yes")
    '=COUNTIFS(C!$I$2:$I$9,"Yes",C!$G$2:$G$9,">=2")/COUNTIF(C!$I$2:$I$9,"Yes")'
    """
    return f'=COUNTIFS({in_base},{_text(yes)},{orders},">=2")/COUNTIF({in_base},{_text(yes)})'


def pareto_share_sorted(revenue: str, in_base: str, yes: str, top_fraction: float) -> str:
    """:func:`pareto_share` over a customer table that lists the base first, largest revenue first.

    Negative revenue counts as 0, as in the report's definition. Needs no array
    formula: the top customers are the first rows of ``revenue``.

    >>> pareto_share_sorted("C!$H$2:$H$9", "C!$I$2:$I$9", "Yes", 0.2)  # doctest: +ELLIPSIS
    '=(IF(INT(0.2*COUNTIF(C!$I$2:$I$9,"Yes"))>0,SUMIF(INDEX(C!$H$2:$H$9,1):INDEX(...'
    """
    k = f"{top_fraction}*COUNTIF({in_base},{_text(yes)})"
    whole = f"INT({k})"
    top = f'IF({whole}>0,SUMIF(INDEX({revenue},1):INDEX({revenue},{whole}),">0"),0)'
    part = f"IF({k}>{whole},({k}-{whole})*MAX(0,INDEX({revenue},{whole}+1)),0)"
    total = f'SUMIFS({revenue},{in_base},{_text(yes)},{revenue},">0")'
    return f"=({top}+{part})/{total}"


def count_if(cells: str, criterion: str) -> str:
    """Customers whose ``cells`` equal the value in cell ``criterion``.

    >>> count_if("C!$M$2:$M$9", "A5")
    '=COUNTIF(C!$M$2:$M$9,A5)'
    """
    return f"=COUNTIF({cells},{criterion})"


def sum_if(cells: str, criterion: str, amounts: str) -> str:
    """Sum of ``amounts`` where ``cells`` equal the value in cell ``criterion``.

    >>> sum_if("C!$M$2:$M$9", "A5", "C!$E$2:$E$9")
    '=SUMIF(C!$M$2:$M$9,A5,C!$E$2:$E$9)'
    """
    return f"=SUMIF({cells},{criterion},{amounts})"


def count_ifs(*pairs: tuple[str, str]) -> str:
    """Customers matching every (range, text) pair.

    >>> count_ifs(("C!$I$2:$I$9", "Yes"), ("C!$O$2:$O$9", "No"))
    '=COUNTIFS(C!$I$2:$I$9,"Yes",C!$O$2:$O$9,"No")'
    """
    return "=COUNTIFS(" + ",".join(f"{cells},{_text(value)}" for cells, value in pairs) + ")"


def sum_ifs(amounts: str, *pairs: tuple[str, str]) -> str:
    """Sum of ``amounts`` over the rows matching every (range, text) pair.

    >>> sum_ifs("C!$H$2:$H$9", ("C!$I$2:$I$9", "Yes"))
    '=SUMIFS(C!$H$2:$H$9,C!$I$2:$I$9,"Yes")'
    """
    return f"=SUMIFS({amounts}," + ",".join(f"{cells},{_text(value)}" for cells, value in pairs) + ")"
