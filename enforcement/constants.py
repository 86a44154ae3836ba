"""Named figures of the enforcement app, with their source."""

from decimal import Decimal

# The criminal threshold for goods (移送) and the likely-duplicate radius and window are settings
# (CRIMINAL_GOODS_THRESHOLD_YUAN, DUPLICATE_RADIUS_M, DUPLICATE_WINDOW_HOURS).

# A fine at or above this amount is a major decision needing legal review (Art. 58) even when the
# item is not flagged major; districts set their own figure (Jiangsu commonly uses 10,000 yuan for
# individuals); configurable here until the settings issue gives it a home.
MAJOR_FINE_YUAN = Decimal("10000")
# Art. 33 (首违不罚): a first violation is one with no earlier violation of the same item by the
# same subject within this many days.
FIRST_VIOLATION_WINDOW_DAYS = 365 * 2
# The highest supervision level (督办): 1 whoever holds the work, 2 the street leader, 3 the
# district, whose supervision is not escalated further.
TOP_LEVEL = 3
