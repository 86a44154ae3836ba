"""Admin of the enforcement app. Cases and their events are not edited here: a case changes only
through enforcement.workflow, which writes the tamper-evident history. The case list offers the
command centre's bulk steps as actions that call the workflow, case by case, and report each
refusal."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

import enforcement.admin_webhooks  # noqa: F401 -- registers the webhook admins
from core.admin import ReadOnlyAdmin
from enforcement import admin_api_keys, workflow  # noqa: F401 -- admin_api_keys registers ApiKeyAdmin
from enforcement.models import (
    Case,
    CaseEvent,
    DepartmentCall,
    Evidence,
    MatterType,
    Officer,
    PenaltyProceeding,
    SlaPolicy,
    Supervision,
    Team,
    Timer,
)
from enforcement.permissions import action_check
from enforcement.timers import sla_policies_changed


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


def _each(modeladmin, request, queryset, step, done_message, *, action: str) -> None:
    """Run ``step(case)`` for each selected case the user may take ``action`` on
    (enforcement.permissions.action_check, the API's rule); one message for the done, one per
    refusal."""
    done = 0
    for case in queryset.order_by("number"):
        try:
            action_check(request.user, action, case)
            step(case)
        except (workflow.WorkflowError, PermissionDenied, ValidationError) as refusal:
            reason = " ".join(getattr(refusal, "messages", None) or [str(refusal)])
            modeladmin.message_user(request, f"{case.number}: {reason}", messages.WARNING)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message % {"count": done}, messages.SUCCESS)


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "matter_type",
        "status",
        "source",
        "cell",
        "likely_duplicate_of",
        "created_at",
    ]
    list_filter = ["status", "source", "severity", "street", "dispatch_target"]
    search_fields = ["number", "external_id", "address"]
    list_select_related = ["matter_type", "cell", "likely_duplicate_of"]
    inlines = [CaseEventInline]
    exclude = ["reporter_phone_encrypted"]
    actions = ["accept", "route", "merge_into_original", "verify"]

    def has_workflow_permission(self, request) -> bool:
        """The case actions: for whoever may change cases (the command centre's role)."""
        return request.user.has_perm("enforcement.change_case")

    @admin.action(description=_("Accept the selected cases"), permissions=["workflow"])
    def accept(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda case: workflow.case_accept(case=case, actor=request.user),
            _("%(count)d case(s) accepted."),
            action="accept",
        )

    @admin.action(description=_("Route the selected cases by power"), permissions=["workflow"])
    def route(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda case: workflow.case_route(case=case, actor=request.user),
            _("%(count)d case(s) routed."),
            action="dispatch",
        )

    @admin.action(
        description=_("Merge the selected cases into their likely original"),
        permissions=["workflow"],
    )
    def merge_into_original(self, request, queryset):
        def merge(case):
            if case.likely_duplicate_of is None:
                raise workflow.InvalidInput(_("No likely original is linked."))
            workflow.case_merge(
                case=case,
                into=case.likely_duplicate_of,
                actor=request.user,
                reason=str(_("Merged by the command centre as a duplicate report.")),
            )

        _each(self, request, queryset, merge, _("%(count)d case(s) merged."), action="merge")

    @admin.action(description=_("Verify and close the selected cases"), permissions=["workflow"])
    def verify(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda case: workflow.case_verify(case=case, actor=request.user),
            _("%(count)d case(s) closed."),
            action="verify",
        )


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


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    """The district administrator's time limits. A change applies to stages started after it:
    in this process at once, in the others once they read the policies again (within
    REFERENCE_MAX_AGE seconds)."""

    list_display = ["stage", "matter_type", "severity", "source", "amount", "unit", "warn_percent"]
    list_filter = ["stage", "severity", "source", "unit"]
    list_editable = ["amount", "unit", "warn_percent"]
    autocomplete_fields = ["matter_type"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "unit":
            from django import forms

            from core.choices import DurationUnit

            # A choice, not a free text: an unknown unit would fail every timer of the stage.
            return forms.ChoiceField(
                label=db_field.verbose_name,
                choices=[*DurationUnit.choices, ("seconds", _("Seconds (drills)"))],
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        sla_policies_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        sla_policies_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        sla_policies_changed()


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "stage",
        "state",
        "due_at",
        "provisional",
        "warned_at",
        "fired_at",
        "lateness",
    ]
    list_filter = ["state", "stage", "provisional"]
    search_fields = ["case__number"]
    list_select_related = ["case"]
    date_hierarchy = "due_at"


@admin.register(Supervision)
class SupervisionAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "level",
        "stage",
        "addressee_label",
        "state",
        "opened_at",
        "answered_at",
    ]
    list_filter = ["state", "level", "stage"]
    search_fields = ["case__number", "addressee_label"]
    list_select_related = ["case"]
