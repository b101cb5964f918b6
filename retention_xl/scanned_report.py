"""Kept for one release: the report from scanned sales is now :func:`retention_xl.pipeline.analyse`, as for any
sales, and the choice of engine :mod:`retention_xl.engine_choice`."""

from __future__ import annotations

import warnings

from .engine_choice import AUTO_SCAN_ROWS, scan_wanted
from .pipeline import analyse as analyse_scanned

warnings.warn("retention_xl.scanned_report is deprecated: use retention_xl.pipeline.analyse and "
              "retention_xl.engine_choice", DeprecationWarning, stacklevel=2)

__all__ = ["AUTO_SCAN_ROWS", "analyse_scanned", "scan_wanted"]
