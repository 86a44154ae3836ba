from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnforcementConfig(AppConfig):
    """Cases, dispatch, timers and inspections (一支队伍)."""

    name = "enforcement"
    verbose_name = _("Enforcement")
