"""Reading: a location (file, folder, glob, database) to clean sales rows and the count of every row.

Formats, the header and the columns' roles, the cells, the cleaning and the accounting; the scan inside
DuckDB or Spark, where the rows stay where they lie, under :mod:`retention_xl.read.scan`.
"""
