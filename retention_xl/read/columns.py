"""Finding the header row and the meaning of each column in a sales sheet.

Shops call their columns many things. Each header is given at most one role
(:mod:`retention_xl.read.header_words` says how: a known name below, in simplified Chinese,
traditional Chinese and English, or its last words). Where several headers have the same
role, the best is used (:func:`detect_roles` says which); the others are left unread.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache

from ..xlsx_format import column_index, column_letter
from .header_words import KNOWN_NAME, HeaderRole, header_words, ranked, role_by_words, without_notes
# The roles are imported from here across the package.
from ..roles import (AMOUNT, CHANNEL, COST, CUSTOMER_ID, CUSTOMER_NAME, DATE, GROUP_ROLES, ORDER_ID, PROFIT,
                     PROFIT_ROLES, QUANTITY, REGION, ROLE_OPTIONS, ROLES, SALESPERSON, STORE, UNIT_COST, UNIT_PRICE)

# Known names of the columns that group a chain's sales (others are a known phrase with an id or
# name word after it: Store Code, 业务员姓名).
GROUP_NAMES: dict[str, tuple[str, ...]] = {
    STORE: ("门店", "店铺", "分店", "门店名称", "店铺名称", "门店编号", "門店", "店鋪", "分店名稱", "門店名稱",
            "store", "shop", "branch", "storename", "shopname", "branchname", "storeid"),
    SALESPERSON: ("销售员", "导购", "业务员", "客户经理", "销售人员", "銷售員", "導購", "業務員", "客戶經理",
                  "銷售人員", "salesperson", "salesrep", "rep", "staff", "seller", "salesman", "accountmanager"),
    CHANNEL: ("渠道", "销售渠道", "通路", "銷售渠道", "銷售通路", "channel", "saleschannel"),
    REGION: ("区域", "地区", "大区", "區域", "地區", "region", "area", "salesregion"),
}

# Known names of cost and profit: 成本金额 is a cost, not an amount; 利润率 (a margin in percent)
# and 毛利率 are not profit.
PROFIT_NAMES: dict[str, tuple[str, ...]] = {
    COST: ("成本", "成本金额", "成本额", "总成本", "销售成本", "成本金額", "總成本", "銷售成本", "cost", "totalcost",
           "linecost", "costamount", "cogs"),
    UNIT_COST: ("成本价", "单位成本", "进价", "进货价", "成本單價", "成本價", "單位成本", "進價", "進貨價", "单位成本价",
                "unitcost", "costprice", "costeach", "unitcostprice"),
    PROFIT: ("毛利", "利润", "毛利额", "毛利润", "毛利金额", "毛利額", "利潤", "毛利潤", "毛利金額", "grossprofit",
             "profit", "profitamount", "gewinn"),
}

# SAP's technical names (KUNNR the sold-to party, AUDAT the document date, FKDAT the billing date, ERDAT the day
# the record was created, NETWR the net value, VBELN the sales document) and the German headers most often seen
# are known names too.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    CUSTOMER_ID: (
        "客户编号", "客户id", "客户号", "客户代码", "客户编码", "客户账号", "顾客编号", "顾客id", "会员号", "会员编号",
        "会员id", "会员卡号", "会员卡", "客戶編號", "客戶id", "客戶號", "客戶代碼", "客戶編碼", "顧客編號", "會員號",
        "會員編號", "會員id", "會員卡號", "客户", "客戶", "顾客", "顧客", "会员", "會員",
        "customerid", "customerno", "customernumber", "customercode", "customer", "clientid", "client",
        "memberid", "memberno", "accountid", "account", "buyerid",
        "kunnr", "soldtoparty", "soldto", "kunde", "kundennummer", "kundennr", "kundenid",
    ),
    CUSTOMER_NAME: (
        "客户名称", "客户姓名", "客户名", "顾客姓名", "会员姓名", "会员名称", "客戶名稱", "客戶姓名", "客戶名",
        "顧客姓名", "會員姓名", "會員名稱", "姓名", "customername", "clientname", "membername", "buyername", "name",
        "kundenname",
    ),
    DATE: (
        "订单日期", "交易日期", "销售日期", "下单日期", "购买日期", "开单日期", "单据日期", "发票日期", "日期",
        "下单时间", "交易时间", "订单时间", "訂單日期", "銷售日期", "購買日期", "開單日期", "單據日期", "發票日期",
        "下單時間", "交易時間", "訂單時間", "invoicedate", "orderdate", "transactiondate", "saledate",
        "salesdate", "purchasedate", "date", "datetime", "orderdatetime",
        "audat", "fkdat", "erdat", "documentdate", "billingdate", "datum", "belegdatum", "bestelldatum",
        "auftragsdatum", "rechnungsdatum",
    ),
    AMOUNT: (
        "金额", "金額", "销售额", "銷售額", "销售金额", "銷售金額", "实收金额", "實收金額", "订单金额", "訂單金額",
        "交易金额", "交易金額", "应收金额", "應收金額", "成交金额", "成交金額", "营业额", "營業額", "amount",
        "revenue", "sales", "salesamount", "totalamount", "total", "linetotal", "netamount", "value",
        "ordervalue", "turnover", "netwr", "netvalue", "betrag", "umsatz", "totalprice", "总价", "總價",
    ),
    QUANTITY: ("数量", "數量", "销量", "銷量", "件数", "件數", "qty", "quantity", "units", "menge"),
    UNIT_PRICE: ("单价", "單價", "售价", "售價", "价格", "價格", "unitprice", "price", "priceeach"),
    ORDER_ID: (
        "订单号", "订单编号", "单号", "单据号", "单据编号", "发票号", "小票号", "流水号", "訂單號", "訂單編號",
        "單號", "單據號", "單據編號", "發票號", "小票號", "流水號", "invoice", "invoiceno", "invoicenumber",
        "invoiceid", "orderid", "orderno", "ordernumber", "order", "receiptno", "transactionid",
        "vbeln", "salesdocument", "billingdocument", "bestellnummer", "auftragsnummer", "belegnummer",
        "rechnungsnummer",
    ),
}

_PUNCTUATION = re.compile(r"[\s_\-./\\:：()（）\[\]【】#＃*]+")

LONGEST_HEADER = 120  # characters

# Normalised known name -> role: the surest sign of a column's role.
KNOWN_NAMES = {name: role for table in (HEADER_NAMES, GROUP_NAMES, PROFIT_NAMES)
               for role, names in table.items() for name in names}


def normalize_header(text: object) -> str:
    """The form headers are compared in.

    >>> normalize_header(" Customer ID "), normalize_header("客戶 編號（ID）")
    ('customerid', '客戶編號id')
    """
    if text is None:
        return ""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", str(text)).lower())


@lru_cache(maxsize=8192)
def role_of_header(header: object) -> HeaderRole | None:
    """The role one header gives its column: a known name (notes in brackets aside), else its last words.

    >>> [role_of_header(h).role for h in ("会员号", "销售金额(元)", "sales_agent", "Salesperson Name", "订单 ID")]
    ['customer_id', 'amount', 'salesperson', 'salesperson', 'order_id']
    >>> role_of_header("业务员姓名").role, role_of_header("毛利率"), role_of_header("Gross profit %")
    ('salesperson', None, None)
    """
    text = "" if header is None else str(header)
    if len(text) > LONGEST_HEADER:  # a note or a data cell met while looking for the header row
        return None
    names = [normalize_header(text)] + ([] if "%" in text else [normalize_header(without_notes(text))])
    role = next((KNOWN_NAMES[name] for name in names if name in KNOWN_NAMES), None)
    words = header_words(text)
    if role is not None:
        return ranked(role, KNOWN_NAME, words)
    return role_by_words(words) if words else None


def _letter_index(text: str) -> int | None:
    return column_index(text) if re.fullmatch(r"[A-Za-z]{1,3}", text) else None


@dataclass
class ColumnMap:
    """Which column (0-based position in the header row) holds each role."""

    header_row: int
    positions: dict[str, int]
    headers: list[str] = field(default_factory=list)

    def header_of(self, role: str) -> str:
        return self.headers[self.positions[role]]


@dataclass(frozen=True)
class TableKind:
    """What a header row must name for a table to be read: a sales table's roles, or a survey's."""

    required: Callable[[Mapping[str, int]], bool]
    wanted: str  # the roles in words, for the message where no row names them


def _has_sales_roles(positions: Mapping[str, int]) -> bool:
    has_customer = CUSTOMER_ID in positions or CUSTOMER_NAME in positions
    has_amount = AMOUNT in positions or (QUANTITY in positions and UNIT_PRICE in positions)
    return has_customer and DATE in positions and has_amount


SALES_TABLE = TableKind(_has_sales_roles, "a customer id or name, an order date, and an amount (or a quantity and "
                                          "a unit price)")
# The kind of table the readers look for: sales, unless a survey file is being read (retention_xl.read.survey).
TABLE_KIND: ContextVar[TableKind] = ContextVar("table_kind", default=SALES_TABLE)


def has_required_roles(positions: Mapping[str, int]) -> bool:
    """Whether a header row names what the table being read needs (see :data:`TABLE_KIND`)."""
    return TABLE_KIND.get().required(positions)


def detect_roles(headers: Sequence[object], taken: Sequence[int] = ()) -> dict[str, int]:
    """Role -> column position, from one row of header cells; positions in ``taken`` are left out.

    Each header has at most one role (:func:`role_of_header`). Where several have the same role,
    the first of these decides: for the date, what it records (:func:`retention_xl.read.header_words.date_rank`:
    the sale's date, then a plain date, then others, then dates of other events such as engage or
    ship dates); for the customer id, one whose words say it names the person (``customer_unique_id``
    before ``customer_id``, see :func:`retention_xl.read.header_words.person_rank`); a known name before a header of
    known words before one known by its last words; the leftmost.

    >>> headers = ["opportunity_id", "sales_agent", "account", "engage_date", "close_date", "close_value"]
    >>> {role: headers[position] for role, position in detect_roles(headers).items()}
    {'salesperson': 'sales_agent', 'customer_id': 'account', 'date': 'close_date', 'amount': 'close_value'}
    >>> headers = ["order_id", "customer_id", "order_purchase_timestamp", "payment_value", "customer_unique_id"]
    >>> headers[detect_roles(headers)["customer_id"]]
    'customer_unique_id'
    """
    best: dict[str, tuple[tuple[int, int], int]] = {}
    for position, header in enumerate(headers):
        found = None if position in taken else role_of_header(header)
        if found is not None and (found.role not in best or found.rank < best[found.role][0]):
            best[found.role] = (found.rank, position)
    return {role: position for role, (_, position) in best.items()}


def resolve_explicit(headers: Sequence[object], mapping: Mapping[str, str]) -> tuple[dict[str, int], list[str]]:
    """Positions for the columns a user named (by header text or column letter), and the roles whose name
    is not among ``headers``."""
    normalized = [normalize_header(h) for h in headers]
    positions, missing = {}, []
    for role, wanted in mapping.items():
        if wanted is None:
            continue
        key = normalize_header(wanted)
        if key in normalized:
            positions[role] = normalized.index(key)
        elif (index := _letter_index(str(wanted).strip())) is not None and index < len(headers):
            positions[role] = index
        else:
            missing.append(role)
    return positions, missing


def find_header(rows: Sequence[Sequence[object]], mapping: Mapping[str, str] | None = None) -> ColumnMap | None:
    """The first row among ``rows`` that names a customer, a date and an amount.

    Explicitly mapped columns (``mapping``: role -> header text or letter) are
    looked for first and complete what detection finds. Returns None when no row
    qualifies.
    """
    mapping = {role: name for role, name in (mapping or {}).items() if name}
    for index, row in enumerate(rows):
        headers = _cells(row)
        if not any(headers):
            continue
        explicit, missing = resolve_explicit(headers, mapping)
        if missing:
            continue
        # A column named by hand serves that role only; the others' next best columns stand in.
        positions = {role: position for role, position in detect_roles(headers, list(explicit.values())).items()
                     if role not in explicit}
        positions.update(explicit)
        if has_required_roles(positions):
            return ColumnMap(header_row=index, positions=positions, headers=headers)
    return None


def _cells(row: Sequence[object]) -> list[str]:
    return ["" if cell is None else str(cell).strip() for cell in row]


def most_header_like(rows: Sequence[Sequence[object]]) -> int | None:
    """The position of the row with the most text cells (the first of equals), or None when every row is empty.

    >>> most_header_like([["Report"], [], ["Kunde", "Datum", "Betrag"], ["K1", 3, 4.5]])
    2
    """
    filled = [index for index, row in enumerate(rows) if any(cell not in (None, "") for cell in row)]
    return max(filled, key=lambda index: sum(isinstance(cell, str) and cell.strip() != "" for cell in rows[index]),
               default=None)


def _most_header_like(rows: Sequence[Sequence[object]]) -> Sequence[object]:
    index = most_header_like(rows)
    return [] if index is None else rows[index]


def describe_headers(rows: Sequence[Sequence[object]]) -> str:
    """The most header-like row, quoted, for an error message."""
    best = _most_header_like(rows)
    cells = [f'{column_letter(i)}="{str(c).strip()}"' for i, c in enumerate(best) if c not in (None, "")]
    return ", ".join(cells[:20]) if cells else "(no headers: the sheet looks empty)"


def no_column_named(rows: Sequence[Sequence[object]], mapping: Mapping[str, str]) -> str | None:
    """What is wrong when a name given by hand is no header of any of ``rows``; None when each is one.

    >>> print(no_column_named([["订单号", "日期", "会员号", "金额"]], {"store": "门店"}))
    no column named '门店' (given with --store); the headers are: '订单号', '日期', '会员号', '金额'
    """
    mapping = {role: name for role, name in mapping.items() if name}
    missing = [role for role in mapping if all(role in resolve_explicit(_cells(row), mapping)[1] for row in rows)]
    if not missing:
        return None
    found = find_header(rows, {role: name for role, name in mapping.items() if role not in missing})
    headers = [h for h in found.headers if h] if found else [h for h in _cells(_most_header_like(rows)) if h]
    shown = ", ".join(f"'{header}'" for header in headers[:30])
    if len(headers) > 30:
        shown += f" and {len(headers) - 30} more"
    named = ", ".join(f"no column named '{mapping[role]}' (given with --{ROLE_OPTIONS[role]})" for role in missing)
    return f"{named}; the headers are: {shown or '(none: the sheet looks empty)'}"


def used_columns(columns: Mapping[str, str]) -> dict[str, str]:
    """The header of each role (role -> header) keyed by the role's option name, in the options' order: what
    the report says it read, and what a config file's ``[columns]`` table takes.

    >>> used_columns({"amount": "close_value", "salesperson": "sales_agent", "customer_id": "account"})
    {'customer': 'account', 'amount': 'close_value', 'salesperson': 'sales_agent'}
    """
    return {ROLE_OPTIONS[role]: columns[role] for role in ROLES if role in columns}


def columns_line(columns: Mapping[str, str]) -> str:
    """The line that says which column plays each role.

    >>> columns_line({"customer_id": "account", "date": "close_date", "amount": "close_value"})
    'columns: customer ← account, date ← close_date, amount ← close_value'
    """
    return "columns: " + ", ".join(f"{option} ← {header}" for option, header in used_columns(columns).items())
