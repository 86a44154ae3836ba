"""Signed webhooks to departments: a real receiver verifies every signature; failed
tries come back with backoff through the sweep (the clock moved, never slept), a delivery gives up
after 24 hours and can be sent again by hand; a claim keeps two workers from sending at once and
expires when its worker dies. The workflow and the timer sweeper emit; departments manage their
own endpoints through the API and see nobody else's.

The receiver listens on 127.0.0.1, where no webhook may ever go: these tests resolve the
departments' names (``*.hb.example`` …) to an address of TEST-NET-2, a network that
WEBHOOK_ALLOWED_HOSTS lists as a department intranet would be, and the socket opener of
enforcement.webhook_egress takes a connection to that address to the receiver (the ``network``
fixture). The address check itself is the real one; test_webhook_ssrf tests it."""

import hashlib
import hmac
import json
import socket
import threading
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from rest_framework.routers import SimpleRouter
from rest_framework.test import APIClient

from core.choices import Role
from enforcement import webhook_egress, webhooks, workflow
from enforcement.api.webhooks import WebhookDeliveryViewSet, WebhookEndpointViewSet
from enforcement.choices import (
    CaseSource,
    HandlingMode,
    WebhookDeliveryState,
    WebhookEvent,
)
from enforcement.models import (
    DepartmentCall,
    MatterType,
    Supervision,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from enforcement.permissions import access_grant
from enforcement.services import case_intake
from enforcement.tasks import webhook_deliver_task
from enforcement.timers import timers_fire_due
from enforcement.webhooks import (
    WebhookError,
    webhook_backoff,
    webhook_body,
    webhook_deliver,
    webhook_deliveries_sweep,
    webhook_emit,
    webhook_endpoint_create,
    webhook_lease,
    webhook_redeliver,
    webhook_secret,
    webhook_signature,
    webhook_signature_verify,
)
from powers.services import catalogue_publish
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory
from tests.factories.powers import DepartmentFactory, PowerItemFactory
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday of an ordinary working week.
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)
SECRET = "whsec-test-0123456789"
PENDING, DELIVERED, FAILED = (
    WebhookDeliveryState.PENDING,
    WebhookDeliveryState.DELIVERED,
    WebhookDeliveryState.FAILED,
)

# The department API's routes, as the lead wires them under /api/v1/ (tests marked api_urls).
router = SimpleRouter()
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
urlpatterns = [path("api/v1/", include(router.urls))]
api_urls = pytest.mark.urls(__name__)

# The departments' systems, as the tests' resolver answers: TEST-NET-2 (RFC 5737), where no real
# host is, listed in WEBHOOK_ALLOWED_HOSTS as a department's intranet; a connection to
# RECEIVER_ADDRESS reaches the local receiver.
RECEIVER_ADDRESS = "198.51.100.7"
NAMES = {
    "receiver.hb.example": RECEIVER_ADDRESS,
    "hb.example": RECEIVER_ADDRESS,
    "api.hb.example": RECEIVER_ADDRESS,
    "cg.example": RECEIVER_ADDRESS,
    "x.example": RECEIVER_ADDRESS,
    "api.hb.gov.cn": "202.102.3.4",
}


@pytest.fixture(autouse=True)
def network(settings):
    """No DNS, and the departments' systems on the local receiver (see the module's docstring).
    Nothing here lets a webhook reach a loopback address: the socket opener is given the
    checked address, and only the tests turn that one into 127.0.0.1."""
    settings.WEBHOOK_ALLOWED_HOSTS = [".hb.example", ".cg.example", ".x.example", "198.51.100.0/24"]
    opened: list[tuple[str, int]] = []

    def resolve(host, port):
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
            return [host]
        except OSError:
            pass
        if host not in NAMES:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [NAMES[host]]

    real_open = webhook_egress.webhook_socket_open

    def socket_open(address, port, timeout):
        opened.append((address, port))
        return real_open("127.0.0.1" if address == RECEIVER_ADDRESS else address, port, timeout)

    # A patcher of its own: the tests' monkeypatch.undo() leaves the network as it is.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(webhook_egress, "webhook_resolve", resolve)
        patch.setattr(webhook_egress, "webhook_socket_open", socket_open)
        yield opened


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def eager():
    """Tasks run in the test's thread when enqueued (settings leave Celery non-eager)."""
    conf = webhook_deliver_task.app.conf
    previous = conf.task_always_eager
    conf.task_always_eager = True
    yield
    conf.task_always_eager = previous


class Receiver:
    """A department's system: answers each POST with the next status of ``statuses`` (then
    ``then``), and records what it got and whether the signature verified under SECRET."""

    def __init__(self, statuses=(), then=200):
        self.statuses = list(statuses)
        self.then = then
        self.received: list[dict] = []
        self.url = ""


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body,
                    "verified": webhook_signature_verify(
                        SECRET,
                        self.headers["X-Shaoxiang-Timestamp"],
                        body,
                        self.headers["X-Shaoxiang-Signature"],
                    ),
                }
            )
            status = state.statuses.pop(0) if state.statuses else state.then
            answer = b"boom" if status >= 400 else b""
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format, *args):  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    state.url = f"http://receiver.hb.example:{server.server_port}/hooks/shaoxiang"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    assert not thread.is_alive()


@pytest.fixture
def settings_fast(settings):
    # Every wait bounded: a try that hangs fails after two seconds.
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    return settings


@pytest.fixture
def world(clock, settings_fast):
    """A street that holds no power over kitchen fumes: such a case is whistled to the
    environment bureau (HB), as in test_routing."""
    cell = ComprehensiveCellFactory(area="一片区")
    street = cell.community.parent
    city = DepartmentFactory(code="CG", name="秦淮区城市管理局")
    environment = DepartmentFactory(code="HB", name="南京市秦淮生态环境局")
    stalls = PowerItemFactory(code="SR-002", department=city)
    fumes = PowerItemFactory(code="HB-003", department=environment)
    catalogue_publish(
        street=street, items=[stalls], effective_on=date(2024, 1, 1), notice_number="秦政发〔1〕"
    )
    matter = MatterType.objects.create(
        code="YYRM", name="油烟扰民", default_handling_mode=HandlingMode.ENFORCEMENT
    )
    matter.power_items.set([fumes])
    return {
        "street": street,
        "matter": matter,
        "environment": environment,
        "city": city,
        "command": UserFactory(username="command", roles=[Role.COMMAND_CENTRE]),
    }


def endpoint_of(department, url, *, events=(), active=True):
    return webhook_endpoint_create(
        department=department, url=url, events=events, secret=SECRET, active=active
    )


def whistled(world, **intake):
    """A case of the world's matter, accepted and routed: whistled to HB."""
    values = {
        "source": CaseSource.HOTLINE_12345,
        "matter_type": world["matter"],
        "description": "楼下饭店油烟直排",
        "lat": LAT,
        "lng": LNG,
    }
    case = case_intake(**{**values, **intake}).case
    case = workflow.case_accept(case=case, actor=world["command"])
    return workflow.case_route(case=case, actor=world["command"])


def emitted(world, receiver):
    """One pending delivery to a fresh HB endpoint at the receiver."""
    endpoint = endpoint_of(world["environment"], receiver.url)
    (delivery_id,) = webhook_emit(
        event=WebhookEvent.CALLED,
        department_ids=[world["environment"].pk],
        payload={"call": {"id": 1}},
    )
    return endpoint, WebhookDelivery.objects.get(pk=delivery_id)


# --- signing ---


def test_the_signature_is_an_hmac_of_the_timestamp_and_the_body():
    body = b'{"event":"called"}'

    signature = webhook_signature("k", 1763258400, body)

    expected = hmac.new(b"k", b'1763258400.{"event":"called"}', hashlib.sha256).hexdigest()
    assert signature == "sha256=" + expected


def test_verification_refuses_another_secret_a_changed_body_and_an_old_timestamp(clock):
    now = int(MONDAY_10.timestamp())
    body = b'{"event":"called"}'
    header = webhook_signature("k", now, body)

    assert webhook_signature_verify("k", str(now), body, header) is True
    assert webhook_signature_verify("other", str(now), body, header) is False
    assert webhook_signature_verify("k", str(now), body + b" ", header) is False
    assert webhook_signature_verify("k", str(now + 1), body, header) is False
    assert webhook_signature_verify("k", "soon", body, header) is False
    assert webhook_signature_verify("k", str(now), body, None) is False
    # five minutes later it still verifies; a second more and it is a replay
    clock.shift(timedelta(seconds=300))
    assert webhook_signature_verify("k", str(now), body, header) is True
    clock.shift(timedelta(seconds=1))
    assert webhook_signature_verify("k", str(now), body, header) is False


def test_backoff_doubles_from_thirty_seconds_up_to_an_hour_with_a_little_jitter():
    assert [webhook_backoff(n).total_seconds() for n in range(1, 10)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    assert webhook_backoff(50).total_seconds() == 3600
    assert webhook_backoff(1, jitter=1.0).total_seconds() == 33


# --- delivering ---


def test_a_delivery_failing_twice_succeeds_on_the_third_try_driven_by_the_sweep(
    world, receiver, clock, eager, django_capture_on_commit_callbacks
):
    receiver.statuses = [500, 500]
    endpoint = endpoint_of(world["environment"], receiver.url)

    # given an event, tried once after commit: HTTP 500
    with django_capture_on_commit_callbacks(execute=True):
        (delivery_id,) = webhook_emit(
            event=WebhookEvent.CALLED,
            department_ids=[world["environment"].pk],
            payload={"call": {"id": 7}},
        )
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.state, delivery.attempts, len(receiver.received)) == (PENDING, 1, 1)
    first_retry = delivery.next_attempt_at - MONDAY_10
    assert timedelta(seconds=30) <= first_retry <= timedelta(seconds=33)

    # when the sweep runs before the backoff has passed, nothing goes out
    clock.shift(timedelta(seconds=20))
    assert webhook_deliveries_sweep().enqueued == 0
    assert len(receiver.received) == 1

    # when it runs once the retry is due: the second try, HTTP 500 again, a minute's wait
    clock.move_to(delivery.next_attempt_at)
    assert webhook_deliveries_sweep().enqueued == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, len(receiver.received)) == (PENDING, 2, 2)
    second_try_at = datetime.fromtimestamp(
        int(receiver.received[1]["headers"]["X-Shaoxiang-Timestamp"]), tz=SHANGHAI
    )
    assert (
        timedelta(seconds=60) <= delivery.next_attempt_at - second_try_at <= timedelta(seconds=67)
    )

    # then the third try succeeds
    clock.move_to(delivery.next_attempt_at)
    assert webhook_deliveries_sweep().enqueued == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (DELIVERED, 3, None)
    assert delivery.delivered_at is not None
    log = list(delivery.attempt_log.order_by("at").values_list("status_code", "error"))
    assert log == [(500, "HTTP 500"), (500, "HTTP 500"), (200, "")]
    # what the receiver answered is kept for the administrator only
    assert list(delivery.attempt_log.order_by("at").values_list("detail", flat=True)) == [
        "boom",
        "boom",
        "",
    ]

    # every try was the same signed request, verified by the receiver
    assert [r["verified"] for r in receiver.received] == [True, True, True]
    assert {r["body"] for r in receiver.received} == {webhook_body(delivery)}
    request = receiver.received[2]
    assert request["path"] == "/hooks/shaoxiang"
    headers = request["headers"]
    assert (
        headers["Content-Type"],
        headers["User-Agent"],
        headers["X-Shaoxiang-Event"],
        headers["X-Shaoxiang-Delivery"],
    ) == ("application/json", "Shaoxiang-Webhooks/1", "called", str(delivery.uuid))
    assert headers["X-Shaoxiang-Signature"] == webhook_signature(
        SECRET, headers["X-Shaoxiang-Timestamp"], request["body"]
    )
    assert json.loads(request["body"]) == {
        "event": "called",
        "delivery": str(delivery.uuid),
        "occurred_at": "2026-11-16T10:00:00+08:00",
        "call": {"id": 7},
    }
    assert b", " not in request["body"] and b": " not in request["body"]  # compact
    assert endpoint.deliveries.count() == 1

    # and a delivered delivery is never sent again
    clock.shift(timedelta(hours=2))
    assert webhook_deliveries_sweep().enqueued == 0
    assert webhook_deliver(delivery.pk) is False
    assert len(receiver.received) == 3


def test_a_delivery_still_failing_after_24_hours_is_failed(world, receiver, clock, eager):
    receiver.then = 503
    _endpoint, delivery = emitted(world, receiver)
    assert webhook_deliveries_sweep().enqueued == 1  # the first try (its enqueueing was lost)

    # ten seconds before the 24 hours end, the next try fails; its retry would come too late
    clock.move_to(MONDAY_10 + timedelta(hours=24) - timedelta(seconds=10))
    assert webhook_deliveries_sweep().enqueued == 1

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (FAILED, 2, None)
    assert delivery.give_up_at == MONDAY_10 + timedelta(hours=24)
    clock.shift(timedelta(hours=1))
    assert webhook_deliveries_sweep().enqueued == 0
    assert len(receiver.received) == 2


def test_a_broker_outage_fails_nobody_and_the_sweep_sends_later(
    world, receiver, clock, monkeypatch, django_capture_on_commit_callbacks, eager
):
    endpoint_of(world["environment"], receiver.url)

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(webhook_deliver_task, "apply_async", broker_down)
    # when the case is whistled while the broker is down, the whistle succeeds all the same
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        case = whistled(world)
    assert len(callbacks) >= 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, receiver.received) == (PENDING, 0, [])

    # then, the broker back, the next sweep sends it
    monkeypatch.undo()
    assert webhook_deliveries_sweep().enqueued == 1
    delivery.refresh_from_db()
    assert (delivery.state, json.loads(receiver.received[0]["body"])["case"]["number"]) == (
        DELIVERED,
        case.number,
    )


def test_a_refused_connection_is_a_failed_try_without_status(world, clock, eager):
    # given an endpoint where nothing listens (a port just freed)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_port
    server.server_close()
    endpoint_of(world["environment"], f"http://hb.example:{port}/")
    (delivery_id,) = webhook_emit(
        event=WebhookEvent.CALLED, department_ids=[world["environment"].pk], payload={}
    )

    assert webhook_deliver(delivery_id) is False

    attempt = WebhookAttempt.objects.get(delivery_id=delivery_id)
    assert (attempt.status_code, attempt.error) == (None, "could not connect")
    assert "ConnectionRefusedError" in attempt.detail
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.state, delivery.attempts) == (PENDING, 1)  # tried again later


def test_a_redirect_is_not_followed_and_counts_as_a_failure(world, receiver, clock):
    receiver.then = 302
    _endpoint, delivery = emitted(world, receiver)

    assert webhook_deliver(delivery.pk) is False

    assert len(receiver.received) == 1
    assert list(delivery.attempt_log.values_list("status_code", "error")) == [(302, "HTTP 302")]


def test_only_hosts_of_webhook_allowed_hosts_are_registered_or_sent_to(
    world, receiver, clock, settings
):
    """Whoever registers an endpoint makes the worker POST there: WEBHOOK_ALLOWED_HOSTS names
    the departments' systems, at registration and again at each delivery."""
    _endpoint, delivery = emitted(world, receiver)  # registered while its host was allowed
    settings.WEBHOOK_ALLOWED_HOSTS = [".hb.gov.cn", "10.1.2.3"]

    with pytest.raises(ValidationError):
        endpoint_of(world["environment"], "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(ValidationError):
        endpoint_of(world["environment"], "http://127.0.0.1:6379/")
    assert endpoint_of(world["environment"], "https://api.hb.gov.cn/shaoxiang").pk
    assert endpoint_of(world["environment"], "http://10.1.2.3:8080/hook").pk

    assert webhook_deliver(delivery.pk) is False  # its host is no longer allowed
    assert receiver.received == []
    attempt = delivery.attempt_log.get()
    assert (attempt.status_code, attempt.error) == (
        None,
        "refused: address not allowed (WEBHOOK_ALLOWED_HOSTS)",
    )
    delivery.refresh_from_db()
    assert (delivery.state, delivery.next_attempt_at) == (FAILED, None)  # not tried again


def test_a_claimed_delivery_is_sent_by_one_worker_only(world, receiver, clock, monkeypatch):
    _endpoint, delivery = emitted(world, receiver)
    handed_out = []
    monkeypatch.setattr(
        webhooks, "_deliveries_enqueue", lambda ids, lease=None: handed_out.append((ids, lease))
    )

    # the sweep claims it and hands it to one task, with its lease as token
    assert webhook_deliveries_sweep().enqueued == 1
    ((ids, lease),) = handed_out
    assert (ids, lease) == ([delivery.pk], MONDAY_10 + webhook_lease())
    # a second sweep, or the first try's own task arriving late, finds it claimed
    assert webhook_deliveries_sweep().enqueued == 0
    assert webhook_deliver(delivery.pk) is False
    assert webhook_deliver(delivery.pk, lease=lease + timedelta(microseconds=1)) is False
    assert receiver.received == []

    # the task holding the lease sends it; a duplicate of that task finds nothing to do
    assert webhook_deliver(delivery.pk, lease=lease) is True
    assert webhook_deliver(delivery.pk, lease=lease) is False
    assert len(receiver.received) == 1


class WorkerKilled(BaseException):
    """SIGKILL mid-request: nothing after it runs."""


def test_a_worker_killed_mid_delivery_leaves_a_claim_that_expires_and_is_retried(
    world, receiver, clock, eager, monkeypatch
):
    _endpoint, delivery = emitted(world, receiver)

    def killed(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(webhooks, "_post", killed)
    with pytest.raises(WorkerKilled):
        webhook_deliver(delivery.pk)
    monkeypatch.undo()

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (
        PENDING,
        0,
        MONDAY_10 + webhook_lease(),
    )
    # the claim holds while the killed worker could still be sending
    clock.shift(webhook_lease() - timedelta(seconds=1))
    assert webhook_deliveries_sweep().enqueued == 0

    clock.shift(timedelta(seconds=1))
    assert webhook_deliveries_sweep().enqueued == 1

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, len(receiver.received)) == (DELIVERED, 1, 1)


def test_the_sweep_works_in_batches_and_hands_out_each_due_delivery_once(
    world, receiver, clock, monkeypatch
):
    endpoint_of(world["environment"], receiver.url)
    endpoint_of(world["environment"], receiver.url + "/second")
    ids = webhook_emit(
        event=WebhookEvent.CALLED, department_ids=[world["environment"].pk], payload={}
    ) + webhook_emit(
        event=WebhookEvent.CALLED, department_ids=[world["environment"].pk], payload={}
    )
    handed_out = []
    monkeypatch.setattr(
        webhooks, "_deliveries_enqueue", lambda ids, lease=None: handed_out.extend(ids)
    )

    report = webhook_deliveries_sweep(batch_size=3)

    assert (report.batches, report.enqueued) == (2, 4)
    assert sorted(handed_out) == sorted(ids)


# --- redelivery ---


def test_a_failed_delivery_is_redelivered_by_hand_with_the_same_id(
    world, receiver, clock, eager, django_capture_on_commit_callbacks
):
    receiver.statuses = [500]
    endpoint, delivery = emitted(world, receiver)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(give_up_at=MONDAY_10)
    webhook_deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == FAILED

    clock.shift(timedelta(hours=30))
    with django_capture_on_commit_callbacks(execute=True):
        redelivered = webhook_redeliver(delivery=delivery, actor=world["command"])
    assert redelivered.state == PENDING  # as the caller sees it; sent after commit

    redelivered.refresh_from_db()
    assert (redelivered.pk, redelivered.uuid) == (delivery.pk, delivery.uuid)
    assert (redelivered.state, redelivered.attempts) == (DELIVERED, 1)
    assert redelivered.give_up_at == MONDAY_10 + timedelta(hours=30 + 24)
    assert [r["headers"]["X-Shaoxiang-Delivery"] for r in receiver.received] == [
        str(delivery.uuid)
    ] * 2
    assert redelivered.attempt_log.count() == 2

    # a delivered one goes again too; a pending one is left alone
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = webhook_redeliver(delivery=redelivered)
    assert again.state == PENDING and len(callbacks) == 1
    assert webhook_redeliver(delivery=again).state == PENDING

    # an inactive endpoint is refused
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=FAILED)
    with pytest.raises(WebhookError):
        webhook_redeliver(delivery=delivery)


def test_a_pending_delivery_of_a_deactivated_endpoint_fails_without_a_try(world, receiver, clock):
    endpoint, delivery = emitted(world, receiver)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)

    assert webhook_deliver(delivery.pk) is False

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt_log.count(), receiver.received) == (FAILED, 0, [])


# --- emitting ---


def test_emitting_writes_one_delivery_per_subscribed_active_endpoint_with_one_insert(world):
    hb, cg = world["environment"], world["city"]
    wanted = endpoint_of(hb, "http://hb.example:9/a")
    everything = endpoint_of(hb, "http://hb.example:9/b", events=[])
    endpoint_of(hb, "http://hb.example:9/c", events=[WebhookEvent.CASE_CLOSED])
    endpoint_of(hb, "http://hb.example:9/d", active=False)
    endpoint_of(cg, "http://hb.example:9/e")

    with CaptureQueriesContext(connection) as queries:
        ids = webhook_emit(event=WebhookEvent.CALLED, department_ids=[hb.pk], payload={"x": 1})

    deliveries = list(WebhookDelivery.objects.filter(pk__in=ids).order_by("endpoint"))
    assert [d.endpoint for d in deliveries] == [wanted, everything]
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    first = deliveries[0]
    assert (first.state, first.attempts, first.next_attempt_at, first.give_up_at) == (
        PENDING,
        0,
        MONDAY_10,
        MONDAY_10 + timedelta(hours=24),
    )
    assert deliveries[0].uuid != deliveries[1].uuid
    assert webhook_emit(event=WebhookEvent.CALLED, department_ids=[9999], payload={}) == []


def test_a_whistle_tells_the_called_department_without_the_reporters_data(world):
    endpoint = endpoint_of(world["environment"], "http://hb.example:9/")
    endpoint_of(world["city"], "http://hb.example:9/city")

    case = whistled(world, reporter_name="张三", reporter_phone="13812345678")

    call = DepartmentCall.objects.get(case=case)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.event) == (endpoint, WebhookEvent.CALLED)
    assert delivery.payload == {
        "event": "called",
        "delivery": str(delivery.uuid),
        "occurred_at": "2026-11-16T10:00:00+08:00",
        "case": {
            "number": case.number,
            "status": "dispatched",
            "matter_type": "YYRM",
            "street": world["street"].code,
            "severity": case.severity,
            "source": "hotline_12345",
        },
        "call": {"id": call.pk, "power_item": "HB-003"},
    }
    text = json.dumps(delivery.payload, ensure_ascii=False)
    assert "张三" not in text and "5678" not in text and "油烟直排" not in text


def test_supervisions_of_a_call_tell_its_department_supervised_then_escalated(world, clock):
    endpoint_of(world["environment"], "http://hb.example:9/", events=["supervised", "escalated"])
    first_case, second_case = whistled(world), whistled(world, description="另一家油烟")
    calls = {c.case_id: c for c in DepartmentCall.objects.all()}

    # the department does not report in within 30 minutes: level 1 on both calls, one INSERT
    clock.shift(timedelta(minutes=30))
    with CaptureQueriesContext(connection) as queries:
        assert timers_fire_due().fired == 2
    inserts = [
        q
        for q in queries.captured_queries
        if q["sql"].startswith("INSERT") and "webhookdelivery" in q["sql"]
    ]
    assert len(inserts) == 1
    supervised = {d.payload["case"]["number"]: d for d in WebhookDelivery.objects.all()}
    assert set(supervised) == {first_case.number, second_case.number}
    level_1 = Supervision.objects.get(call=calls[first_case.pk], level=1)
    delivery = supervised[first_case.number]
    assert delivery.event == WebhookEvent.SUPERVISED
    assert (delivery.payload["call"], delivery.payload["supervision"]) == (
        {"id": calls[first_case.pk].pk},
        {"id": level_1.pk, "level": 1, "stage": "call_report_in"},
    )

    # unanswered for a working day (to the end of Tuesday): level 2, escalated
    clock.move_to(datetime(2026, 11, 18, 0, 0, 1, tzinfo=SHANGHAI))
    timers_fire_due()
    level_2 = Supervision.objects.get(call=calls[first_case.pk], level=2)
    escalated = WebhookDelivery.objects.get(
        event=WebhookEvent.ESCALATED, payload__case__number=first_case.number
    )
    assert escalated.payload["supervision"] == {
        "id": level_2.pk,
        "level": 2,
        "stage": "call_report_in",
    }
    assert WebhookDelivery.objects.count() == 4


def test_closing_a_case_tells_every_called_department_once(world):
    endpoint_of(world["environment"], "http://hb.example:9/", events=["case_closed"])
    case = whistled(world)
    call = DepartmentCall.objects.get(case=case)
    actor = world["command"]
    call = workflow.call_report_in(call=call, actor=actor)
    call = workflow.call_accept(call=call, actor=actor)
    workflow.call_complete(call=call, actor=actor, result="已责令整改")
    case.refresh_from_db()
    assert WebhookDelivery.objects.count() == 0  # resolved is no event of theirs

    workflow.case_verify(case=case, actor=actor)
    workflow.case_verify(case=case, actor=actor)  # done already: changes nothing

    delivery = WebhookDelivery.objects.get()
    assert delivery.event == WebhookEvent.CASE_CLOSED
    assert delivery.payload["case"]["status"] == "closed"
    assert set(delivery.payload) == {"event", "delivery", "occurred_at", "case"}


# --- the department API ---


@pytest.fixture
def departments(world):
    """HB's liaison and CG's liaison, each granted their department; an endpoint and a failed
    delivery each."""
    hb, cg = world["environment"], world["city"]
    hb_user = UserFactory(username="hb_liaison", roles=[Role.DEPARTMENT_LIAISON])
    cg_user = UserFactory(username="cg_liaison", roles=[Role.DEPARTMENT_LIAISON])
    access_grant(user=hb_user, container=hb)
    access_grant(user=cg_user, container=cg)
    hb_endpoint = endpoint_of(hb, "http://hb.example:9/hb")
    cg_endpoint = endpoint_of(cg, "http://hb.example:9/cg")
    webhook_emit(event=WebhookEvent.CALLED, department_ids=[hb.pk, cg.pk], payload={})
    WebhookDelivery.objects.update(state=FAILED, next_attempt_at=None)
    return {
        "hb": hb_user,
        "cg": cg_user,
        "hb_endpoint": hb_endpoint,
        "cg_endpoint": cg_endpoint,
        "hb_delivery": hb_endpoint.deliveries.get(),
        "cg_delivery": cg_endpoint.deliveries.get(),
    }


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@api_urls
def test_anonymous_callers_are_refused(departments):
    client = api()
    endpoint, delivery = departments["hb_endpoint"].pk, departments["hb_delivery"].pk

    answers = [
        client.get("/api/v1/webhook-endpoints/").status_code,
        client.post("/api/v1/webhook-endpoints/", {"url": "http://x.example/"}).status_code,
        client.delete(f"/api/v1/webhook-endpoints/{endpoint}/").status_code,
        client.get("/api/v1/webhook-deliveries/").status_code,
        client.post(f"/api/v1/webhook-deliveries/{delivery}/redeliver/").status_code,
    ]

    assert answers == [401] * 5
    assert WebhookEndpoint.objects.count() == 2


@api_urls
def test_a_department_lists_only_its_own_endpoints_without_secrets(departments):
    answer = api(departments["hb"]).get("/api/v1/webhook-endpoints/")

    assert answer.status_code == 200
    assert answer.json()["results"] == [
        {
            "id": departments["hb_endpoint"].pk,
            "department": "HB",
            "url": "http://hb.example:9/hb",
            "events": [],
            "active": True,
            "created_at": answer.json()["results"][0]["created_at"],
        }
    ]
    other = departments["cg_endpoint"].pk
    assert api(departments["hb"]).get(f"/api/v1/webhook-endpoints/{other}/").status_code == 404
    assert (
        api(UserFactory(username="nobody")).get("/api/v1/webhook-endpoints/").json()["results"]
        == []
    )


@api_urls
def test_a_department_registers_an_endpoint_and_sees_the_secret_once(departments):
    client = api(departments["hb"])

    answer = client.post(
        "/api/v1/webhook-endpoints/",
        {"url": "https://api.hb.example/hook", "events": ["called", "case_closed"]},
        format="json",
    )

    assert answer.status_code == 201
    body = answer.json()
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert (body["department"], body["events"], body["secret"]) == (
        "HB",
        ["called", "case_closed"],
        webhook_secret(endpoint),
    )
    assert len(body["secret"]) == 43
    assert endpoint.secret_encrypted != body["secret"]
    assert "secret" not in client.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/").json()


@api_urls
def test_registration_refuses_another_department_a_bad_url_and_unknown_events(departments):
    client = api(departments["hb"])

    answers = [
        client.post(
            "/api/v1/webhook-endpoints/",
            {"department": "CG", "url": "https://cg.example/"},
            format="json",
        ),
        client.post("/api/v1/webhook-endpoints/", {"url": "ftp://hb.example/"}, format="json"),
        client.post(
            "/api/v1/webhook-endpoints/",
            {"url": "https://hb.example/", "events": ["called", "lunch"]},
            format="json",
        ),
    ]

    assert [a.status_code for a in answers] == [400, 400, 400]
    assert WebhookEndpoint.objects.count() == 2


@api_urls
def test_a_department_removes_only_its_own_endpoints(departments):
    client = api(departments["hb"])
    unused = endpoint_of(departments["hb_endpoint"].department, "http://hb.example:9/unused")

    assert (
        client.delete(f"/api/v1/webhook-endpoints/{departments['cg_endpoint'].pk}/").status_code
        == 404
    )
    assert client.delete(f"/api/v1/webhook-endpoints/{unused.pk}/").status_code == 204
    assert (
        client.delete(f"/api/v1/webhook-endpoints/{departments['hb_endpoint'].pk}/").status_code
        == 204
    )

    # one without deliveries is gone; one with deliveries stays as their record, inactive
    assert not WebhookEndpoint.objects.filter(pk=unused.pk).exists()
    assert WebhookEndpoint.objects.get(pk=departments["hb_endpoint"].pk).active is False
    assert WebhookEndpoint.objects.get(pk=departments["cg_endpoint"].pk).active is True


@api_urls
def test_a_department_lists_and_redelivers_only_its_own_deliveries(departments):
    client = api(departments["hb"])
    own, other = departments["hb_delivery"], departments["cg_delivery"]
    WebhookAttempt.objects.create(delivery=own, at=MONDAY_10, status_code=500, error="HTTP 500")

    listed = client.get("/api/v1/webhook-deliveries/").json()["results"]
    assert [(d["id"], d["state"], d["attempt_log"]) for d in listed] == [
        (
            own.pk,
            "failed",
            [
                {
                    "at": listed[0]["attempt_log"][0]["at"],
                    "status_code": 500,
                    "error": "HTTP 500",
                    "duration_ms": 0,
                }
            ],
        )
    ]
    assert client.get("/api/v1/webhook-deliveries/", {"state": "failed"}).status_code == 200
    assert client.get("/api/v1/webhook-deliveries/", {"colour": "red"}).status_code == 400
    assert client.get(f"/api/v1/webhook-deliveries/{other.pk}/").status_code == 404

    assert client.post(f"/api/v1/webhook-deliveries/{other.pk}/redeliver/").status_code == 404
    answer = client.post(f"/api/v1/webhook-deliveries/{own.pk}/redeliver/")

    assert answer.status_code == 200
    assert (answer.json()["state"], answer.json()["uuid"]) == ("pending", str(own.uuid))
    other.refresh_from_db()
    assert other.state == FAILED


@api_urls
def test_a_superuser_sees_every_department(departments):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)

    listed = api(admin).get("/api/v1/webhook-endpoints/").json()["results"]

    assert sorted(e["department"] for e in listed) == ["CG", "HB"]
    assert webhooks.webhook_endpoint_list(user=AnonymousUser()).count() == 0


# --- admin ---


def test_the_admin_generates_and_shows_a_blank_secret_and_redelivers(departments, client):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)

    answer = client.post(
        "/admin/enforcement/webhookendpoint/add/",
        {
            "department": departments["hb_endpoint"].department_id,
            "url": "https://hb.example/new",
            "secret": "",
            "events": ["called"],
            "active": "on",
        },
        follow=True,
    )

    endpoint = WebhookEndpoint.objects.get(url="https://hb.example/new")
    assert (len(webhook_secret(endpoint)), endpoint.events) == (43, ["called"])
    assert webhook_secret(endpoint) in answer.content.decode()  # in the message, this once

    delivery = departments["hb_delivery"]
    answer = client.post(
        "/admin/enforcement/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert answer.status_code == 200
    delivery.refresh_from_db()
    assert delivery.state == PENDING
    assert (
        client.get(f"/admin/enforcement/webhookdelivery/{delivery.pk}/change/").status_code == 200
    )
