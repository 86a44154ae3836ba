from assessment.models.callbacks import Callback, CallbackDraw
from assessment.models.property import (
    PropertyRound,
    PropertyScore,
    PropertyService,
    ResidentAnswer,
)
from assessment.models.rollups import DailyRollup
from assessment.models.schemes import Appeal, ManualScore, Period, Scheme, SchemeVersion, Snapshot

__all__ = [
    "Appeal",
    "Callback",
    "CallbackDraw",
    "DailyRollup",
    "ManualScore",
    "Period",
    "PropertyRound",
    "PropertyScore",
    "PropertyService",
    "ResidentAnswer",
    "Scheme",
    "SchemeVersion",
    "Snapshot",
]
