"""The customer-value models: BG/NBD for the purchases, Gamma-Gamma for the spend, and their fitting.
Their public names are importable as :mod:`retention_xl.clv`."""
