from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Platform plumbing shared by the four domain apps: roles, liveness of beat and workers, the
    demo seed. It imports from none of them (DESIGN.md: dependencies point one way)."""

    name = "core"
    verbose_name = _("Platform")
