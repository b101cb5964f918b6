"""retention_xl: customer-retention analytics where people already work, in Excel."""

__version__ = "0.1.0"
