"""``manage.py seed_demo``: the demo district, idempotent. Each app may contribute a ``demo``
module with ``demo_seed(report)``; they run in INSTALLED_APPS order (dependency order) in one
transaction, so a failure leaves nothing half-seeded."""

import time
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from core.demo import DEMO_CASES, DemoReport


class Command(BaseCommand):
    help = "Load the demo district (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--cases",
            type=int,
            default=DEMO_CASES,
            help="How many demo cases to make over the last six months (default %(default)s; "
            "0: none). Cases are made only when the demo has none yet.",
        )

    def handle(self, *args, **options):
        if options["cases"] < 0:
            raise CommandError("--cases must be 0 or more.")
        # The bar goes where this command's output goes (the terminal of `make run`; nowhere
        # for a caller that silences it), refreshed at most every second.
        out = self.stdout._out

        def progress(*, total: int, desc: str):
            return tqdm(total=total, desc=desc, unit=" cases", file=out, mininterval=1.0)

        report = DemoReport(cases=options["cases"], progress=progress)
        started = time.monotonic()
        with transaction.atomic():
            for config in apps.get_app_configs():
                if not config.path.startswith(str(settings.BASE_DIR)):
                    continue  # third-party apps have no demo module of ours
                module_name = f"{config.name}.demo"
                if find_spec(module_name) is None:
                    continue
                stage = time.monotonic()
                self.stdout.write(f"Demo data: {config.name} …")
                self.stdout.flush()
                import_module(module_name).demo_seed(report)
                self.stdout.write(
                    f"Demo data: {config.name} done in {time.monotonic() - stage:.1f} s"
                )
        created = ", ".join(f"{what} +{n}" for what, n in report.created.items())
        self.stdout.write(
            f"Demo data ready in {time.monotonic() - started:.1f} s ({created or 'nothing new'})."
        )
        self.stdout.write(f"Demo logins (password: {settings.DEMO_PASSWORD}):")
        for username, role in report.logins:
            self.stdout.write(f"  {username:<16} {role}")
        # The same keys at every start, made once per VAR_DIR (enforcement.api_keys).
        for holder, key in report.api_keys:
            self.stdout.write(f"API key for {holder}: {key}")
