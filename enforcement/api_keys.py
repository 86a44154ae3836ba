"""API keys of outside systems: making, revoking and checking them, the DRF authentication that
reads them and the per-key throttle.

A key reads ``sx_<prefix>_<secret>``: the prefix (8 characters, shown in lists) finds the row,
the SHA-256 of the whole key is compared in constant time. The key itself is shown once, when it
is made, and never stored. Each key acts as a system user of its own (``apikey-<prefix>``), so
that every case event names which system did it:

- a department's key: in the department liaison group and granted the department
  (enforcement.permissions), so it sees and answers the calls to that department;
- an integration's key (12345 hotline, video platform, Open311 client: a CaseSource): no group
  and no container; what it may do is decided by its ``source``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import string
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.throttling import SimpleRateThrottle

from core.choices import Role
from enforcement.choices import CaseSource
from enforcement.models import ApiKey
from enforcement.permissions import access_grant
from powers.models import Department

KEY_PREFIX = "sx"
PREFIX_LENGTH = 8
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
# 32 random bytes: 43 URL-safe characters.
SECRET_BYTES = 32
# A busy key records its use at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
AUTH_SCHEME = "Api-Key"
HEADER_NAME = "X-Api-Key"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(
    *, department=None, source: str = "", name: str = "", created_by=None
) -> tuple[ApiKey, str]:
    """Make a key bound to exactly one of ``department`` (a powers.Department) or ``source`` (a
    CaseSource value), with its system user. Returns the row and the raw key, which is not kept
    anywhere: show it once. Raises django's ValidationError for no binding, two bindings or an
    unknown source. One transaction."""
    if (department is None) == (not source):
        raise ValidationError(_("An API key is bound to exactly one department or one source."))
    if source and source not in CaseSource.values:
        raise ValidationError(
            _("Unknown case source %(source)s.") % {"source": source}, code="invalid_source"
        )
    if not name:
        name = department.name if department is not None else str(CaseSource(source).label)
        name = name[: ApiKey._meta.get_field("name").max_length]
    elif len(name) > ApiKey._meta.get_field("name").max_length:
        raise ValidationError(_("The name is too long."), code="max_length")
    for _attempt in range(5):
        prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
        raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
        try:
            with transaction.atomic():
                key = _key_insert(
                    prefix=prefix,
                    raw=raw,
                    department=department,
                    source=source,
                    name=name,
                    created_by=created_by,
                )
            return key, raw
        except IntegrityError:
            continue  # the prefix (or its username) was taken: draw another
    raise RuntimeError("could not draw a free API key prefix")


def _key_insert(*, prefix, raw, department, source, name, created_by) -> ApiKey:
    user = get_user_model()(username=f"apikey-{prefix}", first_name=name[:150])
    user.set_unusable_password()
    user.save()
    key = ApiKey.objects.create(
        name=name,
        department=department,
        source=source,
        user=user,
        prefix=prefix,
        secret_hash=_hash(raw),
        created_by=created_by,
    )
    if department is not None:
        user.groups.add(Group.objects.get_or_create(name=Role.DEPARTMENT_LIAISON)[0])
        access_grant(user=user, container=department)
    return key


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Stop ``key`` from authenticating, from the next request on. Idempotent: revoking a
    revoked key keeps its first revocation time. The system user stays, since case events
    name it."""
    now = timezone.now()
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)
    key.refresh_from_db(fields=["revoked_at"])
    return key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The live key whose raw form is ``raw``, or None (malformed, unknown, wrong secret,
    revoked, or its user deactivated). Records ``last_used_at`` at most once per
    LAST_USED_RESOLUTION per key, by a conditional UPDATE (concurrent requests write once)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != PREFIX_LENGTH:
        return None
    key = ApiKey.objects.select_related("user").filter(prefix=parts[1]).first()
    if key is None or not hmac.compare_digest(_hash(raw), key.secret_hash):
        return None
    if key.revoked_at is not None or not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or key.last_used_at <= now - LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        key.last_used_at = now
    return key


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Api-Key <key>`` or ``X-Api-Key: <key>``. No key: not this scheme (the
    next one, the session, is tried). A key that does not authenticate is a 401, never an
    anonymous request. Returns ``(key.user, key)``: ``request.auth`` is the ApiKey."""

    def authenticate(self, request):
        raw = None
        authorization = request.headers.get("Authorization", "")
        scheme, _space, credentials = authorization.partition(" ")
        if scheme.lower() == AUTH_SCHEME.lower():
            raw = credentials.strip()
        elif HEADER_NAME in request.headers:
            raw = request.headers[HEADER_NAME].strip()
        if raw is None:
            return None
        key = api_key_authenticate(raw) if raw else None
        if key is None:
            raise AuthenticationFailed(_("Invalid or revoked API key."))
        return key.user, key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 with WWW-Authenticate instead of 403 to an unauthenticated call.
        return AUTH_SCHEME


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents ApiKeyAuthentication in the OpenAPI schema (drf-spectacular)."""

    target_class = "enforcement.api_keys.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'The value "Api-Key sx_<prefix>_<secret>" (or the key alone in an '
            "X-Api-Key header). Keys are made by `manage.py api_key_create`.",
        }


class ApiKeyRateThrottle(SimpleRateThrottle):
    """At most settings.API_THROTTLE_RATE requests per API key (a session: per user; anonymous:
    per address). Over it: 429 with Retry-After, as a problem document. The address is DRF's
    get_ident under settings.NUM_PROXIES: REMOTE_ADDR, or behind that many proxies the client's
    address they put in X-Forwarded-For; a header the client wrote itself is never a new one."""

    scope = "api"

    def get_rate(self) -> str:
        # Read per request, so that a changed setting (and override_settings) takes effect.
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiKey):
            ident = f"key-{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"addr-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


# --- demo (manage.py seed_demo, through enforcement.demo) ---------------------------------------
DEMO_KEY_NAME = "demo"


def api_keys_demo_seed(report) -> None:
    """One live key per demo department (powers.demo.DEPARTMENTS) and one for the 12345
    hotline's system (an intake source), made once per instance: the raw keys are kept in
    settings.DEMO_KEYS_FILE (under VAR_DIR, readable by this user only, never in the
    repository), so the key an integrator copied yesterday still works today. A kept key that
    no longer authenticates (the database was rebuilt, or someone revoked it) is replaced: the
    department's earlier demo keys are revoked and a new one is made and kept. Adds ``(name,
    raw key)`` to ``report.api_keys`` for seed_demo to print at every start."""
    from powers.demo import DEPARTMENTS  # demo data, not needed by the service above

    path = Path(settings.DEMO_KEYS_FILE)
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        kept = {}
    codes = [code for code, *_rest in DEPARTMENTS]
    departments = {d.code: d for d in Department.objects.filter(code__in=codes)}
    wanted = [
        (f"department:{code}", departments[code], "") for code in codes if code in departments
    ]
    wanted.append((f"source:{CaseSource.HOTLINE_12345}", None, CaseSource.HOTLINE_12345))
    changed = False
    for slot, department, source in wanted:
        raw = kept.get(slot, "")
        key = api_key_authenticate(raw) if raw else None
        if key is None or key.department != department or key.source != source:
            earlier = ApiKey.objects.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True)
            earlier = (
                earlier.filter(department=department)
                if department
                else earlier.filter(source=source, department__isnull=True)
            )
            for stale in earlier:
                api_key_revoke(key=stale)
            _key, raw = api_key_create(department=department, source=source, name=DEMO_KEY_NAME)
            kept[slot] = raw
            changed = True
        label = department.name if department else str(CaseSource(source).label)
        report.api_keys.append((label, raw))
    if changed:
        _demo_keys_write(path, kept)


def _demo_keys_write(path: Path, kept: dict) -> None:
    """Write the kept keys privately and atomically (a rename), so that a reader never sees
    half a file and no other user ever reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(kept, handle, ensure_ascii=False, indent=1)
    os.replace(tmp, path)
