"""API keys of outside systems (enforcement.api_keys): made, checked, revoked, throttled."""

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.response import Response
from rest_framework.views import APIView

from core.choices import Role
from enforcement.api_keys import (
    ApiKeyRateThrottle,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
)
from enforcement.choices import CaseSource
from enforcement.models import ApiKey
from enforcement.permissions import scope_of
from powers.models import Department
from tests.factories.powers import DepartmentFactory
from tests.factories.users import UserFactory

PROBLEMS = "https://shaoxiang.invalid/problems/"
RAW_KEY = re.compile(r"^sx_([a-z0-9]{8})_([A-Za-z0-9_-]{43})$")
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class WhoAmIView(APIView):
    """Test-only: who the request acts as, and with which key."""

    def get(self, request):
        prefix = request.auth.prefix if isinstance(request.auth, ApiKey) else None
        return Response({"user": request.user.username, "key": prefix})


urlpatterns = [path("api/whoami/", WhoAmIView.as_view())]

pytestmark = pytest.mark.django_db


@pytest.fixture
def department():
    return DepartmentFactory(code="CG", name="秦淮区城市管理局")


# --- making keys --------------------------------------------------------------------------------
def test_a_department_key_acts_as_a_liaison_of_that_department_only(department):
    DepartmentFactory(code="HB", name="南京市秦淮生态环境局")
    admin = UserFactory(username="admin")

    key, raw = api_key_create(department=department, created_by=admin)

    match = RAW_KEY.match(raw)
    assert match is not None
    assert key.prefix == match.group(1)
    assert key.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert match.group(2) not in str(ApiKey.objects.filter(pk=key.pk).values().get())
    assert (key.name, key.source, key.created_by) == ("秦淮区城市管理局", "", admin)
    assert key.user.username == f"apikey-{key.prefix}"
    assert not key.user.has_usable_password()
    assert list(key.user.groups.values_list("name", flat=True)) == [Role.DEPARTMENT_LIAISON]
    assert scope_of(key.user).departments == {department.pk}


def test_an_integration_key_has_no_group_and_no_container():
    key, _raw = api_key_create(source=CaseSource.HOTLINE_12345, name="12345 平台")

    assert (key.name, key.source, key.department) == ("12345 平台", "hotline_12345", None)
    assert key.user.groups.count() == 0
    assert scope_of(key.user).departments == frozenset()


@pytest.mark.parametrize(
    "binding",
    [{}, {"source": "hotline_12345", "with_department": True}, {"source": "fax"}],
    ids=["none", "both", "unknown source"],
)
def test_a_key_needs_exactly_one_known_binding(department, binding):
    kwargs = {"source": binding.get("source", "")}
    if binding.get("with_department"):
        kwargs["department"] = department

    with pytest.raises(ValidationError):
        api_key_create(**kwargs)

    assert ApiKey.objects.count() == 0
    assert not get_user_model().objects.filter(username__startswith="apikey-").exists()


def test_a_key_name_longer_than_100_characters_is_refused(department):
    with pytest.raises(ValidationError):
        api_key_create(department=department, name="x" * 101)

    assert ApiKey.objects.count() == 0


# --- checking keys ------------------------------------------------------------------------------
def test_the_right_key_authenticates_and_a_wrong_one_does_not(department):
    key, raw = api_key_create(department=department)
    prefix = key.prefix

    assert api_key_authenticate(raw) == key
    assert api_key_authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert api_key_authenticate(f"sx_{prefix}_") is None
    assert api_key_authenticate("sx_zzzzzzzz_" + raw.split("_", 2)[2]) is None
    assert api_key_authenticate("not a key") is None


def test_a_revoked_key_no_longer_authenticates_and_revoking_again_keeps_the_time(department):
    key, raw = api_key_create(department=department)

    with time_machine.travel(NOW, tick=False):
        api_key_revoke(key=key)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        api_key_revoke(key=key)

    assert api_key_authenticate(raw) is None
    assert ApiKey.objects.get(pk=key.pk).revoked_at == NOW


def test_a_key_whose_user_was_deactivated_does_not_authenticate(department):
    key, raw = api_key_create(department=department)
    get_user_model().objects.filter(pk=key.user_id).update(is_active=False)

    assert api_key_authenticate(raw) is None


def test_last_used_is_written_at_most_once_a_minute(department):
    key, raw = api_key_create(department=department)

    with time_machine.travel(NOW, tick=False):
        api_key_authenticate(raw)
    with time_machine.travel(NOW + timedelta(seconds=59), tick=False):
        api_key_authenticate(raw)
    after_59_seconds = ApiKey.objects.get(pk=key.pk).last_used_at
    with time_machine.travel(NOW + timedelta(seconds=60), tick=False):
        api_key_authenticate(raw)

    assert after_59_seconds == NOW
    assert ApiKey.objects.get(pk=key.pk).last_used_at == NOW + timedelta(seconds=60)


# --- the API ------------------------------------------------------------------------------------
@pytest.mark.urls(__name__)
@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
def test_a_request_with_a_key_acts_as_its_user(client, department, header):
    key, raw = api_key_create(department=department)
    value = f"Api-Key {raw}" if header == "authorization" else raw

    response = client.get("/api/whoami/", headers={header: value})

    assert response.status_code == 200
    assert response.json() == {"user": f"apikey-{key.prefix}", "key": key.prefix}


@pytest.mark.urls(__name__)
def test_a_wrong_key_is_a_401_problem_even_with_a_session(client, department):
    _key, raw = api_key_create(department=department)
    client.force_login(UserFactory())

    response = client.get("/api/whoami/", headers={"authorization": f"Api-Key {raw}x"})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == PROBLEMS + "authentication-failed"


@pytest.mark.urls(__name__)
def test_a_revoked_key_is_a_401_problem(client, department):
    key, raw = api_key_create(department=department)
    api_key_revoke(key=key)

    response = client.get("/api/whoami/", headers={"x-api-key": raw})

    assert response.status_code == 401
    assert response.json()["type"] == PROBLEMS + "authentication-failed"


@pytest.mark.urls(__name__)
def test_a_session_still_works_without_a_key(client):
    client.force_login(UserFactory(username="hh_command"))

    response = client.get("/api/whoami/")

    assert response.json() == {"user": "hh_command", "key": None}


@pytest.fixture
def throttle_cache(monkeypatch):
    """A private cache: the shared file cache holds other test runs' request histories."""
    cache = LocMemCache("throttle-test", {})
    monkeypatch.setattr(ApiKeyRateThrottle, "cache", cache)
    return cache


@pytest.mark.urls(__name__)
def test_a_key_over_its_rate_gets_a_429_problem_and_another_key_does_not(
    client, department, settings, throttle_cache
):
    settings.API_THROTTLE_RATE = "2/min"
    _key, raw = api_key_create(department=department)
    _other, other_raw = api_key_create(source=CaseSource.VIDEO)

    statuses = [
        client.get("/api/whoami/", headers={"x-api-key": raw}).status_code for _ in range(2)
    ]
    throttled = client.get("/api/whoami/", headers={"x-api-key": raw})
    other = client.get("/api/whoami/", headers={"x-api-key": other_raw})

    assert statuses == [200, 200]
    assert throttled.status_code == 429
    assert throttled.json()["type"] == PROBLEMS + "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert other.status_code == 200


@pytest.mark.parametrize("rate", ["lots", "0/min", "100/week"])
def test_a_bad_throttle_rate_stops_start_up_naming_it(tmp_path, rate):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({"DEBUG": "true", "VAR_DIR": str(tmp_path), "API_THROTTLE_RATE": rate})

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert result.stderr.startswith("Configuration error: API_THROTTLE_RATE: expected e.g. ")


def test_the_schema_documents_the_api_key_scheme():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    scheme = schema["components"]["securitySchemes"]["ApiKeyAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")


# --- commands -----------------------------------------------------------------------------------
def test_api_key_create_prints_the_key_as_its_last_line(department):
    out = io.StringIO()

    call_command("api_key_create", "CG", "--name", "城管业务系统", stdout=out)

    raw = out.getvalue().splitlines()[-1]
    key = api_key_authenticate(raw)
    assert key is not None
    assert (key.name, key.department) == ("城管业务系统", department)


def test_api_key_create_for_an_integration(db):
    out = io.StringIO()

    call_command("api_key_create", "--source", "video", stdout=out)

    key = api_key_authenticate(out.getvalue().splitlines()[-1])
    assert (key.source, key.department) == ("video", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["XX"], "No department with code 'XX'."),
        (["--source", "fax"], "Unknown case source 'fax'"),
        (["CG", "--source", "video"], "Give either a department code or --source"),
        ([], "Give either a department code or --source"),
    ],
)
def test_api_key_create_refuses_an_unknown_or_double_binding(department, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("api_key_create", *args, stdout=io.StringIO())

    assert ApiKey.objects.count() == 0


def test_api_key_revoke_by_prefix(department):
    key, raw = api_key_create(department=department)
    out = io.StringIO()

    call_command("api_key_revoke", key.prefix, stdout=out)

    assert api_key_authenticate(raw) is None
    assert out.getvalue().startswith(f"API key {key.prefix} (秦淮区城市管理局) revoked at ")
    with pytest.raises(CommandError, match="No API key with prefix 'nosuchkey'"):
        call_command("api_key_revoke", "nosuchkey")


# --- demo and admin -----------------------------------------------------------------------------
def demo_keys(output: str) -> dict[str, str]:
    return dict(re.findall(r"^API key for (.+): (sx_\S+)$", output, flags=re.MULTILINE))


def test_seed_demo_makes_the_demo_keys_once_and_prints_the_same_at_every_start(db, settings):
    # given a first start
    first, second = io.StringIO(), io.StringIO()
    call_command("seed_demo", cases=0, stdout=first)

    # when the instance starts again
    call_command("seed_demo", cases=0, stdout=second)

    # then it prints the same keys, one per demo department and one for the 12345 system,
    # each live, and made no new one
    departments = list(Department.objects.order_by("pk").values_list("name", flat=True))
    assert len(departments) == 9
    keys = demo_keys(second.getvalue())
    assert list(keys) == [*departments, "12345热线"]
    assert keys == demo_keys(first.getvalue())
    for holder, raw in keys.items():
        key = api_key_authenticate(raw)
        assert key is not None
        assert (key.department.name if key.department else "12345热线") == holder
    assert ApiKey.objects.count() == 10
    # kept under VAR_DIR for this user alone
    assert settings.DEMO_KEYS_FILE.stat().st_mode & 0o777 == 0o600
    assert set(json.loads(settings.DEMO_KEYS_FILE.read_text()).values()) == set(keys.values())


def test_a_kept_demo_key_that_no_longer_works_is_replaced_and_the_rest_kept(db, settings):
    # given the demo keys, one of which someone revoked
    first, second = io.StringIO(), io.StringIO()
    call_command("seed_demo", cases=0, stdout=first)
    before = demo_keys(first.getvalue())
    revoked_holder, revoked_raw = next(iter(before.items()))
    api_key_revoke(key=api_key_authenticate(revoked_raw))

    # when the instance starts again
    call_command("seed_demo", cases=0, stdout=second)

    # then that holder has a new live key, every other holder its old one
    after = demo_keys(second.getvalue())
    assert after[revoked_holder] != revoked_raw
    assert api_key_authenticate(after[revoked_holder]) is not None
    assert {h: k for h, k in after.items() if h != revoked_holder} == {
        h: k for h, k in before.items() if h != revoked_holder
    }
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 10


def test_demo_keys_kept_for_another_database_are_made_anew(db, settings):
    # given a keys file from an instance whose database was rebuilt (its keys are unknown here)
    settings.DEMO_KEYS_FILE.parent.mkdir(parents=True, exist_ok=True)
    settings.DEMO_KEYS_FILE.write_text(json.dumps({"source:hotline_12345": "sx_abcdefgh_gone"}))
    out = io.StringIO()

    # when seed_demo runs
    call_command("seed_demo", cases=0, stdout=out)

    # then every printed key works
    keys = demo_keys(out.getvalue())
    assert len(keys) == 10
    assert all(api_key_authenticate(raw) is not None for raw in keys.values())


def test_the_admin_lists_keys_without_secrets_and_revokes_them(client, department):
    key, raw = api_key_create(department=department)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    listing = client.get("/admin/enforcement/apikey/")
    detail = client.get(f"/admin/enforcement/apikey/{key.pk}/change/")
    revoked = client.post(
        "/admin/enforcement/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
        follow=True,
    )

    assert listing.status_code == detail.status_code == 200
    assert key.prefix in listing.content.decode()
    for page in (listing, detail):
        assert key.secret_hash not in page.content.decode()
        assert raw.split("_", 2)[2] not in page.content.decode()
    assert "已吊销 1 个 API 密钥。" in revoked.content.decode()
    assert api_key_authenticate(raw) is None
