"""Notifications: rows written in the caller's transaction, sent only after commit, by the
channels that are on; failures retried with backoff and left visible as failed."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from core.choices import DeliveryState
from core.models import Notification, NotificationDelivery
from core.notifications import (
    CHANNELS,
    Channel,
    LoggingSmsChannel,
    WebhookChannel,
    channels_enabled,
    delivery_retry_countdown,
    notification_send,
)
from core.selectors import notifications_unread
from core.tasks import notification_deliver_task
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    """Tasks run in the test's thread at ``delay()`` (settings leave Celery non-eager), retries
    included: eager retries run at once, without their countdown."""
    conf = notification_deliver_task.app.conf
    previous = conf.task_always_eager
    conf.task_always_eager = True
    yield
    conf.task_always_eager = previous


class RecordingChannel(Channel):
    name = "recording"
    sent: list[int] = []

    def send(self, notification):
        self.sent.append(notification.pk)


@pytest.fixture
def recording(monkeypatch, settings):
    monkeypatch.setitem(CHANNELS, RecordingChannel.name, RecordingChannel)
    monkeypatch.setattr(RecordingChannel, "sent", [])
    settings.NOTIFY_CHANNELS = [RecordingChannel.name]
    return RecordingChannel.sent


@pytest.fixture
def webhook_server(settings):
    """A local HTTP server on a free port answering every POST with ``answer["status"]``;
    ``received`` holds the bodies it got. Shut down when the test ends."""
    received: list[dict] = []
    answer = {"status": 204, "headers": {}}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append(
                {
                    "path": self.path,
                    "content_type": self.headers["Content-Type"],
                    "json": json.loads(self.rfile.read(length)),
                }
            )
            self.send_response(answer["status"])
            for name, value in answer["headers"].items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.NOTIFY_CHANNELS = ["webhook"]
    settings.NOTIFY_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/hook"
    yield received, answer
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_send_writes_one_message_per_distinct_recipient_and_delivers_only_after_commit(
    eager, settings, caplog, django_capture_on_commit_callbacks
):
    settings.NOTIFY_CHANNELS = ["sms"]
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")

    with (
        caplog.at_level(logging.INFO, logger="core.notifications"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        notifications = notification_send(
            recipients=[alice, None, bob, alice],
            kind="case_assigned",
            title="新案件",
            body="案件 ZF-2025-0001 已派给你",
            reference="ZF-2025-0001",
        )
        # before commit: rows written, nothing sent
        assert [n.recipient for n in notifications] == [alice, bob]
        assert list(NotificationDelivery.objects.values_list("channel", "state")) == [
            ("sms", DeliveryState.PENDING),
            ("sms", DeliveryState.PENDING),
        ]
        assert not [r for r in caplog.records if r.getMessage().startswith("SMS to")]

    assert len(callbacks) == 1  # one enqueue, after commit, for both deliveries
    assert Notification.objects.count() == 2
    delivery = NotificationDelivery.objects.get(notification__recipient=alice)
    assert (delivery.state, delivery.attempts, delivery.last_error) == (DeliveryState.SENT, 0, "")
    assert delivery.sent_at is not None
    sms = sorted(r.getMessage() for r in caplog.records if r.getMessage().startswith("SMS to"))
    assert sms == [
        f"SMS to alice (notification {notifications[0].pk}, case_assigned): "
        "新案件 案件 ZF-2025-0001 已派给你",
        f"SMS to bob (notification {notifications[1].pk}, case_assigned): "
        "新案件 案件 ZF-2025-0001 已派给你",
    ]


def test_a_rolled_back_change_sends_nothing(eager, recording, django_capture_on_commit_callbacks):
    user = UserFactory()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notification_send(recipients=[user], kind="k", title="t", body="b")
        raise RuntimeError("the caller's change fails")

    assert callbacks == []
    assert recording == []
    assert Notification.objects.count() == 0
    assert NotificationDelivery.objects.count() == 0


def test_every_enabled_channel_gets_its_delivery(
    eager, recording, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFY_CHANNELS = ["recording", "sms"]
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        (notification,) = notification_send(recipients=[user], kind="k", title="t", body="b")

    assert recording == [notification.pk]
    assert sorted(notification.deliveries.values_list("channel", "state")) == [
        ("recording", DeliveryState.SENT),
        ("sms", DeliveryState.SENT),
    ]


def test_channels_on_come_from_settings(settings):
    settings.NOTIFY_CHANNELS = ["sms", "webhook", "sms"]
    settings.NOTIFY_WEBHOOK_URL = ""
    assert channels_enabled() == ["sms"]  # no URL: no webhook

    settings.NOTIFY_WEBHOOK_URL = "http://127.0.0.1:9/hook"
    assert channels_enabled() == ["sms", "webhook"]

    settings.NOTIFY_CHANNELS = ["sms", "pigeon"]
    with pytest.raises(ImproperlyConfigured, match="pigeon"):
        channels_enabled()


def test_the_sms_log_shows_a_masked_phone_when_the_user_has_one(caplog):
    user = UserFactory(username="carol")
    user.phone = "13812345678"  # the default user model has none; a custom one might
    notification = Notification(pk=7, recipient=user, kind="k", title="t", body="b")

    with caplog.at_level(logging.INFO, logger="core.notifications"):
        LoggingSmsChannel().send(notification)

    assert [r.getMessage() for r in caplog.records] == [
        "SMS to 138****5678 (notification 7, k): t b"
    ]


def test_the_webhook_receives_the_notification_as_json(
    eager, webhook_server, django_capture_on_commit_callbacks
):
    received, _ = webhook_server
    user = UserFactory(username="dave")

    with django_capture_on_commit_callbacks(execute=True):
        (notification,) = notification_send(
            recipients=[user],
            kind="deadline_near",
            title="时限将到",
            body="还剩 2 小时",
            reference="ZF-2025-0002",
        )

    assert received == [
        {
            "path": "/hook",
            "content_type": "application/json; charset=utf-8",
            "json": {
                "id": notification.pk,
                "recipient": "dave",
                "kind": "deadline_near",
                "title": "时限将到",
                "body": "还剩 2 小时",
                "reference": "ZF-2025-0002",
                "created_at": notification.created_at.isoformat(),
            },
        }
    ]
    delivery = notification.deliveries.get()
    assert (delivery.channel, delivery.state, delivery.attempts) == ("webhook", "sent", 0)

    # a sent delivery is not sent again when its task runs once more (redelivery)
    notification_deliver_task.apply(args=[delivery.pk])
    assert len(received) == 1


def test_a_failing_webhook_is_retried_with_backoff_and_ends_failed(
    eager, webhook_server, monkeypatch, django_capture_on_commit_callbacks
):
    received, answer = webhook_server
    answer["status"] = 500
    countdowns = []

    def countdown_recorded(*, attempts):
        countdowns.append(delivery_retry_countdown(attempts=attempts))
        return countdowns[-1]

    monkeypatch.setattr("core.tasks.delivery_retry_countdown", countdown_recorded)
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        (notification,) = notification_send(recipients=[user], kind="k", title="t", body="b")

    # the first try and max_retries (5) retries, the countdown doubling between them
    assert len(received) == 6
    assert countdowns == [2, 4, 8, 16, 32]
    delivery = notification.deliveries.get()
    assert (delivery.state, delivery.attempts, delivery.last_error, delivery.sent_at) == (
        DeliveryState.FAILED,
        6,
        "HTTPError: HTTP Error 500: Internal Server Error",
        None,
    )


def test_a_failed_delivery_sent_again_by_hand_becomes_sent(
    eager, webhook_server, django_capture_on_commit_callbacks
):
    received, answer = webhook_server
    answer["status"] = 503
    with django_capture_on_commit_callbacks(execute=True):
        (notification,) = notification_send(
            recipients=[UserFactory()], kind="k", title="t", body="b"
        )
    delivery = notification.deliveries.get()
    assert delivery.state == DeliveryState.FAILED

    answer["status"] = 200
    notification_deliver_task.apply(args=[delivery.pk])

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, len(received)) == (DeliveryState.SENT, 6, 7)


def test_a_webhook_redirect_is_a_failure(webhook_server):
    received, answer = webhook_server
    answer["status"] = 302
    answer["headers"] = {"Location": "/elsewhere"}
    notification = Notification.objects.create(
        recipient=UserFactory(), kind="k", title="t", body="b"
    )

    with pytest.raises(OSError, match="302"):
        WebhookChannel().send(notification)
    assert [r["path"] for r in received] == ["/hook"]  # not followed as a GET without the body


def test_the_retry_countdown_is_capped_at_five_minutes():
    assert [delivery_retry_countdown(attempts=n) for n in (1, 2, 8, 9, 20)] == [
        2,
        4,
        256,
        300,
        300,
    ]


def test_unread_notifications_are_the_users_own_newest_first(recording):
    alice, bob = UserFactory(), UserFactory()
    older, newer = (
        notification_send(recipients=[alice], kind="k", title=title, body="b")[0]
        for title in ("older", "newer")
    )
    notification_send(recipients=[bob], kind="k", title="bob's", body="b")
    read = notification_send(recipients=[alice], kind="k", title="read", body="b")[0]
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)

    assert list(notifications_unread(user=alice)) == [newer, older]


def test_a_delivery_whose_queue_message_was_lost_is_enqueued_again(monkeypatch):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from core import notifications
    from core.models import NotificationDelivery

    enqueued = []
    monkeypatch.setattr(notifications, "_deliveries_enqueue", enqueued.extend)
    user = UserFactory()
    with time_machine.travel(timezone.now() - timedelta(minutes=30), tick=False):
        stranded = notifications.notification_send(
            recipients=[user], kind="test", title="t", body="b"
        )[0]
    fresh = notifications.notification_send(recipients=[user], kind="test", title="t", body="b")[0]
    tried = NotificationDelivery.objects.get(notification=stranded)
    enqueued.clear()  # on_commit does not run inside the test's transaction anyway

    assert notifications.notification_deliveries_requeue(older_than=timedelta(minutes=10)) == 1
    assert enqueued == [tried.pk]
    assert not NotificationDelivery.objects.filter(notification=fresh, pk__in=enqueued).exists()


def test_a_bulk_send_delivers_in_chunks_and_a_failure_goes_on_by_itself(
    eager, recording, monkeypatch, django_capture_on_commit_callbacks
):
    from core import notifications
    from core.notifications import NotificationMessage, notifications_send
    from core.tasks import notification_deliveries_deliver_task

    chunks = []
    real_delay = notification_deliveries_deliver_task.delay

    def counting_delay(ids):
        chunks.append(len(ids))
        return real_delay(ids)

    monkeypatch.setattr(notification_deliveries_deliver_task, "delay", counting_delay)
    monkeypatch.setattr(notifications, "DELIVERY_CHUNK", 2)
    users = [UserFactory() for _ in range(5)]
    failing = users[2]
    original_send = RecordingChannel.send

    def send(self, notification):
        if notification.recipient_id == failing.pk:
            raise OSError("gateway busy")
        original_send(self, notification)

    monkeypatch.setattr(RecordingChannel, "send", send)

    with django_capture_on_commit_callbacks(execute=True):
        sent = notifications_send(
            messages=[
                NotificationMessage(recipients=users[:3], kind="k", title="t", body="b"),
                NotificationMessage(recipients=users[3:], kind="k", title="t", body="b"),
            ]
        )

    assert chunks == [2, 2, 1]  # one task per chunk, not one per delivery
    assert sorted(recording) == sorted(
        Notification.objects.filter(pk__in=sent)
        .exclude(recipient=failing)
        .values_list("pk", flat=True)
    )
    assert len(sent) == 5
    stuck = NotificationDelivery.objects.get(notification__recipient=failing)
    # its own task retried it (eagerly, without the countdown) until it gave up: one try and
    # max_retries retries, as for any delivery
    assert (stuck.state, stuck.attempts) == (DeliveryState.FAILED, 6)
    assert "gateway busy" in stuck.last_error


def test_batched_deliveries_of_many_commits_go_out_together_soon_after(
    monkeypatch, django_capture_on_commit_callbacks
):
    """The enqueuer of a busy path (every intake): deliveries committed within
    ENQUEUE_BATCH_SECONDS of each other go to the broker in one call, by its own thread; a
    broker outage leaves them pending for the requeue, and the enqueuer goes on."""
    from core import notifications

    calls, sent = [], threading.Event()

    def enqueue(ids):
        calls.append(list(ids))
        if len(calls) == 1:
            raise ConnectionError("broker down")
        sent.set()

    monkeypatch.setattr(notifications, "_deliveries_enqueue", enqueue)
    monkeypatch.setattr(notifications, "_enqueuer", notifications._Enqueuer())
    user, other = UserFactory(), UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notifications_send(
            messages=[notifications.NotificationMessage([user], "test", "t", "b")], batched=True
        )
    assert not calls  # not sent in the caller's thread
    for _ in range(100):
        if calls:
            break
        threading.Event().wait(0.05)
    assert len(calls) == 1  # the outage: logged, the deliveries stay pending

    ids = []
    with django_capture_on_commit_callbacks(execute=True):
        for recipient in (user, other):
            notifications.notifications_send(
                messages=[notifications.NotificationMessage([recipient], "test", "t", "b")],
                batched=True,
            )
    ids = list(NotificationDelivery.objects.order_by("pk").values_list("pk", flat=True))[-2:]
    assert sent.wait(5)
    assert calls[1] == ids  # both sends' deliveries in one call
    assert set(NotificationDelivery.objects.values_list("state", flat=True)) == {
        DeliveryState.PENDING
    }
