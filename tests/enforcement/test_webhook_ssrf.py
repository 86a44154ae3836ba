"""Webhooks cannot reach the platform's own network (security review, issue 14): what may be
registered, the same check again before every try, the connection made to the address checked
and to no other, what a department reads of a failed try, the admin's rights and the secret kept
encrypted. Names resolve through a fake socket.getaddrinfo (no DNS); a real listener on
127.0.0.1 shows that nothing reaches it."""

import errno
import select
import socket
import ssl
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import include, path
from django.utils import translation
from rest_framework.routers import SimpleRouter
from rest_framework.test import APIClient

from core.choices import Role
from core.crypto import field_decrypt
from enforcement import webhook_egress
from enforcement.api.webhooks import WebhookDeliveryViewSet, WebhookEndpointViewSet
from enforcement.api_keys import api_key_create
from enforcement.choices import WebhookDeliveryState, WebhookEvent
from enforcement.models import ApiKey, WebhookDelivery, WebhookEndpoint
from enforcement.permissions import access_grant
from enforcement.webhook_egress import (
    ERROR_CONNECT,
    ERROR_REFUSED,
    webhook_connection,
    webhook_target,
)
from enforcement.webhooks import (
    webhook_deliver,
    webhook_emit,
    webhook_endpoint_create,
    webhook_secret,
    webhook_url_check,
)
from tests.factories.powers import DepartmentFactory
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PUBLIC = "93.184.215.14"  # a public address; nothing here connects to it for real
SECRET = "whsec-ssrf-test-0123456789"

router = SimpleRouter()
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
urlpatterns = [path("api/v1/", include(router.urls))]
api_urls = pytest.mark.urls(__name__)


class Dns:
    """socket.getaddrinfo for the tests: ``names`` maps a name to its addresses (a list, or a
    list of lists answered one after the other, the last repeated); addresses pass through."""

    def __init__(self, real):
        self.real = real
        self.names: dict[str, list] = {}
        self.asked: list[str] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        self.asked.append(host)
        try:
            return self.real(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        except socket.gaierror:
            pass
        answers = self.names.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if isinstance(answers[0], list):  # one answer after the other, the last repeated
            addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        else:
            addresses = answers
        infos = []
        for address in addresses:
            family_of = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family_of == socket.AF_INET6 else (address, port)
            infos.append((family_of, socket.SOCK_STREAM, 6, "", sockaddr))
        return infos


@pytest.fixture
def dns(monkeypatch):
    fake = Dns(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def hb(db):
    return DepartmentFactory(code="HB", name="南京市秦淮生态环境局")


@contextmanager
def listener():
    """A real TCP listener on 127.0.0.1: yields its port and a function telling whether anyone
    connected within a bounded wait."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def connected(wait: float = 0.5) -> bool:
        ready, _w, _x = select.select([server], [], [], wait)
        return bool(ready)

    try:
        yield server.getsockname()[1], connected
    finally:
        server.close()


@contextmanager
def http_receiver(status: int, body: bytes = b"", headers: dict | None = None):
    """A real HTTP receiver on 127.0.0.1 answering every POST with ``status`` and ``body``;
    yields its port and the list of paths it was sent."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append(self.path)
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server.server_port, received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def to_local(monkeypatch):
    """The seam of the tests that need a receiver: a connection to PUBLIC goes to 127.0.0.1
    (the address check has already passed PUBLIC). Returns the addresses connected to."""
    opened: list[tuple[str, int]] = []
    real_open = webhook_egress.webhook_socket_open

    def socket_open(address, port, timeout):
        opened.append((address, port))
        return real_open("127.0.0.1" if address == PUBLIC else address, port, timeout)

    monkeypatch.setattr(webhook_egress, "webhook_socket_open", socket_open)
    return opened


def refused_message(url: str) -> str:
    """The message of the refusal of ``url``, in English."""
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        webhook_url_check(url)
    return caught.value.message_dict["url"][0]


def delivery_to(department, url: str) -> WebhookDelivery:
    webhook_endpoint_create(department=department, url=url, secret=SECRET)
    (delivery_id,) = webhook_emit(
        event=WebhookEvent.CALLED, department_ids=[department.pk], payload={"call": {"id": 1}}
    )
    return WebhookDelivery.objects.get(pk=delivery_id)


# --- registration ---


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://127.1/hook",
        "http://2130706433/hook",  # 127.0.0.1 written as a number
        "http://[::1]:8000/x",
        "http://localhost:6379/",
        "http://LocalHost./",
        "http://api.localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:8000/",
        "http://[::]:8000/",
        "http://[::ffff:127.0.0.1]:8000/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::127.0.0.1]/",  # IPv4-compatible
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://10.1.2.3/hook",  # private, no network listed
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://[fd00::1]/",
        "http://rebind.example/hook",  # resolves to 127.0.0.1
        "http://split.example/hook",  # one public address and one loopback
        "http://intranet.example/hook",  # resolves to a private address
        "http://nowhere.example/hook",  # does not resolve
    ],
)
def test_registration_refuses_the_platforms_network_even_under_a_star(dns, settings, hb, url):
    settings.WEBHOOK_ALLOWED_HOSTS = ["*"]
    dns.names = {
        "rebind.example": ["127.0.0.1"],
        "split.example": [PUBLIC, "127.0.0.1"],
        "intranet.example": ["10.20.3.4"],
    }

    with pytest.raises(ValidationError):
        webhook_endpoint_create(department=hb, url=url)

    assert WebhookEndpoint.objects.count() == 0


def test_loopback_stays_refused_when_listed_by_name_or_network(dns, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8", "::1", "localhost", "rebind.example"]
    dns.names = {"rebind.example": ["127.0.0.1"]}

    for url in [
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://localhost/",
        "http://rebind.example/",
    ]:
        with pytest.raises(ValidationError):
            webhook_url_check(url)


def test_the_platforms_own_hosts_and_a_url_with_a_password_are_refused(dns, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["*"]
    settings.ALLOWED_HOSTS = ["zf.example.cn", "93.184.215.99", ".example.org"]
    dns.names = {"zf.example.cn": [PUBLIC], "mirror.example": ["93.184.215.99"]}

    assert "platform" in refused_message("https://zf.example.cn/hook")
    assert "WEBHOOK_ALLOWED_HOSTS" in refused_message("https://mirror.example/hook")
    assert "password" in refused_message(f"https://user:pw@{PUBLIC}/hook")
    assert "http and https" in refused_message("ftp://files.example/")


def test_the_empty_default_refuses_everything_and_says_whom_to_ask(dns, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    dns.names = {"api.hb.gov.cn": [PUBLIC]}

    message = refused_message("https://api.hb.gov.cn/hook")

    assert message == (
        "Webhooks may not be sent to this host: the administrator must list the department's "
        "host in WEBHOOK_ALLOWED_HOSTS."
    )
    assert refused_message(f"https://{PUBLIC}/hook") == message


def test_listed_public_names_and_listed_private_networks_are_accepted(dns, settings, hb):
    settings.WEBHOOK_ALLOWED_HOSTS = [".hb.gov.cn", "*.cg.gov.cn", "10.20.0.0/16", "192.168.5.7"]
    dns.names = {
        "api.hb.gov.cn": [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"],
        "hb.gov.cn": [PUBLIC],
        "api.cg.gov.cn": [PUBLIC],
        "cg.gov.cn": [PUBLIC],
        "intranet.hb.gov.cn": ["10.20.3.4"],
        "lan.hb.gov.cn": ["10.30.0.1"],
        "other.example": [PUBLIC],
    }

    for url in [
        "https://api.hb.gov.cn/shaoxiang",
        "https://hb.gov.cn/shaoxiang",
        "https://api.cg.gov.cn/hook",
        "http://intranet.hb.gov.cn:8080/hook",  # a listed name in a listed network
        "http://10.20.1.5:8080/hook",
        "http://[::ffff:10.20.1.5]:8080/hook",
        "http://192.168.5.7/hook",
    ]:
        webhook_url_check(url)
    assert webhook_target("https://api.hb.gov.cn/shaoxiang?x=1").target == "/shaoxiang?x=1"

    # a listed name resolving to a private network nobody listed; a name nobody listed; the
    # subdomain pattern without its domain; a neighbour of a listed address
    for url in [
        "http://lan.hb.gov.cn/hook",
        "https://other.example/hook",
        "https://cg.gov.cn/hook",
        "http://192.168.5.8/hook",
    ]:
        with pytest.raises(ValidationError):
            webhook_url_check(url)


@api_urls
def test_the_api_answers_400_with_the_reason(dns, settings, hb):
    settings.WEBHOOK_ALLOWED_HOSTS = ["*"]
    liaison = UserFactory(username="hb_liaison", roles=[Role.DEPARTMENT_LIAISON])
    access_grant(user=liaison, container=hb)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(liaison)

    answers = [
        client.post("/api/v1/webhook-endpoints/", {"url": url}, format="json")
        for url in [
            "http://127.0.0.1:8000/hook",
            "http://[::1]:8000/x",
            "http://localhost:6379/",
            "http://169.254.169.254/latest/meta-data/",
        ]
    ]

    assert [answer.status_code for answer in answers] == [400] * 4
    assert "loopback" in str(answers[0].json())
    assert WebhookEndpoint.objects.count() == 0


# --- delivering ---


def test_a_name_that_turns_to_loopback_after_registration_is_refused_at_delivery(
    dns, settings, hb, clock
):
    settings.WEBHOOK_ALLOWED_HOSTS = [".hb.gov.cn"]
    dns.names = {"api.hb.gov.cn": [PUBLIC]}
    with listener() as (port, connected):
        delivery = delivery_to(hb, f"http://api.hb.gov.cn:{port}/hook")
        dns.names["api.hb.gov.cn"] = ["127.0.0.1"]  # the name now points at the platform

        assert webhook_deliver(delivery.pk) is False

        assert connected(wait=0.5) is False
    attempt = delivery.attempt_log.get()
    assert (attempt.status_code, attempt.error) == (None, ERROR_REFUSED)
    assert "127.0.0.1" in attempt.detail
    delivery.refresh_from_db()
    assert delivery.state == WebhookDeliveryState.FAILED


def test_the_connection_goes_to_the_address_checked_and_the_name_is_not_asked_again(
    dns, settings, hb, clock, monkeypatch
):
    settings.WEBHOOK_ALLOWED_HOSTS = [".hb.gov.cn"]
    # the check is answered a public address; any later question would get 127.0.0.1
    dns.names = {"api.hb.gov.cn": [[PUBLIC], [PUBLIC], ["127.0.0.1"]]}
    opened = []

    def socket_open(address, port, timeout):
        opened.append((address, port))
        raise ConnectionRefusedError(errno.ECONNREFUSED, "refused")

    monkeypatch.setattr(webhook_egress, "webhook_socket_open", socket_open)
    delivery = delivery_to(hb, "http://api.hb.gov.cn:8080/hook")  # asks once
    dns.asked.clear()

    webhook_deliver(delivery.pk)

    assert opened == [(PUBLIC, 8080)]
    assert dns.asked == ["api.hb.gov.cn"]  # once, by the check


def test_https_checks_the_certificate_against_the_name_not_the_address(dns, settings, monkeypatch):
    settings.WEBHOOK_ALLOWED_HOSTS = [".hb.gov.cn"]
    dns.names = {"api.hb.gov.cn": [PUBLIC]}
    opened = []

    def socket_open(address, port, timeout):
        opened.append((address, port))
        return socket.create_connection(("127.0.0.1", local_port), timeout)

    monkeypatch.setattr(webhook_egress, "webhook_socket_open", socket_open)
    target = webhook_target("https://api.hb.gov.cn/hook")
    https = webhook_connection(target, timeout=1)
    seen = {}

    def wrap_socket(sock, server_hostname=None, **kwargs):
        seen["server_hostname"] = server_hostname
        raise ssl.SSLCertVerificationError("certificate verify failed")

    monkeypatch.setattr(https._context, "wrap_socket", wrap_socket)
    with listener() as (local_port, _connected):
        with pytest.raises(ssl.SSLError):
            https.connect()
        https.close()

    assert opened == [(PUBLIC, 443)]

    assert seen == {"server_hostname": "api.hb.gov.cn"}
    assert https._context.check_hostname is True
    assert https._context.verify_mode == ssl.CERT_REQUIRED


@api_urls
def test_a_department_never_reads_what_its_receiver_answered(dns, settings, hb, clock, to_local):
    settings.WEBHOOK_ALLOWED_HOSTS = [".hb.gov.cn"]
    dns.names = {"api.hb.gov.cn": [PUBLIC]}
    liaison = UserFactory(username="hb_liaison", roles=[Role.DEPARTMENT_LIAISON])
    access_grant(user=liaison, container=hb)
    body = b"redis_version:7.2.4 INTERNAL-SECRET-TOKEN " + b"x" * 1000
    with http_receiver(500, body) as (port, received):
        delivery = delivery_to(hb, f"http://api.hb.gov.cn:{port}/hook")
        assert webhook_deliver(delivery.pk) is False
    assert received == ["/hook"]
    assert to_local == [(PUBLIC, port)]

    client = APIClient()
    client.force_authenticate(liaison)
    answer = client.get(f"/api/v1/webhook-deliveries/{delivery.pk}/")

    assert answer.status_code == 200
    (attempt,) = answer.json()["attempt_log"]
    assert (attempt["status_code"], attempt["error"]) == (500, "HTTP 500")
    assert set(attempt) == {"at", "status_code", "error", "duration_ms"}
    assert "INTERNAL-SECRET-TOKEN" not in answer.content.decode()
    assert "INTERNAL-SECRET-TOKEN" not in client.get("/api/v1/webhook-deliveries/").content.decode()
    # the administrator reads the beginning of it
    detail = delivery.attempt_log.get().detail
    assert detail.startswith("redis_version:7.2.4 INTERNAL-SECRET-TOKEN") and len(detail) == 300


@api_urls
def test_a_refused_and_an_unreachable_connection_read_the_same(
    dns, settings, hb, clock, monkeypatch
):
    dns.names = {"closed.hb.gov.cn": [PUBLIC], "far.hb.gov.cn": ["203.0.113.200"]}
    settings.WEBHOOK_ALLOWED_HOSTS = [".hb.gov.cn", "203.0.113.0/24"]
    with listener() as (port, _connected):
        pass  # the port is free again: nothing listens there
    real_open = webhook_egress.webhook_socket_open

    def socket_open(address, port_, timeout):
        if address == PUBLIC:
            return real_open("127.0.0.1", port_, timeout)  # refused
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(webhook_egress, "webhook_socket_open", socket_open)
    refused = delivery_to(hb, f"http://closed.hb.gov.cn:{port}/")
    webhook_deliver(refused.pk)
    unreachable = delivery_to(DepartmentFactory(code="CG"), "http://far.hb.gov.cn/")
    webhook_deliver(unreachable.pk)
    client = APIClient()
    client.force_authenticate(UserFactory(username="root", is_superuser=True))

    errors = [
        client.get(f"/api/v1/webhook-deliveries/{d.pk}/").json()["attempt_log"][0]
        for d in (refused, unreachable)
    ]

    assert [(e["status_code"], e["error"]) for e in errors] == [(None, ERROR_CONNECT)] * 2
    details = [d.attempt_log.get().detail for d in (refused, unreachable)]
    assert "ConnectionRefusedError" in details[0] and "unreachable" in details[1]


def test_a_redirect_is_not_followed(dns, settings, hb, clock, to_local):
    settings.WEBHOOK_ALLOWED_HOSTS = [".hb.gov.cn"]
    dns.names = {"api.hb.gov.cn": [PUBLIC]}
    with http_receiver(200) as (elsewhere, elsewhere_received):
        location = {"Location": f"http://127.0.0.1:{elsewhere}/internal"}
        with http_receiver(307, headers=location) as (port, received):
            delivery = delivery_to(hb, f"http://api.hb.gov.cn:{port}/hook")

            assert webhook_deliver(delivery.pk) is False

    assert (received, elsewhere_received) == (["/hook"], [])
    attempt = delivery.attempt_log.get()
    assert (attempt.status_code, attempt.error) == (307, "HTTP 307")
    assert to_local == [(PUBLIC, port)]


# --- the admin ---


def staff_with(username: str, *codenames: str):
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_redelivering_in_the_admin_needs_the_change_right(dns, settings, hb, client):
    settings.WEBHOOK_ALLOWED_HOSTS = [".hb.gov.cn"]
    dns.names = {"api.hb.gov.cn": [PUBLIC]}
    delivery = delivery_to(hb, "https://api.hb.gov.cn/hook")
    WebhookDelivery.objects.update(state=WebhookDeliveryState.FAILED, next_attempt_at=None)
    action = {"action": "redeliver", "_selected_action": [delivery.pk]}

    client.force_login(staff_with("viewer", "view_webhookdelivery"))
    assert client.get("/admin/enforcement/webhookdelivery/").status_code == 200
    listed = client.get("/admin/enforcement/webhookdelivery/").content.decode()
    assert 'value="redeliver"' not in listed
    client.post("/admin/enforcement/webhookdelivery/", action)
    delivery.refresh_from_db()
    assert delivery.state == WebhookDeliveryState.FAILED

    client.force_login(staff_with("operator", "view_webhookdelivery", "change_webhookdelivery"))
    client.post("/admin/enforcement/webhookdelivery/", action)
    delivery.refresh_from_db()
    assert delivery.state == WebhookDeliveryState.PENDING
    # the rows themselves stay read-only
    page = client.get(f"/admin/enforcement/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()


def test_revoking_an_api_key_in_the_admin_needs_the_change_right(hb, client):
    key, _raw = api_key_create(department=hb, name="HB system")
    action = {"action": "revoke", "_selected_action": [key.pk]}

    client.force_login(staff_with("viewer", "view_apikey"))
    client.post("/admin/enforcement/apikey/", action)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None

    client.force_login(staff_with("operator", "view_apikey", "change_apikey"))
    client.post("/admin/enforcement/apikey/", action)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


# --- the secret ---


def test_the_secret_is_stored_encrypted_and_never_rendered_by_the_admin(dns, settings, hb, client):
    settings.WEBHOOK_ALLOWED_HOSTS = [".hb.gov.cn"]
    dns.names = {"api.hb.gov.cn": [PUBLIC]}
    endpoint = webhook_endpoint_create(
        department=hb, url="https://api.hb.gov.cn/hook", secret=SECRET
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret_encrypted FROM enforcement_webhookendpoint WHERE id = %s", [endpoint.pk]
        )
        (raw,) = cursor.fetchone()
    assert SECRET not in raw and field_decrypt(raw) == SECRET
    assert webhook_secret(WebhookEndpoint.objects.get(pk=endpoint.pk)) == SECRET

    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    change_page = client.get(f"/admin/enforcement/webhookendpoint/{endpoint.pk}/change/")
    list_page = client.get("/admin/enforcement/webhookendpoint/")
    for page in (change_page, list_page):
        assert page.status_code == 200
        html = page.content.decode()
        assert SECRET not in html and raw not in html
        assert "…6789" in html

    # saving without a new secret keeps it; a typed one replaces it
    form = {
        "department": hb.pk,
        "url": "https://api.hb.gov.cn/hook",
        "secret": "",
        "events": ["called"],
        "active": "on",
    }
    saved = client.post(f"/admin/enforcement/webhookendpoint/{endpoint.pk}/change/", form)
    assert saved.status_code == 302
    assert webhook_secret(WebhookEndpoint.objects.get(pk=endpoint.pk)) == SECRET
    client.post(
        f"/admin/enforcement/webhookendpoint/{endpoint.pk}/change/",
        {**form, "secret": "another-secret-of-enough-length"},
    )
    endpoint = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert (webhook_secret(endpoint), endpoint.secret_hint) == (
        "another-secret-of-enough-length",
        "ngth",
    )


# Migrating back and forth needs real transactions; serialized_rollback brings the data
# migrations' rows back after the flush, as the other transactional tests expect.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_encrypts_existing_secrets_and_keeps_bodies_from_the_department():
    before = [("enforcement", "0016_supervision_addressee")]
    after = [("enforcement", "0017_webhook_hardening")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    department = old.get_model("powers", "Department").objects.create(code="HB", name="环境局")
    endpoint = old.get_model("enforcement", "WebhookEndpoint").objects.create(
        department=department, url="https://api.hb.gov.cn/hook", secret=SECRET, events=[]
    )
    delivery = old.get_model("enforcement", "WebhookDelivery").objects.create(
        endpoint=endpoint, event="called", uuid=uuid.uuid4(), payload={}, give_up_at=MONDAY_10
    )
    attempts = old.get_model("enforcement", "WebhookAttempt").objects
    answered = attempts.create(
        delivery=delivery, at=MONDAY_10, status_code=500, error="HTTP 500: INTERNAL-TOKEN"
    )
    refused = attempts.create(
        delivery=delivery, at=MONDAY_10, error="URLError: [Errno 111] Connection refused"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(after)

    new = executor.loader.project_state(after).apps
    migrated = new.get_model("enforcement", "WebhookEndpoint").objects.get(pk=endpoint.pk)
    assert field_decrypt(migrated.secret_encrypted) == SECRET
    assert (SECRET in migrated.secret_encrypted, migrated.secret_hint) == (False, "6789")
    rows = new.get_model("enforcement", "WebhookAttempt").objects
    assert (rows.get(pk=answered.pk).error, rows.get(pk=answered.pk).detail) == (
        "HTTP 500",
        "HTTP 500: INTERNAL-TOKEN",
    )
    assert rows.get(pk=refused.pk).error == ERROR_CONNECT
