"""Named figures of the enforcement app, with their source."""

from decimal import Decimal

# Goods worth this much or more make a case a crime for the police (移送): the Linyi case, seed 002.
CRIMINAL_GOODS_THRESHOLD_YUAN = Decimal("50000")

# A fine at or above this amount is a major decision needing legal review (Art. 58) even when the
# item is not flagged major; districts set their own figure (Jiangsu commonly uses 10,000 yuan for
# individuals); configurable here until the settings issue gives it a home.
MAJOR_FINE_YUAN = Decimal("10000")
# Art. 33 (首违不罚): a first violation is one with no earlier violation of the same item by the
# same subject within this many days.
FIRST_VIOLATION_WINDOW_DAYS = 365 * 2
