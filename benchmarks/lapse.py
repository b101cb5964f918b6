"""How long a silence, in multiples of a customer's usual gap, says they will not come back.

    python benchmarks/lapse.py [--online-retail PATH] [--cdnow PATH]

The evidence behind :data:`retention_xl.figures.customers.LAPSE_MULTIPLE`. At the end of a
cutoff month, the customer table is made as a report would make it
(:func:`retention_xl.figures.customers.customer_table`: days since the last purchase, the
usual gap between purchase days); then each customer is followed to the end of the
data to see whether they bought again. Printed for the customers silent for longer
than 30 days, by their silence in multiples of their usual gap (of the base's usual
gap for one-time buyers): how many there are and the share who never bought again.
A silence is an ordinary pause as long as that share stays at the level of the
shortest silences, and a lapse where it rises.

Online Retail II (2009-12 to 2010-12-09): cutoffs 2010-06 and 2010-08.
CDNOW (customers who first bought in 1997 Q1, to 1998-06): cutoffs 1997-06, 1997-09 and 1997-12.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from retention_xl.table.numpy_builder import build_customer_months
from retention_xl.figures.customers import DEFAULT_LAPSE_DAYS, base_gap, customer_table
from retention_xl.read.reader import read_sales

REPO = Path(__file__).resolve().parents[1]
ONLINE_RETAIL = REPO.parent / "shared" / "data" / "online_retail_II_2009-2010.parquet"
CDNOW = REPO / "tests" / "data" / "cdnow_sample.txt"
BANDS = (0, 1, 2, 3, 4, 5, np.inf)
BAND_NAMES = ("up to 1", "1-2", "2-3", "3-4", "4-5", "over 5")


def cdnow_transactions(path: Path) -> pd.DataFrame:
    """The CDNOW sample as cleaned transactions: one purchase per line, the day as its order."""
    raw = pd.read_csv(path, sep=r"\s+", header=None, names=["master_id", "customer_id", "date", "cds", "amount"],
                      dtype={"customer_id": str, "date": str})
    return pd.DataFrame({"customer_id": raw["customer_id"], "customer_name": pd.NA,
                         "date": pd.to_datetime(raw["date"], format="%Y%m%d"), "amount": raw["amount"],
                         "order_id": None})


def silences(transactions: pd.DataFrame, cutoff: str) -> pd.DataFrame:
    """Per customer who bought by the end of ``cutoff``: days since the last purchase, usual gap (the base's for
    one-time buyers) and whether they bought again after the cutoff."""
    month = pd.Period(cutoff, "M")
    customers = customer_table(build_customer_months(transactions, month), month, 12)
    later = transactions[(transactions["date"] > month.end_time) & (transactions["amount"] > 0)]
    gaps = customers["usual_gap"].to_numpy(dtype=float)
    return pd.DataFrame({
        "silence": customers["days_since_last"].to_numpy(),
        "gap": np.where(np.isnan(gaps), base_gap(gaps), gaps),
        "one_time": np.isnan(gaps),
        "returned": customers["customer_id"].isin(set(later["customer_id"])).to_numpy(),
    })


def never_back(table: pd.DataFrame) -> pd.DataFrame:
    """The customers silent for longer than the floor, by silence in multiples of their gap: how many, and the
    share of them who never bought again."""
    quiet = table[table["silence"] > DEFAULT_LAPSE_DAYS]
    bands = pd.cut(quiet["silence"] / quiet["gap"], BANDS, labels=BAND_NAMES)
    found = quiet.groupby(bands, observed=False)["returned"].agg(["size", "mean"])
    return pd.DataFrame({"customers": found["size"], "never_back": 1 - found["mean"]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--online-retail", type=Path, default=ONLINE_RETAIL)
    parser.add_argument("--cdnow", type=Path, default=CDNOW)
    args = parser.parse_args()
    data = {"Online Retail II": (read_sales(args.online_retail, as_of="2026-01-01").transactions,
                                 ("2010-06", "2010-08")),
            "CDNOW": (cdnow_transactions(args.cdnow), ("1997-06", "1997-09", "1997-12"))}
    print(f"Customers silent over {DEFAULT_LAPSE_DAYS} days at the cutoff, by silence / usual gap: "
          f"customers (share who never bought again)")
    print(f"{'':28}" + "".join(f"{name:>14}" for name in BAND_NAMES))
    for name, (transactions, cutoffs) in data.items():
        for cutoff in cutoffs:
            table = silences(transactions, cutoff)
            for group, rows in (("repeat", table[~table["one_time"]]), ("one-time", table[table["one_time"]])):
                found = never_back(rows)
                cells = "".join(f"{f'{n} ({share:.0%})' if n else '-':>14}"
                                for n, share in zip(found["customers"], found["never_back"]))
                print(f"{f'{name} {cutoff} {group}':28}{cells}")


if __name__ == "__main__":
    main()
