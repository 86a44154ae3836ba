"""Each role's start page and top bar, and the notifications list: one's own messages only,
opening one marks it read and goes to its case; the CSP header on every page."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from core.models import Notification

pytestmark = pytest.mark.django_db


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.mark.parametrize(
    ("username", "start"),
    [
        ("hh_command", "/desk/"),
        ("dept_liaison", "/inbox/"),
        ("hh_leader", "/dashboard/"),
        ("hh_officer", "/field/tasks/"),
        ("hh_grid", "/field/report/"),
        ("district_admin", None),
    ],
)
def test_each_role_lands_on_its_own_page(demo, username, start):
    response = signed_in(username).get("/")

    if start:
        assert (response.status_code, response["Location"]) == (302, start)
    else:
        assert response.status_code == 200


def test_the_field_roles_start_at_their_phone_pages(demo):
    officer = signed_in("hh_officer").get("/")
    grid = signed_in("hh_grid").get("/")

    assert officer.status_code == 302 and officer["Location"] == "/field/tasks/"
    assert grid.status_code == 302 and grid["Location"] == "/field/report/"
    html = signed_in("hh_officer").get("/field/tasks/").content.decode()
    assert 'href="/desk/"' not in html and 'href="/field/outbox/"' in html


def test_the_top_bar_lists_the_pages_of_the_role(demo):
    command = signed_in("hh_command").get("/desk/").content.decode()
    liaison = signed_in("dept_liaison").get("/inbox/").content.decode()
    admin = signed_in("district_admin").get("/").content.decode()

    assert 'href="/desk/" aria-current="page"' in command and 'href="/dashboard/"' in command
    assert 'href="/inbox/"' not in command
    assert 'href="/inbox/" aria-current="page"' in liaison and 'href="/desk/"' not in liaison
    assert 'href="/admin/"' in admin


def _notify(username: str, *, reference: str = "", read: bool = False) -> Notification:
    from django.utils import timezone

    return Notification.objects.create(
        recipient=get_user_model().objects.get(username=username),
        kind="test",
        title=f"给{username}的消息",
        body="正文",
        reference=reference,
        read_at=timezone.now() if read else None,
    )


def test_the_list_shows_ones_own_notifications_unread_first(demo):
    Notification.objects.all().delete()
    read = _notify("hh_command", read=True)
    unread = _notify("hh_command")
    other = _notify("fzm_command")
    client = signed_in("hh_command")

    response = client.get("/notifications/")
    badge = client.get("/desk/").content.decode()

    assert [n.pk for n in response.context["notifications"]] == [unread.pk, read.pk]
    assert other.title not in response.content.decode()
    assert 'class="badge" aria-label="1 条未读">1<' in badge


def test_opening_a_notification_marks_it_read_and_goes_to_its_case(demo):
    note = _notify("hh_command", reference="320104010-2026-000001")

    response = signed_in("hh_command").post(f"/notifications/{note.pk}/open")

    assert response["Location"] == "/cases/320104010-2026-000001/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_another_users_notification_is_not_found_and_stays_unread(demo):
    note = _notify("fzm_command")

    response = signed_in("hh_command").post(f"/notifications/{note.pk}/open")

    assert response.status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_all_read_reads_only_ones_own(demo):
    mine, theirs = _notify("hh_command"), _notify("fzm_command")

    response = signed_in("hh_command").post("/notifications/read-all")

    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None


def test_a_get_never_marks_read(demo):
    note = _notify("hh_command")

    assert signed_in("hh_command").get(f"/notifications/{note.pk}/open").status_code == 405
    note.refresh_from_db()
    assert note.read_at is None


def test_the_notifications_list_has_a_constant_query_budget(demo, django_assert_max_num_queries):
    client = signed_in("hh_command")
    _notify("hh_command")
    with django_assert_max_num_queries(6):
        client.get("/notifications/")
    for _n in range(25):
        _notify("hh_command", reference="320104010-2026-000001")
    with django_assert_max_num_queries(6):
        client.get("/notifications/")


@pytest.mark.parametrize(
    ("username", "path"),
    [
        (None, "/accounts/login/"),
        ("hh_officer", "/field/tasks/"),
        ("hh_grid", "/field/report/"),
        ("hh_command", "/desk/field-sync/"),
        ("hh_command", "/desk/"),
        ("hh_command", "/notifications/"),
        ("dept_liaison", "/inbox/"),
        ("hh_leader", "/dashboard/"),
        ("hh_leader", "/powers/usage/320104010/"),
        ("district_admin", "/admin/"),
        ("district_admin", "/api/docs/"),
    ],
)
def test_every_page_has_the_strict_policy(demo, username, path):
    client = signed_in(username) if username else Client()

    response = client.get(path)

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.parametrize(
    "path", ["/desk/", "/inbox/", "/dashboard/", "/notifications/", "/cases/x/"]
)
def test_an_anonymous_visitor_is_sent_to_the_login(path):
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
