"""The command centre's desk: who may open it, what each queue holds and counts, the filters
shared with the API, search, keyset pages, the export, and a query budget that does not grow
with the cases."""

import csv
import io

import pytest
from openpyxl import load_workbook

from enforcement import workflow
from tests.enforcement.views.conftest import HH_GRID_CELL, browser_for, intake

pytestmark = pytest.mark.django_db

DESK = "/desk/"


def numbers_in(response) -> set[str]:
    """The numbers of the cases listed, each also linked in the page."""
    html = response.content.decode()
    numbers = {case.number for case in response.context["page"].rows}
    assert all(f'href="/cases/{number}/"' in html for number in numbers)
    return numbers


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("hh_officer", 403),
        ("hh_grid", 403),
        ("dept_liaison", 403),
        ("legal_reviewer", 403),
        ("hh_command", 200),
        ("hh_leader", 200),
        ("district_admin", 200),
    ],
)
def test_the_desk_is_the_streets_own(world, who, status):
    response = browser_for(world, who).get(DESK)

    assert response.status_code == status
    if status == 302:
        assert response["Location"] == "/accounts/login/?next=/desk/"


def test_each_queue_holds_its_cases_and_the_tabs_count_them(world):
    cases = world["cases"]
    client = browser_for(world, "hh_command")

    reported = client.get(DESK)
    accepted = client.get(DESK, {"queue": "accepted"})
    in_hand = client.get(DESK, {"queue": "in_hand"})

    # F reported (hh); B accepted; A dispatched to a team, D and E whistled; C is another street's
    assert numbers_in(reported) == {cases["F"].number}
    assert numbers_in(accepted) == {cases["B"].number}
    assert numbers_in(in_hand) == {cases[k].number for k in "ADE"}
    assert reported.context["counts"] == {
        "reported": 1,
        "accepted": 1,
        "in_hand": 3,
        "resolved": 0,
        "supervisions": 0,
    }
    assert 'data-queue-count="in_hand">3<' in reported.content.decode()


def test_another_streets_command_centre_sees_none_of_these_cases(world):
    cases = world["cases"]
    response = browser_for(world, "fzm_command").get(DESK)

    assert numbers_in(response) == {cases["C"].number}
    assert response.context["counts"]["in_hand"] == 0


def test_the_filters_are_the_apis_and_an_unknown_one_is_an_error(world):
    cases = world["cases"]
    client = browser_for(world, "hh_command")

    in_cell = client.get(DESK, {"queue": "in_hand", "cell": HH_GRID_CELL})
    unknown = client.get(DESK, {"colour": "red"})
    bad_choice = client.get(DESK, {"source": "pigeon"})

    assert numbers_in(in_cell) == {cases["A"].number}
    assert in_cell.context["counts"]["in_hand"] == 1
    assert unknown.status_code == 400
    assert "Unknown filter" in unknown.content.decode() or "未知" in unknown.content.decode()
    assert bad_choice.status_code == 400


def test_search_finds_a_case_by_its_number_or_address(world):
    cases = world["cases"]
    b = cases["B"]
    b.address = "夫子庙东路99号"
    b.save(update_fields=["address"])
    client = browser_for(world, "hh_command")

    by_number = client.get(DESK, {"queue": "in_hand", "q": cases["D"].number})
    by_address = client.get(DESK, {"queue": "accepted", "q": "东路99"})
    nothing = client.get(DESK, {"queue": "accepted", "q": "不存在的地址"})

    assert numbers_in(by_number) == {cases["D"].number}
    assert numbers_in(by_address) == {b.number}
    assert numbers_in(nothing) == set()


def test_pages_follow_each_other_by_keyset_without_repeating_a_case(world, monkeypatch):
    from enforcement.views import desk

    monkeypatch.setattr(desk, "PAGE_SIZE", 2)
    client = browser_for(world, "hh_command")
    seen = []
    response = client.get(DESK, {"queue": "in_hand"})
    while True:
        page = response.context["page"]
        seen += [case.number for case in page.rows]
        if not page.next_cursor:
            break
        response = client.get(DESK, {"queue": "in_hand", "cursor": page.next_cursor})

    expected = [world["cases"][k].number for k in "EDA"]  # newest first
    assert seen == expected
    assert client.get(DESK, {"queue": "in_hand", "cursor": "not-a-cursor"}).status_code == 400


def test_the_export_is_the_filtered_queue_and_formula_safe(world):
    b = world["cases"]["B"]
    b.description = '=HYPERLINK("http://evil")'
    b.save(update_fields=["description"])
    client = browser_for(world, "hh_command")

    as_csv = client.get(DESK, {"queue": "accepted", "export": "csv"})
    as_xlsx = client.get(DESK, {"queue": "accepted", "export": "xlsx"})
    wrong = client.get(DESK, {"queue": "accepted", "export": "pdf"})

    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [b.number]
    assert rows[1][8] == '\'=HYPERLINK("http://evil")'
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][0] == b.number
    assert values[1][8] == '\'=HYPERLINK("http://evil")'
    assert sheet.cell(row=2, column=9).data_type == "s"
    assert wrong.status_code == 400


def test_a_countdown_carries_the_deadline_of_the_running_clock(world):
    from enforcement.models import Timer

    f = world["cases"]["F"]
    timer = Timer.objects.filter(case=f, state__in=["pending", "warned"]).order_by("due_at").first()
    html = browser_for(world, "hh_command").get(DESK).content.decode()

    from django.utils import timezone

    assert f'data-deadline="{timezone.localtime(timer.due_at).isoformat()}"' in html


def test_the_desk_has_a_strict_content_security_policy(world):
    response = browser_for(world, "hh_command").get(DESK)

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


@pytest.mark.parametrize("queue", ["reported", "accepted", "in_hand", "supervisions"])
def test_the_desks_queries_do_not_grow_with_the_cases(world, django_assert_max_num_queries, queue):
    command = world["users"]["hh_command"]
    client = browser_for(world, "hh_command")
    client.get(DESK, {"queue": queue})  # warm the per-process caches (matter types, cells)
    with django_assert_max_num_queries(10):
        assert client.get(DESK, {"queue": queue}).status_code == 200
    for n in range(12):
        case = intake(HH_GRID_CELL, f"更多 {n}")
        if queue != "reported":
            workflow.case_accept(case=case, actor=command)
    with django_assert_max_num_queries(10):
        assert client.get(DESK, {"queue": queue}).status_code == 200


def test_a_case_stays_overdue_after_the_sweep_until_its_supervision_is_answered(world):
    from datetime import timedelta

    from django.utils import timezone

    from enforcement.models import Timer
    from enforcement.supervisions import supervision_answer
    from enforcement.timers import timers_fire_due

    b = world["cases"]["B"]  # accepted: its dispatch clock runs
    client = browser_for(world, "hh_command")
    overdue = {"queue": "accepted", "overdue": "true"}
    assert numbers_in(client.get(DESK, overdue)) == set()
    past = timezone.now() - timedelta(minutes=1)
    Timer.objects.filter(case=b, state__in=["pending", "warned"]).update(
        due_at=past, warn_at=past, next_at=past
    )
    assert numbers_in(client.get(DESK, overdue)) == {b.number}  # past due, not yet swept

    for _sweep in range(3):
        timers_fire_due(case=b)
    supervision = b.supervisions.get(level=1, state="open")
    swept = client.get(DESK, overdue)
    supervision_answer(supervision=supervision, actor=world["users"]["hh_command"], response="已派")
    answered = client.get(DESK, overdue)

    assert not Timer.objects.filter(
        case=b, stage="dispatch", state__in=["pending", "warned"]
    ).exists()
    assert numbers_in(swept) == {b.number}  # fired: its open supervision keeps it overdue
    assert numbers_in(answered) == set()
