"""The customer x month table's contract: columns, dtypes, order, money to the cent, and what it derives."""

import numpy as np
import pandas as pd
import pytest

from retention_xl.table.contract import CustomerMonths, month_number
from retention_xl.table.numpy_builder import build_customer_months

ROWS = [  # order id, customer, date, amount
    ("o1", "A", "2024-01-05 09:00", 100.10), ("o1", "A", "2024-01-05 09:00", 0.20),   # one order, two lines
    ("o2", "A", "2024-01-20 10:00", 50.0), ("r1", "A", "2024-01-21 10:00", -30.0),
    ("o3", "A", "2024-01-31 23:00", 10.0), ("o3", "A", "2024-02-01 08:00", 5.0),      # an order across months
    ("o4", "B", "2024-02-03 12:00", 70.0), ("o5", "B", "2024-02-03 15:00", 30.0),     # two orders, one day
    ("r2", "C", "2024-02-10 12:00", -9.99),                                           # returns only
    (None, "D", "2024-03-01 12:00", 20.0), (None, "D", "2024-03-01 18:00", 1.0), (None, "D", "2024-03-04 12:00", 2.0),
    ("o9", "A", "2024-04-02 12:00", 999.0),                                           # after the month: ignored
]

CONTRACT = {
    "customer": "int32", "month": "int32", "purchases": "float64", "returned": "float64", "orders": "int32",
    "purchase_days": "int32", "first_purchase_day": "int32", "last_purchase_day": "int32",
}


@pytest.fixture
def table():
    frame = pd.DataFrame(ROWS, columns=["order_id", "customer_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["customer_name"] = pd.NA
    return build_customer_months(frame, pd.Period("2024-03", "M"))


def day(text):
    return int((pd.Timestamp(text) - pd.Timestamp("1970-01-01")).days)


def test_columns_dtypes_and_order(table):
    assert {k: str(v) for k, v in table.months.dtypes.items()} == CONTRACT
    keys = list(zip(table.months["customer"], table.months["month"]))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert list(table.customers.columns) == ["customer_id", "customer_name", "first_purchase_day", "first_day_amount"]


def test_rows(table):
    ids = list(table.customers["customer_id"])
    rows = table.months.assign(customer=[ids[c] for c in table.months["customer"]]).set_index(["customer", "month"])
    jan, feb, mar = (month_number(pd.Period(m, "M")) for m in ("2024-01", "2024-02", "2024-03"))
    a_jan = rows.loc[("A", jan)]
    assert a_jan["purchases"] == 160.30 and a_jan["returned"] == 30.0
    assert a_jan["orders"] == 3                         # o1, o2, o3 (o3 belongs to its earliest month)
    assert a_jan["purchase_days"] == 3 and a_jan["first_purchase_day"] == day("2024-01-05")
    assert a_jan["last_purchase_day"] == day("2024-01-31")
    assert rows.loc[("A", feb)]["orders"] == 0 and rows.loc[("A", feb)]["purchase_days"] == 1
    assert rows.loc[("B", feb)][["orders", "purchase_days"]].tolist() == [2, 1]
    c_feb = rows.loc[("C", feb)]
    assert c_feb["purchases"] == 0 and c_feb["returned"] == 9.99 and c_feb["purchase_days"] == 0
    assert c_feb["first_purchase_day"] == -1
    assert rows.loc[("D", mar)][["orders", "purchase_days"]].tolist() == [2, 2]  # no order ids: one order a day
    assert ("A", month_number(pd.Period("2024-04", "M"))) not in rows.index


def test_per_customer(table):
    people = table.customers.set_index("customer_id")
    assert people.loc["A", "first_purchase_day"] == day("2024-01-05")
    assert people.loc["A", "first_day_amount"] == pytest.approx(100.30)
    assert people.loc["C", "first_purchase_day"] == -1
    assert people.loc["D", "first_day_amount"] == pytest.approx(21.0)


def test_money_sums_to_the_cent(table):
    purchases = table.months["purchases"].to_numpy()
    assert purchases.sum() == pytest.approx(100.10 + 0.20 + 50 + 10 + 5 + 70 + 30 + 20 + 1 + 2, abs=1e-9)


def test_bgnbd_summary_is_derivable(table):
    """frequency = purchase days - 1, recency from first/last day, repeat spend from the first day's amount."""
    months = table.months
    a = months[months["customer"] == 0]
    frequency = int(a["purchase_days"].sum()) - 1
    recency = int(a["last_purchase_day"].max()) - int(table.customers.loc[0, "first_purchase_day"])
    repeat_spend = (float((a["purchases"] - a["returned"]).sum()) - table.customers.loc[0, "first_day_amount"]) / frequency
    assert (frequency, recency) == (3, day("2024-02-01") - day("2024-01-05"))
    # The return on 21 January, a day without a purchase, reduces the repeat spend (the named exception).
    assert repeat_spend == pytest.approx((135.30 - 100.30) / 3)


@pytest.mark.parametrize("span", [30, 64, 65, 200])
def test_month_ranges_match_a_plain_scan(span):
    """Activity and sums over any range of months equal those of a plain pass over the rows, for tables
    that fit the 64 months of the per-customer bits and for longer ones."""
    rng = np.random.default_rng(span)
    pairs = np.unique(np.c_[rng.integers(0, 40, 600), rng.integers(0, span, 600)], axis=0)  # sorted, one per month
    first = month_number(pd.Period("2015-01", "M"))
    months = pd.DataFrame({
        "customer": pairs[:, 0].astype(np.int32), "month": (pairs[:, 1] + first).astype(np.int32),
        "purchases": rng.random(len(pairs)) * 100, "returned": rng.random(len(pairs)) * 5,
        "orders": rng.integers(0, 3, len(pairs)).astype(np.int32),
    })
    months["purchase_days"] = np.minimum(months["orders"], 2).astype(np.int32)
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(45)]})
    table = CustomerMonths(months=months, customers=customers)
    month, bought = months["month"].to_numpy(), months["purchase_days"].to_numpy() > 0
    for low, high in [(first - 3, first + span + 3), (first, first), (first + 10, first + 20),
                      (first + span - 1, first + span + 5), (first - 5, first - 1), (first + 20, first + 10)]:
        rows = (month >= low) & (month <= high)
        expected = np.zeros(45, dtype=bool)
        expected[months["customer"].to_numpy()[rows & bought]] = True
        assert table.active_in(low, high).tolist() == expected.tolist()
        net = np.zeros(45)
        np.add.at(net, months["customer"].to_numpy()[rows], table.net[rows])
        assert table.revenue_in(low, high) == pytest.approx(net, abs=1e-9)


def test_order_keys_hashed_once_give_every_part_the_same_table():
    """A store's table built from the chain's order keys is the table built by hashing its own rows."""
    from retention_xl.table.numpy_builder import with_order_keys

    frame = pd.DataFrame(ROWS, columns=["order_id", "customer_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["store"] = ["N", "S"] * 6 + ["N"]
    keyed = with_order_keys(frame)
    assert "order_key" not in frame
    month = pd.Period("2024-03", "M")
    for (_, part), (_, keyed_part) in zip(frame.groupby("store"), keyed.groupby("store")):
        alone, shared = build_customer_months(part, month), build_customer_months(keyed_part, month)
        pd.testing.assert_frame_equal(alone.months, shared.months)
        pd.testing.assert_frame_equal(alone.customers, shared.customers)
    assert build_customer_months(keyed, month).months["orders"].tolist() == \
        build_customer_months(frame, month).months["orders"].tolist()


def test_orders_without_ids_of_customers_whose_codes_reach_the_day_numbers_stay_apart():
    """Customer codes pass 19,700 (the day numbers of 2024) in a base of 20,000; a line without an order id is its
    day's order. Every customer buying on two days has two orders, whatever their code and their days."""
    customers = 20_000
    first = pd.Timestamp("2024-01-01")
    ids = [f"c{n:05d}" for n in range(customers)]
    frame = pd.DataFrame({
        "order_id": None,
        "customer_id": ids * 2,
        "date": [first + pd.Timedelta(days=n % 28) for n in range(customers)]
        + [first + pd.Timedelta(days=28 + n % 3) for n in range(customers)],
        "amount": 10.0,
    })
    table = build_customer_months(frame, pd.Period("2024-01", "M"))
    assert table.months["orders"].sum() == 2 * customers
    assert (table.months.groupby("customer")["orders"].sum() == 2).all()
