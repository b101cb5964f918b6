"""The two answer scales of customer loyalty, in plain Python: overall satisfaction and the likelihood to recommend.

Satisfaction has five levels (the order of the source article: 非常满意, 比较满意, 满意, 不满意, 非常不满意),
scored 5 down to 1, so that a star rating of 1-5 is the same scale. The likelihood to recommend has three levels
(很大可能, 可能, 不可能); a 0-10 answer (the NPS question) falls in them as 9-10 promoter / 很大可能, 7-8 passive /
可能, 0-6 detractor / 不可能. Each level is read in simplified Chinese, traditional Chinese and English.

An answer that is on neither scale -- text that names no level, a number outside the scale or not whole --
is not an answer: :func:`satisfaction_level` and :func:`recommend_level` return None for it, and the readers
count it under a named reason. This module imports nothing beyond the standard library: the worksheet
functions use it in every Excel host, xlwings Lite's Pyodide included.
"""

from __future__ import annotations

import math
import re
import unicodedata

SATISFACTION_LEVELS = (5, 4, 3, 2, 1)  # best first, as the Summary and Loyalty sheets list them
RECOMMEND_LEVELS = (2, 1, 0)           # promoter (很大可能), passive (可能), detractor (不可能)
PROMOTER, PASSIVE, DETRACTOR = 2, 1, 0
UNHAPPY_FROM = 2  # a satisfaction of 不满意 (2) or worse is unhappy

# Each level's names, compared after NFKC, lower case and without spaces.
_SATISFACTION_NAMES = {
    5: ("非常满意", "非常滿意", "verysatisfied", "extremelysatisfied", "完全满意", "完全滿意"),
    4: ("比较满意", "比較滿意", "fairlysatisfied", "quitesatisfied", "somewhatsatisfied", "mostlysatisfied"),
    3: ("满意", "滿意", "satisfied", "一般满意", "一般滿意"),
    2: ("不满意", "不滿意", "dissatisfied", "unsatisfied", "notsatisfied", "somewhatdissatisfied"),
    1: ("非常不满意", "非常不滿意", "verydissatisfied", "veryunsatisfied", "extremelydissatisfied"),
}
_RECOMMEND_NAMES = {
    PROMOTER: ("很大可能", "非常可能", "verylikely", "extremelylikely", "promoter", "推荐者", "推薦者"),
    PASSIVE: ("可能", "likely", "passive", "被动者", "被動者", "中立者"),
    DETRACTOR: ("不可能", "unlikely", "notlikely", "veryunlikely", "detractor", "贬损者", "貶損者"),
}
SATISFACTION_BY_NAME = {name: level for level, names in _SATISFACTION_NAMES.items() for name in names}
RECOMMEND_BY_NAME = {name: level for level, names in _RECOMMEND_NAMES.items() for name in names}

# A number of stars written out: "5", "5.0", "5星", "5 stars", "5/5", "4 分", or ★ signs ("★★★★☆" is 4).
_STARS = re.compile(r"(\d+(?:\.0+)?)\s*(?:星|顆星|颗星|分|stars?|points?|/\s*(?:5|10))?")
_STAR_SIGNS = re.compile(r"[★☆]+")


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", text).lower())


def _whole(value: object) -> int | None:
    """A whole number given as a number or as text of one (``"9"``, ``"9.0"``, ``"9 分"``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if math.isfinite(value) and float(value).is_integer() else None
    match = _STARS.fullmatch(_key(str(value)))
    return int(float(match.group(1))) if match else None


def satisfaction_level(value: object) -> int | None:
    """The satisfaction level 1-5 of one answer (a level's name or 1-5 stars), or None where it is on no scale.

    >>> [satisfaction_level(v) for v in ("非常满意", "比較滿意", "Dissatisfied", 5, "4星", "★★★☆☆", 4.0, 0, 4.5, "ok")]
    [5, 4, 2, 5, 4, 3, 4, None, None, None]
    """
    if isinstance(value, str):
        key = _key(value)
        if key in SATISFACTION_BY_NAME:
            return SATISFACTION_BY_NAME[key]
        if _STAR_SIGNS.fullmatch(key):
            stars = key.count("★")
            return stars if 1 <= stars <= 5 else None
    number = _whole(value)
    return number if number is not None and 1 <= number <= 5 else None


def recommend_score(value: object) -> int | None:
    """A 0-10 answer to the recommendation question as a whole number, or None where the answer is not one.

    >>> recommend_score(9), recommend_score("10"), recommend_score("很大可能"), recommend_score(11)
    (9, 10, None, None)
    """
    number = _whole(value)
    return number if number is not None and 0 <= number <= 10 else None


def recommend_level(value: object) -> int | None:
    """The recommendation level of one answer: 2 promoter (很大可能, 9-10), 1 passive (可能, 7-8), 0 detractor
    (不可能, 0-6); None where it is on neither scale.

    >>> [recommend_level(v) for v in ("很大可能", "可能", "Unlikely", 10, 8, "6", 0, 10.5, "maybe")]
    [2, 1, 0, 2, 1, 0, 0, None, None]
    """
    if isinstance(value, str) and _key(value) in RECOMMEND_BY_NAME:
        return RECOMMEND_BY_NAME[_key(value)]
    score = recommend_score(value)
    if score is None:
        return None
    return PROMOTER if score >= 9 else PASSIVE if score >= 7 else DETRACTOR


def net_promoter_score(levels: list[int]) -> float:
    """Share of promoters minus share of detractors, as a fraction; ZeroDivisionError without an answer.

    >>> net_promoter_score([2, 2, 1, 0]), net_promoter_score([0])
    (0.25, -1.0)
    """
    if not levels:
        raise ZeroDivisionError("no answer")
    return (levels.count(PROMOTER) - levels.count(DETRACTOR)) / len(levels)


def satisfaction_index(levels: list[int]) -> float:
    """The mean satisfaction on 1-5; ZeroDivisionError without an answer.

    >>> satisfaction_index([5, 4, 4, 1])
    3.5
    """
    if not levels:
        raise ZeroDivisionError("no answer")
    return math.fsum(levels) / len(levels)
