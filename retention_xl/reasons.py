"""The named reasons a row read is set aside or changed for, in the order the cleaning rules apply them.

The reader counts every row under them (:class:`retention_xl.read.accounting.Accounting`) and the
writers list them, with their wording from the templates: a vocabulary both sides share, so it sits
beside the packages rather than in the reader.

>>> EXCLUSION_REASONS[:3], PROFIT_UNKNOWN in ADJUSTMENTS
(('malformed_line', 'empty_row', 'total_row'), False)
"""

EXCLUSION_REASONS = (
    "malformed_line", "empty_row", "total_row", "missing_customer", "invalid_date", "date_out_of_range",
    "future_date", "formula_without_value", "invalid_amount", "non_finite_amount", "zero_amount",
)
# Rows that are used, with text changed so that a workbook can hold it.
ADJUSTMENTS = ("control_characters", "text_cut")
PROFIT_UNKNOWN = "profit_unknown"  # an adjustment only where the sheet has a profit or cost column
# A used row's satisfaction or recommendation answer on no scale: the sale is kept, the answer set aside.
NOT_ON_SCALE = {"satisfaction": "satisfaction_not_on_scale", "recommend": "recommend_not_on_scale"}
