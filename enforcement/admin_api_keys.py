"""Admin of API keys: a read-only list with a revoke action. Keys are made with
``manage.py api_key_create`` (the raw key is printed once there); the admin never shows a secret,
not even its hash. Revoking needs the change right on API keys."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyAdmin
from enforcement.api_keys import api_key_revoke
from enforcement.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "binding", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["source", "department"]
    list_select_related = ["department"]
    search_fields = ["name", "prefix"]
    fields = [
        "name",
        "prefix",
        "department",
        "source",
        "user",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description=_("bound to"))
    def binding(self, key: ApiKey) -> str:
        return str(key.department) if key.department_id else key.get_source_display()

    def has_change_permission(self, request, obj=None):
        # A key is never edited (ReadOnlyAdmin); the model's change right is what the revoke
        # action asks, so it is answered for the list and refused for a row.
        return obj is None and admin.ModelAdmin.has_change_permission(self, request)

    @admin.action(permissions=["change"], description=_("Revoke the selected API keys"))
    def revoke(self, request, queryset):
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key=key)
            revoked += 1
        self.message_user(
            request,
            ngettext("%(count)d API key revoked.", "%(count)d API keys revoked.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )
