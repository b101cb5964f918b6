"""What one header cell means: its words, and the role they give it.

A header is cut into words: at spaces, ``_``, ``-`` and other punctuation, where camelCase
changes case (``InvoiceDate``), and, in Chinese, at the known words below (``业务员姓名`` is
业务员 + 姓名); a run of letters made entirely of known words is cut too (``salesagent``).
Text in brackets is a note (``金额(元)``), and a header holding ``%`` is a rate.

A header has at most one role. A known name (the whole header, as
:data:`retention_xl.read.columns.KNOWN_NAMES` lists them) decides it. Otherwise the last words
decide, as in English and Chinese the last word names the thing: ``sales_agent`` is an agent,
so a salesperson, never an amount; ``close_value`` is an amount, and so is ``Total Price`` (a price alone
is a unit price); ``Salesperson Name`` and
``业务员姓名`` name a salesperson (an id or name word at the end names what comes before it);
``订单 ID`` is the order number; ``customer_unique_id`` is a customer id that says it names the person
(:data:`PERSON_WORDS`). Stores, salespeople, channels, regions, cost and profit
must be a known phrase with nothing before it (支付渠道 is not a channel, ``Shipping cost``
not the cost); an amount whose words name a discount, tax, freight, cost or profit is not
the amount.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ..roles import (AMOUNT, CHANNEL, COST, CUSTOMER_ID, CUSTOMER_NAME, DATE, GROUP_ROLES, LOYALTY_ROLES,
                     ORDER_ID, PROFIT, PROFIT_ROLES, QUANTITY, RECOMMEND, REGION, SALESPERSON, SATISFACTION, STORE,
                     UNIT_COST, UNIT_PRICE)

# Things a header can name whose role depends on the id or name word after it.
CUSTOMER, ORDER, PRODUCT = "customer", "order", "product"

# Phrases (words separated by spaces) naming each role or thing.
PHRASES: dict[str, tuple[str, ...]] = {
    CUSTOMER: ("customer", "client", "member", "account", "buyer", "客户", "客戶", "顾客", "顧客", "会员", "會員",
               "买家", "買家"),
    ORDER: ("order", "invoice", "receipt", "transaction", "订单", "訂單", "单据", "單據", "发票", "發票", "小票",
            "流水", "交易"),
    PRODUCT: ("product", "item", "sku", "stock", "article", "goods", "商品", "产品", "產品", "货品", "貨品", "物料"),
    ORDER_ID: ("单号", "單號"),
    SALESPERSON: ("salesperson", "salesman", "saleswoman", "salesrep", "rep", "agent", "seller", "staff",
                  "sales person", "sales rep", "sales representative", "sales agent", "account manager",
                  "销售员", "銷售員", "导购", "導購", "业务员", "業務員", "客户经理", "客戶經理", "销售人员", "銷售人員",
                  "销售代表", "銷售代表", "营业员", "營業員", "店员", "店員"),
    STORE: ("store", "shop", "branch", "门店", "門店", "店铺", "店鋪", "分店"),
    CHANNEL: ("channel", "sales channel", "渠道", "销售渠道", "銷售渠道", "通路", "銷售通路"),
    REGION: ("region", "area", "sales region", "区域", "區域", "地区", "地區", "大区", "大區"),
    DATE: ("date", "time", "datetime", "timestamp", "日期", "时间", "時間"),
    AMOUNT: ("amount", "amt", "revenue", "sales", "total", "value", "turnover", "gmv", "金额", "金額", "销售额",
             "銷售額", "营业额", "營業額", "成交额", "成交額", "总额", "總額",
             # a total or line price is the line's amount, not a price to multiply by the quantity
             "total price", "line price", "extended price", "总价", "總價", "总价格", "總價格"),
    QUANTITY: ("qty", "quantity", "units", "数量", "數量", "销量", "銷量", "件数", "件數"),
    UNIT_PRICE: ("price", "单价", "單價", "售价", "售價", "价格", "價格", "价", "價"),
    COST: ("cost", "cogs", "total cost", "line cost", "cost amount", "成本", "成本 金额", "成本 金額", "成本额",
           "总成本", "總成本", "销售成本", "銷售成本"),
    UNIT_COST: ("unit cost", "cost price", "cost each", "unit cost price", "成本 价", "成本 價", "单位 成本",
                "單位 成本", "成本 单价", "成本 單價", "进价", "進價", "进货 价", "進貨 價"),
    PROFIT: ("profit", "gross profit", "profit amount", "毛利", "利润", "利潤", "毛利额", "毛利額", "毛利润", "毛利潤",
             "毛利 金额", "毛利 金額"),
    # A customer's answers (retention_xl.figures.loyalty): a review score per order, a satisfaction or NPS question.
    SATISFACTION: ("satisfaction", "rating", "review score", "star rating", "stars", "csat", "满意度", "满意程度",
                   "评分", "评价", "星级", "滿意度", "滿意程度", "評分", "評價", "星級"),
    RECOMMEND: ("nps", "nps score", "net promoter score", "likelihood to recommend", "likely to recommend",
                "recommend", "recommendation", "would recommend", "推荐意愿", "推荐可能性", "推荐度", "推荐",
                "推薦意願", "推薦可能性", "推薦度", "推薦", "净推荐值", "淨推薦值"),
}
# Words that may stand before an answer's phrase: whose answer, or about what (客户满意度, Overall rating).
LOYALTY_QUALIFIERS = {"customer", "overall", "review", "order", "客户", "客戶", "顾客", "顧客", "总体", "總體", "整体",
                      "整體", "订单", "訂單"}

# Words at the end that say which of a thing's keys the column holds.
ID_WORDS = {"id", "no", "nr", "num", "number", "code", "#", "编号", "編號", "号", "號", "代码", "代碼", "编码", "編碼",
            "号码", "號碼", "账号", "賬號", "帳號", "卡号", "卡號"}
NAME_WORDS = {"name", "名称", "名稱", "姓名", "名"}
# Words before an id that say it names the person, not an account or an order (Olist's customer_id is one per
# order, its customer_unique_id the person): such a customer id ranks first.
PERSON_WORDS = {"unique", "person", "master", "global"}
# Words after the thing they describe (``Quantity Ordered``, ``Amount Paid``, ``金额 元``).
AFTER_WORDS = {"ordered", "sold", "paid", "received", "invoiced", "purchased", "shipped", "delivered", "due",
               "created", "usd", "eur", "gbp", "rmb", "cny", "yuan", "元", "万元", "萬元"}
# Dates of the sale itself, and dates of other events; see :func:`date_rank`.
SALE_DATE_WORDS = {"order", "orders", "invoice", "invoiced", "transaction", "sale", "sales", "purchase", "purchased",
                   "close", "closed", "closing", "deal", "receipt", "sold", "订单", "訂單", "成交", "下单", "下單",
                   "交易", "销售", "銷售", "开单", "開單", "购买", "購買", "单据", "單據", "发票", "發票", "消费", "消費",
                   "开票", "開票", "document", "billing", "audat", "fkdat"}
OTHER_DATE_WORDS = {"engage", "engaged", "engagement", "create", "created", "creation", "ship", "shipped",
                    "shipping", "delivery", "delivered", "due", "expected", "register", "registered", "registration",
                    "signup", "join", "joined", "update", "updated", "modified", "birth", "birthday", "first", "last",
                    "expiry", "expire", "start", "end", "发货", "發貨", "创建", "創建", "到期", "送货", "送貨", "配送",
                    "签收", "簽收", "注册", "註冊", "修改", "更新", "入会", "入會", "开卡", "開卡", "首次", "出生"}
# An amount of these is not the sale's amount.
NOT_SALE_WORDS = {"discount", "tax", "vat", "shipping", "freight", "refund", "return", "returns", "commission",
                  "budget", "target", "forecast", "balance", "deposit", "cost", "profit", "margin", "优惠", "優惠",
                  "折扣", "税", "稅", "税额", "稅額", "运费", "運費", "退款", "退货", "退貨", "佣金", "预算", "預算",
                  "目标", "目標", "余额", "餘額", "押金", "成本", "毛利", "利润", "利潤", "欠款"}
# Other words a sales header is commonly made of.
PLAIN_WORDS = {"unit", "each", "line", "net", "gross", "final", "actual", "grand", "sale", "person", "manager",
               "representative", "单位", "單位", "实收", "實收", "应收", "應收", "实付", "實付", "含税", "含稅", "不含税",
               "不含稅", "实际", "實際", "进货", "進貨", "支付", "付款", "%"}

STRICT_ROLES = (*GROUP_ROLES, *PROFIT_ROLES, *LOYALTY_ROLES)
KNOWN_NAME, KNOWN_WORDS, LAST_WORDS = 0, 1, 2  # how sure a header's role is, surest first

_PHRASE_KIND = {tuple(phrase.split()): kind for kind, phrases in PHRASES.items() for phrase in phrases}
_LONGEST_PHRASE = max(map(len, _PHRASE_KIND))
VOCABULARY = ({word for phrase in _PHRASE_KIND for word in phrase} | ID_WORDS | NAME_WORDS | PERSON_WORDS | AFTER_WORDS
              | SALE_DATE_WORDS | OTHER_DATE_WORDS | NOT_SALE_WORDS | PLAIN_WORDS | LOYALTY_QUALIFIERS)
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# The known Chinese words, longest first: at each place the longest that fits is taken.
_CJK_WORD = re.compile("|".join(sorted((w for w in VOCABULARY if re.match(f"[{_CJK}]", w)), key=len, reverse=True)))
LONGEST_WORD = 30  # letters; a longer run is no header's word, and cutting it would take time for nothing
_NOTE = re.compile(r"[(\[（【][^()\[\]（）【】]*[)\]）】]")
_CASE_CHANGE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_CHUNK = re.compile(rf"[{_CJK}]+|[^\W\d_{_CJK}]+|\d+|[#%]")


def without_notes(text: str) -> str:
    """A header without its bracketed notes, unless nothing else is left.

    >>> without_notes("销售金额(元)"), without_notes("(备注)")
    ('销售金额', '(备注)')
    """
    bare = _NOTE.sub(" ", text).strip()
    return bare if bare else text.strip()


def header_words(text: object) -> tuple[str, ...]:
    """The words of a header, lower case, notes left out; ``%`` ends a rate's words.

    >>> header_words("sales_agent"), header_words("InvoiceDate"), header_words("订单 ID")
    (('sales', 'agent'), ('invoice', 'date'), ('订单', 'id'))
    >>> header_words("业务员姓名"), header_words("CUSTOMERNAME"), header_words("Gross profit (%)")
    (('业务员', '姓名'), ('customer', 'name'), ('gross', 'profit', '%'))
    """
    raw = unicodedata.normalize("NFKC", "" if text is None else str(text))
    spaced = _CASE_CHANGE.sub(" ", without_notes(raw)).lower()
    words: list[str] = []
    for chunk in _CHUNK.findall(spaced):
        if re.match(f"[{_CJK}]", chunk):
            words += _chinese_words(chunk)
        else:
            words += _letter_words(chunk) if chunk.isalpha() else [chunk]
    if "%" in raw and words[-1:] != ["%"]:
        words.append("%")
    return tuple(words)


def _chinese_words(run: str) -> list[str]:
    """Known words, longest first from the left; the characters between them as one unknown word each time."""
    words, start = [], 0
    for match in _CJK_WORD.finditer(run):
        words += [run[start:match.start()]] if match.start() > start else []
        words.append(match.group())
        start = match.end()
    return words + ([run[start:]] if start < len(run) else [])


@lru_cache(maxsize=4096)
def _letter_words(run: str) -> tuple[str, ...]:
    """A run of letters as known words of two letters or more (fewest first), or as it is."""
    if run in VOCABULARY or len(run) > LONGEST_WORD:
        return (run,)
    best: list[tuple[str, ...] | None] = [()] + [None] * len(run)
    for end in range(2, len(run) + 1):
        for start in range(0, end - 1):
            before = best[start]
            if before is not None and run[start:end] in VOCABULARY and \
                    (best[end] is None or len(before) + 1 < len(best[end])):
                best[end] = before + (run[start:end],)
    return best[len(run)] or (run,)


@dataclass(frozen=True)
class HeaderRole:
    """The role a header gives its column, with what ranks it among other headers of the same role."""

    role: str
    sureness: int  # KNOWN_NAME, KNOWN_WORDS or LAST_WORDS
    date_rank: int = 0
    person_rank: int = 0  # for customer ids: 0 where the header says the id names the person, else 1

    @property
    def rank(self) -> tuple[int, int, int]:
        """Smaller is better: for dates, what the date records comes first, for customer ids one that names the
        person; then how sure the role is."""
        return self.date_rank, self.person_rank, self.sureness


def ranked(role: str, sureness: int, words) -> HeaderRole:
    """A header's role with what ranks it among the headers of that role.

    >>> ranked("customer_id", KNOWN_WORDS, ("customer", "unique", "id")).rank, ranked("customer_id", 0, ("customer", "id")).rank
    ((0, 0, 1), (0, 1, 0))
    """
    return HeaderRole(role, sureness, date_rank(words) if role == DATE else 0,
                      person_rank(words) if role == CUSTOMER_ID else 0)


def person_rank(words) -> int:
    """0 for a customer id whose words say it names the person (``customer_unique_id``, ``Customer Person
    ID``, ``customer_member_id``: a member number beside another customer word), else 1.

    >>> person_rank(("customer", "unique", "id")), person_rank(("customer", "member", "id")), person_rank(("member", "id"))
    (0, 0, 1)
    """
    words = list(words)
    return 0 if PERSON_WORDS.intersection(words) or any(w in ("member", "会员", "會員") for w in words[1:]) else 1


def date_rank(words) -> int:
    """0 for the sale's date, 1 for a plain date, 2 for another one, 3 for the date of another event.

    >>> date_rank(["close", "date"]), date_rank(["日期"]), date_rank(["due", "date"]), date_rank(["订单", "创建", "时间"])
    (0, 1, 3, 3)
    """
    qualifiers = [word for word in words if word not in PHRASES[DATE] and not word.isdigit()]
    if any(word in OTHER_DATE_WORDS for word in qualifiers):
        return 3
    if any(word in SALE_DATE_WORDS for word in qualifiers):
        return 0
    return 2 if qualifiers else 1


def role_by_words(words: tuple[str, ...]) -> HeaderRole | None:
    """The role the last words of a header give it, or None.

    >>> role_by_words(("sales", "agent")).role, role_by_words(("close", "value")).role
    ('salesperson', 'amount')
    >>> role_by_words(("业务员", "姓名")).role, role_by_words(("订单", "id")).role, role_by_words(("支付", "渠道"))
    ('salesperson', 'order_id', None)
    """
    core = list(words)
    while core and core[-1] in AFTER_WORDS:
        core.pop()
    key_word = None
    while core and (core[-1] in ID_WORDS or core[-1] in NAME_WORDS):
        key_word = core.pop()
    while key_word in ID_WORDS and core and core[-1] in PERSON_WORDS:
        core.pop()
    head = next((tuple(core[-n:]) for n in range(min(len(core), _LONGEST_PHRASE), 0, -1)
                 if tuple(core[-n:]) in _PHRASE_KIND), None)
    if head is None:
        return None
    role = _role_of_thing(_PHRASE_KIND[head], key_word)
    before = core[:-len(head)]
    if role in LOYALTY_ROLES and set(before) <= LOYALTY_QUALIFIERS | {w for p in PHRASES[role] for w in p.split()}:
        before = []
    if role is None or (role in STRICT_ROLES and before) or (role == AMOUNT and NOT_SALE_WORDS.intersection(before)):
        return None
    return ranked(role, KNOWN_WORDS if all(word in VOCABULARY for word in words) else LAST_WORDS, words)


def _role_of_thing(kind: str, key_word: str | None) -> str | None:
    """A customer's id or name, an order's number; a group whatever its key; a measure only on its own."""
    if kind == CUSTOMER:
        return CUSTOMER_NAME if key_word in NAME_WORDS else CUSTOMER_ID
    if kind == ORDER:  # "Transaction" alone may be a type or a group heading; "Transaction ID" is the number
        return ORDER_ID if key_word in ID_WORDS else None
    if kind == PRODUCT:
        return None
    if kind in GROUP_ROLES:
        return kind
    return kind if key_word is None else None
