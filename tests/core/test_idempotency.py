"""Idempotency-Key on POSTs (core.idempotency): a retry is answered as the first time and
changes nothing; the unique constraint, not a read before the write, decides."""

import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import path
from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import IdempotentPostMixin, idempotency_records_purge
from core.models import IdempotencyRecord, Notification
from core.tasks import idempotency_records_purge_task
from tests.factories.users import UserFactory

PROBLEMS = "https://shaoxiang.invalid/problems/"


class NoteInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)


class NoteView(IdempotentPostMixin, APIView):
    """Test-only: files a notification to the caller, answers 201 with its id."""

    pause = 0.0

    def post(self, request):
        serializer = NoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = Notification.objects.create(
            recipient=request.user, kind="test", title=serializer.validated_data["title"], body=""
        )
        time.sleep(self.pause)  # keeps the transaction open for the concurrency test
        return Response(
            {"id": note.pk, "title": note.title},
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/notes/{note.pk}/", "ETag": '"1"'},
        )


class SlowNoteView(NoteView):
    pause = 0.5


urlpatterns = [
    path("api/notes/", NoteView.as_view()),
    path("api/slow-notes/", SlowNoteView.as_view()),
]

pytestmark = pytest.mark.urls(__name__)


def post(client, body, key=None, url="/api/notes/"):
    headers = {"idempotency-key": key} if key is not None else {}
    return client.post(url, body, content_type="application/json", headers=headers)


@pytest.fixture
def caller(db, client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_a_retry_gets_the_first_response_byte_for_byte_and_creates_nothing(client, caller):
    first = post(client, {"title": "占道经营"}, key="order-1")

    again = post(client, {"title": "占道经营"}, key="order-1")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert again["Location"] == first["Location"]
    assert again["ETag"] == '"1"'
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Notification.objects.filter(recipient=caller).count() == 1
    record = IdempotencyRecord.objects.get(owner=caller, key="order-1")
    assert (record.method, record.path, record.status_code) == ("POST", "/api/notes/", 201)


def test_the_same_key_with_another_body_is_a_422_problem(client, caller):
    post(client, {"title": "占道经营"}, key="order-1")

    response = post(client, {"title": "偷排污水"}, key="order-1")

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == PROBLEMS + "unprocessable-entity"
    assert Notification.objects.filter(recipient=caller).count() == 1


def test_a_failed_first_attempt_is_not_stored_and_the_key_can_be_used_again(client, caller):
    failed = post(client, {"title": ""}, key="order-1")

    fixed = post(client, {"title": "占道经营"}, key="order-1")

    assert failed.status_code == 400
    assert fixed.status_code == 201
    assert not fixed.has_header("Idempotent-Replayed")
    assert Notification.objects.filter(recipient=caller).count() == 1


def test_two_callers_may_use_the_same_key(client, caller):
    other = UserFactory()
    other_client = Client()
    other_client.force_login(other)

    mine = post(client, {"title": "占道经营"}, key="order-1")
    theirs = post(other_client, {"title": "占道经营"}, key="order-1")

    assert mine.status_code == theirs.status_code == 201
    assert not theirs.has_header("Idempotent-Replayed")
    assert Notification.objects.filter(kind="test").count() == 2


def test_a_key_older_than_24_hours_is_a_new_request(client, caller):
    post(client, {"title": "占道经营"}, key="order-1")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))

    again = post(client, {"title": "偷排污水"}, key="order-1")

    assert again.status_code == 201
    assert not again.has_header("Idempotent-Replayed")
    assert Notification.objects.filter(recipient=caller).count() == 2
    assert IdempotencyRecord.objects.get().created_at > timezone.now() - timedelta(minutes=1)


def multipart(boundary: str, photo: bytes) -> bytes:
    return (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="title"\r\n\r\n'
            "占道经营\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="photo"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )


def post_multipart(client, boundary, photo):
    return client.post(
        "/api/notes/",
        multipart(boundary, photo),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"idempotency-key": "upload-1"},
    )


def test_a_multipart_retry_with_a_new_boundary_is_the_same_request(client, caller):
    first = post_multipart(client, "aaaa1111", b"\xff\xd8 photo")

    again = post_multipart(client, "bbbb2222", b"\xff\xd8 photo")
    other_photo = post_multipart(client, "cccc3333", b"\xff\xd8 another photo")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert other_photo.status_code == 422
    assert Notification.objects.filter(recipient=caller).count() == 1


def test_without_a_key_every_post_does_the_work(client, caller):
    post(client, {"title": "占道经营"})
    post(client, {"title": "占道经营"})

    assert Notification.objects.filter(recipient=caller).count() == 2
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.parametrize("key", ["", "with space", "中文", "x" * 256])
def test_a_malformed_key_is_a_400_problem(client, caller, key):
    response = post(client, {"title": "占道经营"}, key=key)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]
    assert Notification.objects.count() == 0


def test_an_anonymous_post_is_refused_and_not_recorded(client, db):
    response = post(client, {"title": "占道经营"}, key="order-1")

    assert response.status_code == 401
    assert IdempotencyRecord.objects.count() == 0


def test_the_purge_deletes_only_records_older_than_24_hours(caller):
    now = timezone.now()
    for key, age in [("old", timedelta(hours=25)), ("fresh", timedelta(hours=23))]:
        IdempotencyRecord.objects.create(
            owner=caller, key=key, method="POST", path="/", request_hash="0" * 64,
            status_code=201, created_at=now - age,
        )  # fmt: skip

    assert idempotency_records_purge(now=now) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]


def test_the_purge_task_runs_hourly_from_beat(caller):
    IdempotencyRecord.objects.create(
        owner=caller, key="old", method="POST", path="/", request_hash="0" * 64,
        created_at=timezone.now() - timedelta(days=2),
    )  # fmt: skip

    idempotency_records_purge_task()

    assert IdempotencyRecord.objects.count() == 0
    entry = settings.CELERY_BEAT_SCHEDULE["idempotency-purge"]
    assert entry["task"] == "core.tasks.idempotency_records_purge_task"
    assert entry["schedule"] == 3600.0


# serialized_rollback: the data migrations' rows come back after the flush (a plain flush would
# also re-run post_migrate, and guardian's AnonymousUser would clash with the next restore).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_posts_with_one_key_do_the_work_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers at BEGIN IMMEDIATE")
    user = UserFactory()
    start = threading.Barrier(2)
    responses = []

    def send():
        client = Client()
        client.force_login(user)
        start.wait()
        try:
            responses.append(
                post(client, {"title": "占道经营"}, key="order-1", url="/api/slow-notes/")
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(r.status_code for r in responses) == [201, 201]
    assert sorted(r.has_header("Idempotent-Replayed") for r in responses) == [False, True]
    assert responses[0].content == responses[1].content
    assert Notification.objects.filter(recipient=user).count() == 1


@pytest.mark.urls("config.urls")
def test_the_admin_lists_records_without_their_stored_body(client, caller):
    record = IdempotencyRecord.objects.create(
        owner=caller, key="order-1", method="POST", path="/api/v1/cases/", request_hash="0" * 64,
        status_code=201, response_body="{\"title\": \"保密内容\"}".encode(),
    )  # fmt: skip
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    listing = client.get("/admin/core/idempotencyrecord/")
    detail = client.get(f"/admin/core/idempotencyrecord/{record.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    assert "order-1" in listing.content.decode()
    html = detail.content.decode()
    assert "请求摘要（SHA-256）" in html  # the request's digest is listed …
    assert "响应正文" not in html  # … the stored response is not
