"""``manage.py grids_import FILE.geojson [--crs gcj02]``: cells from a FeatureCollection."""

from django.core.management.base import BaseCommand

from grids.choices import Crs
from grids.imports import cells_import
from grids.management.commands._report import progress_bar, report_write


class Command(BaseCommand):
    help = "Import grid cells from a GeoJSON FeatureCollection (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--crs", choices=Crs.values, default=Crs.WGS84, help="coordinates of the file"
        )

    def handle(self, *args, path, crs, **options):
        report = cells_import(path, crs=crs, progress=progress_bar(self.stderr, "cells"))
        report_write(self, report, path)
