"""``manage.py seed_demo``: the demo district, idempotent. Each app may contribute a ``demo``
module with ``demo_seed(report)``; they run in INSTALLED_APPS order (dependency order) in one
transaction, so a failure leaves nothing half-seeded."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.demo import DemoReport


class Command(BaseCommand):
    help = "Load the demo district (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--cases",
            type=int,
            default=3000,
            help="How many demo cases to make over the last six months (default 3000; 0: none). "
            "Cases are made only when the demo has none yet.",
        )

    def handle(self, *args, **options):
        if options["cases"] < 0:
            raise CommandError("--cases must be 0 or more.")
        report = DemoReport(cases=options["cases"])
        with transaction.atomic():
            for config in apps.get_app_configs():
                if not config.path.startswith(str(settings.BASE_DIR)):
                    continue  # third-party apps have no demo module of ours
                module_name = f"{config.name}.demo"
                if find_spec(module_name) is None:
                    continue
                import_module(module_name).demo_seed(report)
        created = ", ".join(f"{what} +{n}" for what, n in report.created.items())
        self.stdout.write(f"Demo data ready ({created}).")
        self.stdout.write(f"Demo logins (password: {settings.DEMO_PASSWORD}):")
        for username, role in report.logins:
            self.stdout.write(f"  {username:<16} {role}")
        # The same keys at every start, made once per VAR_DIR (enforcement.api_keys).
        for holder, key in report.api_keys:
            self.stdout.write(f"API key for {holder}: {key}")
