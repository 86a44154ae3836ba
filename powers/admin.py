"""Admin of the power lists. Catalogue versions and decided steps are read-only: a published
list changes only by a new version (an adjustment request, or an import)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from powers.models import (
    AdjustmentChange,
    AdjustmentRequest,
    ApprovalChain,
    ApprovalStep,
    CatalogueEntry,
    CatalogueVersion,
    Department,
    PowerCategory,
    PowerItem,
    PowerUsage,
)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "contact_name"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    filter_horizontal = ["streets"]


@admin.register(PowerCategory)
class PowerCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "order"]


@admin.register(PowerItem)
class PowerItemAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "category",
        "department",
        "mode",
        "scope",
        "score_total",
        "is_major",
        "status",
    ]
    list_filter = ["category", "department", "mode", "scope", "is_major", "status"]
    search_fields = ["code", "name", "legal_basis"]


class CatalogueEntryInline(admin.TabularInline):
    model = CatalogueEntry
    fields = ["item"]
    readonly_fields = ["item"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CatalogueVersion)
class CatalogueVersionAdmin(ReadOnlyAdmin):
    list_display = ["street", "number", "effective_on", "published_on", "notice_number"]
    list_filter = ["street"]
    inlines = [CatalogueEntryInline]


@admin.register(ApprovalChain)
class ApprovalChainAdmin(admin.ModelAdmin):
    list_display = ["district", "__str__", "step_days"]


class AdjustmentChangeInline(admin.TabularInline):
    model = AdjustmentChange
    readonly_fields = ["item", "action"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ApprovalStepInline(admin.TabularInline):
    model = ApprovalStep
    readonly_fields = [
        "order",
        "level",
        "status",
        "deadline",
        "decided_by",
        "decided_at",
        "comment",
    ]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AdjustmentRequest)
class AdjustmentRequestAdmin(ReadOnlyAdmin):
    """Requests are made and decided through the API (approve/reject), which runs the chain."""

    list_display = [
        "title",
        "street",
        "status",
        "effective_on",
        "requested_at",
        "published_version",
    ]
    list_filter = ["status", "street"]
    inlines = [AdjustmentChangeInline, ApprovalStepInline]


@admin.register(PowerUsage)
class PowerUsageAdmin(ReadOnlyAdmin):
    list_display = ["occurred_on", "street", "item", "kind", "reference"]
    list_filter = ["kind", "street"]
    search_fields = ["reference", "item__code"]
