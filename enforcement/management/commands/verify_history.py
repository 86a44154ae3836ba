"""``manage.py verify_history [--case NUMBER]``: check the hash chain of case events. Exit 1 naming
the first broken event; 0 when every chain is intact."""

from django.core.management.base import BaseCommand, CommandError

from enforcement.events import history_verify
from enforcement.models import Case


class Command(BaseCommand):
    help = "Verify the tamper-evident history of cases."

    def add_arguments(self, parser):
        parser.add_argument("--case", help="only this case number")

    def handle(self, *args, case=None, **options):
        cases = Case.objects.all()
        if case:
            cases = cases.filter(number=case)
            if not cases.exists():
                raise CommandError(f"No case {case}.")
        broken = history_verify(cases=cases)
        if broken is not None:
            raise CommandError(f"History broken at {broken}.")
        self.stdout.write(f"History intact ({cases.count()} case(s)).")
