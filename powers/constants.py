"""Named figures of the powers app, with their source."""

# Items unused this many months are zombie items (僵尸事项, seed 000: Honghua used ~30 of 274).
ZOMBIE_MONTHS = 12
# Default approval chain when a district configured none (issue #4): street → district → city.
DEFAULT_APPROVAL_CHAIN = ("street", "district", "city")
# Days each approval step has to decide.
DEFAULT_STEP_DAYS = 15
# 三高两易 (seed 004): five scores of 1 to 5.
SCORE_MIN, SCORE_MAX = 1, 5

# The eight default categories (Honghua received 8 categories of powers: seed 000), created by
# migration 0002 (which keeps its own frozen copy) and editable in the admin.
DEFAULT_CATEGORIES = [
    ("SR", "市容环境卫生"),
    ("GH", "城乡规划"),
    ("YL", "园林绿化"),
    ("SZ", "市政公用"),
    ("JS", "住房城乡建设"),
    ("HB", "生态环境"),
    ("SC", "市场监管"),
    ("YJ", "应急管理"),
]
