from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PowersConfig(AppConfig):
    """Delegated power lists (赋权清单): departments, power items, versioned catalogues."""

    name = "powers"
    verbose_name = _("Powers")
