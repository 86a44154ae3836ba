"""``manage.py subjects_import FILE.xlsx|FILE.csv``: the subject directory (all or nothing)."""

from django.core.management.base import BaseCommand

from grids.imports import subjects_import
from grids.management.commands._report import progress_bar, report_write


class Command(BaseCommand):
    help = "Import subjects from .xlsx or .csv; every bad row is reported and nothing is kept."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        report = subjects_import(path, progress=progress_bar(self.stderr, "subjects"))
        report_write(self, report, path)
