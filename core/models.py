from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.choices import Component, DeliveryState


class Heartbeat(models.Model):
    """One row per live process of a kind: the beat (one row, ``node`` empty) or a Celery worker
    (one row per node name). ``seen_at`` is the last time the process proved it was working: beat
    on each scheduler tick, a worker when it ran ``heartbeat_task``.

    The beat row is also the beat lease: ``holder`` names the one beat process allowed to send
    periodic tasks (two beats would send every task twice; NOTES.md)."""

    component = models.CharField(_("component"), max_length=16, choices=Component.choices)
    node = models.CharField(_("node"), max_length=200, blank=True)
    holder = models.CharField(_("holder"), max_length=200, blank=True)
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        ordering = ["component", "node"]
        constraints = [
            # One row per process: heartbeat_record() upserts on it, and the beat lease is one row.
            models.UniqueConstraint(
                fields=["component", "node"], name="core_heartbeat_unique_node"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.component}:{self.node or '-'} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class CalendarDay(models.Model):
    """One row is a local override of the national calendar for one date: a local day off on a
    day that would be a working day (a typhoon closure, 台风停工), or an extra working day on a
    day that would be off (补班). Dates without a row follow the State Council's calendar
    (core.calendar). Written only by ``calendar_day_save`` / ``calendar_day_delete``, which also
    clear the per-process cache of overrides."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    reason = models.CharField(_("reason"), max_length=100)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {'+' if self.is_working_day else '-'} {self.reason}"


class HolidayNotice(models.Model):
    """One row is the State Council's holiday arrangement of one year (国务院办公厅关于 YYYY 年部分
    节假日安排的通知) as a district administrator imported it (``calendar_import``). Its days off
    and make-up working days (调休上班) are its HolidayNoticeDay rows; any other day of the year is
    a working day Monday to Friday. For its year it replaces the national data of
    ``chinesecalendar``; local CalendarDay overrides still win over it."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    # SHA-256 of the imported file: importing the same file again changes nothing.
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("holiday notice")
        verbose_name_plural = _("holiday notices")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}: {self.title}"


class HolidayNoticeDay(models.Model):
    """One row is one day of a HolidayNotice that is not what its weekday says: a day off (a
    holiday, or a weekday given off in exchange, 调休) or a weekend day worked (上班). A notice may
    list days of the year before (元旦 ranges that start on 31 December)."""

    notice = models.ForeignKey(HolidayNotice, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    # Which holiday the day belongs to (a make-up day: the holiday it makes up for).
    holiday = models.CharField(_("holiday"), max_length=40)

    class Meta:
        verbose_name = _("holiday notice day")
        verbose_name_plural = _("holiday notice days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {'+' if self.is_working_day else '-'} {self.holiday}"


class CalendarAlert(models.Model):
    """One row per year whose missing holiday notice the district administrators were told of,
    so that they are told once (``calendar_alert_send``)."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("calendar alert")
        verbose_name_plural = _("calendar alerts")

    def __str__(self) -> str:
        return f"{self.year} @ {self.sent_at:%Y-%m-%d}"


class Notification(models.Model):
    """One row is one in-app message to one user. Its sending by outside channels (SMS,
    webhook) is tracked by NotificationDelivery rows, one per channel."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    # What the message is about, e.g. a case number, so a reader can find it.
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # notifications_unread(): a user's unread messages, newest first.
            models.Index(
                fields=["recipient", "read_at", "-created_at"], name="core_notif_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"


class NotificationDelivery(models.Model):
    """One row is the attempts to send one notification by one outside channel: created pending
    by ``notification_send``, then ``notification_deliver_task`` tries, retries with backoff, and
    leaves it sent or failed. ``attempts`` counts the failed tries; ``last_error`` keeps the
    latest failure."""

    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("notification"),
    )
    # A key of core.notifications.CHANNELS; not choices, so adding a channel needs no migration.
    channel = models.CharField(_("channel"), max_length=20)
    state = models.CharField(
        _("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(_("failed attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("notification delivery")
        verbose_name_plural = _("notification deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One attempt stream per channel: a second row would send the same message twice.
            models.UniqueConstraint(
                fields=["notification", "channel"], name="core_notif_delivery_unique_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id}/{self.channel}: {self.state}"


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key``, kept 24 hours: a retry
    with the same key (and the same body) gets this response again and changes nothing; the
    same key with another body is refused (422). The unique constraint, not a read before the
    write, is what makes two concurrent requests with one key do the work once."""

    # Whose key: the user (or the API key's account) that sent it; keys of different callers
    # never collide.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    key = models.CharField(_("key"), max_length=255)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    request_hash = models.CharField(_("request (SHA-256)"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True)
    response_body = models.BinaryField(_("response body"), default=b"")
    response_headers = models.JSONField(_("response headers"), default=dict)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="core_idempotency_owner_key"),
        ]
        indexes = [
            # The daily purge of records older than 24 hours.
            models.Index(fields=["created_at"], name="core_idempotency_created"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_id}:{self.key}"
