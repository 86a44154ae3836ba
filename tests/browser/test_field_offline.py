"""The field's phones in Chromium at 360×640, as officers and grid workers would use them: work
recorded offline reaches the platform once, with its capture time and its photos' hashes, when
the phone is back online; the outbox survives a cleared cache and a network dropping during an
upload; an entry captured before the office changed the case comes back as a conflict, never
forced, and its author's choice is recorded; a grid worker's reports arrive in their cell. axe
and the CSP on every field page."""

import base64
import time
from datetime import datetime

import pytest

from enforcement import workflow
from enforcement.choices import CaseStatus, EventKind, FieldOutcome
from enforcement.models import Case, Evidence, FieldEntry, Officer, Team
from tests.browser.conftest import PageWatch, axe_serious, login
from tests.enforcement.api.conftest import HH, HH_GRID_CELL, point_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 640}
SENT = 30_000  # ms: how long an outbox may take to empty once online


def phone(browser, *, lat: float, lng: float, locale: str = "zh-CN"):
    context = browser.new_context(
        locale=locale,
        viewport=PHONE,
        geolocation={"latitude": lat, "longitude": lng, "accuracy": 12},
        permissions=["geolocation"],
    )
    return context, context.new_page()


def jpeg(page, width: int, height: int, hue: int) -> bytes:
    """A camera-like JPEG drawn in the page (no imaging library on the test's side)."""
    data = page.evaluate(
        """async ([w, h, hue]) => {
        const c = new OffscreenCanvas(w, h); const g = c.getContext('2d');
        const grad = g.createLinearGradient(0, 0, w, h);
        grad.addColorStop(0, `hsl(${hue},70%,50%)`); grad.addColorStop(1, '#222');
        g.fillStyle = grad; g.fillRect(0, 0, w, h);
        for (let i = 0; i < 200; i++) {
          g.fillStyle = `hsl(${(hue + i) % 360},60%,${30 + i % 40}%)`;
          g.fillRect((i * 97) % w, (i * 53) % h, w / 20, h / 20);
        }
        const b = await c.convertToBlob({type: 'image/jpeg', quality: 0.92});
        const buf = new Uint8Array(await b.arrayBuffer()); let s = '';
        for (let i = 0; i < buf.length; i += 8192) {
          s += String.fromCharCode(...buf.subarray(i, i + 8192));
        }
        return btoa(s);
    }""",
        [width, height, hue],
    )
    return base64.b64decode(data)


def outbox(page) -> list[dict]:
    """The outbox's entries as IndexedDB holds them, with each photo's SHA-256 computed here
    from the stored Blob."""
    return page.evaluate(
        """async () => {
        const hex = (b) => Array.from(
          new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
        const digest = async (blob) => hex(
          await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
        const out = [];
        for (const e of await FieldOutbox.all()) {
          const files = [];
          for (const f of e.files || []) {
            files.push({name: f.name, size: f.size, sha256: f.sha256,
                        computed: f.blob ? await digest(f.blob) : null});
          }
          out.push({key: e.key, action: e.action, state: e.state, case: e.case,
                    captured_at: e.captured_at, files});
        }
        return out;
    }"""
    )


def cached(page, path: str, *, seconds: float = 15) -> None:
    """Wait until the service worker holds ``path`` (the task list keeps the first tasks a
    moment after it is drawn)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if page.evaluate("async (p) => Boolean(await caches.match(p))", path):
            return
        time.sleep(0.2)
    raise AssertionError(f"{path} not in the service worker's cache")


def badge_clears(page) -> None:
    page.wait_for_selector('#outbox-badge[data-count="0"]', state="attached", timeout=SENT)


def checked(page, watch, seen: set, name: str) -> None:
    """axe and the CSP on a field page as drawn now, once per kind of page."""
    if name in seen:
        return
    seen.add(name)
    assert axe_serious(page) == [], page.url
    assert watch.csp == [], watch.csp


def sw_ready(page) -> None:
    page.wait_for_load_state("networkidle")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def add_photos(page, selector: str, photos: list[tuple[str, bytes]]) -> None:
    for count, (name, data) in enumerate(photos, start=1):
        page.set_input_files(selector, [{"name": name, "mimeType": "image/jpeg", "buffer": data}])
        page.wait_for_selector(f'{selector}[data-photos="{count}"]')


def queue_arrive_and_result(page, photos: list[tuple[str, bytes]], mode: str = "service"):
    page.click("#arrive-form button[type=submit]")
    page.wait_for_selector("#resolve-form:not([hidden])")
    page.check(f'input[name="handling_mode"][value="{mode}"]')
    page.fill("#resolve-result", "已劝离，现场已清理")
    add_photos(page, "#resolve-photos", photos)
    page.click("#resolve-form button[type=submit]")
    page.wait_for_selector("#resolve-note")


@pytest.fixture
def task(world, sla_defaults):
    """Case A, dispatched to hh_officer's team (tests/enforcement/api/conftest.py)."""
    return world["cases"]["A"]


def test_the_officer_works_offline_and_each_entry_arrives_once(live_server, browser, task):
    base, seen = live_server.url, set()
    context, page = phone(browser, lat=task.lat, lng=task.lng)
    watch = PageWatch(page)
    login(page, base, "hh_officer")
    assert page.url == f"{base}/field/tasks/"
    sw_ready(page)
    checked(page, watch, seen, "tasks")
    assert page.locator(f'#task-list li[data-case="{task.number}"]').count() == 1
    cached(page, f"/field/tasks/{task.number}/")

    # offline from here: the task page comes from the phone's copy
    context.set_offline(True)
    page.click(f'a[href="/field/tasks/{task.number}/"]')
    page.wait_for_selector("#arrive-form")
    checked(page, watch, seen, "task")
    big, small = jpeg(page, 4000, 3000, 20), jpeg(page, 800, 600, 200)
    queue_arrive_and_result(page, [("a.jpg", big), ("b.jpg", small)])
    assert page.get_attribute("#outbox-badge", "data-count") == "2"

    # reloaded, still offline: the task and the two queued entries
    page.reload()
    page.wait_for_selector("#task-entries:not([hidden])")
    assert page.get_attribute("#field-banner", "data-state") in ("offline", "cached")
    assert page.locator("#task-entries li").count() == 2
    queued = outbox(page)
    assert [e["action"] for e in queued] == ["arrive", "resolve"]
    photos = queued[1]["files"]
    assert len(photos) == 2 and all(p["sha256"] == p["computed"] for p in photos)
    page.goto(f"{base}/field/outbox/")
    page.wait_for_selector('#outbox-waiting[data-count="2"]')
    checked(page, watch, seen, "outbox")

    # back online: each entry once, the badge clears
    context.set_offline(False)
    badge_clears(page)
    case = Case.objects.get(pk=task.pk)
    assert case.status == CaseStatus.RESOLVED
    assert case.events.filter(kind=EventKind.ARRIVE).count() == 1
    assert case.events.filter(kind=EventKind.RESOLVE).count() == 1
    stored = sorted(Evidence.objects.filter(case=case).values_list("sha256", flat=True))
    assert stored == sorted(p["sha256"] for p in photos)
    for entry, kind in zip(queued, (EventKind.ARRIVE, EventKind.RESOLVE), strict=True):
        event = case.events.get(kind=kind)
        assert event.data["field_entry"] == entry["key"]
        captured = datetime.fromisoformat(event.data["captured_at"])
        phone_time = datetime.fromisoformat(entry["captured_at"].replace("Z", "+00:00"))
        assert abs((captured - phone_time).total_seconds()) < 1
        assert captured <= event.at
    assert FieldEntry.objects.filter(case=case, outcome=FieldOutcome.APPLIED).count() == 2
    # the photo of 12 megapixels reached the platform scaled to at most 2
    assert max(p["size"] for p in photos) < len(big)
    assert watch.csp == []
    context.close()


def test_the_outbox_survives_a_cleared_cache_and_a_dropped_upload(live_server, browser, task):
    base = live_server.url
    context, page = phone(browser, lat=task.lat, lng=task.lng, locale="en-US")
    login(page, base, "hh_officer")
    page.goto(f"{base}/field/tasks/{task.number}/")
    sw_ready(page)
    context.set_offline(True)
    queue_arrive_and_result(page, [("a.jpg", jpeg(page, 1600, 1200, 60))])
    keys = [e["key"] for e in outbox(page)]

    # the service worker's cache is cleared: the outbox is in IndexedDB, not there
    cleared = page.evaluate(
        "async () => { const names = await caches.keys();"
        " await Promise.all(names.map((n) => caches.delete(n))); return names.length; }"
    )
    assert cleared >= 1
    assert [e["key"] for e in outbox(page)] == keys

    # the network drops while the result's answer comes back: the platform has it, the phone
    # does not know; the retry is answered from the platform's record, not done twice
    dropped = []

    def drop_first_answer(route):
        if dropped:
            route.continue_()
            return
        route.fetch()  # the upload reaches the platform
        dropped.append(route.request.url)
        route.abort("connectionreset")

    page.route(f"**/api/v1/cases/{task.number}/resolve/", drop_first_answer)
    context.set_offline(False)
    page.reload()  # from the network: the cache is empty
    page.wait_for_selector("#task-entries li")
    page.wait_for_selector('#task-entries [data-state="waiting"]', timeout=SENT)
    assert dropped
    page.evaluate("FieldOutbox.sendNow(true)")
    badge_clears(page)
    case = Case.objects.get(pk=task.pk)
    assert case.status == CaseStatus.RESOLVED
    assert case.events.filter(kind=EventKind.RESOLVE).count() == 1
    assert case.events.filter(kind=EventKind.EVIDENCE).count() == 1
    assert FieldEntry.objects.filter(case=case).count() == 2
    context.close()


def test_a_reassignment_while_offline_comes_back_as_a_conflict_applied_by_its_author(
    live_server, browser, world, task
):
    base = live_server.url
    context, page = phone(browser, lat=task.lat, lng=task.lng)
    watch = PageWatch(page)
    login(page, base, "hh_officer")
    page.goto(f"{base}/field/tasks/{task.number}/")
    sw_ready(page)
    context.set_offline(True)
    queue_arrive_and_result(page, [("a.jpg", jpeg(page, 1200, 900, 120))])

    # the command centre gives the case to another officer of the team meanwhile
    other = Officer.objects.filter(team=world["team"]).exclude(user__username="hh_officer").first()
    reassigned = workflow.case_reassign(
        case=Case.objects.get(pk=task.pk),
        actor=world["users"]["hh_command"],
        team=world["team"],
        officer=other,
        reason="就近调派",
    )
    page.goto(f"{base}/field/outbox/")
    page.wait_for_selector('#outbox-waiting[data-count="2"]')
    context.set_offline(False)
    page.wait_for_selector('#outbox-attention [data-state="conflict"]', timeout=SENT)
    theirs = page.locator('#outbox-attention [data-compare="theirs"][data-version]')
    theirs.wait_for()
    assert theirs.get_attribute("data-version") == str(reassigned.version)
    assert page.locator('#outbox-attention [data-compare="mine"]').count() >= 1
    checked(page, watch, set(), "conflict")
    states = {e["action"]: e["state"] for e in outbox(page)}
    assert states == {"arrive": "conflict", "resolve": "blocked"}
    # nothing was overwritten
    case = Case.objects.get(pk=task.pk)
    assert (case.status, case.officer, case.version) == (
        CaseStatus.DISPATCHED,
        other,
        reassigned.version,
    )
    assert not case.events.filter(kind=EventKind.ARRIVE).exists()

    # the officer applies the sign-in to the current version; the result follows it
    page.click("#outbox-attention [data-entry-apply]")
    badge_clears(page)
    case = Case.objects.get(pk=task.pk)
    assert case.status == CaseStatus.RESOLVED
    arrive = case.events.get(kind=EventKind.ARRIVE)
    assert arrive.data["after_conflict"] == task.version
    outcomes = dict(FieldEntry.objects.filter(case=case).values_list("action", "outcome"))
    assert outcomes["arrive"] == FieldOutcome.APPLIED_AFTER_CONFLICT
    context.close()


def test_a_conflict_discarded_by_its_author_is_recorded(live_server, browser, world, task):
    base = live_server.url
    context, page = phone(browser, lat=task.lat, lng=task.lng, locale="en-US")
    login(page, base, "hh_officer")
    page.goto(f"{base}/field/tasks/{task.number}/")
    sw_ready(page)
    context.set_offline(True)
    page.click("#arrive-form button[type=submit]")
    page.wait_for_selector("#resolve-form:not([hidden])")
    key = outbox(page)[0]["key"]
    # given to another team: the officer no longer sees the case
    workflow.case_reassign(
        case=Case.objects.get(pk=task.pk),
        actor=world["users"]["hh_command"],
        team=Team.objects.get(street__code=HH, name="红花执法2中队"),
    )
    page.goto(f"{base}/field/outbox/")
    context.set_offline(False)
    page.wait_for_selector('#outbox-attention [data-state="conflict"]', timeout=SENT)
    button = page.locator("#outbox-attention [data-entry-discard]")
    button.click()
    assert button.get_attribute("data-armed") == "true"  # asked twice
    assert FieldEntry.objects.filter(key=key).count() == 0
    button.click()
    badge_clears(page)
    assert outbox(page) == [] or all(e["state"] == "done" for e in outbox(page))
    entry = FieldEntry.objects.get(key=key)
    assert entry.outcome == FieldOutcome.DISCARDED
    event = Case.objects.get(pk=task.pk).events.get(kind=EventKind.FIELD_DISCARD)
    assert event.actor.username == "hh_officer" and event.data["field_entry"] == key
    context.close()


def test_a_grid_worker_reports_offline_and_handles_one_in_the_grid(live_server, browser, world):
    base, seen = live_server.url, set()
    lat, lng = point_in(HH_GRID_CELL)
    context, page = phone(browser, lat=lat, lng=lng)
    watch = PageWatch(page)
    login(page, base, "hh_grid")
    assert page.url == f"{base}/field/report/"
    sw_ready(page)
    page.wait_for_selector("#report-cell:not(:empty)")
    assert page.get_attribute("#report-cell", "data-cell") == HH_GRID_CELL
    checked(page, watch, seen, "report")

    context.set_offline(True)
    matter = page.evaluate("document.querySelector('#report-matter-types option').value")
    page.fill("#report-matter", matter)
    page.fill("#report-description", "人行道堆放建筑垃圾")
    stall = jpeg(page, 1200, 900, 90)
    add_photos(page, "#report-photos", [("x.jpg", stall)])
    page.click("#report-form button[type=submit]")
    page.wait_for_selector('#report-form [data-form-status][data-kind="queued"]')

    page.fill("#report-matter", matter)
    page.fill("#report-description", "小广告，已清除")
    page.check("#report-self-handle")
    add_photos(page, "#report-photos", [("y.jpg", jpeg(page, 1200, 900, 150))])
    page.check('#report-self-fields input[name="handling_mode"][value="service"]')
    page.fill("#report-result", "已清除")
    add_photos(page, "#report-after-photos", [("z.jpg", jpeg(page, 1200, 900, 250))])
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#report-entries:not([hidden]) li:nth-child(2)")
    queued = outbox(page)
    assert [e["action"] for e in queued] == ["report", "self_handle"]

    page.goto(f"{base}/field/reports/")
    page.wait_for_selector("#report-entries li")
    checked(page, watch, seen, "reports")
    context.set_offline(False)
    badge_clears(page)

    reports = list(Case.objects.filter(reported_by__username="hh_grid").order_by("pk"))
    assert len(reports) == 2
    plain, handled = reports
    assert {plain.cell.code, handled.cell.code} == {HH_GRID_CELL}
    assert plain.status == CaseStatus.REPORTED
    assert handled.status == CaseStatus.RESOLVED  # waits for the command centre's verification
    assert handled.dispatch_target == "grid"
    assert list(plain.evidence.values_list("sha256", flat=True)) == [
        queued[0]["files"][0]["sha256"]
    ]
    assert sorted(handled.evidence.values_list("sha256", flat=True)) == sorted(
        f["sha256"] for f in queued[1]["files"]
    )
    assert all(f["sha256"] == f["computed"] for e in queued for f in e["files"])
    assert handled.events.get(kind=EventKind.RESOLVE).data["self_handled"] is True
    page.reload()
    page.wait_for_selector("#report-list")
    assert page.locator(f'#report-list [data-case="{handled.number}"]').count() == 1
    context.close()


def test_the_command_centre_sees_late_entries_per_officer(live_server, browser, task):
    from datetime import timedelta

    from django.utils import timezone

    from enforcement import field

    officer = Officer.objects.get(user__username="hh_officer").user
    field.field_arrive(
        case=task,
        actor=officer,
        capture=field.Capture(
            key="late-1",
            captured_at=timezone.now() - timedelta(minutes=42),
            lat=task.lat + 0.004,
            lng=task.lng,
            accuracy=15,
        ),
    )
    base, seen = live_server.url, set()
    for width, height in ((1920, 1080), (360, 640)):
        context = browser.new_context(locale="en-US", viewport={"width": width, "height": height})
        page = context.new_page()
        watch = PageWatch(page)
        login(page, base, "hh_command")
        page.goto(f"{base}/desk/field-sync/")
        row = page.locator('#sync-table tr[data-user="hh_officer"]')
        assert row.count() == 1
        text = row.inner_text()
        assert "42 min" in text
        checked(page, watch, seen, f"sync-{width}")
        context.close()
