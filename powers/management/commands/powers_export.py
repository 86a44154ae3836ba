"""``manage.py powers_export FILE --street CODE [--on YYYY-MM-DD]``: the list in force, in the
import's columns (.xlsx or .csv, formula-safe)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from grids.exchange import table_write
from grids.models import Region
from powers.imports import catalogue_export_rows
from powers.selectors import catalogue_in_force


class Command(BaseCommand):
    help = "Export the street's power list in force on a date."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--street", required=True)
        parser.add_argument(
            "--on", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)"
        )

    def handle(self, *args, path, street, on=None, **options):
        region = Region.objects.filter(code=street).first()
        version = region and catalogue_in_force(street=region, on=on or timezone.localdate())
        if version is None:
            raise CommandError(f"No list of street {street} is in force then.")
        header, rows = catalogue_export_rows(version)
        count = table_write(path, header, rows)
        self.stdout.write(f"{path}: v{version.number}, {count} items.")
