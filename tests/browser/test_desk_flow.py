"""The command centre's working day in Chromium, as its people would do it, in Chinese and then
in English: a reported case accepted, routed by the power list (the proposal names the power),
dispatched and, after the officer's result, verified; a duplicate merged from the desk; a case
whistled to two departments whose liaisons answer in their own browser, until the case resolves
on the desk without a reload; a supervision answered; two staff on the same case, the second
shown a conflict rather than overwriting. Every page passes axe and breaks no CSP rule."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from core.choices import Role
from enforcement import workflow
from enforcement.choices import CaseSource, CaseStatus
from enforcement.models import Case, DepartmentCall, MatterType, Timer
from enforcement.permissions import access_grant
from enforcement.services import case_intake
from enforcement.timers import timers_fire_due
from powers.models import Department
from tests.browser.conftest import PageWatch, axe_serious, login
from tests.enforcement.api.conftest import HH_GRID_CELL, point_in
from tests.factories.users import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "zh-CN": {
        "accepted": "已受理",
        "dispatched": "已派发",
        "closed": "已结案",
        "conflict": "未办理",
    },
    "en-US": {
        "accepted": "Accepted",
        "dispatched": "Dispatched",
        "closed": "Closed",
        "conflict": "Not done",
    },
}


def file_case(matter_code: str, description: str, cell: str = HH_GRID_CELL) -> Case:
    lat, lng = point_in(cell)
    return case_intake(
        source=CaseSource.RESIDENT,
        matter_type=MatterType.objects.get(code=matter_code),
        description=description,
        lat=lat,
        lng=lng,
        reporter_phone="13812345678",
        actor=None,
    ).case


def checked(page, watch, seen: set):
    """axe and the CSP on the page as drawn now, once per kind of page."""
    kind = page.url.split("?")[0].rstrip("/").rsplit("/", 2)[-2:]
    key = "case" if "cases" in kind else "/".join(kind)
    if key in seen:
        return
    seen.add(key)
    assert axe_serious(page) == [], page.url
    assert watch.csp == [], watch.csp


def settle(page) -> None:
    """Wait until the page and what it loads after (the case page's actions panel) are in: the
    tests' SQLite database, shared in memory with the live server, refuses a write while
    another connection reads ("table is locked") where the embedded file database would wait."""
    page.wait_for_load_state("load")
    if page.locator("#case-actions").count():
        page.wait_for_selector("#case-actions:not([hx-get])")
    page.wait_for_load_state("networkidle")


def open_action(page, name: str):
    """The action's form, its <details> opened when it is a secondary one."""
    form = page.locator(f"form.action-{name}")
    details = page.locator(f"details:has(form.action-{name})")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return form


def status_text(page) -> str:
    return page.locator("#case-status .status").inner_text().strip()


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_command_centres_day(live_server, new_page, demo, sla_defaults, locale, tmp_path):
    words = WORDS[locale]
    base = live_server.url
    seen: set = set()
    original = file_case("LDLF", "人行道乱堆乱放，影响通行")
    duplicate = file_case("LDLF", "又有人反映人行道堆放杂物")
    assert duplicate.likely_duplicate_of_id == original.pk

    # the command centre lands on its desk
    desk = new_page(locale=locale)
    watch = PageWatch(desk)
    login(desk, base, "hh_command")
    assert desk.url == f"{base}/desk/"
    checked(desk, watch, seen)
    desk.screenshot(path=str(tmp_path / f"desk-{locale}.png"))

    # the duplicate is merged into its original, side by side in the reported queue
    row = desk.locator("tr", has=desk.locator(f'a[href="/cases/{duplicate.number}/"]'))
    row.locator("form button[type=submit]").click()
    settle(desk)
    assert Case.objects.get(pk=duplicate.pk).status == CaseStatus.MERGED
    assert desk.locator(f'a[href="/cases/{duplicate.number}/"]').count() == 0

    # the original is accepted, then routed by the power list: the proposal names the power
    desk.click(f'a[href="/cases/{original.number}/"]')
    desk.wait_for_url(f"{base}/cases/{original.number}/")
    checked(desk, watch, seen)
    open_action(desk, "accept").locator("button[type=submit]").click()
    settle(desk)
    assert status_text(desk) == words["accepted"]
    proposal = desk.locator(".proposal").inner_text()
    assert "SR-011" in proposal
    desk.screenshot(path=str(tmp_path / f"case-{locale}.png"), full_page=True)
    open_action(desk, "route").locator("button[type=submit]").click()
    settle(desk)
    assert status_text(desk) == words["dispatched"]
    routed = Case.objects.get(pk=original.pk)
    assert routed.team is not None  # the street holds SR-011: its own team

    # the officer records the result (their phone pages come later), the desk verifies it
    officer = routed.team.officers.select_related("user").first().user
    routed = workflow.case_arrive(case=routed, actor=officer, lat=routed.lat, lng=routed.lng)
    workflow.case_resolve(case=routed, actor=officer, result="已清理", handling_mode="service")
    desk.reload()
    settle(desk)
    form = open_action(desk, "verify")
    form.locator("textarea").fill("现场核查，已清理")
    form.locator("button[type=submit]").click()
    settle(desk)
    assert status_text(desk) == words["closed"]
    assert Case.objects.get(pk=original.pk).status == CaseStatus.CLOSED

    # a case of two departments' powers (工地围挡: housing JS-001, city management SR-008)
    fence = file_case("GDWD", "工地围挡倒塌占道")
    desk.goto(f"{base}/cases/{fence.number}/")
    settle(desk)
    open_action(desk, "accept").locator("button[type=submit]").click()
    settle(desk)
    form = open_action(desk, "whistle")
    boxes = form.locator("input[type=checkbox]")
    assert boxes.count() == 2
    for i in range(2):
        boxes.nth(i).check()
    form.locator("button[type=submit]").click()
    settle(desk)
    fence = Case.objects.get(pk=fence.pk)
    assert sorted(fence.calls.values_list("department__code", flat=True)) == ["CG", "ZJ"]

    # the desk waits on "to verify"; the liaisons answer in browsers of their own
    desk.goto(f"{base}/desk/?queue=resolved")
    settle(desk)
    zj = UserFactory(username="zj_liaison", first_name="钱")
    zj.set_password("shaoxiang-demo")
    zj.save()
    zj.groups.add(Group.objects.get(name=Role.DEPARTMENT_LIAISON))
    access_grant(user=zj, container=Department.objects.get(code="ZJ"))
    for username, department in (("dept_liaison", "CG"), ("zj_liaison", "ZJ")):
        inbox = new_page(locale=locale, width=390, height=844)
        inbox_watch = PageWatch(inbox)
        login(inbox, base, username)
        assert inbox.url == f"{base}/inbox/"
        call = fence.calls.get(department__code=department)
        item = inbox.locator(f"#call-{call.pk}")
        checked(inbox, inbox_watch, seen)
        for action in ("report_in", "accept"):
            item.locator(f'form[action$="/{action}/"] button[type=submit]').click()
            settle(inbox)
        complete = item.locator('form[action$="/complete/"]')
        complete.locator("textarea").fill(f"{department} 已处理完毕")
        complete.locator("button[type=submit]").click()
        settle(inbox)
        assert DepartmentCall.objects.get(pk=call.pk).status == "completed"
    assert Case.objects.get(pk=fence.pk).status == CaseStatus.RESOLVED
    # the resolved case appears on the open desk by itself (the list refreshes every 10 s)
    desk.wait_for_selector(f'a[href="/cases/{fence.number}/"]', timeout=25_000)
    checked(desk, watch, seen)

    # a supervision: the dispatch of an accepted case is late; the command centre answers it
    late = workflow.case_accept(case=file_case("LDLF", "楼道堆放杂物"), actor=None)
    past = timezone.now() - timedelta(minutes=1)
    Timer.objects.filter(case=late, state__in=["pending", "warned"]).update(
        due_at=past, warn_at=past, next_at=past
    )
    for _sweep in range(3):  # a timer past its warning and its deadline: warned, then fired
        timers_fire_due(case=late)
    supervision = late.supervisions.get(level=1)
    desk.goto(f"{base}/cases/{late.number}/")
    settle(desk)
    answer = desk.locator(f'form[action$="/supervisions/{supervision.pk}/answer/"]')
    answer.locator("textarea").fill("已安排派发")
    answer.locator("button[type=submit]").click()
    settle(desk)
    supervision.refresh_from_db()
    assert (supervision.state, supervision.response) == ("answered", "已安排派发")

    # two staff on the same reported case: the second is shown the conflict, not applied
    contested = file_case("LTSK", "夜间露天烧烤油烟")
    leader = new_page(locale=locale)
    login(leader, base, "hh_leader")
    leader.goto(f"{base}/cases/{contested.number}/")
    settle(leader)
    desk.goto(f"{base}/cases/{contested.number}/")
    settle(desk)
    open_action(desk, "accept").locator("button[type=submit]").click()
    settle(desk)
    form = open_action(leader, "reject")
    form.locator("textarea").fill("不属于本街道")
    form.locator("button[type=submit]").click()
    settle(leader)
    assert words["conflict"] in leader.locator(".alert.conflict").inner_text()
    assert Case.objects.get(pk=contested.pk).status == CaseStatus.ACCEPTED
    assert watch.errors == [], watch.errors
