"""Sales read, cleaned and counted where the rows lie, inside DuckDB (and Spark behind it), out of core."""
