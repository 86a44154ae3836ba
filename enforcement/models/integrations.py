from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from enforcement.choices import CaseSource, WebhookDeliveryState, WebhookEvent


class ApiKey(models.Model):
    """One key of an outside system: a district department's system (bound to that department:
    it sees the cases called to it and answers its calls) or an integration that files cases
    (12345 hotline, video platform, an Open311 client: bound to a source). Only a SHA-256 of
    the secret is kept; the key is shown once, when made (``api_key_create``). Requests made
    with it act as ``user``, a system account made with the key, so that every case event
    names who did it."""

    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(
        "powers.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_keys",
    )
    source = models.CharField(
        _("integration (case source)"), max_length=20, choices=CaseSource.choices, blank=True
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acts as"),
        on_delete=models.PROTECT,
        related_name="api_key",
    )
    # The first characters of the key, shown in lists and used to find the row; the rest is
    # checked against the hash.
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    secret_hash = models.CharField(_("secret (SHA-256)"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Bound to exactly one of a department or an integration.
            models.CheckConstraint(
                condition=(models.Q(department__isnull=False) & models.Q(source=""))
                | (models.Q(department__isnull=True) & ~models.Q(source="")),
                name="enforcement_apikey_one_binding",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class WebhookEndpoint(models.Model):
    """A URL of a department's system that is told of the events it subscribed to, each
    delivery signed with HMAC-SHA256 under its secret. The secret is kept encrypted
    (enforcement.webhooks.webhook_secret_set and webhook_secret) and never shown again after
    it was made; ``secret_hint`` tells which one it is."""

    department = models.ForeignKey(
        "powers.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
    )
    url = models.URLField(_("URL"), max_length=500)
    # Fernet token (core.crypto): readable only with FIELD_ENCRYPTION_KEY, which the database
    # and its backups do not hold.
    secret_encrypted = models.TextField(_("signing secret (encrypted)"))
    secret_hint = models.CharField(
        _("signing secret ends with"),
        max_length=4,
        blank=True,
        help_text=_("blank: a secret too short to show any of it"),
    )
    events = models.JSONField(
        _("events"), default=list, help_text=_("event names; empty: every event")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["department", "pk"]

    def __str__(self) -> str:
        return f"{self.department} → {self.url}"

    def subscribes_to(self, event: str) -> bool:
        return not self.events or event in self.events


class WebhookDelivery(models.Model):
    """One event to deliver to one endpoint, with its payload as sent. Tried after commit, then
    again with exponential backoff until delivered or ``give_up_at`` (24 hours) passes; every
    try is a WebhookAttempt. Can be redelivered by hand."""

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    event = models.CharField(_("event"), max_length=20, choices=WebhookEvent.choices)
    # The id the receiver can de-duplicate on (X-Shaoxiang-Delivery): redeliveries repeat it.
    uuid = models.UUIDField(_("delivery id"), unique=True)
    payload = models.JSONField(_("payload"))
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=WebhookDeliveryState.choices,
        default=WebhookDeliveryState.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    give_up_at = models.DateTimeField(_("give up at"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The retry sweep: pending deliveries whose next attempt is due.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state=WebhookDeliveryState.PENDING),
                name="enforcement_webhook_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint.url} ({self.state})"


class WebhookAttempt(models.Model):
    """One try of a delivery: when, the HTTP status (or none) and what went wrong. ``error`` is
    the class of the failure the department sees (``HTTP 500``, ``timeout``, ``could not
    connect``: enforcement.webhook_egress); ``detail`` (the first characters of the receiver's
    answer, or the exception) is for the administrator only, never in the API."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("delivery"),
        on_delete=models.CASCADE,
        related_name="attempt_log",
    )
    at = models.DateTimeField(_("at"))
    status_code = models.PositiveIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    detail = models.TextField(_("detail (administrators only)"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery", "at"]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
