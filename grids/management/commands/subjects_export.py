"""``manage.py subjects_export FILE.xlsx|FILE.csv``: the directory as subjects_import reads it."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from grids.exchange import table_write
from grids.imports import subjects_export_rows
from grids.models import Subject


class Command(BaseCommand):
    help = "Export subjects to .xlsx or .csv (formula-safe)."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        header, rows = subjects_export_rows(Subject.objects.select_related("cell").order_by("pk"))
        try:
            count = table_write(path, header, rows)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from None
        self.stdout.write(f"{path}: {count} subjects.")
