from enforcement.models.cases import Case, CaseNumberCounter, MatterType
from enforcement.models.dispatch import DepartmentCall
from enforcement.models.events import CaseEvent
from enforcement.models.evidence import Evidence
from enforcement.models.field import FieldEntry
from enforcement.models.integrations import (
    ApiKey,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from enforcement.models.penalties import PenaltyProceeding
from enforcement.models.people import Officer, Team
from enforcement.models.timers import SlaPolicy, Supervision, Timer

__all__ = [
    "ApiKey",
    "Case",
    "CaseEvent",
    "CaseNumberCounter",
    "DepartmentCall",
    "Evidence",
    "FieldEntry",
    "MatterType",
    "Officer",
    "PenaltyProceeding",
    "SlaPolicy",
    "Supervision",
    "Team",
    "Timer",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
