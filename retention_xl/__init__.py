"""retention_xl: customer-retention analytics where people already work, in Excel."""

from .old_paths import redirect_old_paths

__version__ = "0.1.0"

redirect_old_paths()
