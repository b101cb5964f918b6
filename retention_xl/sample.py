"""A deterministic demo sales sheet: a Chinese retail chain's members over two years.

The same seed always gives the same rows, so the bundled sample and its report
can be regenerated and compared. Customers arrive over time, buy at their own
pace, some drift away, a few return goods; the sheet looks like a till export
(a title row, Chinese headers, a total row at the bottom).

>>> frame = sample_sales(seed=7, customers=50)
>>> list(frame.columns)
['订单号', '订单日期', '会员号', '会员姓名', '门店', '商品', '数量', '单价', '金额']
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏宇浩然欣怡子涵梓轩雨泽思彤")
STORES = ["上海南京西路店", "上海徐家汇店", "杭州湖滨店", "苏州观前街店", "南京新街口店", "线上商城"]
PRODUCTS = [
    ("有机绿茶礼盒", 168.0), ("手冲咖啡豆 500g", 98.0), ("陶瓷马克杯", 45.0), ("不锈钢保温杯", 129.0),
    ("桂花乌龙茶", 76.0), ("茶具六件套", 388.0), ("挂耳咖啡 20 包", 59.0), ("坚果礼盒", 138.0),
    ("手工月饼礼盒", 218.0), ("蜂蜜柚子茶", 39.0), ("玻璃公道杯", 68.0), ("普洱茶饼 357g", 265.0),
]
START = pd.Timestamp("2023-01-01")
MONTHS = 24


def sample_sales(seed: int = 2024, customers: int = 1200) -> pd.DataFrame:
    """Transactions of ``customers`` members over 24 months starting January 2023."""
    rng = np.random.default_rng(seed)
    end = START + pd.DateOffset(months=MONTHS)
    days = (end - START).days
    # Arrivals grow over time; each member has a buying pace and a loyalty span.
    arrival = np.sort((rng.beta(1.3, 1.0, customers) * (days - 20)).astype(int))
    pace_days = rng.gamma(1.6, 28.0, customers) + 7
    loyalty_days = rng.exponential(260, customers) + 15
    vip = rng.random(customers) < 0.12
    pace_days[vip] /= 2.2
    loyalty_days[vip] *= 2.5

    names = [SURNAMES[rng.integers(len(SURNAMES))] + "".join(GIVEN[i] for i in rng.integers(len(GIVEN), size=rng.integers(1, 3)))
             for _ in range(customers)]
    home_store = rng.integers(len(STORES), size=customers)
    rows = []
    order_number = 100000
    for c in range(customers):
        day = float(arrival[c])
        last_day = min(days - 1, arrival[c] + loyalty_days[c])
        comeback = rng.random() < 0.3  # some lapse for a long while, then return
        while day <= last_day or (comeback and day < days - 1):
            if day > last_day:  # the comeback: a long gap, then a second, shorter spell
                comeback = False
                day += rng.uniform(380, 600)
                last_day = min(days - 1, day + rng.exponential(120))
                if day > last_day:
                    break
            order_number += 1
            when = START + pd.Timedelta(days=int(day), minutes=int(rng.integers(9 * 60, 21 * 60)))
            store = STORES[home_store[c]] if rng.random() < 0.8 else STORES[rng.integers(len(STORES))]
            for _ in range(1 + rng.poisson(0.7 + 0.8 * vip[c])):
                product, price = PRODUCTS[rng.integers(len(PRODUCTS))]
                quantity = int(1 + rng.poisson(0.4 + 1.2 * vip[c]))
                rows.append((f"SO{order_number}", when, f"M{c + 1:05d}", names[c], store, product, quantity, price))
                if rng.random() < 0.025:  # a return a few days later
                    back = when + pd.Timedelta(days=int(rng.integers(1, 15)))
                    if back < end:
                        rows.append((f"TH{order_number}", back, f"M{c + 1:05d}", names[c], store, product, -quantity, price))
            day += rng.exponential(pace_days[c]) + 1
    frame = pd.DataFrame(rows, columns=["订单号", "订单日期", "会员号", "会员姓名", "门店", "商品", "数量", "单价"])
    frame["金额"] = (frame["数量"] * frame["单价"]).round(2)
    return frame.sort_values(["订单日期", "订单号"], kind="stable").reset_index(drop=True)


def write_sample_workbook(path: str | Path, seed: int = 2024, customers: int = 1200) -> Path:
    """Write the demo sheet as a till export would: a title row, the table, a total row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = Path(path)
    frame = sample_sales(seed, customers)
    book = Workbook()
    sheet = book.active
    sheet.title = "销售明细"
    sheet.append(["悦茗生活 2023–2024 年会员销售明细（单位：元）"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(list(frame.columns))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in frame.itertuples(index=False):
        sheet.append([v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in row])
    sheet.append(["合计", None, None, None, None, None, int(frame["数量"].sum()), None, round(float(frame["金额"].sum()), 2)])
    for row in sheet.iter_rows(min_row=3, min_col=2, max_col=2):
        row[0].number_format = "yyyy-mm-dd hh:mm"
    for letter, width in zip("ABCDEFGHI", (12, 18, 10, 10, 16, 18, 6, 8, 10)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A3"
    book.save(path)
    return path
