"""``manage.py rollups_rebuild --from YYYY-MM-DD --to YYYY-MM-DD``: roll up again every day of the
range, both included (assessment.rollups.rollups_rebuild), printing each day and its rows. Today
and later days are never rolled up (they are read live)."""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from assessment.rollups import rollup_day


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} {value!r}: expected a date as YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = "Recompute the daily KPI rollups of a range of days."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")

    def handle(self, *args, start, end, **options):
        first, last = _day(start, "--from"), _day(end, "--to")
        if last < first:
            raise CommandError(f"--to {last} is before --from {first}.")
        today = timezone.localdate()
        if first >= today:
            raise CommandError(
                f"--from {first}: only days before today ({today}) are rolled up; today is "
                "read live."
            )
        if last >= today:
            self.stdout.write(f"Days from {today} on are read live: stopping at the day before.")
            last = date.fromordinal(today.toordinal() - 1)
        days = rows = 0
        seconds = 0.0
        for ordinal in range(first.toordinal(), last.toordinal() + 1):
            day = date.fromordinal(ordinal)
            began = time.perf_counter()
            written = rollup_day(day)
            took = time.perf_counter() - began
            seconds += took
            days += 1
            rows += written
            self.stdout.write(f"{day}: {written} row(s) in {took:.2f} s")
        self.stdout.write(f"Rolled up {days} day(s), {rows} row(s) in {seconds:.1f} s.")
