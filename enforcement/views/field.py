"""The field's phone pages (issue 16): the officer's tasks and task page, the grid worker's
report form and reports, the outbox, and what makes them an installable web app working
offline (the service worker and the manifest); and the command centre's page of how late the
field's entries reach the platform.

The pages only read (through ``enforcement.field``) and draw. Every change the field makes is
queued in the page's outbox (IndexedDB, static/field/outbox.js) and posted to the REST API with
an ``Idempotency-Key`` and an ``If-Match``: the rules stay on the server, and a page served
from the service worker's cache offline can still record work."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from core.templatetags.durations import duration
from enforcement import field
from enforcement.choices import EvidenceKind, HandlingMode, TimerStage
from enforcement.permissions import desk_check
from enforcement.selectors import matter_types_all

OFFICER, GRID_WORKER = "officer", "grid_worker"
LATENESS_DAYS = 30

# The files every field page needs, cached by the service worker when it installs: the app
# shell works offline from the first visit on (static/field/sw.js).
SHELL_STATIC = (
    "css/site.css",
    "field/field.css",
    "img/favicon.svg",
    "js/countdown.js",
    "js/language-switch.js",
    "vendor/htmx.org-2.0.11/htmx.min.js",
    "vendor/idb-keyval-6.3.0/umd.js",
    "field/outbox.js",
    "field/photos.js",
    "field/field.js",
    "field/outbox-page.js",
    "field/icon.svg",
)
# The pages cached at install besides the page that registered the worker.
SHELL_PAGES = ("enforcement:field-outbox",)


def _role_require(user, *roles: str) -> str:
    """The user's field role when it is one of ``roles``; PermissionDenied (403) otherwise."""
    role = field.field_role(user)
    if role not in roles:
        raise PermissionDenied(_("These pages are the field's: officers and grid workers."))
    return role


def _strings() -> dict[str, str]:
    """What static/field/*.js writes on the page, translated here (the CSP allows no inline
    script; the page carries them as a JSON data block)."""
    return {
        "queued": _("Queued: it will be sent when the phone is online."),
        "sent": _("Sent"),
        "state_queued": _("Waiting to send"),
        "state_sending": _("Sending…"),
        "state_waiting": _("Will retry"),
        "state_conflict": _("Needs attention: the case changed"),
        "state_refused": _("Refused by the platform"),
        "state_blocked": _("Blocked behind a conflict"),
        "state_done": _("Sent"),
        "conflict_help": _(
            "The case changed on the platform after you recorded this. Compare both versions, "
            "then apply yours to the current version or discard it."
        ),
        "state_login": _("Log in again to send"),
        "other_user": _("Recorded by another user: sent when they log in"),
        "offline_as_of": _("Offline. This page is as of %(time)s."),
        "offline": _("Offline: what you record is queued on this phone."),
        "cached_as_of": _("Shown from this phone's copy of %(time)s."),
        "fresh_ready": _("A newer copy of this page is ready."),
        "reload": _("Reload"),
        "back_online": _("Back online."),
        "login_again": _("Your session has ended: log in again to send the waiting entries."),
        "log_in": _("Log in"),
        "storage_refused": _(
            "This browser did not grant persistent storage: if the phone runs short of space "
            "it may clear entries not yet sent. Send them as soon as you can."
        ),
        "storage_full": _(
            "The phone has no room left for this entry: nothing was queued. Send or discard "
            "waiting entries, or free some space, then record it again."
        ),
        "storage_granted": _("Persistent storage granted: the browser keeps the outbox."),
        "storage_unknown": _("This browser cannot promise to keep the outbox: send entries soon."),
        "locating": _("Finding your position…"),
        "position": _("(±%(accuracy)s m)"),
        "position_failed": _("No position: %(reason)s"),
        "position_denied": _("location is not allowed for this site"),
        "position_timeout": _("the phone did not find a position in time"),
        "position_needed": _(
            "A position is needed. Allow location, go into the open and try again."
        ),
        "distance": _("About %(distance)s m from the case (±%(accuracy)s m)."),
        "distance_far": _(
            "More than %(limit)s m from the case: the sign-in is recorded with a warning to "
            "the command centre."
        ),
        "in_cell": _("Grid cell: %(name)s (%(code)s)"),
        "outside_net": _("Outside the grid net (nearest cell %(name)s, %(distance)s m away)."),
        "cell_offline": _("The grid cell is found when the report is sent."),
        "photos_processing": _("Preparing photos…"),
        "photos_ready": _("%(count)s photo(s) ready"),
        "photo_failed": _("This file could not be read as a photo: %(name)s"),
        "pick_matter": _("Choose a matter type from the list."),
        "required": _("Fill in this field."),
        "second_officer_needed": _("Choose the second officer (Art. 42)."),
        "arrive_queued": _("On-scene sign-in queued at %(time)s."),
        "resolve_queued": _("Result queued at %(time)s."),
        "report_queued": _("Report queued at %(time)s."),
        "discard": _("Discard"),
        "discard_really": _("Really discard? Tap again"),
        "discard_offline": _("Discarding is recorded on the platform: connect and try again."),
        "discarded": _("Discarded."),
        "retry": _("Retry now"),
        "apply": _("Apply to the current version"),
        "mine": _("Mine, as recorded"),
        "theirs": _("The platform's now"),
        "loading": _("Loading…"),
        "now_unavailable": _("The case as it is now cannot be read (offline?)."),
        "captured": _("Recorded"),
        "age": _("Age"),
        "state": _("State"),
        "error": _("Last error"),
        "attempts": _("Attempts"),
        "status": _("Status"),
        "officer": _("Officer"),
        "team": _("Team"),
        "version": _("Version"),
        "photos": _("Photos"),
        "result": _("Result"),
        "handling_mode": _("Handling mode"),
        "description": _("Description"),
        "position_short": _("Position"),
        "case": _("Case"),
        "min_ago": _("%(n)s min ago"),
        "h_ago": _("%(n)s h ago"),
        "just_now": _("just now"),
        "waiting_count": _("%(n)s waiting"),
        "insecure": _(
            "This page is not served over HTTPS: the phone cannot keep an outbox, take "
            "positions or hash photos here."
        ),
        "no_idb": _("This browser cannot store an outbox (IndexedDB is unavailable)."),
        "action_arrive": _("On scene"),
        "action_resolve": _("Result"),
        "action_report": _("Report"),
        "action_self_handle": _("Report, handled myself"),
    }


def _field_context(request, role: str | None) -> dict:
    """What every field page's template needs: the role (its bottom navigation), the JS's
    strings and settings, and the time the page was drawn (shown when it is served from the
    phone's cache offline)."""
    config = {
        "user": request.user.get_username(),
        "role": role,
        "sw_url": reverse("enforcement:field-sw"),
        "scope": reverse("enforcement:field-home"),
        "case_url": "/api/v1/cases/{number}/",
        "discard_url": reverse("enforcement-api:field-discard"),
        "locate_url": reverse("grids-api:grid-locate"),
        "arrive_warn_metres": settings.FIELD_ARRIVE_WARN_METRES,
    }
    return {
        "field_role": role,
        "field_strings": _strings(),
        "field_config": config,
        "rendered_at": timezone.now(),
    }


@login_required
@require_GET
def field_home(request):
    """The field app's start (the manifest's start_url): the officer's tasks or the grid
    worker's reports."""
    role = _role_require(request.user, OFFICER, GRID_WORKER)
    return redirect("enforcement:field-tasks" if role == OFFICER else "enforcement:field-reports")


def _clock_label(case) -> None:
    stage = getattr(case, "clock_stage", None)
    case.clock_stage_label = TimerStage(stage).label if stage in TimerStage.values else ""


@login_required
@require_GET
def field_tasks_page(request):
    """The officer's tasks: the cases dispatched to them or their team, by deadline."""
    role = _role_require(request.user, OFFICER)
    tasks = list(field.field_tasks(request.user))
    for case in tasks:
        _clock_label(case)
    context = {**_field_context(request, role), "tasks": tasks}
    return render(request, "enforcement/field/tasks.html", context)


@login_required
@require_GET
def field_task_page(request, number: str):
    """One task: what, where, the clock, history and photos, and the forms of its next step
    (on scene, result), each queued in the outbox. A case the officer may not see is a 404."""
    role = _role_require(request.user, OFFICER)
    case = field.field_task_get(request.user, number)
    _clock_label(case)
    events = list(case.events.select_related("actor").order_by("-sequence"))
    photos = list(case.evidence.filter(kind=EvidenceKind.PHOTO).order_by("uploaded_at", "pk"))
    second_officers = list(field.field_second_officers(request.user, on=timezone.localdate()))
    snapshot = {
        "status": case.status,
        "status_label": str(case.get_status_display()),
        "officer": case.officer.user.get_username() if case.officer_id else None,
        "team": case.team.name if case.team_id else None,
        "version": case.version,
    }
    context = {
        **_field_context(request, role),
        "case": case,
        "events": events,
        "photos": photos,
        "second_officers": second_officers,
        "snapshot": snapshot,
        "api_arrive": reverse("enforcement-api:case-arrive", args=[case.number]),
        "api_resolve": reverse("enforcement-api:case-resolve", args=[case.number]),
    }
    return render(request, "enforcement/field/task.html", context)


@login_required
@require_GET
def field_report_page(request):
    """The grid worker's report form (上报), with the 自处置 switch: report and resolution in one
    go."""
    role = _role_require(request.user, GRID_WORKER)
    matter_types = matter_types_all()
    context = {
        **_field_context(request, role),
        "matter_types": matter_types,
        "matter_codes": {m.name: m.code for m in matter_types},
        "self_handling_modes": [
            (value, label)
            for value, label in HandlingMode.choices
            if value != HandlingMode.ENFORCEMENT
        ],
        "api_cases": reverse("enforcement-api:case-list"),
    }
    return render(request, "enforcement/field/report.html", context)


@login_required
@require_GET
def field_reports_page(request):
    """The grid worker's reports with their status, newest first."""
    role = _role_require(request.user, GRID_WORKER)
    context = {**_field_context(request, role), "reports": list(field.field_reports(request.user))}
    return render(request, "enforcement/field/reports.html", context)


@login_required
@require_GET
def field_outbox_page(request):
    """The outbox: drawn in the page from IndexedDB (static/field/outbox.js); the server knows
    nothing of what the phone holds until it is sent."""
    role = _role_require(request.user, OFFICER, GRID_WORKER)
    return render(request, "enforcement/field/outbox.html", _field_context(request, role))


@login_required
@require_GET
def field_sync_page(request):
    """The command centre's view of the field's entries over the last 30 days: per officer or
    grid worker, how many reached the platform late and how late, and the on-scene sign-ins far
    from the case (a dead spot or a stuck phone shows)."""
    desk_check(request.user)
    rows = list(field.field_lateness(request.user, days=LATENESS_DAYS))
    for row in rows:
        row.late_median_text = duration(row.late_median)
        row.late_max_text = duration(row.late_max)
    context = {
        "rows": rows,
        "days": LATENESS_DAYS,
        "late_after_minutes": int(settings.FIELD_LATE_AFTER.total_seconds() // 60),
        "warn_metres": settings.FIELD_ARRIVE_WARN_METRES,
    }
    return render(request, "enforcement/field/sync.html", context)


# --- the installable app: the service worker and the manifest -----------------------------------


def _static_source(path: str) -> bytes:
    """A static file's bytes: from the source tree (STATICFILES_DIRS), else as collected."""
    found = finders.find(path)
    if found:
        with open(found, "rb") as handle:
            return handle.read()
    with staticfiles_storage.open(path) as handle:
        return handle.read()


def _service_worker_build() -> bytes:
    shell = [static(path) for path in SHELL_STATIC]
    pages = [reverse(name) for name in SHELL_PAGES]
    source = _static_source("field/sw.js")
    digest = hashlib.sha256(source)
    for url in shell:
        digest.update(url.encode())
    if settings.DEBUG:
        # Unhashed static names in development: a changed file must change the cache too.
        for path in SHELL_STATIC:
            digest.update(_static_source(path))
    config = {
        "version": digest.hexdigest()[:12],
        "shell": shell,
        "pages": pages,
        "scope": reverse("enforcement:field-home"),
        "evidence_prefix": "/cases/",
    }
    prefix = "self.FIELD_SW = " + json.dumps(config) + ";\n"
    return prefix.encode() + source


@lru_cache(maxsize=1)
def _service_worker_cached() -> bytes:
    return _service_worker_build()


@require_GET
@cache_control(no_cache=True)
def field_service_worker(request):
    """The field app's service worker at /field/ (its scope): static/field/sw.js with the list
    of the app shell's files (their hashed names) and a cache version derived from them. Public,
    like the static files it lists: the browser fetches it to check for updates whether or not a
    session is open. Never cached by HTTP (``no-cache``), so a new release reaches phones."""
    body = _service_worker_build() if settings.DEBUG else _service_worker_cached()
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("enforcement:field-home")
    return response


@require_GET
@cache_control(no_cache=True)
def field_manifest(request):
    """The web app manifest. Public: browsers fetch a manifest without the session cookie."""
    manifest = {
        "name": _("Shaoxiang field"),
        "short_name": _("Shaoxiang"),
        "description": _("Tasks, on-scene sign-ins, results and reports from the street."),
        "id": reverse("enforcement:field-home"),
        "start_url": reverse("enforcement:field-home"),
        "scope": reverse("enforcement:field-home"),
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f4f6f8",
        "theme_color": "#a93226",
        "lang": request.LANGUAGE_CODE,
        "icons": [
            {"src": static("field/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("field/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("field/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return HttpResponse(
        json.dumps(manifest, ensure_ascii=False),
        content_type="application/manifest+json; charset=utf-8",
    )
