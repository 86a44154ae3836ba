from django.contrib import admin

from core.calendar import calendar_day_delete, calendar_day_save
from core.models import (
    CalendarDay,
    Heartbeat,
    IdempotencyRecord,
    Notification,
    NotificationDelivery,
)


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["component", "node", "holder", "seen_at"]
    list_filter = ["component"]
    readonly_fields = ["component", "node", "holder", "seen_at"]

    def has_add_permission(self, request):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows written only by services or workflow functions (histories, published lists):
    the admin shows them and changes nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Local days off and extra working days. Saves and deletes go through the calendar services,
    which clear the cached overrides of this process."""

    list_display = ["date", "is_working_day", "reason"]
    list_filter = ["is_working_day"]
    search_fields = ["reason"]
    date_hierarchy = "date"

    def get_readonly_fields(self, request, obj=None):
        # The service upserts by date: a changed date would leave the old override behind.
        return ["date"] if obj else []

    def save_model(self, request, obj, form, change):
        saved = calendar_day_save(
            day=obj.date, is_working_day=obj.is_working_day, reason=obj.reason
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        calendar_day_delete(day=obj.date)

    def delete_queryset(self, request, queryset):
        for day in queryset.values_list("date", flat=True):
            calendar_day_delete(day=day)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "kind", "title", "reference", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient"]
    search_fields = ["title", "reference", "recipient__username"]
    date_hierarchy = "created_at"


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(ReadOnlyAdmin):
    """Where failed sends show: state, the count of failed tries and the last error."""

    list_display = ["created_at", "notification", "channel", "state", "attempts", "last_error"]
    list_filter = ["state", "channel"]
    list_select_related = ["notification"]
    search_fields = ["notification__reference", "notification__title", "last_error"]
    readonly_fields = ["sent_at"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    """The POSTs remembered for 24 hours by their Idempotency-Key (core.idempotency), to answer
    "did our retry go through?". The stored body is not shown: it may hold personal data."""

    list_display = ["created_at", "owner", "key", "method", "path", "status_code"]
    list_filter = ["method", "status_code"]
    list_select_related = ["owner"]
    search_fields = ["key", "path", "owner__username"]
    fields = ["owner", "key", "method", "path", "request_hash", "status_code", "created_at"]
    date_hierarchy = "created_at"
