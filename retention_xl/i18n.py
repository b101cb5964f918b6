"""Languages and the words the product shows, read from ``templates/<language>/``.

Every label, sheet name and piece of advice exists in simplified Chinese (the
default), traditional Chinese and English. The wording lives in
``templates/<language>/labels.json`` and the ``*.j2`` templates beside it, so a
company can change it without touching code.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

LANGUAGES = ("zh-CN", "zh-TW", "en")
DEFAULT_LANGUAGE = "zh-CN"

_ALIASES = {
    "zh": "zh-CN", "zh-cn": "zh-CN", "zh-hans": "zh-CN", "zh-sg": "zh-CN", "cn": "zh-CN",
    "简体": "zh-CN", "简体中文": "zh-CN", "sc": "zh-CN",
    "zh-tw": "zh-TW", "zh-hk": "zh-TW", "zh-mo": "zh-TW", "zh-hant": "zh-TW", "tw": "zh-TW",
    "hk": "zh-TW", "繁體": "zh-TW", "繁體中文": "zh-TW", "tc": "zh-TW",
    "en": "en", "en-us": "en", "en-gb": "en", "english": "en",
}


def normalize_language(language: str | None) -> str:
    """The supported language code for a user's spelling of it.

    Raises ``ValueError`` naming the accepted codes for anything else.

    >>> normalize_language("zh_tw"), normalize_language(None), normalize_language("EN")
    ('zh-TW', 'zh-CN', 'en')
    """
    if language is None or str(language).strip() == "":
        return DEFAULT_LANGUAGE
    key = str(language).strip().replace("_", "-").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(f"unknown language {language!r}: use one of {', '.join(LANGUAGES)}")


def templates_root():
    """The folder holding one sub-folder of wording per language."""
    return resources.files("retention_xl.templates")


@lru_cache(maxsize=None)
def labels(language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """All short texts of one language, keyed by a stable English identifier.

    >>> labels("en")["tier.high"]
    'High'
    """
    path = templates_root() / normalize_language(language) / "labels.json"
    return json.loads(path.read_text(encoding="utf-8"))


# An in-store shopping guide: the staff are called so only where the data's own column is.
GUIDE_WORDS = ("导购", "導購")


def labels_for(language: str, value: str = "revenue", salesperson_column: str | None = None) -> dict[str, str]:
    """The labels of a report whose customers are valued by ``value``: ``key@profit`` replaces ``key`` for profit.

    The staff take the general word (销售人员, 銷售人員, salesperson) unless the header of the
    salesperson column says 导购 / 導購: then ``key@guide`` replaces ``key``, the data's own word.

    >>> labels_for("en", "profit")["kpi.pareto_share"]
    'Profit share of the top {top}'
    >>> labels_for("zh-CN")["sheet.staff"], labels_for("zh-CN", salesperson_column="导购员")["sheet.staff"]
    ('销售人员', '导购')
    """
    words = dict(labels(language))  # a copy: the cached labels serve every report
    guide = salesperson_column is not None and any(word in salesperson_column for word in GUIDE_WORDS)
    for variant in (value, "guide") if guide else (value,):
        suffix = f"@{variant}"
        words.update({key[:-len(suffix)]: text for key, text in list(words.items()) if key.endswith(suffix)})
    return words


_COUNTED_WORD = re.compile(r"\{(\w+)\|([^|{}]*)\|([^|{}]*)\}")


def plural(count, one: str, many: str) -> str:
    """``one`` for a count of exactly 1, else ``many``: the word a count takes in English.

    >>> plural(1, "month", "months"), plural(0, "month", "months"), plural("1,000", "month", "months")
    ('month', 'months', 'months')
    """
    return one if count == 1 or str(count).strip() == "1" else many


def fill(text: str, **values) -> str:
    """A label with its ``{placeholders}`` filled in. ``{n|one|many}`` is the word the count ``n`` takes
    (:func:`plural`); Chinese counts with a measure word and never needs it.

    >>> fill("the last {window} {window|month|months}", window=1)
    'the last 1 month'
    >>> fill("最近 {window} 个月", window=6)
    '最近 6 个月'
    """
    words = _COUNTED_WORD.sub(lambda match: plural(values[match[1]], match[2], match[3]), text)
    return words.format(**values)


def tier_label(tier: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The shown name of a repeat-purchase tier (``"high"``, ``"medium"``, ``"low"``).

    >>> tier_label("low", "zh-CN"), tier_label("low", "zh-TW")
    ('低复购', '低複購')
    """
    return labels(language)[f"tier.{tier}"]


def partial_month_note(last_date, words: dict[str, str]) -> str:
    """What the report says when the data end before their last month does, in the language of ``words``.

    >>> import pandas as pd
    >>> partial_month_note(pd.Timestamp("2017-12-30 18:00"), labels("en"))
    'The data end on 2017-12-30, one day before the month ends: the report covers 2017-11, the last complete month; use --month 2017-12 if December is complete.'
    >>> partial_month_note(pd.Timestamp("2010-12-09"), labels("zh-CN"))
    '数据截止于 2010-12-09，距月末还有 22 天：本报告统计最后一个完整月份 2010-11；如 12 月的数据已完整，请用 --month 2010-12。'
    """
    partial = last_date.to_period("M")
    days = (partial.end_time.normalize() - last_date.normalize()).days
    days_left = words["report.one_day_left" if days == 1 else "report.days_left"].format(days=days)
    return words["report.mid_month"].format(last_date=f"{last_date:%Y-%m-%d}", days_left=days_left,
                                            month=str(partial - 1), partial=str(partial),
                                            partial_name=last_date.month_name(), partial_number=partial.month)
