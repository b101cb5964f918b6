"""The monthly report with Apache Spark building the customer x month table.

    python examples/spark_report.py report.xlsx [SALES]               # Spark in local mode, every core
    spark-submit --master spark://host:7077 --conf spark.executor.memory=4g \
        examples/spark_report.py report.xlsx sales/                   # on a cluster

Under spark-submit, the session it configures (master, memory, ...) is the one used.
SALES defaults to the bundled sample; a folder or glob of Parquet files works too.
Needs `pip install 'retention-xl[spark]'` and Java 17 or later.
"""

import sys
from pathlib import Path

from retention_xl.report import ReportOptions, create_report

SAMPLE = Path(__file__).resolve().parents[1] / "sample_workbooks" / "sales_sample.xlsx"

output = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("report.xlsx")
sales = sys.argv[2] if len(sys.argv) > 2 else SAMPLE
report = create_report(sales, output, ReportOptions(engine="spark", clv=False, language="en"))
print(f"Wrote {output}: {report.current.E:,} customers in the base, retention {report.current.retention:.1%}, "
      f"customer x month table by Spark in {report.timings['table_spark']:.1f} s")
