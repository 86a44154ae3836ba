"""Admin of the enforcement app. Cases and their events are read-only here: a case changes only
through enforcement.workflow, which writes the tamper-evident history."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from enforcement.models import (
    Case,
    CaseEvent,
    DepartmentCall,
    Evidence,
    MatterType,
    Officer,
    PenaltyProceeding,
    Team,
)


@admin.register(MatterType)
class MatterTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "default_handling_mode", "default_severity"]
    list_filter = ["default_handling_mode", "default_severity"]
    search_fields = ["code", "name"]
    filter_horizontal = ["power_items"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "street", "leader"]
    list_filter = ["street"]


@admin.register(Officer)
class OfficerAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "certificate_number", "certificate_expires_on"]
    list_filter = ["team"]
    search_fields = ["certificate_number", "user__username", "user__first_name"]
    autocomplete_fields = ["user"]


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ["sequence", "kind", "actor", "at", "from_status", "to_status", "data", "hash"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "matter_type", "status", "source", "cell", "created_at"]
    list_filter = ["status", "source", "severity", "street"]
    search_fields = ["number", "external_id", "address"]
    inlines = [CaseEventInline]


@admin.register(DepartmentCall)
class DepartmentCallAdmin(ReadOnlyAdmin):
    list_display = ["case", "department", "status", "called_at", "reported_in_at", "completed_at"]
    list_filter = ["status", "department"]
    search_fields = ["case__number"]


@admin.register(PenaltyProceeding)
class PenaltyProceedingAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "power_item",
        "violation_on",
        "filed_on",
        "reviewed_at",
        "decided_on",
        "fine_yuan",
    ]
    search_fields = ["case__number", "power_item__code"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "content_type", "size", "sha256", "uploaded_by", "uploaded_at"]
    list_filter = ["kind"]
    search_fields = ["case__number", "sha256"]
