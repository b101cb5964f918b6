"""Build the monthly report from a DataFrame whose columns have your own names.

    python examples/report_from_dataframe.py [OUTPUT.xlsx]

The cleaning rules of the reader apply (returns, blank customers, totals ...), and
every table of the report comes back as a pandas DataFrame.
"""

import sys

import pandas as pd

from retention_xl.read.cleaning import clean_transactions
from retention_xl.report import ReportOptions, analyse, write_workbook

orders = pd.DataFrame(
    {
        "member": ["M1", "M2", "M1", "M3", "M2", "M1", "M4", "M3", None],
        "paid_at": ["2024-01-03", "2024-01-09", "2024-02-14", "2024-02-20", "2024-03-02", "2024-03-18",
                    "2024-03-21", "2024-03-25", "2024-03-26"],
        "paid": ["1,200", "300", "880", "150", "95", "640", "210", "-150", "75"],
        "ticket": ["T1", "T2", "T3", "T4", "T5", "T6", "T7", "R4", "T8"],
    }
)

cleaned = clean_transactions(orders, customer_id_col="member", datetime_col="paid_at", amount_col="paid",
                             order_id_col="ticket")
print(cleaned.accounting.as_dict())

report = analyse(cleaned.transactions, ReportOptions(month="2024-03", active_window=1, language="en"))
print(report.current)
print(report.customers[["customer_id", "segment", "status", "key_account"]])
print(report.cohorts.retention.round(2))

if len(sys.argv) > 1:
    write_workbook(report, sys.argv[1])
    print(f"Wrote {sys.argv[1]}")
