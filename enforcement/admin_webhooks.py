"""Admin of the departments' webhooks: endpoints are registered and edited here (a blank secret
is generated and shown once, in the message after saving); deliveries are read-only, with
their tries, and can be sent again by hand. Imported by enforcement.admin."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyAdmin
from enforcement.choices import WebhookDeliveryState, WebhookEvent
from enforcement.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from enforcement.webhooks import (
    WebhookError,
    webhook_redeliver,
    webhook_secret_generate,
    webhook_url_check,
)


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every event."),
    )
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    secret = forms.CharField(
        label=_("signing secret"),
        max_length=100,
        required=False,
        help_text=_("Left blank: a new secret is generated and shown once after saving."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["department", "url", "secret", "events", "active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            webhook_url_check(url)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["url"]) from exc
        return url

    def clean_events(self) -> list[str]:
        # In the order of the choices, whatever the order of the ticks.
        chosen = set(self.cleaned_data["events"])
        return [value for value in WebhookEvent.values if value in chosen]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["department", "url", "events", "active", "created_at"]
    list_filter = ["active", "department"]
    search_fields = ["url", "department__code", "department__name"]
    list_select_related = ["department"]

    def save_model(self, request, obj, form, change):
        generated = not obj.secret.strip()
        if generated:
            obj.secret = webhook_secret_generate()
        super().save_model(request, obj, form, change)
        if generated:
            messages.warning(
                request,
                _(
                    "The signing secret of %(url)s is %(secret)s. Give it to the department now; "
                    "it verifies the X-Shaoxiang-Signature header."
                )
                % {"url": obj.url, "secret": obj.secret},
            )


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["at", "status_code", "error", "duration_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(description=_("Redeliver the selected deliveries"))
def redeliver(modeladmin, request, queryset) -> None:
    """Each delivered or failed delivery goes again; pending ones are left as they are."""
    sent, refused = 0, []
    for delivery in queryset.select_related("endpoint"):
        if delivery.state == WebhookDeliveryState.PENDING:
            continue
        try:
            webhook_redeliver(delivery=delivery, actor=request.user)
        except WebhookError as exc:
            refused.append(
                _("Delivery %(uuid)s: %(error)s") % {"uuid": delivery.uuid, "error": exc}
            )
            continue
        sent += 1
    if sent:
        messages.success(
            request,
            ngettext(
                "%(count)d delivery will be sent again.",
                "%(count)d deliveries will be sent again.",
                sent,
            )
            % {"count": sent},
        )
    for message in refused:
        messages.error(request, message)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "uuid",
        "event",
        "endpoint",
        "state",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    ]
    list_filter = ["state", "event"]
    search_fields = ["uuid", "endpoint__url", "endpoint__department__code"]
    list_select_related = ["endpoint__department"]
    date_hierarchy = "created_at"
    inlines = [WebhookAttemptInline]
    actions = [redeliver]
