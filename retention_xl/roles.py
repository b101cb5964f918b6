"""The roles a column of a sales table can play, and the option that maps each by hand.

The reader finds the roles, the figures group by them and the writers name them: a vocabulary every stage
shares, so it sits beside the packages rather than in one of them.
"""

from __future__ import annotations

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
SATISFACTION = "satisfaction"
RECOMMEND = "recommend"
LOYALTY_ROLES = (SATISFACTION, RECOMMEND)  # a customer's answers: see retention_xl.figures.loyalty

ROLES = (CUSTOMER_ID, CUSTOMER_NAME, DATE, AMOUNT, QUANTITY, UNIT_PRICE, ORDER_ID) + GROUP_ROLES + PROFIT_ROLES \
    + LOYALTY_ROLES

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
    SATISFACTION: "satisfaction",
    RECOMMEND: "recommend",
}
