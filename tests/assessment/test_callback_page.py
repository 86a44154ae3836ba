"""The callback list page: the callback role's alone, never a case the caller handled; the
answer recorded through assessment.callbacks; its queries do not grow with the callbacks."""

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from assessment.callbacks import callbacks_draw
from assessment.choices import CallbackState
from assessment.models import Callback
from enforcement.choices import CaseSource, CaseStatus
from tests.assessment.test_callbacks import closed

pytestmark = pytest.mark.django_db

URL = "/callbacks/"


def signed_in(world, who: str) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(world["users"][who])
    return client


def draw(world, n: int = 1) -> list[Callback]:
    """``n`` closed 12345 cases called back (the day's draw, made once, then added to)."""
    cases = [closed(world, f"回访页 {i}", source=CaseSource.HOTLINE_12345) for i in range(n)]
    made = callbacks_draw(street=cases[0].street, day=timezone.localdate(), rate=Decimal("0"))
    for case in cases:
        Callback.objects.get_or_create(
            case=case, defaults={"draw": made, "drawn_at": made.drawn_at}
        )
    return list(Callback.objects.filter(case__in=cases).order_by("pk"))


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("hh_callback", 200),
        ("hh_command", 403),
        ("hh_officer", 403),
        ("dept_liaison", 403),
    ],
)
def test_who_opens_the_callback_list(world, who, status):
    assert signed_in(world, who).get(URL).status_code == status


def test_the_caller_records_an_answer_and_not_solved_reopens(world):
    (callback,) = draw(world)
    client = signed_in(world, "hh_callback")
    html = client.get(URL).content.decode()
    assert f'data-callback="{callback.pk}"' in html and "138****5678" in html

    response = client.post(
        f"/callbacks/{callback.pk}/record/",
        {"reached": "yes", "solved": "not_solved", "satisfaction": "unsatisfied", "note": "没修好"},
    )

    assert response.status_code == 302
    callback.refresh_from_db()
    assert callback.state == CallbackState.ANSWERED
    callback.case.refresh_from_db()
    assert callback.case.status == CaseStatus.REOPENED
    assert f'data-callback="{callback.pk}"' not in client.get(URL).content.decode()


def test_a_reached_answer_without_its_parts_is_refused(world):
    (callback,) = draw(world)
    client = signed_in(world, "hh_callback")
    client.post(f"/callbacks/{callback.pk}/record/", {"reached": "yes"})
    callback.refresh_from_db()
    assert callback.state == CallbackState.WAITING


def test_the_lists_queries_do_not_grow_with_the_callbacks(world, django_assert_max_num_queries):
    draw(world, 1)
    client = signed_in(world, "hh_callback")
    with django_assert_max_num_queries(12):
        client.get(URL)
    draw(world, 6)
    with django_assert_max_num_queries(12):
        assert client.get(URL).content.decode().count("data-callback=") == 7
