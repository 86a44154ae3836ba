from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    """Two-way assessment (双向考核) and the rollups behind the dashboard."""

    name = "assessment"
    verbose_name = _("Assessment")

    def ready(self):
        from assessment.drill import drills_register
        from assessment.panels import PANEL_URLS
        from core.choices import Role
        from core.navigation import NavItem, nav_register
        from enforcement.web.dashboard import dashboard_panel_register

        for name in PANEL_URLS:  # the dashboard's KPI panels, served by this app
            dashboard_panel_register(name)
        drills_register()  # the desk's list behind each figure
        callers = frozenset({Role.CALLBACK_CALLER})
        nav_register(NavItem("assessment:callbacks", _("Callbacks"), callers, start_for=callers))
        assessors = frozenset({Role.STREET_LEADER, Role.DISTRICT_ADMIN, Role.DEPARTMENT_LIAISON})
        nav_register(NavItem("assessment:index", _("Assessment"), assessors))
