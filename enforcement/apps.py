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

        # The top bar and the start pages (core.navigation): the desk is the command
        # centre's first page, the dashboard the leader's, the inbox the liaison's.
        from django.urls import reverse
        from django.utils.translation import gettext_lazy as _

        from core.choices import Role
        from core.navigation import NavItem, nav_register, reference_resolver_register

        street = frozenset({Role.COMMAND_CENTRE, Role.STREET_LEADER, Role.DISTRICT_ADMIN})
        liaison = frozenset({Role.DEPARTMENT_LIAISON})
        nav_register(
            NavItem(
                "enforcement:desk", _("Desk"), street, start_for=frozenset({Role.COMMAND_CENTRE})
            )
        )
        nav_register(
            NavItem(
                "enforcement:dashboard",
                _("Dashboard"),
                street,
                start_for=frozenset({Role.STREET_LEADER}),
            )
        )
        nav_register(NavItem("enforcement:inbox", _("Calls inbox"), liaison, start_for=liaison))
        # The field's phone pages (issue 16): an officer starts at the tasks, a grid worker at
        # the report form; the command centre sees how late their entries arrive.
        officer = frozenset({Role.OFFICER})
        grid = frozenset({Role.GRID_WORKER})
        nav_register(NavItem("enforcement:field-tasks", _("My tasks"), officer, start_for=officer))
        nav_register(NavItem("enforcement:field-report", _("Report"), grid, start_for=grid))
        nav_register(NavItem("enforcement:field-reports", _("My reports"), grid))
        nav_register(NavItem("enforcement:field-outbox", _("Outbox"), officer | grid))
        nav_register(NavItem("enforcement:field-sync", _("Field sync"), street))

        def case_url(reference: str) -> str | None:
            # Case numbers are the only references enforcement's notifications carry.
            return reverse("enforcement:case", args=[reference]) if reference else None

        reference_resolver_register(case_url)
