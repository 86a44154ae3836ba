"""Admin of the departments' webhooks: endpoints are registered and edited here (a blank secret
is generated and shown once, in the message after saving; a secret is never shown again, only
its last four characters); deliveries are read-only, with their tries (and what the receiver
answered, which the department's API never shows), and can be sent again by hand by whoever may
change deliveries. Imported by enforcement.admin."""

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
    webhook_secret_set,
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
    # Not a model field: the stored secret is encrypted and never put back into a page.
    secret = forms.CharField(
        label=_("new signing secret"),
        max_length=100,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Left blank: a new endpoint gets a generated secret, shown once after saving; "
            "an existing one keeps its secret."
        ),
    )
    secret_regenerate = forms.BooleanField(
        label=_("generate a new signing secret"),
        required=False,
        help_text=_("Shown once after saving; the department's system must then use it."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["department", "url", "secret", "secret_regenerate", "events", "active"]

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
    list_display = ["department", "url", "events", "active", "secret_state", "created_at"]
    list_filter = ["active", "department"]
    search_fields = ["url", "department__code", "department__name"]
    list_select_related = ["department"]
    readonly_fields = ["secret_state"]

    def get_fields(self, request, obj=None):
        fields = ["department", "url", "secret", "secret_regenerate", "events", "active"]
        if obj is None:  # a new endpoint gets a secret either way
            fields.remove("secret_regenerate")
        else:
            fields.insert(2, "secret_state")
        return fields

    @admin.display(description=_("signing secret"))
    def secret_state(self, endpoint: WebhookEndpoint) -> str:
        if not endpoint.secret_encrypted:
            return _("not set")
        if endpoint.secret_hint:
            return _("set, ends with …%(hint)s") % {"hint": endpoint.secret_hint}
        return _("set")

    def save_model(self, request, obj, form, change):
        typed = form.cleaned_data.get("secret", "")
        generated = not typed and (not change or form.cleaned_data.get("secret_regenerate"))
        if typed:
            webhook_secret_set(obj, typed)
        elif generated:
            webhook_secret_set(obj, webhook_secret_generate())
        super().save_model(request, obj, form, change)
        if generated:
            messages.warning(
                request,
                _(
                    "The signing secret of %(url)s is %(secret)s. Give it to the department now; "
                    "it verifies the X-Shaoxiang-Signature header."
                )
                % {"url": obj.url, "secret": obj.secret_once},
            )


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    # ``detail``: what the receiver answered; here only, never in the department's API.
    fields = ["at", "status_code", "error", "detail", "duration_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(permissions=["change"], description=_("Redeliver the selected deliveries"))
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

    def has_change_permission(self, request, obj=None):
        # A delivery is never edited (ReadOnlyAdmin); the model's change right is what the
        # redeliver action asks, so it is answered for the list and refused for a row.
        return obj is None and admin.ModelAdmin.has_change_permission(self, request)
