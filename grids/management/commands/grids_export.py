"""``manage.py grids_export FILE.geojson [--street CODE]``: cells as grids_import reads them."""

from django.core.management.base import BaseCommand

from grids.exchange import geojson_write
from grids.imports import cells_export_features
from grids.models import GridCell


class Command(BaseCommand):
    help = "Export grid cells to a GeoJSON FeatureCollection (WGS-84)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--street", help="only the cells of this street code")

    def handle(self, *args, path, street=None, **options):
        cells = GridCell.objects.select_related("community", "parent").order_by("code")
        if street:
            cells = cells.filter(community__parent__code=street)
        count = geojson_write(path, cells_export_features(cells))
        self.stdout.write(f"{path}: {count} cells.")
