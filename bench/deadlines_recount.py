"""Running deadlines that follow a changed calendar, on PostgreSQL: 100,000 running timers
counted in working days over January and February 2027, then 2027's holiday notice imported
(a make-up Saturday and a longer Spring Festival than the rule's), the same notice again, and a
local day off (a typhoon day) saved and removed.

    .venv/bin/python bench/deadlines_recount.py            # ~3 min; updates docs/PERFORMANCE.md
    .venv/bin/python bench/deadlines_recount.py --timers 10000   # quicker
    .venv/bin/python bench/deadlines_recount.py --smoke    # every step at the smallest size

It drops and recreates its own database (``shaoxiang_bench_deadlines`` on 127.0.0.1:5432, user
postgres), migrates it and loads the demo district (``seed_demo --cases 0``), makes 1,000 cases
through ``case_intake`` and adds the running timers in one INSERT: RESOLVE timers of 15 working
days started on the working days of 11 to 29 January 2027, each spanning the make-up Saturday
(chinesecalendar 1.11 has no 2027, so their deadlines are provisional), round-robin over the
cases. Each change runs
``holiday_notice_import`` / ``calendar_day_save`` exactly as ``manage.py calendar_import`` and the
admin do: one transaction with the recount, its case locks and events. Redis on 127.0.0.1:6379
only holds the cache under the bench's instance name, deleted at the end with the database
(unless ``--keep-db``). A ``--smoke`` run does every step with 20 cases and 400 timers under
names of its own, prints no figures and writes nothing to docs."""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import section_write, verdict  # noqa: E402
from bench.scratch import (  # noqa: E402 -- after the path is set
    database_recreate,
    scratch_clean,
    scratch_names,
)
from bench.smoke import SMOKE_HELP, smoke_deadline  # noqa: E402
from bench.timers_sweep import FULL as SWEEP_DEFAULTS  # noqa: E402
from bench.timers_sweep import cases_make, settings_environment  # noqa: E402

SCRATCH_BASE = "shaoxiang_bench_deadlines"
COMMAND = ".venv/bin/python bench/deadlines_recount.py"
SH = ZoneInfo("Asia/Shanghai")
# The target of the issue: the recount of 100,000 running timers in one transaction. A change
# of the calendar is rare (a notice a year, a typhoon day): a minute is acceptable, and the
# web request of the admin's import must stay within gunicorn's timeout (120 s).
TARGET_S = 60.0
FULL_TIMERS, FULL_CASES = 100_000, 1_000
SMOKE_TIMERS, SMOKE_CASES = 400, 20

# A 2027 notice as it might come (the real one is not published yet): a make-up Saturday on
# 30 January and the Spring Festival from 5 to 10 February.
NOTICE_2027 = """kind,name,first_day,last_day
notice,2027年部分节假日安排（基准）,,
holiday,元旦,2027-01-01,2027-01-03
holiday,春节,2027-02-05,2027-02-10
workday,春节,2027-01-30,
holiday,清明节,2027-04-03,2027-04-05
holiday,劳动节,2027-05-01,2027-05-05
workday,劳动节,2027-04-25,
holiday,端午节,2027-06-09,
holiday,中秋节,2027-09-15,
holiday,国庆节,2027-10-01,2027-10-07
workday,国庆节,2027-09-26,
workday,国庆节,2027-10-09,
"""
TYPHOON_DAY = date(2027, 2, 3)


def timers_add(count: int, case_ids: list[int]) -> int:
    """``count`` running RESOLVE timers of 15 working days, started at 10:00 on the working days
    of 11-29 January 2027, round-robin over the cases. Returns how many are provisional."""
    from django.db import connection

    from core.calendar import working_day_is
    from enforcement.deadlines import timer_times
    from enforcement.models import Timer

    starts, dues, warns, provisional = [], [], [], []
    day = date(2027, 1, 11)
    while day <= date(2027, 1, 29):
        if working_day_is(day):
            start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=SH)
            times = timer_times(start=start, amount=15, unit="working_days", warn_percent=80)
            starts.append(start)
            dues.append(times.due)
            warns.append(times.warn)
            provisional.append(times.provisional)
        day += timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO enforcement_timer (case_id, stage, state, started_at, amount, unit,
                                           warn_at, due_at, provisional, next_at)
            SELECT (%s::bigint[])[1 + g %% %s], 'resolve', 'pending', s.started, 15,
                   'working_days', s.warn, s.due, s.provisional, s.warn
            FROM generate_series(1, %s) AS g
            JOIN (SELECT * FROM unnest(%s::timestamptz[], %s::timestamptz[],
                                        %s::timestamptz[], %s::boolean[])
                          WITH ORDINALITY AS u(started, due, warn, provisional, n)) AS s
              ON s.n = 1 + g %% %s
            """,
            [case_ids, len(case_ids), count, starts, dues, warns, provisional, len(starts)],
        )
        cursor.execute("VACUUM ANALYZE enforcement_timer")
    return Timer.objects.filter(stage="resolve", provisional=True).count()


def measured(step):
    """(what ``step`` returned, its seconds)."""
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


def moves_count() -> int:
    from enforcement.models import CaseEvent

    return CaseEvent.objects.filter(kind="deadline_move").count()


def wrong_deadlines() -> int:
    """Running timers whose stored deadline is not what counting again now gives."""
    from enforcement.deadlines import sla_deadline
    from enforcement.models import Timer

    wrong = 0
    counted = {}
    for started, due in Timer.objects.filter(stage="resolve", state="pending").values_list(
        "started_at", "due_at"
    ):
        if started not in counted:
            counted[started] = sla_deadline(started, 15, "working_days").due
        wrong += counted[started] != due
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--timers", type=int, default=FULL_TIMERS)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    if args.smoke:
        smoke_deadline()
    count = SMOKE_TIMERS if args.smoke else args.timers
    cases = SMOKE_CASES if args.smoke else FULL_CASES
    command = COMMAND + ("" if sys.argv[1:] == [] else " " + " ".join(sys.argv[1:]))
    bench_started = time.perf_counter()
    scratch = scratch_names(SCRATCH_BASE, smoke=args.smoke)
    settings_environment(scratch, SWEEP_DEFAULTS)  # the sweep bench's, without its batch size
    try:
        database_recreate(scratch.database)
        import django

        django.setup()
        from django.conf import settings

        settings.DEBUG = False

        from core.calendar import calendar_day_delete, calendar_day_save
        from core.holiday_notice import holiday_notice_import

        case_ids = cases_make(cases)
        provisional = timers_add(count, case_ids)
        imported, import_s = measured(lambda: holiday_notice_import(content=NOTICE_2027.encode()))
        report = imported.effects[0]
        again, again_s = measured(lambda: holiday_notice_import(content=NOTICE_2027.encode()))
        events_after_import = moves_count()
        _saved, typhoon_s = measured(
            lambda: calendar_day_save(day=TYPHOON_DAY, is_working_day=False, reason="台风停工")
        )
        events_after_typhoon = moves_count()
        _removed, removed_s = measured(
            lambda: calendar_day_delete(day=TYPHOON_DAY, reason="台风解除")
        )
        events_at_end = moves_count()
        wrong = wrong_deadlines()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        scratch_clean(scratch, keep_db=args.keep_db)

    total_s = time.perf_counter() - bench_started
    problems = []
    if report.examined != count or report.moved != count or events_after_import != count:
        problems.append(
            f"the notice examined {report.examined}, moved {report.moved}, wrote "
            f"{events_after_import} events of {count} running timers (all move)"
        )
    if not again.unchanged:
        problems.append("the same notice again changed something")
    typhoon_moved = events_after_typhoon - events_after_import
    if typhoon_moved == 0 or events_at_end - events_after_typhoon != typhoon_moved:
        problems.append(
            f"the typhoon day moved {typhoon_moved} deadlines, its removal "
            f"{events_at_end - events_after_typhoon}"
        )
    if wrong or provisional != count:
        problems.append(f"{wrong} deadlines differ from a count again; {provisional} provisional")
    if problems:
        raise SystemExit("deadlines bench failed: " + "; ".join(problems))
    if args.smoke:
        print(
            f"smoke ok: {count} running timers; the notice moved {report.moved}, the same "
            f"notice again none, the typhoon day {typhoon_moved} and its removal as many back; "
            f"database {scratch.database} dropped"
        )
        return

    lines = [
        "## Deadlines that follow the calendar (`bench/deadlines_recount.py`)",
        "",
        f"Command: `{command}` ({total_s:.0f} s; it creates, migrates, seeds and drops its own "
        f"database `{SCRATCH_BASE}`).",
        "",
        f"Measured {date.today():%Y-%m-%d} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"PostgreSQL on 127.0.0.1. {count:,} running RESOLVE timers of 15 working days over "
        f"January-February 2027 (provisional), on {cases:,} cases.",
        "",
        "| change | timers looked at | deadlines moved (events) | seconds |",
        "|---|---:|---:|---:|",
        f"| 2027 notice imported | {report.examined:,} | {report.moved:,} | {import_s:.1f} |",
        f"| the same notice again | 0 | 0 | {again_s:.3f} |",
        f"| typhoon day {TYPHOON_DAY} saved | - | {typhoon_moved:,} | {typhoon_s:.1f} |",
        f"| typhoon day removed | - | {typhoon_moved:,} | {removed_s:.1f} |",
        "",
        f"Target: the recount of {FULL_TIMERS:,} running timers within {TARGET_S:.0f} s in one "
        f"transaction: {verdict(import_s <= TARGET_S)}. Peak memory of the process "
        f"{peak_mb:.0f} MB. Afterwards every running deadline equals a count again from its "
        f"start ({wrong} differ), and each moved deadline has its `deadline_move` event.",
        "",
        "`--smoke` runs every step with 20 cases and 400 timers (its own database), prints no "
        "figures and writes nothing here; `make test` runs it (tests/test_benches.py).",
    ]
    if args.no_docs:
        print("\n".join(lines))
    else:
        section_write("deadlines_recount", lines)


if __name__ == "__main__":
    main()
