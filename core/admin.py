from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.calendar import calendar_day_delete, calendar_day_save
from core.holiday_notice import NoticeInvalid, holiday_notice_import
from core.models import (
    CalendarDay,
    Heartbeat,
    HolidayNotice,
    HolidayNoticeDay,
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


class HolidayNoticeImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Notice file (CSV)"),
        help_text=gettext_lazy("At most 64 KB; the format is described above."),
    )

    # A year's notice is a few dozen lines; anything larger is not one.
    MAX_BYTES = 64 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 64 KB: not a holiday notice."))
        return upload


class HolidayNoticeDayInline(admin.TabularInline):
    model = HolidayNoticeDay
    fields = ["date", "is_working_day", "holiday"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(HolidayNotice)
class HolidayNoticeAdmin(admin.ModelAdmin):
    """The imported notices, read only: a notice changes only by importing its file again
    (``holiday_notice_import``), which also moves the running deadlines."""

    list_display = ["year", "title", "imported_at", "imported_by"]
    readonly_fields = ["year", "title", "sha256", "imported_at", "imported_by"]
    inlines = [HolidayNoticeDayInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="core_holidaynotice_import"), *super().get_urls()]

    def import_view(self, request):
        # Importing changes the calendar of a year: as much as adding calendar overrides.
        if not request.user.has_perm("core.add_calendarday"):
            raise PermissionDenied
        errors = []
        form = HolidayNoticeImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                done = holiday_notice_import(
                    content=form.cleaned_data["file"].read(), user=request.user
                )
            except NoticeInvalid as exc:
                errors = exc.errors
            else:
                if done.unchanged:
                    text = _("%(title)s was imported before: nothing changed.")
                else:
                    text = _(
                        "%(title)s imported: %(days)s day(s) changed, %(moved)s running "
                        "deadline(s) moved."
                    )
                values = {"title": done.notice.title, "days": len(done.days), "moved": done.moved}
                messages.success(request, text % values)
                return redirect("admin:core_holidaynotice_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import a holiday notice"),
            "form": form,
            "errors": errors,
        }
        return TemplateResponse(request, "admin/core/holidaynotice/import.html", context)
