"""``Idempotency-Key`` for POSTs of the API: a client that did not get an answer may send the same
request again with the same key and is answered as the first time, without the work being done
twice (a 12345 work order filed once however often the hotline's system retries).

The unique constraint on ``IdempotencyRecord(owner, key)`` does the work, not a read before the
write: the record is inserted first, in the request's transaction, and a second request with the
same key fails that insert (on PostgreSQL it waits for the first transaction to end). The
response is stored in the same transaction as the work, so both commit or neither does.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from core.api import UnprocessableEntity
from core.models import IdempotencyRecord

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# How long a key is remembered; a key older than this is a new request (and the purge drops it).
IDEMPOTENCY_TTL = timedelta(hours=24)
# Response headers replayed with the stored body.
STORED_HEADERS = ("Content-Type", "ETag", "Location")
# 1 to 255 visible ASCII characters (a UUID, a work-order number …).
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_CHUNK = 64 * 1024


class IdempotentReplay(Exception):
    """Raised in ``initial()`` to answer with a stored response instead of running the handler."""

    def __init__(self, response: HttpResponse):
        super().__init__("idempotent replay")
        self.response = response


def idempotency_key_of(request) -> str | None:
    """The request's key, None without the header; a malformed key is a 400."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not _KEY.match(key):
        raise ValidationError(
            {IDEMPOTENCY_HEADER: [_("Expected 1 to 255 visible ASCII characters.")]}
        )
    return key


def request_fingerprint(request) -> str:
    """SHA-256 of the method, the path with its query and the body. A multipart body is hashed as
    its parsed fields and files, since clients pick a new random boundary on every try; any other
    body byte for byte (``request.body``, bounded by DATA_UPLOAD_MAX_MEMORY_SIZE: over it, 413).
    """
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b"\n" + request.get_full_path().encode() + b"\n")
    if (request.content_type or "").startswith("multipart/"):
        for name in sorted(request.data.keys()):
            if name in request.FILES:
                continue
            for value in request.data.getlist(name):
                digest.update(b"field\0%s\0%s\0" % (name.encode(), str(value).encode()))
        for name in sorted(request.FILES.keys()):
            for upload in request.FILES.getlist(name):
                digest.update(b"file\0%s\0%s\0" % (name.encode(), (upload.name or "").encode()))
                for chunk in upload.chunks(_CHUNK):
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request._request.body)
    return digest.hexdigest()


def idempotency_records_purge(*, now=None) -> int:
    """Delete the records older than IDEMPOTENCY_TTL; returns how many. Idempotent."""
    now = now or timezone.now()
    deleted, _by_model = IdempotencyRecord.objects.filter(
        created_at__lt=now - IDEMPOTENCY_TTL
    ).delete()
    return deleted


def _record_claim(*, owner, key: str, method: str, path: str, request_hash: str):
    """Insert the record of a new request, or return the stored response of an earlier one.

    Returns ``(record, None)`` when this request is new (the caller runs it and stores the
    response in ``record``) or ``(None, response)`` to replay. Raises UnprocessableEntity (422)
    when the key was used with another request. Must run inside the request's transaction."""
    for _attempt in range(3):
        try:
            with transaction.atomic():  # a savepoint: the failed insert leaves the rest usable
                record = IdempotencyRecord.objects.create(
                    owner=owner, key=key, method=method, path=path[:500], request_hash=request_hash
                )
            return record, None
        except IntegrityError:
            pass
        # The other request committed (on PostgreSQL the insert above waited for it).
        existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if existing is None:
            continue  # purged in between: insert again
        if existing.created_at < timezone.now() - IDEMPOTENCY_TTL:
            existing.delete()  # forgotten: this is a new request
            continue
        if existing.request_hash != request_hash:
            raise UnprocessableEntity(
                _(
                    "This Idempotency-Key was already used with a different request: "
                    "use a new key for a new request."
                )
            )
        return None, _stored_response(existing)
    raise UnprocessableEntity(_("This Idempotency-Key is being reused too quickly; retry."))


def _stored_response(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.status_code)
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


class IdempotentPostMixin:
    """For DRF views (APIView, GenericAPIView, ViewSet): a POST carrying ``Idempotency-Key`` runs
    at most once per (caller, key).

    - The whole request then runs in one ``transaction.atomic()``; the record is inserted first.
    - The same key again with the same method, path and body within 24 hours: the first response
      again (status, body byte for byte, Content-Type/ETag/Location), with
      ``Idempotent-Replayed: true``; nothing is changed.
    - The same key with another request: 422 problem.
    - A first answer that is not 2xx rolls back the request's transaction, record included, so
      the client may fix the request and retry with the same key. A handler that answers with
      an error must therefore not count on its writes.
    - Without the header, or for an anonymous caller, the POST runs as usual (no record).

    Put the mixin first among the bases: ``class CaseViewSet(IdempotentPostMixin, ViewSet)``.
    """

    # Actions (ViewSet action names) whose responses must not be stored, e.g. because they
    # hold personal data in the clear: the key is accepted and ignored for them.
    idempotency_exempt_actions: frozenset[str] = frozenset()

    def dispatch(self, request, *args, **kwargs):
        if request.method != "POST" or IDEMPOTENCY_HEADER not in request.headers:
            return super().dispatch(request, *args, **kwargs)
        self._idempotency_record = None
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            record = self._idempotency_record
            if record is not None:
                if 200 <= response.status_code < 300 and not response.streaming:
                    _response_store(record, response)
                else:
                    transaction.set_rollback(True)
        return response

    def initial(self, request, *args, **kwargs):
        key = idempotency_key_of(request) if request.method == "POST" else None
        if key is not None and not (request.content_type or "").startswith("multipart/"):
            # Read the body now, before authentication may consume the stream (DRF then parses
            # the kept copy).
            request._request.body  # noqa: B018
        super().initial(request, *args, **kwargs)
        if key is None or not request.user.is_authenticated:
            return
        if getattr(self, "action", None) in self.idempotency_exempt_actions:
            return  # runs as usual, its response not kept
        record, replay = _record_claim(
            owner=request.user,
            key=key,
            method=request.method,
            path=request.path,
            request_hash=request_fingerprint(request),
        )
        if replay is not None:
            raise IdempotentReplay(replay)
        self._idempotency_record = record

    def handle_exception(self, exc):
        if isinstance(exc, IdempotentReplay):
            return exc.response
        return super().handle_exception(exc)


def _response_store(record: IdempotencyRecord, response) -> None:
    if hasattr(response, "render"):
        response.render()  # rendering twice is a no-op: Django sends these same bytes
    record.status_code = response.status_code
    record.response_body = response.content
    record.response_headers = {
        name: response[name] for name in STORED_HEADERS if response.has_header(name)
    }
    record.save(update_fields=["status_code", "response_body", "response_headers"])
