"""Finding the header row and the meaning of each column in a sales sheet.

Shops call their columns many things. A header cell is normalised (full-width to
half-width, lower case, spaces and punctuation removed) and matched against the
names below, in simplified Chinese, traditional Chinese and English. An exact match
wins; otherwise a header that contains a name (``销售金额(元)`` contains ``金额``)
matches, the longest name first. Group columns (store, salesperson ...) and cost or
profit columns match whole names only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

CUSTOMER_ID = "customer_id"
CUSTOMER_NAME = "customer_name"
DATE = "date"
AMOUNT = "amount"
QUANTITY = "quantity"
UNIT_PRICE = "unit_price"
ORDER_ID = "order_id"
STORE = "store"
SALESPERSON = "salesperson"
CHANNEL = "channel"
REGION = "region"
GROUP_ROLES = (STORE, SALESPERSON, CHANNEL, REGION)
COST = "cost"
UNIT_COST = "unit_cost"
PROFIT = "profit"
PROFIT_ROLES = (PROFIT, COST, UNIT_COST)  # in order of preference where a sheet has several

ROLES = (CUSTOMER_ID, CUSTOMER_NAME, DATE, AMOUNT, QUANTITY, UNIT_PRICE, ORDER_ID) + GROUP_ROLES + PROFIT_ROLES

# The option a user gives to map each role by hand (command line and config file).
ROLE_OPTIONS = {
    CUSTOMER_ID: "customer",
    CUSTOMER_NAME: "name",
    DATE: "date",
    AMOUNT: "amount",
    QUANTITY: "quantity",
    UNIT_PRICE: "price",
    ORDER_ID: "order",
    STORE: "store",
    SALESPERSON: "salesperson",
    CHANNEL: "channel",
    REGION: "region",
    COST: "cost",
    UNIT_COST: "unit-cost",
    PROFIT: "profit",
}

# Columns that group a chain's sales. They match whole header names only (after normalisation):
# "rep" must not claim "report", 渠道 not 支付渠道, and 客户经理 is a salesperson, not a customer.
GROUP_NAMES: dict[str, tuple[str, ...]] = {
    STORE: ("门店", "店铺", "分店", "门店名称", "店铺名称", "门店编号", "門店", "店鋪", "分店名稱", "門店名稱",
            "store", "shop", "branch", "storename", "shopname", "branchname", "storeid"),
    SALESPERSON: ("销售员", "导购", "业务员", "客户经理", "销售人员", "銷售員", "導購", "業務員", "客戶經理",
                  "銷售人員", "salesperson", "salesrep", "rep", "staff", "seller", "salesman", "accountmanager"),
    CHANNEL: ("渠道", "销售渠道", "通路", "銷售渠道", "銷售通路", "channel", "saleschannel"),
    REGION: ("区域", "地区", "大区", "區域", "地區", "region", "area", "salesregion"),
}

# Cost and profit match whole names too: 成本金额 is a cost, not an amount; 利润率 (a margin in percent)
# and 毛利率 are not profit.
PROFIT_NAMES: dict[str, tuple[str, ...]] = {
    COST: ("成本", "成本金额", "成本额", "总成本", "销售成本", "成本金額", "總成本", "銷售成本", "cost", "totalcost",
           "linecost", "costamount", "cogs"),
    UNIT_COST: ("成本价", "单位成本", "进价", "进货价", "成本單價", "成本價", "單位成本", "進價", "進貨價", "单位成本价",
                "unitcost", "costprice", "costeach", "unitcostprice"),
    PROFIT: ("毛利", "利润", "毛利额", "毛利润", "毛利金额", "毛利額", "利潤", "毛利潤", "毛利金額", "grossprofit",
             "profit", "profitamount"),
}

HEADER_NAMES: dict[str, tuple[str, ...]] = {
    CUSTOMER_ID: (
        "客户编号", "客户id", "客户号", "客户代码", "客户编码", "客户账号", "顾客编号", "顾客id", "会员号", "会员编号",
        "会员id", "会员卡号", "会员卡", "客戶編號", "客戶id", "客戶號", "客戶代碼", "客戶編碼", "顧客編號", "會員號",
        "會員編號", "會員id", "會員卡號", "客户", "客戶", "顾客", "顧客", "会员", "會員",
        "customerid", "customerno", "customernumber", "customercode", "customer", "clientid", "client",
        "memberid", "memberno", "accountid", "account", "buyerid",
    ),
    CUSTOMER_NAME: (
        "客户名称", "客户姓名", "客户名", "顾客姓名", "会员姓名", "会员名称", "客戶名稱", "客戶姓名", "客戶名",
        "顧客姓名", "會員姓名", "會員名稱", "姓名", "customername", "clientname", "membername", "buyername", "name",
    ),
    DATE: (
        "订单日期", "交易日期", "销售日期", "下单日期", "购买日期", "开单日期", "单据日期", "发票日期", "日期",
        "下单时间", "交易时间", "订单时间", "訂單日期", "銷售日期", "購買日期", "開單日期", "單據日期", "發票日期",
        "下單時間", "交易時間", "訂單時間", "invoicedate", "orderdate", "transactiondate", "saledate",
        "salesdate", "purchasedate", "date", "datetime", "orderdatetime",
    ),
    AMOUNT: (
        "金额", "金額", "销售额", "銷售額", "销售金额", "銷售金額", "实收金额", "實收金額", "订单金额", "訂單金額",
        "交易金额", "交易金額", "应收金额", "應收金額", "成交金额", "成交金額", "营业额", "營業額", "amount",
        "revenue", "sales", "salesamount", "totalamount", "total", "linetotal", "netamount", "value",
        "ordervalue", "turnover",
    ),
    QUANTITY: ("数量", "數量", "销量", "銷量", "件数", "件數", "qty", "quantity", "units"),
    UNIT_PRICE: ("单价", "單價", "售价", "售價", "价格", "價格", "unitprice", "price", "priceeach"),
    ORDER_ID: (
        "订单号", "订单编号", "单号", "单据号", "单据编号", "发票号", "小票号", "流水号", "訂單號", "訂單編號",
        "單號", "單據號", "單據編號", "發票號", "小票號", "流水號", "invoice", "invoiceno", "invoicenumber",
        "invoiceid", "orderid", "orderno", "ordernumber", "order", "receiptno", "transactionid",
    ),
}

_PUNCTUATION = re.compile(r"[\s_\-./\\:：()（）\[\]【】#＃*]+")


def normalize_header(text: object) -> str:
    """The form headers are compared in.

    >>> normalize_header(" Customer ID "), normalize_header("客戶 編號（ID）")
    ('customerid', '客戶編號id')
    """
    if text is None:
        return ""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", str(text)).lower())


def _role_of(header: str) -> tuple[str, int] | None:
    """(role, strength) for one normalised header; exact matches beat containment."""
    if not header:
        return None
    for exact_only in (GROUP_NAMES, PROFIT_NAMES):
        for role, names in exact_only.items():
            if header in names:
                return role, 1000
    best = None
    for role, names in HEADER_NAMES.items():
        for name in names:
            if header == name:
                return role, 1000
            if len(name) >= 2 and name in header and (best is None or len(name) > best[1]):
                best = (role, len(name))
    return best


def column_letter(index: int) -> str:
    """Excel's letter for a 0-based column index.

    >>> column_letter(0), column_letter(27)
    ('A', 'AB')
    """
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    """The 0-based index of an Excel column letter, the inverse of :func:`column_letter`.

    >>> column_index("A"), column_index("ab")
    (0, 27)
    """
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index - 1


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


def has_required_roles(positions: Mapping[str, int]) -> bool:
    has_customer = CUSTOMER_ID in positions or CUSTOMER_NAME in positions
    has_amount = AMOUNT in positions or (QUANTITY in positions and UNIT_PRICE in positions)
    return has_customer and DATE in positions and has_amount


def detect_roles(headers: Sequence[object]) -> dict[str, int]:
    """Role -> column position, from one row of header cells (leftmost best match wins)."""
    candidates: dict[str, tuple[int, int]] = {}
    for position, header in enumerate(headers):
        found = _role_of(normalize_header(header))
        if found is None:
            continue
        role, strength = found
        if role not in candidates or strength > candidates[role][0]:
            candidates[role] = (strength, position)
    # A table with a customer name but no id keys customers by name; one with both
    # must not use the same column twice.
    positions = {role: position for role, (_, position) in candidates.items()}
    if CUSTOMER_ID in positions and positions.get(CUSTOMER_NAME) == positions[CUSTOMER_ID]:
        del positions[CUSTOMER_NAME]
    return positions


def resolve_explicit(headers: Sequence[object], mapping: Mapping[str, str]) -> tuple[dict[str, int], list[str]]:
    """Positions for the columns a user named (by header text or column letter), and the names not found."""
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
            missing.append(f"{ROLE_OPTIONS[role]}={wanted}")
    return positions, missing


def find_header(rows: Sequence[Sequence[object]], mapping: Mapping[str, str] | None = None) -> ColumnMap | None:
    """The first row among ``rows`` that names a customer, a date and an amount.

    Explicitly mapped columns (``mapping``: role -> header text or letter) are
    looked for first and complete what detection finds. Returns None when no row
    qualifies.
    """
    mapping = {role: name for role, name in (mapping or {}).items() if name}
    for index, row in enumerate(rows):
        headers = ["" if cell is None else str(cell).strip() for cell in row]
        if not any(headers):
            continue
        positions = detect_roles(headers)
        if mapping:
            explicit, missing = resolve_explicit(headers, mapping)
            if missing:
                continue
            taken = set(explicit.values())
            positions = {role: pos for role, pos in positions.items() if pos not in taken and role not in explicit}
            positions.update(explicit)
        if has_required_roles(positions):
            return ColumnMap(header_row=index, positions=positions, headers=headers)
    return None


def describe_headers(rows: Sequence[Sequence[object]]) -> str:
    """The most header-like row, quoted, for an error message."""
    best = max(
        (row for row in rows if any(cell not in (None, "") for cell in row)),
        key=lambda row: sum(isinstance(cell, str) and cell.strip() != "" for cell in row),
        default=[],
    )
    cells = [f'{column_letter(i)}="{str(c).strip()}"' for i, c in enumerate(best) if c not in (None, "")]
    return ", ".join(cells[:20]) if cells else "(no headers: the sheet looks empty)"
