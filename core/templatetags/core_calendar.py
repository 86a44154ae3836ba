"""``{% calendar_warning as text %}``: the business calendar's warning (a year without the
State Council's holiday notice), for the admin's banner."""

from django import template

from core.calendar import calendar_warning as warning_get

register = template.Library()


@register.simple_tag
def calendar_warning() -> str | None:
    return warning_get()
