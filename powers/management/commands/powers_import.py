"""``manage.py powers_import FILE --street CODE --effective YYYY-MM-DD --notice 文号``: a power list
from .xlsx or .csv, published as the street's next catalogue version (all or nothing)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from grids.choices import RegionLevel
from grids.management.commands._report import report_write
from grids.models import Region
from powers.imports import catalogue_import


class Command(BaseCommand):
    help = "Import a power list and publish it as the street's next version."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--street", required=True, help="street code, e.g. 320104010")
        parser.add_argument(
            "--effective", required=True, type=date.fromisoformat, help="YYYY-MM-DD"
        )
        parser.add_argument("--notice", required=True, help="notice number (文号)")

    def handle(self, *args, path, street, effective, notice, **options):
        region = Region.objects.filter(code=street, level=RegionLevel.STREET).first()
        if region is None:
            raise CommandError(f"No street with code {street}.")
        report = catalogue_import(path, street=region, effective_on=effective, notice_number=notice)
        report_write(self, report, path)
        self.stdout.write(
            f"Published {region.name} v{report.version.number}, effective {effective}."
        )
