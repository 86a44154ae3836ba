"""``manage.py healthcheck [--component beat|worker]``: the /healthz report on the command line,
for container healthchecks and scripts. Exit status 0 when healthy, 1 otherwise."""

import json

from django.core.management.base import BaseCommand

from core.selectors import health_report


class Command(BaseCommand):
    help = "Print the health report as JSON; exit 1 when a part is down or stale."

    def add_arguments(self, parser):
        parser.add_argument(
            "--component",
            choices=["database", "broker", "beat", "worker"],
            help="Judge only this part (the report still shows all).",
        )

    def handle(self, *args, component=None, **options):
        report = health_report()
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        healthy = report.as_dict()[component]["ok"] if component else report.ok
        if not healthy:
            raise SystemExit(1)
