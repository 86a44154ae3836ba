from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    """Territory and who is where (一张网): regions, grid cells, assignments, subjects."""

    name = "grids"
    verbose_name = _("Grids")
