from powers.models.adjustments import (
    AdjustmentChange,
    AdjustmentRequest,
    ApprovalChain,
    ApprovalStep,
)
from powers.models.catalogues import CatalogueEntry, CatalogueVersion, PowerUsage
from powers.models.items import Department, PowerCategory, PowerItem

__all__ = [
    "AdjustmentChange",
    "AdjustmentRequest",
    "ApprovalChain",
    "ApprovalStep",
    "CatalogueEntry",
    "CatalogueVersion",
    "Department",
    "PowerCategory",
    "PowerItem",
    "PowerUsage",
]
