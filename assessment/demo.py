"""The assessment part of the demo district (``manage.py seed_demo``), made only with the demo's
cases (``make run``; the tests' demo has none): a closed 433 round of 红花街道's property
companies (assessment.property.property_demo_seed), the callback draws of the days its cases
closed, and the street's assessment of its departments (assessment.schemes_demo). Runs after the
grids, core and enforcement demos (INSTALLED_APPS order)."""

from datetime import timedelta

from django.utils import timezone

from assessment.callbacks import callbacks_draw_due
from assessment.property import property_demo_seed
from assessment.schemes_demo import demo_seed as schemes_demo_seed


def demo_seed(report) -> None:
    if not report.cases:
        return
    property_demo_seed(report)
    # The demo's cases span six months: draw each closing day's callbacks once.
    report.count(
        "callback draws", callbacks_draw_due(now=timezone.now() + timedelta(days=1), days_back=190)
    )
    schemes_demo_seed(report)  # after the callbacks: the rollups count them
