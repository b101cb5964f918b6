"""The customer x month table, the middle of the program: its contract and the builders that make it
(numpy in memory, SQL run by DuckDB or Spark, or the table kept inside DuckDB)."""
