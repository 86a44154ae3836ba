"""The command centre's pages on PostgreSQL at 10,000 and 1,000,000 cases: the desk's first page,
a filtered desk page, the case page and the dashboard's counters (p50 and p95 server time, SQL
statements), the dashboard page and its map, and what the dashboard's first load transfers.

    .venv/bin/python bench/web_pages.py                  # ~10 min; updates docs/PERFORMANCE.md
    .venv/bin/python bench/web_pages.py --cases 100000 --no-docs   # quicker
    .venv/bin/python bench/web_pages.py --smoke   # every step at the smallest sizes; no figures

It drops and recreates its own database (``shaoxiang_bench_web`` on 127.0.0.1:5432, user
postgres), migrates it and loads the demo district (``seed_demo --cases 0``) with
``manage.py``, and collects the static files with the production storage (hashed names, gzip
files beside them, as whitenoise serves them) into its VAR_DIR. The cases the case page opens
are made first, through ``case_intake`` and the workflow in the demo street 红花街道 (each in
another status, one whistled to departments, one with a supervision opened by the sweeper), so
their histories are hash-chained as in production. Every other case is generated in SQL
(INSERT … SELECT generate_series, in chunks): two streets, the comprehensive cells of each at
their representative points, the matter types skewed towards the first (占道经营), 90 % closed
over the last two years and the rest reported, accepted, dispatched, on scene, resolved or
suspended over the last 30 days, numbered ``<street>-<year>-<seq>`` after the street's
counter (which is moved on); each with its intake event (its hash a stand-in, not chained),
each open case with the live timer of its stage (about one in five overdue), a department
call for the cases whistled, an open supervision (with its fired timer and answer timer) for
one in four overdue cases at a command-centre stage. Then VACUUM ANALYZE.

At each size, in this process, through django.test.Client logged in as the demo's command
centre ``hh_command`` (street 320104010), DEBUG off: warm-up requests, then ``--requests``
timed requests per page (time around ``client.get``), then one more under
CaptureQueriesContext for its statements. A page missing a target at the largest size gets
its slowest statement run again under EXPLAIN (ANALYZE, BUFFERS). The dashboard's first load
is its HTML as served, the stylesheets and scripts it links (the ``.gz`` files collectstatic
wrote, which whitenoise sends to a browser accepting gzip) and the map its script fetches.
Celery messages of the workflow, if any, go to Redis on 127.0.0.1:6379 under this bench's
own queue name, which nobody consumes; the bench deletes that queue and drops its database at
the end, also after an error or Ctrl-C (``--keep-db`` keeps the database). A ``--smoke`` run
does every step at 200 and 2,000 cases with three requests per page under names of its own
(``shaoxiang_bench_web_smoke_<hex>``) and checks every answer and count."""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

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

# The database, the instance name (also the Celery queue name: nobody consumes it) and, under
# /tmp, the VAR_DIR of a full run; a smoke run's add _smoke_<hex>.
SCRATCH_BASE = "shaoxiang_bench_web"
COMMAND = ".venv/bin/python bench/web_pages.py"
SMOKE_NOTE = (
    "`--smoke` runs every step (its own database `shaoxiang_bench_web_smoke_<hex>` made, "
    "migrated, seeded and dropped; collectstatic; 200 and then 2,000 cases; three requests per "
    "page) and checks every answer and count, prints no figures and writes nothing here; "
    "`make test` runs it (tests/test_benches.py)."
)
HOST = "127.0.0.1"
USERNAME = "hh_command"
STREET = "320104010"  # 红花街道, the command centre's street
CHUNK = 250_000  # generated cases per INSERT (one transaction each)
# The second filtered desk page: grid reports in hand (a full page of 50 at 10,000 cases).
BROAD_FILTER = "queue=in_hand&source=grid_report"


@dataclass(frozen=True)
class Sizes:
    small: int
    large: int
    warmup: int  # requests per page before the timed ones
    requests: int  # timed requests per page and size


FULL = Sizes(small=10_000, large=1_000_000, warmup=5, requests=40)
SMOKE = Sizes(small=200, large=2_000, warmup=1, requests=3)

# Targets of the issue.
PAGE_P50_MAX_MS = 100.0  # the desk's pages and the case page, at the large size
PAGE_QUERIES_MAX = 10
GROWTH_MAX = 1.5  # p50 at the large size ÷ p50 at the small size
COUNTERS_P50_MAX_MS = 150.0
# A page missing a time target gets the plan of its slowest statement when that statement
# takes at least this share of its p50.
SLOWEST_SHARE = 0.25
FIRST_LOAD_MAX_BYTES = 1_500_000  # the dashboard's first load, compressed where served so

# The generated cases' statuses, by share (the rest closed), and the live timer of each.
OPEN_SHARES = (
    ("reported", 0.015),
    ("accepted", 0.015),
    ("dispatched", 0.025),
    ("on_scene", 0.015),
    ("resolved", 0.025),
    ("suspended", 0.005),
)
STAGE_OF_STATUS = {
    "reported": "accept",
    "accepted": "dispatch",
    "dispatched": "arrive",
    "on_scene": "resolve",
    "resolved": "verify",
    "suspended": "resolve",  # paused
}
VERSION_OF_STATUS = {
    "reported": 1,
    "accepted": 2,
    "dispatched": 3,
    "on_scene": 4,
    "suspended": 4,
    "resolved": 5,
    "closed": 6,
}
# Sources by weight (grid reports and 12345 work orders first), as in the demo.
SOURCES = (
    ("grid_report", 7),
    ("hotline_12345", 6),
    ("patrol", 3),
    ("video", 2),
    ("resident", 1),
    ("drone", 1),
)
# A whole day of working time for the stages counted in working days (the pages do not count
# the calendar; the timers only need deadlines around now).
UNIT_SPANS = {
    "minutes": timedelta(minutes=1),
    "hours": timedelta(hours=1),
    "natural_days": timedelta(days=1),
    "working_days": timedelta(days=1),
}


def settings_environment(scratch: Scratch) -> None:
    """What this process and its manage.py commands read their settings from."""
    os.environ.update(
        {
            "DATABASE_URL": scratch.database_url,
            "INSTANCE_NAME": scratch.instance,
            "REDIS_URL": REDIS_URL,
            "VAR_DIR": str(scratch.var_dir),
            "DEBUG": "false",
            # DEBUG off, as in production; a key of this run's own.
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "WARNING",
            # Persistent, as a web process holds it (NOTES.md).
            "DB_CONN_MAX_AGE": "600",
        }
    )


# --- the cases the case page opens (through the workflow) ---


@dataclass
class DemoStreet:
    region: object
    command: object
    grid: object
    leader: object
    teams: list
    officers: dict  # team pk -> officers with a valid certificate
    points: list  # (lat, lng) of the comprehensive cells


def demo_street(code: str) -> DemoStreet:
    import shapely
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from shapely.geometry import shape

    from enforcement.models import Officer, Team
    from grids.choices import GridLevel
    from grids.models import GridCell, Region

    users = get_user_model().objects
    region = Region.objects.get(code=code)
    prefix = {"320104010": "hh", "320104003": "fzm"}[code]
    teams = list(Team.objects.filter(street=region).order_by("name"))
    points = []
    for geometry in (
        GridCell.objects.filter(community__parent=region, level=GridLevel.COMPREHENSIVE)
        .order_by("code")
        .values_list("geometry", flat=True)
    ):
        lng, lat = shapely.get_coordinates(shape(geometry).representative_point())[0]
        points.append((float(lat), float(lng)))
    return DemoStreet(
        region=region,
        command=users.get(username=f"{prefix}_command"),
        grid=users.get(username=f"{prefix}_grid"),
        leader=users.get(username=f"{prefix}_leader"),
        teams=teams,
        officers={
            team.pk: list(
                Officer.objects.filter(
                    team=team, certificate_expires_on__gte=timezone.localdate()
                ).select_related("user")
            )
            for team in teams
        },
        points=points,
    )


def page_cases_make() -> list[str]:
    """Seven cases of 红花街道 through case_intake and the workflow, each stopped in another
    status (reported; accepted, then late, so that the sweeper opens a supervision; dispatched
    to a team; whistled to departments; on scene; resolved; closed): their events, timers,
    calls and supervisions are those production writes, their chains intact. Returns their
    numbers."""
    from django.utils import timezone

    from enforcement import workflow
    from enforcement.choices import CaseSource, DispatchTarget, HandlingMode, TimerState
    from enforcement.models import MatterType, Supervision, Timer
    from enforcement.services import case_intake
    from enforcement.timers import timers_fire_due

    street = demo_street(STREET)
    matters = list(MatterType.objects.order_by("pk"))
    whistled_matter = next(m for m in matters if m.power_items.exists())
    team = street.teams[0]
    officer = street.officers[team.pk][0]
    targets = ("reported", "accepted", "dispatched", "whistled", "on_scene", "resolved", "closed")
    numbers = []
    late = None
    for n, target in enumerate(targets):
        lat, lng = street.points[(n * 5) % len(street.points)]
        matter = whistled_matter if target == "whistled" else matters[n % len(matters)]
        case = case_intake(
            source=CaseSource.HOTLINE_12345,
            external_id=f"WEB-PAGE-{n}",
            matter_type=matter,
            description=f"基准案件页{n}：{matter.name}",
            lat=lat,
            lng=lng,
            address=f"应天大街{100 + n}号",
            reporter_name="市民",
            reporter_phone=f"1390000{n:04d}",
            actor=street.command,
        ).case
        numbers.append(case.number)
        if target == "reported":
            continue
        case = workflow.case_accept(case=case, actor=street.command)
        if target == "accepted":
            late = case
            continue
        if target == "whistled":
            workflow.case_whistle(
                case=case, actor=street.command, items=list(matter.power_items.all()[:2])
            )
            continue
        case = workflow.case_dispatch(
            case=case, actor=street.command, target=DispatchTarget.TEAM, team=team, officer=officer
        )
        if target == "dispatched":
            continue
        case = workflow.case_arrive(case=case, actor=officer.user, lat=case.lat, lng=case.lng)
        if target == "on_scene":
            continue
        case = workflow.case_resolve(
            case=case,
            actor=officer.user,
            result="已劝离，恢复通行",
            handling_mode=HandlingMode.MANAGEMENT,
        )
        if target == "resolved":
            continue
        workflow.case_verify(case=case, actor=street.grid, note="复核已整改")
    # The accepted case's dispatch deadline passed a minute ago: the sweeper opens its
    # supervision (its event, its answer timer, the command centre told), as in production.
    past = timezone.now() - timedelta(minutes=1)
    Timer.objects.filter(case=late, state=TimerState.PENDING).update(
        warn_at=None, due_at=past, next_at=past
    )
    timers_fire_due()
    if not Supervision.objects.filter(case=late).exists():
        raise SystemExit(f"the sweeper opened no supervision for {late.number}")
    return numbers


# --- the generated cases (SQL) ---


def reference_data() -> dict:
    """What the generating statements pick from: the demo's comprehensive cells (their
    street and representative point), matter types, officers per street, departments, the
    demo users who report, and the SLA policy of each stage."""
    import shapely
    from shapely.geometry import shape

    from enforcement.models import MatterType, SlaPolicy
    from grids.choices import GridLevel
    from grids.models import GridCell
    from powers.models import Department

    streets = [demo_street("320104010"), demo_street("320104003")]
    cells = {"ids": [], "codes": [], "street": [], "lat": [], "lng": []}
    officers, officer_first, officer_count = [], [], []
    for index, street in enumerate(streets, start=1):
        for cell in GridCell.objects.filter(
            community__parent=street.region, level=GridLevel.COMPREHENSIVE
        ).order_by("code"):
            lng, lat = shapely.get_coordinates(shape(cell.geometry).representative_point())[0]
            cells["ids"].append(cell.pk)
            cells["codes"].append(cell.code)
            cells["street"].append(index)
            cells["lat"].append(float(lat))
            cells["lng"].append(float(lng))
        officer_first.append(len(officers) + 1)
        own = [o.pk for team in street.teams for o in street.officers[team.pk]]
        officers.extend(own)
        officer_count.append(len(own))
    matters = list(MatterType.objects.order_by("pk"))
    # Each stage's policy for an ordinary case of no particular type or source (the resolve
    # stage has one per severity).
    policies = {}
    for policy in SlaPolicy.objects.filter(
        matter_type=None, source="", severity__in=["", "ordinary"]
    ).order_by("severity", "pk"):
        policies.setdefault(policy.stage, policy)
    return {
        "streets": streets,
        "street_ids": [s.region.pk for s in streets],
        "street_codes": [s.region.code for s in streets],
        "street_names": [s.region.name for s in streets],
        "command_users": [s.command.pk for s in streets],
        "grid_users": [s.grid.pk for s in streets],
        "cells": cells,
        "officers": officers,
        "officer_first": officer_first,
        "officer_count": officer_count,
        "matter_ids": [m.pk for m in matters],
        "matter_codes": [m.code for m in matters],
        "matter_names": [m.name for m in matters],
        "matter_severity": [m.default_severity for m in matters],
        "matter_mode": [m.default_handling_mode for m in matters],
        "departments": list(Department.objects.order_by("pk").values_list("pk", flat=True)),
        "policies": policies,
    }


_CASES_SQL = """
WITH r AS MATERIALIZED (
    SELECT g, random() AS u_status, random() AS u_cell, random() AS u_matter,
           random() AS u_time, random() AS u_source, random() AS u_target,
           random() AS u_officer, random() AS u_lat, random() AS u_lng, random() AS u_took
      FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
), p AS (
    SELECT r.*,
           1 + floor(u_cell * %(n_cells)s)::int AS ci,
           -- skewed: the first types (占道经营, 流动摊贩 …) are the most frequent
           1 + floor(u_matter * u_matter * %(n_matters)s)::int AS mi,
           CASE {status_cases} ELSE 'closed' END AS status
      FROM r
), q AS (
    SELECT p.*,
           (%(cell_street)s::int[])[ci] AS si,
           (%(sources)s::text[])[1 + floor(u_source * %(n_sources)s)::int] AS source,
           CASE WHEN status = 'closed'
                THEN %(now)s - interval '2 days' - u_time * interval '728 days'
                ELSE %(now)s - u_time * interval '30 days' END AS created_at,
           CASE WHEN status IN ('reported', 'accepted') THEN ''
                WHEN u_target < 0.75 THEN 'team'
                WHEN u_target < 0.90 THEN 'grid'
                ELSE 'department' END AS dispatch_target
      FROM p
), s AS (
    SELECT q.*,
           extract(year FROM created_at AT TIME ZONE 'Asia/Shanghai')::int AS year,
           CASE WHEN dispatch_target = 'team' THEN (%(officers)s::bigint[])[
               (%(officer_first)s::int[])[si]
               + floor(u_officer * (%(officer_count)s::int[])[si])::int] END AS officer_id
      FROM q
), n AS (
    SELECT s.*,
           coalesce(c.last, 0)
           + row_number() OVER (PARTITION BY s.si, s.year ORDER BY s.created_at, s.g) AS sequence
      FROM s
      LEFT JOIN enforcement_casenumbercounter c
        ON c.street_id = (%(street_ids)s::bigint[])[s.si] AND c.year = s.year
)
INSERT INTO enforcement_case (
    street_id, year, sequence, number, source, external_id, severity, handling_mode,
    description, lat, lng, cell_id, address, reporter_name, reporter_phone_encrypted,
    reporter_phone_masked, status, version, dispatch_target, reopen_count, suspended_from,
    created_at, updated_at, matter_type_id, reported_by_id, team_id, officer_id)
SELECT (%(street_ids)s::bigint[])[n.si], n.year, n.sequence,
       (%(street_codes)s::text[])[n.si] || '-' || n.year || '-' || lpad(n.sequence::text, 6, '0'),
       n.source,
       CASE WHEN n.source IN ('hotline_12345', 'video') THEN 'WEB-' || n.g ELSE '' END,
       (%(matter_severity)s::text[])[n.mi], (%(matter_mode)s::text[])[n.mi],
       '基准案件' || n.g || '：' || (%(matter_names)s::text[])[n.mi],
       round(((%(cell_lat)s::float8[])[n.ci] + (n.u_lat - 0.5) * 0.0006)::numeric, 7)::float8,
       round(((%(cell_lng)s::float8[])[n.ci] + (n.u_lng - 0.5) * 0.0006)::numeric, 7)::float8,
       (%(cell_ids)s::bigint[])[n.ci],
       '应天大街' || (1 + n.g %% 500) || '号',
       CASE WHEN n.source = 'hotline_12345' THEN '市民' ELSE '' END, '', '',
       n.status,
       CASE n.status {version_cases} END,
       n.dispatch_target, 0,
       CASE WHEN n.status = 'suspended' THEN 'dispatched' ELSE '' END,
       n.created_at,
       CASE WHEN n.status = 'closed'
            THEN n.created_at + interval '1 hour' + n.u_took * interval '71 hours'
            ELSE n.created_at + n.u_took * (%(now)s - n.created_at) END,
       (%(matter_ids)s::bigint[])[n.mi],
       -- as the demo: a grid report is the grid worker's, every other source the command
       -- centre's intake
       CASE WHEN n.source = 'grid_report' THEN (%(grid_users)s::int[])[n.si]
            ELSE (%(command_users)s::int[])[n.si] END,
       o.team_id, n.officer_id
  FROM n
  LEFT JOIN enforcement_officer o ON o.id = n.officer_id
"""

_COUNTERS_SQL = """
INSERT INTO enforcement_casenumbercounter (street_id, year, last)
SELECT street_id, year, max(sequence) FROM enforcement_case GROUP BY street_id, year
ON CONFLICT (street_id, year) DO UPDATE SET last = excluded.last
"""

_EVENTS_SQL = """
INSERT INTO enforcement_caseevent (case_id, sequence, kind, actor_id, at, from_status, to_status,
                                   data, previous_hash, hash)
SELECT id, 1, 'intake', reported_by_id, created_at, '', 'reported',
       jsonb_build_object('source', source, 'external_id', external_id, 'lat', lat, 'lng', lng),
       repeat('0', 64),
       -- a stand-in, unique as the constraint asks; not the chain's hash
       encode(sha256(convert_to('web_pages bench ' || id, 'UTF8')), 'hex')
  FROM enforcement_case
 WHERE id > %(after)s
"""

_TIMERS_SQL = """
WITH t AS MATERIALIZED (
    SELECT c.id, c.status, p.*, %(now)s - random() * 1.25 * p.span AS started
      FROM enforcement_case c
      JOIN unnest(%(statuses)s::text[], %(stages)s::text[], %(policies)s::bigint[],
                  %(amounts)s::int[], %(units)s::text[], %(spans)s::interval[])
           AS p(case_status, stage, policy, amount, unit, span) ON p.case_status = c.status
     WHERE c.id > %(after)s
)
INSERT INTO enforcement_timer (case_id, stage, policy_id, state, started_at, amount, unit,
                               warn_at, due_at, provisional, next_at, due_left)
SELECT id, stage, policy, CASE WHEN status = 'suspended' THEN 'paused' ELSE 'pending' END,
       started, amount, unit, started + 0.8 * span, started + span, false,
       CASE WHEN status = 'suspended' THEN NULL
            WHEN started + 0.8 * span > %(now)s THEN started + 0.8 * span
            ELSE started + span END,
       CASE WHEN status = 'suspended' THEN span * 0.5 END
  FROM t
"""

# One in four overdue timers at a stage the command centre answers for: fired, its
# supervision open, its answer timer running.
_SUPERVISIONS_SQL = """
WITH fired AS (
    UPDATE enforcement_timer
       SET state = 'fired', fired_at = due_at + interval '30 s', lateness = interval '30 s',
           next_at = NULL
     WHERE case_id > %(after)s AND state = 'pending' AND due_at < %(now)s
       AND stage IN ('accept', 'dispatch', 'verify') AND case_id %% 4 = 0
    RETURNING id, case_id, stage, due_at
), opened AS (
    INSERT INTO enforcement_supervision (case_id, opened_by_id, stage, level, addressee_role,
                                         addressee_label, state, opened_at, response)
    SELECT case_id, id, stage, 1, 'command_centre', '指挥中心', 'open',
           due_at + interval '30 s', ''
      FROM fired
    RETURNING id, case_id, opened_at
)
INSERT INTO enforcement_timer (case_id, supervision_id, stage, policy_id, state, started_at,
                               amount, unit, warn_at, due_at, provisional, next_at)
SELECT case_id, id, 'supervision_response', %(answer_policy)s, 'pending', opened_at,
       %(answer_amount)s, %(answer_unit)s, opened_at + 0.8 * %(answer_span)s,
       opened_at + %(answer_span)s, false, opened_at + 0.8 * %(answer_span)s
  FROM opened
"""

_CALLS_SQL = """
INSERT INTO enforcement_departmentcall (case_id, department_id, status, version, called_at,
                                        called_by_id, reported_in_at, completed_at, result,
                                        return_reason)
SELECT c.id, (%(departments)s::bigint[])[1 + c.id %% %(n_departments)s],
       CASE WHEN c.status = 'dispatched' THEN 'called'
            WHEN c.status IN ('on_scene', 'suspended') THEN 'accepted'
            ELSE 'completed' END,
       CASE WHEN c.status = 'dispatched' THEN 1
            WHEN c.status IN ('on_scene', 'suspended') THEN 3 ELSE 4 END,
       c.created_at + interval '30 minutes',
       (%(command_users)s::int[])[array_position(%(street_ids)s::bigint[], c.street_id)],
       CASE WHEN c.status <> 'dispatched' THEN c.created_at + interval '50 minutes' END,
       CASE WHEN c.status IN ('resolved', 'closed') THEN c.updated_at - interval '1 hour' END,
       CASE WHEN c.status IN ('resolved', 'closed') THEN '部门已到场处置完毕' ELSE '' END, ''
  FROM enforcement_case c
 WHERE c.id > %(after)s AND c.dispatch_target = 'department'
"""

LOADED_TABLES = (
    "enforcement_case",
    "enforcement_caseevent",
    "enforcement_timer",
    "enforcement_supervision",
    "enforcement_departmentcall",
    "enforcement_casenumbercounter",
)


def cases_generate(count: int, *, first: int, ref: dict) -> dict:
    """``count`` cases numbered ``first`` … in the generator's series, with their intake events,
    live timers, department calls and supervisions, in chunks of CHUNK cases (each chunk's
    statements one transaction); then VACUUM ANALYZE. Returns the seconds of each step."""
    from django.db import connection, transaction
    from django.utils import timezone

    cumulative, status_cases = 0.0, []
    for status, share in OPEN_SHARES:
        cumulative += share
        status_cases.append(f"WHEN u_status < {cumulative:.4f} THEN '{status}'")
    cases_sql = _CASES_SQL.format(
        status_cases=" ".join(status_cases),
        version_cases=" ".join(f"WHEN '{s}' THEN {v}" for s, v in VERSION_OF_STATUS.items()),
    )
    sources = [name for name, weight in SOURCES for _ in range(weight)]
    policies = ref["policies"]
    statuses = list(STAGE_OF_STATUS)
    stage_policies = [policies[STAGE_OF_STATUS[s]] for s in statuses]
    answer = policies["supervision_response"]
    cells = ref["cells"]
    seconds = {"cases": 0.0, "events, timers, calls, supervisions": 0.0, "vacuum analyze": 0.0}
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(id), 0) FROM enforcement_case")
            after = cursor.fetchone()[0]
            began = time.perf_counter()
            cursor.execute(
                cases_sql,
                {
                    "first": first + done,
                    "last": first + done + size - 1,
                    "now": now,
                    "n_cells": len(cells["ids"]),
                    "cell_ids": cells["ids"],
                    "cell_street": cells["street"],
                    "cell_lat": cells["lat"],
                    "cell_lng": cells["lng"],
                    "n_matters": len(ref["matter_ids"]),
                    "matter_ids": ref["matter_ids"],
                    "matter_names": ref["matter_names"],
                    "matter_severity": ref["matter_severity"],
                    "matter_mode": ref["matter_mode"],
                    "sources": sources,
                    "n_sources": len(sources),
                    "officers": ref["officers"],
                    "officer_first": ref["officer_first"],
                    "officer_count": ref["officer_count"],
                    "street_ids": ref["street_ids"],
                    "street_codes": ref["street_codes"],
                    "command_users": ref["command_users"],
                    "grid_users": ref["grid_users"],
                },
            )
            if cursor.rowcount != size:
                raise SystemExit(f"generated {cursor.rowcount} cases instead of {size}")
            cursor.execute(_COUNTERS_SQL)
            seconds["cases"] += time.perf_counter() - began
            began = time.perf_counter()
            cursor.execute(_EVENTS_SQL, {"after": after})
            cursor.execute(
                _TIMERS_SQL,
                {
                    "after": after,
                    "now": now,
                    "statuses": statuses,
                    "stages": [STAGE_OF_STATUS[s] for s in statuses],
                    "policies": [p.pk for p in stage_policies],
                    "amounts": [p.amount for p in stage_policies],
                    "units": [p.unit for p in stage_policies],
                    "spans": [p.amount * UNIT_SPANS[p.unit] for p in stage_policies],
                },
            )
            cursor.execute(
                _SUPERVISIONS_SQL,
                {
                    "after": after,
                    "now": now,
                    "answer_policy": answer.pk,
                    "answer_amount": answer.amount,
                    "answer_unit": answer.unit,
                    "answer_span": answer.amount * UNIT_SPANS[answer.unit],
                },
            )
            cursor.execute(
                _CALLS_SQL,
                {
                    "after": after,
                    "departments": ref["departments"],
                    "n_departments": len(ref["departments"]),
                    "command_users": ref["command_users"],
                    "street_ids": ref["street_ids"],
                },
            )
            seconds["events, timers, calls, supervisions"] += time.perf_counter() - began
        done += size
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for table in LOADED_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    seconds["vacuum analyze"] = time.perf_counter() - began
    return seconds


def data_census(page_numbers: list[str]) -> dict:
    """What the database holds, counted: the cases by status, of the measured street, their
    events, live timers (overdue among them), calls, open supervisions; and what the filtered
    desk page asks for."""
    from django.db.models import Count
    from django.utils import timezone

    from enforcement.models import Case, CaseEvent, DepartmentCall, Supervision, Timer

    by_status = dict(Case.objects.values_list("status").annotate(n=Count("pk")).order_by())
    street = Case.objects.filter(street__code=STREET)
    live = Timer.objects.filter(state__in=["pending", "warned", "paused"], case__isnull=False)
    return {
        "cases": sum(by_status.values()),
        "by_status": by_status,
        "street_cases": street.count(),
        "street_open": street.exclude(status="closed").count(),
        "events": CaseEvent.objects.count(),
        "cases_without_event": Case.objects.filter(events__isnull=True).count(),
        "live_timers": live.count(),
        "overdue_timers": live.filter(state__in=["pending", "warned"], due_at__lt=timezone.now())
        .values("case")
        .distinct()
        .count(),
        "calls": DepartmentCall.objects.count(),
        "supervisions_open": Supervision.objects.filter(state="open").count(),
        "page_cases": Case.objects.filter(number__in=page_numbers).count(),
    }


# --- measures ---


def quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    paths: tuple[str, ...]  # requested round-robin
    target_ms: float | None
    target_queries: int | None
    growth: bool  # its p50 at the large size within GROWTH_MAX × the small size's


def pages_of(*, page_numbers: list[str], filtered_query: str) -> list[Page]:
    return [
        Page(
            "desk",
            "desk, first page (`/desk/`, queue To accept)",
            ("/desk/",),
            PAGE_P50_MAX_MS,
            PAGE_QUERIES_MAX,
            True,
        ),
        Page(
            "desk_filtered",
            f"desk, filtered (`/desk/?{filtered_query}`)",
            (f"/desk/?{filtered_query}",),
            PAGE_P50_MAX_MS,
            PAGE_QUERIES_MAX,
            True,
        ),
        # A filter that fills the page at both sizes: its growth is the queries', not that of
        # a page of a few rows becoming one of many.
        Page(
            "desk_source",
            f"desk, filtered (`/desk/?{BROAD_FILTER}`)",
            (f"/desk/?{BROAD_FILTER}",),
            PAGE_P50_MAX_MS,
            PAGE_QUERIES_MAX,
            True,
        ),
        Page(
            "case",
            f"case page (`/cases/<number>/`, {len(page_numbers)} cases in turn)",
            tuple(f"/cases/{number}/" for number in page_numbers),
            PAGE_P50_MAX_MS,
            PAGE_QUERIES_MAX,
            True,
        ),
        Page(
            "counters",
            f"dashboard counters (`/dashboard/counters/?street={STREET}`)",
            (f"/dashboard/counters/?street={STREET}",),
            COUNTERS_P50_MAX_MS,
            None,
            False,
        ),
        Page("dashboard", "dashboard page (`/dashboard/`)", ("/dashboard/",), None, None, False),
        Page(
            "map",
            f"dashboard map (`/dashboard/map.json?street={STREET}`)",
            (f"/dashboard/map.json?street={STREET}",),
            None,
            None,
            False,
        ),
    ]


class StatementLog:
    """connection.execute_wrapper: each statement's time (to the microsecond;
    CaptureQueriesContext rounds to the millisecond) and parameters, to run it again under
    EXPLAIN (CaptureQueriesContext keeps only the text)."""

    def __init__(self):
        self.statements: list[tuple[float, str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - began) * 1000
            self.statements.append((ms, sql, None if many else params))


def page_measure(client, page: Page, *, warmup: int, requests: int) -> dict:
    """``warmup`` then ``requests`` timed GETs of the page's paths in turn (time around
    ``client.get``: the whole server side, middleware and template included), then one GET of
    each path under CaptureQueriesContext: the most statements of any path (those statements,
    as sent), and the slowest statement of all, with its parameters."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    statuses = set()
    bodies: dict[str, bytes] = {}

    def get(n: int):
        response = client.get(page.paths[n % len(page.paths)])
        statuses.add(response.status_code)

    for n in range(warmup):
        get(n)
    times = []
    for n in range(requests):
        began = time.perf_counter()
        get(n)
        times.append((time.perf_counter() - began) * 1000)
    most, slowest = [], None
    for path in page.paths:
        log = StatementLog()
        with connection.execute_wrapper(log), CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        statuses.add(response.status_code)
        bodies[path] = response.content
        if len(log.statements) != len(captured.captured_queries):
            raise SystemExit(f"{path}: the statement log and CaptureQueriesContext differ")
        # (ms, the statement as sent, as written, its parameters)
        statements = [
            (ms, query["sql"], sql, params)
            for (ms, sql, params), query in zip(
                log.statements, captured.captured_queries, strict=True
            )
        ]
        if len(statements) > len(most):
            most = statements
        top = max(statements, key=lambda statement: statement[0], default=None)
        if top is not None and (slowest is None or top[0] > slowest[0]):
            slowest = top
    return {
        "p50": quantile(times, 0.50),
        "p95": quantile(times, 0.95),
        "requests": requests,
        "queries": len(most),
        "statements": [(ms, shown) for ms, shown, _sql, _params in most],
        "sql_ms": sum(ms for ms, _shown, _sql, _params in most),
        "statuses": sorted(statuses),
        "ok": statuses == {200},
        "bytes": max(len(body) for body in bodies.values()),
        # The cases the page links to (a desk page's rows; 0 for JSON and the counters).
        "listed": max(
            len(set(re.findall(rb'href="/cases/([^/"]+)/"', b))) for b in bodies.values()
        ),
        "slowest": slowest,
        "bodies": bodies,
    }


def explain(statement) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of a captured statement, in a transaction rolled back."""
    from django.db import connection, transaction

    _ms, _shown, sql, params = statement
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return plan


def first_load(client) -> dict:
    """What a browser transfers on the dashboard's first visit: its HTML as served (no
    compression of pages in this stack), each stylesheet and script it links under STATIC_URL
    as whitenoise sends it to a browser accepting gzip (the ``.gz`` collectstatic wrote beside
    the hashed file, the file itself where none was written), and the map its script fetches
    (``data-map-url``), as served."""
    from django.conf import settings

    response = client.get("/dashboard/")
    html = response.content.decode()
    static_url = "/" + settings.STATIC_URL.lstrip("/")
    parts = [("HTML of `/dashboard/`", "as served", len(response.content))]
    refs = re.findall(r"<script\b[^>]*\bsrc=\"([^\"]+)\"", html)
    refs += [
        href
        for tag in re.findall(r"<link\b[^>]*>", html)
        if re.search(r"\brel=\"(stylesheet|preload|modulepreload)\"", tag)
        for href in re.findall(r"\bhref=\"([^\"]+)\"", tag)
    ]
    missing = []
    for ref in dict.fromkeys(refs):
        if not ref.startswith(static_url):
            missing.append(ref)  # from elsewhere: not counted, and the CSP would refuse it
            continue
        path = Path(settings.STATIC_ROOT) / ref[len(static_url) :].split("?")[0]
        gz = path.with_name(path.name + ".gz")
        if gz.exists():
            parts.append((f"`{ref[len(static_url) :]}`", "gzip", gz.stat().st_size))
        elif path.exists():
            parts.append((f"`{ref[len(static_url) :]}`", "as is", path.stat().st_size))
        else:
            missing.append(ref)
    for url in re.findall(r"\bdata-map-url=\"([^\"]+)\"", html):
        url = url.replace("&amp;", "&")
        data = client.get(url)
        parts.append((f"`{url}` (fetched by the page's script)", "as served", len(data.content)))
    return {
        "status": response.status_code,
        "parts": parts,
        "total": sum(size for _name, _how, size in parts),
        "missing": missing,
    }


def filtered_query_make(ref: dict) -> str:
    """The filtered desk page: the queue To dispatch, the most frequent matter type, the
    first comprehensive cell of the street."""
    first_cell = ref["cells"]["codes"][ref["cells"]["street"].index(1)]
    return f"queue=accepted&matter_type={ref['matter_codes'][0]}&cell={first_cell}"


# --- report ---


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument(
        "--cases", type=int, default=FULL.large, help="cases of the large size (default 1,000,000)"
    )
    parser.add_argument("--requests", type=int, default=FULL.requests, help="timed, per page")
    parser.add_argument("--keep-db", action="store_true", help="leave the database for a look")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument(
        "--smoke", action="store_true", help=SMOKE_HELP + " (the size options are ignored)"
    )
    args = parser.parse_args()
    if args.smoke:
        smoke_deadline()
    plan = (
        SMOKE
        if args.smoke
        else Sizes(small=FULL.small, large=args.cases, warmup=FULL.warmup, requests=args.requests)
    )
    if plan.large <= plan.small:
        parser.error(f"--cases must be above {plan.small:,}")
    command = COMMAND + ("" if sys.argv[1:] == [] else " " + " ".join(sys.argv[1:]))
    scratch = scratch_names(SCRATCH_BASE, smoke=args.smoke)
    settings_environment(scratch)

    def progress(line: str) -> None:
        # A smoke run shows no figures: they would be read as measures.
        if not args.smoke:
            print(line, flush=True)

    bench_started = time.perf_counter()
    load_before = os.getloadavg()
    runs: dict[int, dict] = {}
    loads: dict[int, dict] = {}
    censuses: dict[int, dict] = {}
    plans: dict[str, list[str]] = {}
    try:
        database_recreate(scratch.database)
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        call_command("collectstatic", interactive=False, verbosity=0)
        page_numbers = page_cases_make()
        ref = reference_data()
        filtered_query = filtered_query_make(ref)
        pages = pages_of(page_numbers=page_numbers, filtered_query=filtered_query)
        progress(f"setup: {time.perf_counter() - bench_started:.1f} s")
        client = Client(SERVER_NAME=HOST)
        client.force_login(get_user_model().objects.get(username=USERNAME))
        have = len(page_numbers)
        for size in (plan.small, plan.large):
            loads[size] = cases_generate(size - have, first=have + 1, ref=ref)
            have = size
            censuses[size] = data_census(page_numbers)
            progress(f"{size:,} cases: loaded {loads[size]}; {censuses[size]}")
            runs[size] = {}
            for page in pages:
                runs[size][page.key] = page_measure(
                    client, page, warmup=plan.warmup, requests=plan.requests
                )
                run = runs[size][page.key]
                progress(
                    f"  {page.key}: p50 {run['p50']:.1f} ms, p95 {run['p95']:.1f} ms, "
                    f"{run['queries']} queries, {run['bytes']:,} bytes, statuses "
                    f"{run['statuses']}; slowest statement "
                    f"{run['slowest'][0] if run['slowest'] else 0:.1f} ms"
                )
        for page in pages:
            run, small = runs[plan.large][page.key], runs[plan.small][page.key]
            progress(f"statements of {page.key} at {plan.large:,} cases (ms):")
            for ms, sql in run["statements"]:
                progress(f"  {ms:7.2f}  {_abridged(sql, 200)}")
            # The plan of a statement that weighs in the page's time: a quarter of its p50.
            if (
                time_missed(page, run, small)
                and run["slowest"] is not None
                and run["slowest"][0] >= SLOWEST_SHARE * run["p50"]
            ):
                plans[page.key] = explain(run["slowest"])
                progress(f"plan of the slowest statement of {page.key}:")
                for line in plans[page.key]:
                    progress(f"  {line}")
        transfer = first_load(client)
        progress(f"first load of the dashboard: {transfer}")
        server_version = connection.cursor().connection.info.server_version
    finally:
        scratch_clean(scratch, keep_db=args.keep_db)
    total_s = time.perf_counter() - bench_started

    lines = report_lines(
        command=command,
        plan=plan,
        database=scratch.database,
        pages=pages,
        runs=runs,
        loads=loads,
        censuses=censuses,
        plans=plans,
        transfer=transfer,
        page_numbers=page_numbers,
        server_version=server_version,
        total_s=total_s,
        load=(load_before, os.getloadavg()),
    )
    if args.smoke:
        smoke_report(
            scratch=scratch,
            plan=plan,
            pages=pages,
            runs=runs,
            censuses=censuses,
            transfer=transfer,
            keep_db=args.keep_db,
        )
    elif args.no_docs:
        print("\n".join(lines))
    else:
        section_write("web_pages", lines)


def time_missed(page: Page, run: dict, small: dict) -> bool:
    """The page's p50 at the large size is over its target, or grew too much."""
    if page.target_ms is not None and run["p50"] > page.target_ms:
        return True
    return page.growth and small["p50"] > 0 and run["p50"] / small["p50"] > GROWTH_MAX


def queries_missed(page: Page, run: dict) -> bool:
    return page.target_queries is not None and run["queries"] > page.target_queries


def history_intact(run: dict) -> bool:
    """Each case page shows the badge of an intact hash chain."""
    return all(b'class="badge badge-intact"' in body for body in run["bodies"].values())


def smoke_report(*, scratch, plan, pages, runs, censuses, transfer, keep_db) -> None:
    """What a smoke run checked, in counts, not times; raises SystemExit if any is wrong. The
    report's lines were built (their formatting is part of the bench) but are not shown: figures
    of a few thousand cases are no measure of anything."""
    failures = []
    for size, measured in runs.items():
        census = censuses[size]
        if census["cases"] != size or census["cases_without_event"] or census["page_cases"] != 7:
            failures.append(f"{size:,} cases: {census}")
        if not census["live_timers"] or not census["calls"] or not census["supervisions_open"]:
            failures.append(f"{size:,} cases, no timers, calls or supervisions: {census}")
        for page in pages:
            run = measured[page.key]
            if not run["ok"]:
                failures.append(f"{size:,} cases, {page.key}: statuses {run['statuses']}")
        if not history_intact(measured["case"]):
            failures.append(f"{size:,} cases: a case page does not show an intact chain")
    if transfer["status"] != 200 or transfer["missing"] or len(transfer["parts"]) < 3:
        failures.append(f"first load of the dashboard: {transfer}")
    if failures:
        raise SystemExit("smoke run failed:\n  " + "\n  ".join(failures))
    requests = sum(
        len(page.paths) + plan.warmup + plan.requests for page in pages for _size in runs
    )
    print(
        f"smoke ok: {len(pages)} pages at {plan.small:,} and {plan.large:,} cases, "
        f"{requests:,} requests, all 200; {censuses[plan.large]['cases']:,} cases with as many "
        f"intake events, {censuses[plan.large]['live_timers']:,} live timers, "
        f"{censuses[plan.large]['calls']:,} department calls, "
        f"{censuses[plan.large]['supervisions_open']:,} open supervisions; every case page "
        f"showed an intact chain; the dashboard's first load counted {len(transfer['parts'])} "
        f"files; database {scratch.database} {'kept' if keep_db else 'dropped'}; no figures, "
        "docs/PERFORMANCE.md not written",
        flush=True,
    )


def _abridged(sql: str, limit: int) -> str:
    """A statement on one line, without its first column list, cut at ``limit`` characters."""
    sql = re.sub(r"^SELECT .*? FROM", "SELECT … FROM", " ".join(sql.split()), count=1)
    sql = re.sub(r"(\"session_key\" = )'[^']*'", r"\1'…'", sql)  # the session's key: not for docs
    return sql if len(sql) <= limit else sql[: limit - 1] + "…"


def _table_cell(text: str) -> str:
    """``text`` in a cell of a Markdown table (a pipe ends the cell, even in code)."""
    return text.replace("|", "\\|")


def report_lines(
    *,
    command,
    plan,
    database,
    pages,
    runs,
    loads,
    censuses,
    plans,
    transfer,
    page_numbers,
    server_version,
    total_s,
    load,
) -> list[str]:
    import django

    pg = f"{server_version // 10000}.{server_version % 10000}"
    small, large = plan.small, plan.large
    census = censuses[large]
    by_status = ", ".join(
        f"{status} {n:,}" for status, n in sorted(census["by_status"].items(), key=lambda x: -x[1])
    )
    load_s = {size: sum(steps.values()) for size, steps in loads.items()}
    lines = [
        "## Web pages of the command centre (`bench/web_pages.py`)",
        "",
        f"Command: `{command}` (about {total_s / 60:.0f} minutes; it creates, migrates, seeds "
        f"and drops its own database `{database}`).",
        "",
        SMOKE_NOTE,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Django {django.__version__}, PostgreSQL {pg} on "
        f"127.0.0.1, in the bench's process through `django.test.Client` (DEBUG off, "
        "persistent connection, the production middleware and templates); measured "
        f"{time.strftime('%Y-%m-%d')}, with a load average (1 min) of {load[0][0]:.1f} before "
        f"and {load[1][0]:.1f} after the run: the machine is shared, and every figure below "
        "scales with what else runs on it.",
        "",
        f"Data: {census['cases']:,} cases ({by_status}); {census['street_cases']:,} of them in "
        f"红花街道, the street of the command centre `{USERNAME}` who asks for every page "
        f"({census['street_open']:,} open there). Seven of them ({', '.join(page_numbers)}) "
        "were made through `case_intake` and the workflow, each stopped in another status "
        "(one whistled to departments, one with a supervision the sweeper opened): the case "
        "page opens those, and their histories are hash-chained as in production (the page "
        "showed its intact-chain badge for each: "
        f"{'yes' if history_intact(runs[large]['case']) else 'NO'}). The others were "
        "generated in SQL (INSERT … SELECT generate_series): the two demo streets' "
        "comprehensive cells at their representative points (jittered by up to 30 m), matter "
        "types skewed towards the first ones (占道经营 the most frequent), 90 % closed over the "
        "last two years, the open ones reported over the last 30 days, numbered after each "
        "street's counter. Each has its intake event, whose hash is a stand-in, not chained "
        "(only the seven cases above are opened, and would show a broken chain otherwise); "
        f"{census['events']:,} events in all. Each open case has the live timer of its stage, "
        f"started up to 1.25× its limit ago ({census['live_timers']:,} live timers, "
        f"{census['overdue_timers']:,} of them pending past their deadline, which a running "
        "sweeper would have fired and turned into open supervisions; the desk's `overdue` "
        "filter counts both, so this is its worst case); "
        f"{census['calls']:,} department calls "
        f"for the whistled cases; {census['supervisions_open']:,} open supervisions (one in "
        "four overdue accept, dispatch or verify stages, each with its fired timer and "
        "answer timer). Closed cases keep no timers (the sweep's partial indexes leave them "
        f"out anyway). Loading took {load_s[small]:.0f} s for {small:,} and "
        f"{load_s[large]:.0f} s for the next {large - small:,} cases ("
        + ", ".join(f"{step} {s:.0f} s" for step, s in loads[large].items())
        + "), VACUUM ANALYZE included.",
        "",
        f"Each page: {plan.warmup} warm-up requests, then {plan.requests} timed ones (time "
        "around `client.get`: middleware, session, permissions, queries and template), then "
        "one more per path under CaptureQueriesContext for its SQL statements (the most of "
        'any path; "in SQL": their time in the database round trips, in that one request; '
        "the rest of p50 is Python: middleware, permissions, forms, template). The first "
        "filtered desk page asks for the queue To dispatch, the most frequent matter type and "
        "the street's first comprehensive cell, which lists next to nothing at the small "
        'size; the second, grid reports in hand, fills its page at both. "Cases linked": '
        "the cases a page links to (a desk page's rows).",
        "",
        f"| page | p50 at {small:,} | p95 | queries | in SQL | p50 at {large:,} | p95 | "
        f"queries | in SQL | {large:,} ÷ {small:,} (p50) | response at {large:,} | cases "
        f"linked at {small:,} / {large:,} |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for page in pages:
        a, b = runs[small][page.key], runs[large][page.key]
        ratio = b["p50"] / a["p50"] if a["p50"] else 0.0
        status = "" if a["ok"] and b["ok"] else f" (answered {a['statuses']} / {b['statuses']})"
        lines.append(
            f"| {page.label}{status} | {a['p50']:.1f} ms | {a['p95']:.1f} ms | {a['queries']} | "
            f"{a['sql_ms']:.1f} ms | {b['p50']:.1f} ms | {b['p95']:.1f} ms | {b['queries']} | "
            f"{b['sql_ms']:.1f} ms | {ratio:.2f}× | {b['bytes'] / 1000:,.1f} kB | "
            f"{a['listed']:,} / {b['listed']:,} |"
        )
    lines += [
        "",
        f"The dashboard's first load at {large:,} cases (what a browser transfers on its first "
        "visit: the HTML as served, since no middleware compresses pages; each stylesheet and "
        "script it links as whitenoise sends it, gzip-compressed by collectstatic; the map "
        "its script fetches, as served):",
        "",
        "| part | sent | bytes |",
        "| --- | --- | ---: |",
        *[f"| {name} | {how} | {size:,} |" for name, how, size in transfer["parts"]],
        f"| **total** | | **{transfer['total']:,}** |",
    ]
    if transfer["missing"]:
        lines += ["", "Not found under STATIC_ROOT: " + ", ".join(transfer["missing"]) + "."]
    lines += [
        "",
        "### Targets",
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
    ]
    for page in pages:
        a, b = runs[small][page.key], runs[large][page.key]
        name = page.label
        answered = "" if b["ok"] else f" (answered {b['statuses']})"
        if page.target_ms is not None:
            lines.append(
                f"| {name}: p50 ≤ {page.target_ms:g} ms at {large:,} | {b['p50']:.1f} ms"
                f"{answered} | {verdict(b['ok'] and b['p50'] <= page.target_ms)} |"
            )
        if page.target_queries is not None:
            lines.append(
                f"| {name}: ≤ {page.target_queries} queries at {large:,} | {b['queries']} | "
                f"{verdict(b['ok'] and b['queries'] <= page.target_queries)} |"
            )
        if page.growth:
            ratio = b["p50"] / a["p50"] if a["p50"] else 0.0
            lines.append(
                f"| {name}: p50 at {large:,} ≤ {GROWTH_MAX:g}× at {small:,} | "
                f"{b['p50']:.1f} / {a['p50']:.1f} ms = {ratio:.2f}× | "
                f"{verdict(ratio <= GROWTH_MAX)} |"
            )
    lines.append(
        f"| dashboard's first load < {FIRST_LOAD_MAX_BYTES / 1e6:g} MB (ECharts included, "
        f"compressed) | {transfer['total'] / 1e6:.2f} MB | "
        f"{verdict(transfer['status'] == 200 and transfer['total'] < FIRST_LOAD_MAX_BYTES)} |"
    )
    spread = [
        page
        for page in pages
        if time_missed(page, runs[large][page.key], runs[small][page.key]) and page.key not in plans
    ]
    for page in spread:
        a, b = runs[small][page.key], runs[large][page.key]
        lines += [
            "",
            f"{page.label}: no statement takes {SLOWEST_SHARE:.0%} of its p50; its SQL took "
            f"{a['sql_ms']:.1f} ms at {small:,} and {b['sql_ms']:.1f} ms at {large:,} cases, "
            f"the rest is Python (it links {a['listed']:,} and {b['listed']:,} cases).",
        ]
    if large < 1_000_000:
        lines += ["", f"(At {large:,} cases, not 1,000,000: run the full size for the targets.)"]
    for page in pages:
        run, name = runs[large][page.key], page.label
        if queries_missed(page, run):
            lines += [
                "",
                f"### Statements of the {name} at {large:,} cases",
                "",
                f"{run['queries']} statements (of the path with the most), in order, with their "
                "time in the database round trip (abridged):",
                "",
                "| ms | statement |",
                "| ---: | --- |",
                *[
                    f"| {ms:.2f} | `{_table_cell(_abridged(sql, 160))}` |"
                    for ms, sql in run["statements"]
                ],
            ]
        if page.key in plans:
            slowest = run["slowest"]
            lines += [
                "",
                f"### Slowest statement of the {name} at {large:,} cases",
                "",
                f"{slowest[0]:.1f} ms in the page's request; under `EXPLAIN (ANALYZE, BUFFERS)` "
                "afterwards, in a transaction rolled back:",
                "",
                "```sql",
                " ".join(slowest[1].split()),
                "```",
                "",
                "```",
                *plans[page.key],
                "```",
            ]
    return lines


if __name__ == "__main__":
    main()
