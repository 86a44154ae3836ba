"""The assessment as its people do it, in Chromium: the street leader scores and publishes
November, the department's liaison reads its score and appeals a point, the leader upholds it,
and the liaison reads the decision on the new version. Every page on the way passes axe and
keeps to the Content-Security-Policy, the department's on a phone too."""

from datetime import date

import pytest

from tests.browser.conftest import PageWatch, axe_serious, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCHEME = "hh-departments"
NOVEMBER = f"/assessment/{SCHEME}/month/2026-11-01/"


def scheme_made() -> None:
    from django.contrib.auth import get_user_model

    from assessment.choices import TargetKind
    from assessment.models import Scheme
    from assessment.schemes import scheme_version_new
    from grids.models import Region

    scheme = Scheme.objects.create(
        code=SCHEME,
        name="红花街道对区级部门考核",
        target_kind=TargetKind.DEPARTMENT,
        assessor=Region.objects.get(code="320104010"),
    )
    scheme_version_new(
        scheme=scheme,
        indicators={"dept_report_in_on_time": 60, "dept_supervisions": {"weight": 20, "deduct": 5}},
        manual_items={"guocheng": {"name": "过程评议", "weight": 20}},
        valid_from=date(2026, 1, 1),
        by=get_user_model().objects.get(username="hh_leader"),
    )


def checked(page, watch) -> None:
    page.wait_for_load_state("networkidle")
    assert axe_serious(page) == [], page.url
    assert watch.csp == [] and watch.errors == []


def test_the_leader_publishes_the_liaison_appeals_and_the_leader_decides(
    live_server, new_page, demo, sla_defaults
):
    from assessment.models import Appeal, Snapshot

    scheme_made()
    leader = new_page(width=1920, height=1080)
    leader_watch = PageWatch(leader)
    login(leader, live_server.url, "hh_leader")

    # the leader finds November on the overview, not published, and scores every department
    leader.goto(f"{live_server.url}/assessment/")
    checked(leader, leader_watch)
    leader.click(f"a[href='{NOVEMBER}']")
    leader.wait_for_url(f"**{NOVEMBER}")
    checked(leader, leader_watch)
    targets = leader.locator("#id_target option").evaluate_all("os => os.map(o => o.value)")
    assert len(targets) >= 4
    for target in targets:
        leader.select_option("#id_target", target)
        leader.select_option("#id_item", "guocheng")
        leader.fill("#id_score", "16")
        leader.fill("#id_reason", "联席会议按时到会,配合处置")
        leader.click("form[action$='/manual/'] button[type=submit]")
        leader.wait_for_load_state("load")
    assert leader.locator("td[data-item=guocheng] strong").count() == len(targets)

    # and publishes it, the box ticked
    leader.check("#id_confirm")
    leader.click("form[action$='/publish/'] button[type=submit]")
    leader.wait_for_load_state("load")
    (v1,) = Snapshot.objects.all()
    assert v1.sha256 in leader.content()
    checked(leader, leader_watch)

    # the liaison (城管局) reads its published score on a phone and appeals a point
    liaison = new_page(width=360, height=640)
    liaison_watch = PageWatch(liaison)
    login(liaison, live_server.url, "dept_liaison")
    liaison.goto(f"{live_server.url}/assessment/")
    liaison.wait_for_url("**/assessment/department/")
    result = liaison.locator(f"[data-snapshot='{v1.pk}']")
    assert result.locator("tr[data-item=guocheng]").inner_text().count("16.00") == 1
    checked(liaison, liaison_watch)
    result.locator("details.appeal-form summary").click()
    result.locator("select[name=item]").select_option("guocheng")
    result.locator("textarea[name=reason]").fill("11月两次缺席系防汛值守,已报备,附值班表")
    result.locator("button[type=submit]").click()
    liaison.wait_for_load_state("load")
    appeal = Appeal.objects.get()
    assert liaison.locator(f"[data-appeal='{appeal.pk}']").count() == 1
    checked(liaison, liaison_watch)

    # the leader sees the appeal on November and upholds it with a new score
    leader.goto(f"{live_server.url}{NOVEMBER}")
    decision = leader.locator(f"[data-appeal='{appeal.pk}']")
    checked(leader, leader_watch)
    decision.locator("input[name=decision][value=upheld]").check()
    decision.locator("input[name=new_score]").fill("19")
    decision.locator("textarea[name=reason]").fill("核实防汛值班表属实")
    decision.locator("button[type=submit]").click()
    leader.wait_for_load_state("load")
    appeal.refresh_from_db()
    assert appeal.decision == "upheld" and appeal.result.version == 2
    assert "v2" in leader.locator("nav.versions").inner_text()
    checked(leader, leader_watch)

    # the figures' links lead to the desk's list of their cases
    link = leader.locator("td[data-kpi=dept_report_in_on_time] .figure-parts a").first
    link.click()
    leader.wait_for_url("**/desk/?queue=all&drill=*")
    assert leader.locator(".drill-banner").count() == 1
    checked(leader, leader_watch)

    # the liaison reads the decision and the new total on version 2
    liaison.reload()
    current = liaison.locator(f"[data-snapshot='{appeal.result.pk}']")
    assert "核实防汛值班表属实" in current.inner_text()
    assert current.locator("tr[data-item=guocheng]").inner_text().count("19.00") == 1
    checked(liaison, liaison_watch)
