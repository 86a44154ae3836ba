"""The officer's phone pages in headless Chromium: what the task list's first load transfers, how
fast a repeat load is drawn from the service worker's cache on a slow-3G network and offline,
and how long a 12-megapixel photo takes to be scaled and queued in the outbox.

    .venv/bin/python bench/field_pages.py            # ~2 min; updates docs/PERFORMANCE.md
    .venv/bin/python bench/field_pages.py --no-docs  # print only
    .venv/bin/python bench/field_pages.py --smoke    # every step, one repeat each; no figures

It drops and recreates its own database (``shaoxiang_bench_field`` on 127.0.0.1:5432, user
postgres: production's database behind the pages, and the scratch helpers of the other benches,
whose smoke tests check that it is gone afterwards), migrates it and loads the demo district
(``seed_demo --cases 0``) with ``manage.py``, collects the static files with the production
storage (hashed names, gzip files beside them, as whitenoise serves them) into its VAR_DIR,
and makes the officer's tasks through ``case_intake`` and the workflow in the demo street
红花街道: cases accepted and dispatched (``case_dispatch``) to the team 红花执法1中队, some to
the demo officer ``hh_officer`` by name, some to the team alone, and a few the officer signed
in on scene (``case_arrive``), whose result form takes the photo. Then gunicorn (DEBUG off,
whitenoise serving the collected files) on a free port of 127.0.0.1, and Debian's Chromium
(/usr/bin/chromium, never a downloaded browser) driven by Playwright at 360×640, logged in as
``hh_officer`` through the login form:

1. The first load of ``/field/tasks/`` in a context with the session cookie and nothing else
   (empty HTTP cache, no service worker): every response the page and its service worker
   received until the network is quiet, with the bytes on the wire as Playwright reports them
   (``request.sizes()``, from CDP's Network events: headers and the body as received, gzip
   where whitenoise sent gzip), photos left out.
2. Repeat loads of the same page once the service worker controls it, each from the cache it
   keeps: with the network throttled to DevTools' "Slow 3G" preset (CDP
   ``Network.emulateNetworkConditions`` on the page and on the service worker: 2,000 ms
   latency, 50,000 bytes/s down and up), the same throughput with 400 ms of latency, and fully
   offline (``context.set_offline``). Drawn: the later of the load event and the first frame
   with the task list on screen, from the navigation's start (Navigation Timing, in the page).
3. A photo of 4000×3000 pixels (a JPEG made in the page with a canvas: Pillow is not among the
   project's packages) set on the result form's photo input of a task on scene, with the
   network offline (the entry stays queued, no upload competes): from the input's ``change``
   to the photo scaled by static/field/photos.js (at most 2 megapixels, JPEG, SHA-256), and
   from the form's submit to the entry in the outbox (IndexedDB, static/field/outbox.js),
   through the page's own code; the stored photo is read back for its size.

Celery messages of the workflow go to Redis on 127.0.0.1:6379 under this bench's own queue
name, which nobody consumes. At the end (also after an error or Ctrl-C) the bench closes
Chromium, stops gunicorn (its process group), deletes the Redis queue and drops the database
(``--keep-db`` keeps it). A ``--smoke`` run does every step once under names of its own
(``shaoxiang_bench_field_smoke_<hex>``) and checks every answer."""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import section_write, verdict  # noqa: E402
from bench.scratch import (  # noqa: E402 -- after the path is set
    REDIS_URL,
    Scratch,
    database_recreate,
    scratch_clean,
    scratch_names,
)
from bench.smoke import SMOKE_HELP, smoke_deadline  # noqa: E402

SCRATCH_BASE = "shaoxiang_bench_field"
COMMAND = ".venv/bin/python bench/field_pages.py"
SMOKE_NOTE = (
    "`--smoke` runs every step once (its own database `shaoxiang_bench_field_smoke_<hex>` made, "
    "migrated, seeded and dropped; collectstatic; gunicorn on a free port; the first load, one "
    "repeat load on each network, one photo) and checks every answer, prints no figures and "
    "writes nothing here; `make test-browser` runs it (tests/test_benches.py, in Chromium)."
)
HOST = "127.0.0.1"
USERNAME = "hh_officer"
STREET = "320104010"  # 红花街道
TEAM = "红花执法1中队"
TASKS_PATH = "/field/tasks/"
CHROMIUM = "/usr/bin/chromium"
# As tests/browser/conftest.py launches it.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 360, "height": 640}

# DevTools' "Slow 3G" preset (front_end/core/sdk/NetworkManager.ts: 500 kbit/s × 0.8 down and
# up, 400 ms × 5 latency), as CDP's Network.emulateNetworkConditions takes it (bytes/s, ms).
SLOW_3G = {
    "offline": False,
    "latency": 2000,
    "downloadThroughput": 500 * 1000 / 8 * 0.8,
    "uploadThroughput": 500 * 1000 / 8 * 0.8,
}
# Slow 3G as CDP throttling is often set by hand: the same 400 kbit/s down and up, 400 ms of
# latency (DevTools multiplies its preset's by 5).
LATENCY_400 = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400 * 1000 / 8,
    "uploadThroughput": 400 * 1000 / 8,
}
NO_THROTTLE = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}

# Targets of the issue.
FIRST_LOAD_MAX_BYTES = 150_000  # the task list's first load, compressed, photos left out
REPEAT_MAX_MS = 1000.0  # a repeat load from the cache, fully drawn, on slow 3G and offline
PHOTO_MAX_MS = 2000.0  # a 12-megapixel photo scaled and queued
PHOTO_MAX_PIXELS = 2_000_000
PHOTO_SIZE = (4000, 3000)


@dataclass(frozen=True)
class Plan:
    dispatched_officer: int  # tasks dispatched to the officer by name
    dispatched_team: int  # … to the team alone
    on_scene: int  # … and signed in on scene (one photo run each)
    repeats: int  # repeat loads per network
    photos: int  # photo runs


FULL = Plan(dispatched_officer=6, dispatched_team=3, on_scene=3, repeats=7, photos=3)
SMOKE = Plan(dispatched_officer=2, dispatched_team=1, on_scene=1, repeats=1, photos=1)


def settings_environment(scratch: Scratch) -> None:
    """What this process, its manage.py commands and its gunicorn read their settings from."""
    os.environ.update(
        {
            "DATABASE_URL": scratch.database_url,
            "INSTANCE_NAME": scratch.instance,
            "REDIS_URL": REDIS_URL,
            "VAR_DIR": str(scratch.var_dir),
            "DEBUG": "false",
            # DEBUG off, as in production; a key of this run's own, for gunicorn too.
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "WARNING",
            "DB_CONN_MAX_AGE": "600",
        }
    )


# --- the officer's tasks (through the workflow) ---


def tasks_make(plan: Plan) -> list[dict]:
    """Cases of 红花街道 through case_intake and the workflow, accepted by the command centre and
    dispatched to the team 红花执法1中队, to ``hh_officer`` by name or to the team alone; the
    last ``plan.on_scene`` of the officer's signed in on scene by them. Returns, for each,
    its number, status and point."""
    import shapely
    from django.contrib.auth import get_user_model
    from shapely.geometry import shape

    from enforcement import workflow
    from enforcement.choices import CaseSource, DispatchTarget
    from enforcement.models import MatterType, Officer, Team
    from enforcement.services import case_intake
    from grids.choices import GridLevel
    from grids.models import GridCell, Region

    users = get_user_model().objects
    command = users.get(username="hh_command")
    officer = Officer.objects.select_related("user").get(user__username=USERNAME)
    team = Team.objects.get(street__code=STREET, name=TEAM)
    if officer.team_id != team.pk:
        raise SystemExit(f"{USERNAME} is not of {TEAM} in the demo")
    street = Region.objects.get(code=STREET)
    points = []
    for geometry in (
        GridCell.objects.filter(community__parent=street, level=GridLevel.COMPREHENSIVE)
        .order_by("code")
        .values_list("geometry", flat=True)
    ):
        lng, lat = shapely.get_coordinates(shape(geometry).representative_point())[0]
        points.append((float(lat), float(lng)))
    matters = list(MatterType.objects.order_by("pk"))
    made = []
    count = plan.dispatched_officer + plan.dispatched_team
    for n in range(count):
        lat, lng = points[(n * 7) % len(points)]
        matter = matters[n % len(matters)]
        case = case_intake(
            source=CaseSource.HOTLINE_12345,
            external_id=f"FIELD-BENCH-{n}",
            matter_type=matter,
            description=f"基准任务{n}：{matter.name}，现场有人反映影响通行",
            lat=lat,
            lng=lng,
            address=f"应天大街{200 + n}号",
            reporter_name="市民",
            reporter_phone=f"1390001{n:04d}",
            actor=command,
        ).case
        case = workflow.case_accept(case=case, actor=command)
        by_name = n < plan.dispatched_officer
        case = workflow.case_dispatch(
            case=case,
            actor=command,
            target=DispatchTarget.TEAM,
            team=team,
            officer=officer if by_name else None,
        )
        if by_name and n >= plan.dispatched_officer - plan.on_scene:
            case = workflow.case_arrive(case=case, actor=officer.user, lat=lat, lng=lng)
        made.append({"number": case.number, "status": case.status, "lat": lat, "lng": lng})
    return made


# --- gunicorn ---


def port_free() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def gunicorn_start(var_dir: Path) -> tuple[subprocess.Popen, int]:
    """gunicorn with the project's settings (DEBUG off, whitenoise serving the collected
    files) in its own process group, answering on a free port of 127.0.0.1."""
    port = port_free()
    log = var_dir / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        "2",
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--timeout",
        "60",
        "--error-logfile",
        str(log),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(  # noqa: S603 -- fixed arguments, our own module
        command, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/accounts/login/")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.2)
    gunicorn_stop(process)
    raise SystemExit("gunicorn did not answer within 60 s")


def gunicorn_stop(process) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


# --- the browser ---


# In every page of the measuring context, from the document's start: the first frame in which
# the task list is on screen (performance.now(), from the navigation's start).
LIST_DRAWN_SCRIPT = """
(() => {
  const mark = () => {
    const list = document.getElementById("task-list");
    if (list && list.getBoundingClientRect().height > 0) {
      window.__benchListDrawnAt = performance.now();
      return;
    }
    if (performance.now() < 30000) requestAnimationFrame(mark);
  };
  requestAnimationFrame(mark);
})();
"""

LOAD_TIMES_SCRIPT = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    load: nav.loadEventEnd,
    response_start: nav.responseStart,
    drawn: window.__benchListDrawnAt ?? null,
    controlled: Boolean(navigator.serviceWorker && navigator.serviceWorker.controller),
    tasks: document.querySelectorAll("#task-list li.task").length,
  };
}
"""

# The field's caches hold ``path`` (the service worker keeps every field page opened).
CACHED_SCRIPT = """
async (path) => {
  for (const name of await caches.keys()) {
    if (!name.startsWith("shaoxiang-field-")) continue;
    if (await (await caches.open(name)).match(path, { ignoreVary: true })) return true;
  }
  return false;
}
"""

# A JPEG of ``w``×``h`` made in the page (untimed): a gradient, blocks of colour and grain, so
# that it weighs what a phone camera's photo of that size weighs (a few MB at quality 0.92).
PHOTO_MAKE_SCRIPT = """
async ([w, h]) => {
  const canvas = new OffscreenCanvas(w, h);
  const g = canvas.getContext("2d");
  const gradient = g.createLinearGradient(0, 0, w, h);
  gradient.addColorStop(0, "#7a9cc6");
  gradient.addColorStop(0.5, "#c8b48a");
  gradient.addColorStop(1, "#3d4a2f");
  g.fillStyle = gradient;
  g.fillRect(0, 0, w, h);
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  for (let i = 0; i < 400; i += 1) {
    const [hue, sat, light] = [rnd() * 360, 20 + rnd() * 50, 20 + rnd() * 60].map(Math.floor);
    g.fillStyle = `hsl(${hue},${sat}%,${light}%)`;
    g.fillRect(rnd() * w, rnd() * h, (rnd() * w) / 6, (rnd() * h) / 6);
  }
  const image = g.getImageData(0, 0, w, h);
  const d = image.data;
  for (let i = 0; i < d.length; i += 4) {
    const n = (rnd() - 0.5) * 16;
    d[i] += n; d[i + 1] += n; d[i + 2] += n;
  }
  g.putImageData(image, 0, 0);
  const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.92 });
  const made = { type: "image/jpeg", lastModified: Date.now() };
  window.__benchPhoto = new File([blob], "IMG_0001.jpg", made);
  const check = await createImageBitmap(blob);
  return { bytes: blob.size, width: check.width, height: check.height };
}
"""

# The result form as the officer fills it, through the page's own code (static/field/field.js):
# the photo set on the form's photo input (its change event starts photos.js), then the form
# submitted (field.js queues the entry with outbox.js). Times from the page's clock; the moments
# are the attribute changes field.js makes (data-photos on the input once the photo is ready,
# data-queued on the form once the entry is stored), seen by MutationObservers.
PHOTO_RUN_SCRIPT = """
async () => {
  const form = document.getElementById("resolve-form");
  const input = document.getElementById("resolve-photos");
  form.querySelector('input[name="handling_mode"][value="service"]').checked = true;
  form.elements.result.value = "已劝离，现场已清理（基准）";
  const when = (node, test) => new Promise((resolve) => {
    if (test()) { resolve(performance.now()); return; }
    const observer = new MutationObserver(() => {
      if (test()) { observer.disconnect(); resolve(performance.now()); }
    });
    observer.observe(node, { attributes: true });
  });
  const files = new DataTransfer();
  files.items.add(window.__benchPhoto);
  const scaled = when(input, () => input.dataset.photos === "1" && !input.dataset.busy);
  const began = performance.now();
  input.files = files.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
  const scaledAt = await scaled;
  const queued = when(form, () => Boolean(form.dataset.queued));
  const submittedAt = performance.now();
  form.requestSubmit();
  const queuedAt = await queued;
  const entry = await window.FieldOutbox.get(form.dataset.queued);
  const file = entry.files[0];
  const stored = await createImageBitmap(file.blob);
  const digest = await window.FieldPhotos.sha256(file.blob);
  return {
    scale_ms: scaledAt - began,
    queue_ms: queuedAt - submittedAt,
    total_ms: queuedAt - began,
    width: stored.width,
    height: stored.height,
    bytes: file.blob.size,
    type: file.blob.type,
    sha256_ok: digest === file.sha256,
    files: entry.files.length,
    action: entry.action,
    case: entry.case,
    state: entry.state,
  };
}
"""


class ChildSession:
    """A CDP session on a service worker's target, through the browser's session
    (Target.attachToTarget not flattened, Target.sendMessageToTarget and
    Target.receivedMessageFromTarget): Playwright gives CDP sessions on pages only, and throttling
    the page leaves the service worker's own fetches, the network half of its network-first
    pages, unthrottled."""

    def __init__(self, root, target_id: str):
        self.root = root
        self.session_id = root.send(
            "Target.attachToTarget", {"targetId": target_id, "flatten": False}
        )["sessionId"]
        self.next_id = 0
        self.answers: dict[int, dict] = {}
        root.on("Target.receivedMessageFromTarget", self._received)

    def _received(self, event) -> None:
        if event.get("sessionId") == self.session_id:
            message = json.loads(event["message"])
            if "id" in message:
                self.answers[message["id"]] = message

    def send(self, method: str, params: dict | None = None) -> dict:
        self.next_id += 1
        message_id = self.next_id
        self.root.send(
            "Target.sendMessageToTarget",
            {
                "sessionId": self.session_id,
                "message": json.dumps({"id": message_id, "method": method, "params": params or {}}),
            },
        )
        deadline = time.monotonic() + 10
        while message_id not in self.answers:
            if time.monotonic() > deadline:
                raise SystemExit(f"the service worker's target did not answer {method}")
            self.root.send("Browser.getVersion")  # Playwright dispatches events meanwhile
        answer = self.answers.pop(message_id)
        if "error" in answer:
            raise SystemExit(f"{method} on the service worker's target: {answer['error']}")
        return answer.get("result", {})


class Throttle:
    """Network conditions on the page and on every service worker of the browser."""

    def __init__(self, browser, context, page):
        self.page_session = context.new_cdp_session(page)
        self.page_session.send("Network.enable")
        root = browser.new_browser_cdp_session()
        self.workers = [
            ChildSession(root, info["targetId"])
            for info in root.send("Target.getTargets")["targetInfos"]
            if info["type"] == "service_worker"
        ]
        if not self.workers:
            raise SystemExit("no service worker to throttle")
        for worker in self.workers:
            worker.send("Network.enable")

    def set(self, conditions: dict) -> None:
        self.page_session.send("Network.emulateNetworkConditions", conditions)
        for worker in self.workers:
            worker.send("Network.emulateNetworkConditions", conditions)


def served_size(url: str) -> int:
    """What one GET of ``url`` (accepting gzip, as Chromium does) puts on the wire: its status
    line, headers and body as sent."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", parts.path, headers={"Accept-Encoding": "gzip, deflate, br"})
        response = conn.getresponse()
        body = response.read()
        head = f"HTTP/1.1 {response.status} {response.reason}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in response.getheaders()
        )
        return len(head.encode()) + 2 + len(body)
    finally:
        conn.close()


def log_in(browser, base: str) -> dict:
    """The officer's session, through the login form (as tests/browser/conftest.py logs in),
    in a context of its own that lands on the notifications page: no field page there
    registers a service worker. Returns the storage state (the cookies)."""
    from django.conf import settings
    from django.urls import reverse

    context = browser.new_context(locale="zh-CN", viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(f"{base}{reverse('login')}?next={reverse('core:notifications')}")
        page.fill("#id_username", USERNAME)
        page.fill("#id_password", settings.DEMO_PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_load_state("load")
        state = context.storage_state()
    finally:
        context.close()
    if not any(c["name"] == settings.SESSION_COOKIE_NAME for c in state["cookies"]):
        raise SystemExit(f"{USERNAME} could not log in (no session cookie)")
    return state


def quiet_wait(page, events: list, *, quiet_s: float = 1.0, limit_s: float = 20.0) -> None:
    """Until no request has finished for ``quiet_s`` (the service worker's install included).
    Playwright hands events over only while it is called: the waits are the page's."""
    deadline = time.monotonic() + limit_s
    seen, since = len(events), time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(100)
        if len(events) != seen:
            seen, since = len(events), time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
    raise SystemExit(f"the first load did not settle within {limit_s:.0f} s")


def first_load(context, page, base: str, tasks: list[dict]) -> dict:
    """The task list opened in a context with nothing but the session cookie: every request of
    the page and of its service worker until the network is quiet, each with what Playwright
    reports on the wire (``request.sizes()``: headers and body as received, so 0 for one the
    HTTP cache answered)."""
    finished: list = []
    failed: list = []
    at_load: set = set()

    def on_finished(request):
        finished.append(request)

    def on_failed(request):
        failed.append(f"{request.url}: {request.failure}")

    context.on("requestfinished", on_finished)
    context.on("requestfailed", on_failed)
    try:
        response = page.goto(base + TASKS_PATH, wait_until="load")
        at_load = {id(r) for r in finished}
        drawn = page.evaluate(LOAD_TIMES_SCRIPT)
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20000)
        page.wait_for_function(CACHED_SCRIPT, arg=TASKS_PATH, timeout=20000, polling=100)
        quiet_wait(page, finished)
    finally:
        context.remove_listener("requestfinished", on_finished)
        context.remove_listener("requestfailed", on_failed)
    rows = []
    for request in finished:
        answer = request.response()
        sizes = request.sizes()
        wire = sizes["responseHeadersSize"] + sizes["responseBodySize"]
        how = "network"
        encoding = (answer.headers.get("content-encoding", "") if answer else "") or ""
        if wire <= 0:
            how, wire = "HTTP cache", 0
        elif sizes["responseBodySize"] == 0 and answer is not None and answer.status == 200:
            # Chromium reports no body for the service worker's own script: one more GET says
            # what it weighs.
            how, wire = "network (size of one more GET)", served_size(request.url)
        rows.append(
            {
                "path": urlsplit(request.url).path,
                "by": "service worker" if request.service_worker is not None else "page",
                "at_load": id(request) in at_load,
                "status": answer.status if answer else None,
                "type": request.resource_type,
                "mime": (answer.headers.get("content-type", "") if answer else "").split(";")[0],
                "encoding": encoding,
                "how": how,
                "bytes": wire,
            }
        )
    for row in rows:
        row["photo"] = "/evidence/" in row["path"] or row["mime"] in (
            "image/jpeg",
            "image/png",
            "image/webp",
        )
    counted = [r for r in rows if not r["photo"]]
    # What the page's HTML, sent as is, would weigh gzipped (level 6, as a proxy would send it).
    html = response.body() if response is not None else b""
    return {
        "html_bytes": len(html),
        "html_gzip_bytes": len(gzip.compress(html, compresslevel=6)),
        "status": response.status if response else None,
        "rows": rows,
        "failed": failed,
        "tasks_shown": drawn["tasks"],
        "tasks_made": len(tasks),
        "load_ms": drawn["load"],
        "page_bytes": sum(r["bytes"] for r in counted if r["at_load"] and r["by"] == "page"),
        "total_bytes": sum(r["bytes"] for r in counted),
        "requests": len(rows),
    }


def repeat_load(page, base: str, *, settle: str) -> dict:
    """One load of the task list by a page the service worker controls; ``settle``: what to
    wait for afterwards, before the next load ("network": the network's answer in the cache,
    which the worker tells the page; "offline": the page's offline banner)."""
    response = page.goto(base + TASKS_PATH, wait_until="load", timeout=60000)
    page.wait_for_selector("#task-list li.task", state="visible", timeout=30000)
    times = page.evaluate(LOAD_TIMES_SCRIPT)
    if settle == "network":
        page.wait_for_function(
            "() => window.FieldUI && (FieldUI.banner.freshReady || FieldUI.banner.offline"
            " || (!FieldUI.banner.fromCache && performance.now() > 8000))",
            timeout=30000,
            polling=100,
        )
    else:
        page.wait_for_function(
            "() => document.getElementById('field-banner').dataset.state === 'offline'",
            timeout=10000,
        )
    banner = page.evaluate("() => document.getElementById('field-banner').dataset.state")
    drawn = max(times["load"], times["drawn"]) if times["drawn"] is not None else None
    return {
        "status": response.status if response else None,
        "from_worker": bool(response and response.from_service_worker),
        "banner": banner,  # "cached": the worker served its copy; "offline"; "online": network
        "response_ms": times["response_start"],
        "load_ms": times["load"],
        "drawn_ms": drawn,
        "tasks": times["tasks"],
    }


def photo_run(page, base: str, number: str) -> dict:
    """The 12-megapixel photo on the result form of task ``number`` (its page from the worker's
    cache, offline), scaled and queued."""
    page.goto(f"{base}/field/tasks/{number}/", wait_until="load", timeout=30000)
    page.wait_for_selector("#resolve-form:not([hidden]) #resolve-photos", state="attached")
    original = page.evaluate(PHOTO_MAKE_SCRIPT, list(PHOTO_SIZE))
    run = page.evaluate(PHOTO_RUN_SCRIPT)
    run["original"] = original
    run["number"] = number
    return run


def browser_measure(base: str, tasks: list[dict], plan: Plan, progress) -> dict:
    from playwright.sync_api import sync_playwright

    on_scene = [t for t in tasks if t["status"] == "on_scene"]
    here = on_scene[0] if on_scene else tasks[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            state = log_in(browser, base)
            context = browser.new_context(
                locale="zh-CN",
                viewport=VIEWPORT,
                storage_state=state,
                geolocation={"latitude": here["lat"], "longitude": here["lng"]},
                permissions=["geolocation"],
            )
            context.add_init_script(LIST_DRAWN_SCRIPT)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            loaded = first_load(context, page, base, tasks)
            progress(
                f"first load: {loaded['total_bytes']:,} bytes in {loaded['requests']} requests "
                f"({loaded['page_bytes']:,} to the load event)"
            )
            # The task pages that take the photo, opened once online: the worker keeps them.
            for task in on_scene[: plan.photos]:
                page.goto(f"{base}/field/tasks/{task['number']}/", wait_until="load")
                page.wait_for_function(
                    CACHED_SCRIPT, arg=f"/field/tasks/{task['number']}/", timeout=20000
                )
            throttle = Throttle(browser, context, page)
            repeats: dict[str, list[dict]] = {}
            for key, conditions in (("slow_3g", SLOW_3G), ("latency_400", LATENCY_400)):
                throttle.set(conditions)
                repeats[key] = [
                    repeat_load(page, base, settle="network") for _ in range(plan.repeats)
                ]
                progress(f"repeat loads, {key}: {repeats[key]}")
            throttle.set(NO_THROTTLE)
            # Back to the list once at full speed, so that the offline loads start alike.
            repeat_load(page, base, settle="network")
            context.set_offline(True)
            repeats["offline"] = [
                repeat_load(page, base, settle="offline") for _ in range(plan.repeats)
            ]
            progress(f"repeat loads, offline: {repeats['offline']}")
            photos = [photo_run(page, base, t["number"]) for t in on_scene[: plan.photos]]
            progress(f"photos: {photos}")
            context.close()
            version = browser.version
        finally:
            browser.close()
    return {
        "first": loaded,
        "repeats": repeats,
        "photos": photos,
        "errors": errors,
        "chromium": version,
    }


# --- checks and report ---


def failures(result: dict, plan: Plan, log_text: str) -> list[str]:
    """What makes the figures meaningless: a page not answered, a list not drawn, a load not
    served by the service worker, a photo not scaled or not queued."""
    problems = []
    first = result["first"]
    if first["status"] != 200:
        problems.append(f"first load answered {first['status']}")
    if first["failed"]:
        problems.append(f"first load, failed requests: {first['failed']}")
    bad = [r for r in first["rows"] if r["status"] != 200]
    if bad:
        problems.append(f"first load, answers other than 200: {bad}")
    if first["tasks_shown"] != first["tasks_made"]:
        problems.append(f"the list shows {first['tasks_shown']} of {first['tasks_made']} tasks")
    if not any(r["by"] == "service worker" for r in first["rows"]):
        problems.append("the service worker fetched nothing on the first visit")
    expected = {"slow_3g": {"cached"}, "latency_400": {"cached", "online"}, "offline": {"offline"}}
    for key, runs in result["repeats"].items():
        if len(runs) != plan.repeats:
            problems.append(f"{key}: {len(runs)} loads of {plan.repeats}")
        for run in runs:
            if (
                run["status"] != 200
                or not run["from_worker"]
                or run["drawn_ms"] is None
                or run["tasks"] != first["tasks_made"]
                or run["banner"] not in expected[key]
            ):
                problems.append(f"{key}: {run}")
    if len(result["photos"]) != plan.photos:
        problems.append(f"{len(result['photos'])} photo runs of {plan.photos}")
    for run in result["photos"]:
        original = run["original"]
        if (
            (original["width"], original["height"]) != PHOTO_SIZE
            or run["width"] * run["height"] > PHOTO_MAX_PIXELS
            or run["width"] * run["height"] < PHOTO_MAX_PIXELS * 0.9
            or run["type"] != "image/jpeg"
            or not run["sha256_ok"]
            or run["files"] != 1
            or run["action"] != "resolve"
            or run["case"] != run["number"]
            or run["state"] not in ("queued", "sending", "waiting")
        ):
            problems.append(f"photo: {run}")
    if result["errors"]:
        problems.append(f"errors in the page: {result['errors']}")
    if "Traceback" in log_text:
        problems.append("gunicorn's log holds a traceback:\n" + log_text[-3000:])
    return problems


def median(values: list[float]) -> float:
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def nav_deadline_ms() -> int | None:
    """How long the service worker waits for the network before it serves its copy of a page
    (NAV_DEADLINE_MS in static/field/sw.js)."""
    import re

    found = re.search(r"NAV_DEADLINE_MS\s*=\s*(\d+)", (ROOT / "static/field/sw.js").read_text())
    return int(found.group(1)) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--keep-db", action="store_true", help="leave the database for a look")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    if args.smoke:
        smoke_deadline()
    plan = SMOKE if args.smoke else FULL
    command = COMMAND + ("" if sys.argv[1:] == [] else " " + " ".join(sys.argv[1:]))
    scratch = scratch_names(SCRATCH_BASE, smoke=args.smoke)
    settings_environment(scratch)

    def progress(line: str) -> None:
        # A smoke run shows no figures: they would be read as measures.
        if not args.smoke:
            print(line, flush=True)

    if not Path(CHROMIUM).exists():
        raise SystemExit(
            f"no {CHROMIUM}: apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get "
            "install -y -qq chromium fonts-noto-cjk"
        )
    bench_started = time.perf_counter()
    load_before = os.getloadavg()
    gunicorn = None
    try:
        database_recreate(scratch.database)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        call_command("collectstatic", interactive=False, verbosity=0)
        tasks = tasks_make(plan)
        server_version = connection.cursor().connection.info.server_version
        connections.close_all()
        progress(f"setup: {time.perf_counter() - bench_started:.1f} s; tasks {tasks}")
        gunicorn, port = gunicorn_start(scratch.var_dir)
        result = browser_measure(f"http://{HOST}:{port}", tasks, plan, progress)
        gunicorn_stop(gunicorn)
        log = scratch.var_dir / "gunicorn.log"
        problems = failures(result, plan, log.read_text() if log.exists() else "")
    finally:
        gunicorn_stop(gunicorn)
        scratch_clean(scratch, keep_db=args.keep_db)
    if problems:
        raise SystemExit("field_pages bench failed:\n  " + "\n  ".join(problems))
    total_s = time.perf_counter() - bench_started
    lines = report_lines(
        command=command,
        plan=plan,
        database=scratch.database,
        tasks=tasks,
        result=result,
        server_version=server_version,
        total_s=total_s,
        load=(load_before, os.getloadavg()),
    )
    if args.smoke:
        first = result["first"]
        print(
            f"smoke ok: the task list's first load counted {first['requests']} requests "
            f"({sum(r['by'] == 'service worker' for r in first['rows'])} by the service worker), "
            f"all 200, {first['tasks_shown']} of {first['tasks_made']} tasks shown; "
            + ", ".join(
                f"{len(runs)} repeat load(s) {REPEAT_LABELS[key][0]}"
                for key, runs in result["repeats"].items()
            )
            + ", all answered by the service worker and drawn; "
            f"{len(result['photos'])} photo(s) of {PHOTO_SIZE[0]}×{PHOTO_SIZE[1]} scaled to at "
            f"most {PHOTO_MAX_PIXELS:,} pixels and queued in the outbox; database "
            f"{scratch.database} {'kept' if args.keep_db else 'dropped'}; no figures, "
            "docs/PERFORMANCE.md not written",
            flush=True,
        )
    elif args.no_docs:
        print("\n".join(lines))
    else:
        section_write("field_pages", lines)


# Each network of the repeat loads: how the report names it, and how it was set.
# (in the smoke run's line, which holds no figure with a unit; in the report; as set)
REPEAT_LABELS = {
    "slow_3g": (
        "on slow 3G",
        "on slow 3G",
        "DevTools' “Slow 3G” preset: 2,000 ms latency, 400 kbit/s down and up",
    ),
    "latency_400": (
        "at 400-ms latency",
        "at 400 ms latency",
        "400 ms latency, 400 kbit/s down and up",
    ),
    "offline": ("offline", "offline", "offline (`context.set_offline(True)`)"),
}


def _kb(n: int) -> str:
    return f"{n / 1000:,.1f} kB"


def report_lines(*, command, plan, database, tasks, result, server_version, total_s, load):
    import django
    from playwright._repo_version import version as playwright_version

    pg = f"{server_version // 10000}.{server_version % 10000}"
    first = result["first"]
    rows = first["rows"]
    by_name = plan.dispatched_officer
    lines = [
        "## The officer's phone pages (`bench/field_pages.py`)",
        "",
        f"Command: `{command}` (about {max(1, round(total_s / 60))} minute"
        f"{'s' if round(total_s / 60) > 1 else ''}, {total_s:.0f} s; it creates, migrates, "
        f"seeds and drops its own database `{database}`).",
        "",
        SMOKE_NOTE,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, Django {django.__version__}, PostgreSQL {pg} on "
        "127.0.0.1; gunicorn (2 gthread workers × 4 threads, DEBUG off, whitenoise serving the "
        "files collectstatic wrote with hashed names and `.gz` beside them); Debian's Chromium "
        f"{result['chromium']} headless (`--disable-gpu`: canvases drawn in software) driven by "
        f"Playwright {playwright_version}, all on the same machine; measured "
        f"{time.strftime('%Y-%m-%d')}, with a load average (1 min) of {load[0][0]:.1f} before "
        f"and {load[1][0]:.1f} after the run.",
        "",
        f"Data: the demo district (`seed_demo --cases 0`) and {len(tasks)} tasks of 红花街道 made "
        "through `case_intake` and the workflow: accepted by `hh_command`, dispatched "
        f"(`case_dispatch`) to {TEAM}, {by_name} of them to `{USERNAME}` by name "
        f"({plan.on_scene} of those signed in on scene by them, `case_arrive`), "
        f"{plan.dispatched_team} to the team alone. The officer logs in through the login "
        "form; every page is opened at 360×640 in zh-CN.",
        "",
        "### First load of the task list",
        "",
        f"`{TASKS_PATH}` opened in a context holding the session cookie and nothing else (empty "
        "HTTP cache, no service worker), until no request has finished for 1 s: the page, its "
        "stylesheets and scripts, and what the service worker it registers fetches as it "
        "installs and activates (the app shell, the outbox page, its copy of the page). Bytes "
        "on the wire as Playwright reports them (`request.sizes()`: headers plus the body as "
        "received, gzip where whitenoise sent the `.gz`; 0 for an answer from the HTTP cache); "
        "photos left out (this page shows none). The pages themselves are sent uncompressed: "
        "no middleware compresses HTML in this stack.",
        "",
        "| resource | fetched by | sent | bytes |",
        "| --- | --- | --- | ---: |",
    ]
    for row in rows:
        sent = row["how"]
        if row["how"].startswith("network"):
            sent = (row["encoding"] or "as is") + row["how"][len("network") :]
        lines.append(
            f"| `{row['path']}`{' (photo, not counted)' if row['photo'] else ''} | "
            f"{row['by']}{'' if row['at_load'] or row['by'] != 'page' else ', after load'} | "
            f"{sent} | {row['bytes']:,} |"
        )
    lines += [
        f"| **the page to its load event** ({first['load_ms']:.0f} ms) | | | "
        f"**{first['page_bytes']:,}** |",
        f"| **the first visit in all** ({first['requests']} requests) | | | "
        f"**{first['total_bytes']:,}** |",
    ]
    twice = sorted(
        {
            r["path"]
            for r in rows
            if r["by"] == "service worker"
            and sum(o["path"] == r["path"] and o["by"] == "service worker" for o in rows) > 1
            and r["bytes"] > 0
        }
    )
    if twice:
        lines += [
            "",
            "The service worker fetches "
            + ", ".join(f"`{p}`" for p in twice)
            + " more than once on the first visit: once as it activates (it keeps the pages "
            "open in its scope) and again when the page, not yet controlled, asks it to keep "
            "itself (`keep`), both before either copy is stored.",
        ]
    deadline = nav_deadline_ms()
    lines += [
        "",
        "### Repeat loads from the service worker's cache",
        "",
        f"Once the worker controls the page, {plan.repeats} loads of `{TASKS_PATH}` per network, "
        "each after the one before has settled (its network answer stored, or its offline "
        "banner shown). Throttled through CDP's `Network.emulateNetworkConditions` on the page "
        "and on the service worker's target (the worker's own fetches, the network half of "
        "its network-first pages, are throttled only there); offline through "
        "`context.set_offline(True)`. Drawn: the later of the load event and the first frame "
        "with the task list on screen, from the navigation's start (the page's clock). "
        "“Served from the copy”: the worker answered with its cached page (the page's banner "
        "says so); otherwise the network's answer came first.",
        "",
        "| network | loads | served from the copy | first byte p50 | load event p50 | "
        "drawn p50 | drawn max |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, runs in result["repeats"].items():
        copies = sum(r["banner"] in ("cached", "offline") for r in runs)
        lines.append(
            f"| {REPEAT_LABELS[key][2]} | {len(runs)} | {copies} | "
            f"{median([r['response_ms'] for r in runs]):.0f} ms | "
            f"{median([r['load_ms'] for r in runs]):.0f} ms | "
            f"{median([r['drawn_ms'] for r in runs]):.0f} ms | "
            f"{max(r['drawn_ms'] for r in runs):.0f} ms |"
        )
    photos = result["photos"]
    lines += [
        "",
        "### A 12-megapixel photo scaled and queued",
        "",
        f"A JPEG of {PHOTO_SIZE[0]}×{PHOTO_SIZE[1]} (quality 0.92, gradient, blocks of colour "
        "and grain, made in the page with a canvas beforehand and not timed: Pillow is not "
        "among the project's packages) set on the result form's photo input (`#resolve-photos`, "
        "through a DataTransfer, which fires its `change`) of a task on scene, its page from the "
        "worker's cache with the network offline, so that the entry stays queued and no upload "
        "competes. Scaled: from the `change` to the photo ready (photos.js: decoded, drawn at "
        "most 2 megapixels, encoded as JPEG 0.85, its SHA-256 taken); queued: from the form's "
        "submit to the entry stored in the outbox (IndexedDB, the photo as a Blob); the stored "
        "photo is read back for its size.",
        "",
        "| task | photo | scaled to | scaled in | queued in | in all |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in photos:
        lines.append(
            f"| {run['number']} | {run['original']['bytes']:,} bytes | {run['width']}×"
            f"{run['height']} ({run['width'] * run['height']:,} px), {run['bytes']:,} bytes | "
            f"{run['scale_ms']:.0f} ms | {run['queue_ms']:.0f} ms | {run['total_ms']:.0f} ms |"
        )
    slow = result["repeats"]["slow_3g"]
    worst_photo = max(photos, key=lambda r: r["total_ms"])
    lines += [
        "",
        "### Targets",
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
        f"| the task list's first load ≤ {FIRST_LOAD_MAX_BYTES / 1000:g} kB (compressed, photos "
        f"left out, the service worker's install included) | {_kb(first['total_bytes'])} (the "
        f"page to its load event {_kb(first['page_bytes'])}) | "
        f"{verdict(first['total_bytes'] <= FIRST_LOAD_MAX_BYTES)} |",
    ]
    for key, runs in result["repeats"].items():
        worst = max(r["drawn_ms"] for r in runs)
        lines.append(
            f"| a repeat load from the cache {REPEAT_LABELS[key][1]} drawn within "
            f"{REPEAT_MAX_MS / 1000:g} s (every load) | max {worst:.0f} ms, p50 "
            f"{median([r['drawn_ms'] for r in runs]):.0f} ms | {verdict(worst <= REPEAT_MAX_MS)} |"
        )
    photos_ok = worst_photo["total_ms"] <= PHOTO_MAX_MS and all(
        r["width"] * r["height"] <= PHOTO_MAX_PIXELS for r in photos
    )
    lines.append(
        f"| a {PHOTO_SIZE[0] * PHOTO_SIZE[1] / 1e6:g}-megapixel photo scaled to ≤ "
        f"{PHOTO_MAX_PIXELS / 1e6:g} MP and queued within {PHOTO_MAX_MS / 1000:g} s (every run) | "
        f"max {worst_photo['total_ms']:.0f} ms, {worst_photo['width']}×{worst_photo['height']} | "
        f"{verdict(photos_ok)} |"
    )
    worst_slow = max(r["drawn_ms"] for r in slow)
    if worst_slow > REPEAT_MAX_MS and deadline is not None:
        first_byte = median([r["response_ms"] for r in slow])
        lines += [
            "",
            f"Why slow 3G misses, by {worst_slow - REPEAT_MAX_MS:.0f} ms at worst "
            f"({median([r['drawn_ms'] for r in slow]) - REPEAT_MAX_MS:+.0f} ms at p50): the "
            "service worker answers a field page network first, and with a copy in its cache "
            f"it waits up to `NAV_DEADLINE_MS` = {deadline} ms (static/field/sw.js) for the "
            "network before it serves the copy. On slow 3G the network's answer takes longer "
            f"than that (2,000 ms of latency alone), so every load waits the whole {deadline} ms: "
            f"its first byte came at {first_byte:.0f} ms (p50), and parsing, the shell from the "
            "cache and the load event took the rest. Offline the network fails at once and the "
            "copy is served without waiting. Serving the copy at once and revalidating in the "
            "background (the worker already tells the page when a newer copy is ready) or a "
            "deadline of a few hundred ms would bring the slow-3G load near the offline one.",
        ]
    near = result["repeats"]["latency_400"]
    worst_near = max(r["drawn_ms"] for r in near)
    if worst_near > REPEAT_MAX_MS and deadline is not None:
        by_network = [r for r in near if r["banner"] == "online"]
        rate = LATENCY_400["downloadThroughput"]
        transfer_ms = first["html_bytes"] / rate * 1000
        saved_ms = (first["html_bytes"] - first["html_gzip_bytes"]) / rate * 1000
        lines += [
            "",
            f"Why 400 ms of latency misses, by {worst_near - REPEAT_MAX_MS:.0f} ms at worst: "
            f"there the network's answer comes just before the deadline ({len(by_network)} of "
            f"{len(near)} loads were the network's, first byte p50 "
            f"{median([r['response_ms'] for r in by_network or near]):.0f} ms: 400 ms of "
            f"latency and the page's {first['html_bytes']:,} bytes of HTML, sent uncompressed, "
            f"at 50,000 bytes/s, {transfer_ms:.0f} ms), so each load waits for the network, and "
            f"one whose answer is a little late waits the whole {deadline} ms before the copy. "
            f"Gzipped, the page would be {first['html_gzip_bytes']:,} bytes "
            f"({saved_ms:.0f} ms less at this throughput, on every load of it and on each of its "
            "copies the worker fetches).",
        ]
    return lines


if __name__ == "__main__":
    main()
