"""``manage.py api_key_create <department-code>`` or ``api_key_create --source <case source>``:
make an API key and print it. The key is printed once, as the last line, and never stored."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from enforcement.api_keys import api_key_create
from enforcement.choices import CaseSource
from powers.models import Department


class Command(BaseCommand):
    help = (
        "Make an API key for a department's system (by department code) or for an integration "
        "(--source, a case source). Prints the key as the last line: it is shown only once."
    )

    def add_arguments(self, parser):
        parser.add_argument("department", nargs="?", help="code of the department, e.g. CG")
        parser.add_argument(
            "--source",
            default="",
            help="instead of a department: the case source of an integration "
            f"({', '.join(CaseSource.values)})",
        )
        parser.add_argument("--name", default="", help="what the key is for (default: its binding)")

    def handle(self, *args, **options):
        code, source = options["department"], options["source"]
        if bool(code) == bool(source):
            raise CommandError("Give either a department code or --source, not both or neither.")
        department = None
        if code:
            department = Department.objects.filter(code=code).first()
            if department is None:
                raise CommandError(f"No department with code {code!r}.")
        elif source not in CaseSource.values:
            known = ", ".join(CaseSource.values)
            raise CommandError(f"Unknown case source {source!r}; one of: {known}.")
        try:
            key, raw = api_key_create(department=department, source=source, name=options["name"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"API key {key.prefix} made for {key.name}, acting as user {key.user.username}."
        )
        self.stdout.write("Store it now: it cannot be shown again.")
        self.stdout.write(raw)
