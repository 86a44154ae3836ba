from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnforcementConfig(AppConfig):
    """Cases, dispatch, timers and inspections (一支队伍)."""

    name = "enforcement"
    verbose_name = _("Enforcement")

    def ready(self):
        # An officer reads the power usage of their team's street: powers asks, through this
        # hook, for a container it may not import (DESIGN.md: dependencies point one way).
        from enforcement.permissions import team_streets
        from powers.permissions import street_source_register

        street_source_register(team_streets)

        # A change of the calendar (core) moves the running deadlines (here), in its
        # transaction.
        from core.calendar import calendar_changed_subscribe
        from enforcement.deadlines import deadlines_follow_calendar

        calendar_changed_subscribe(deadlines_follow_calendar)
