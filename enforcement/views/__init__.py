"""Web views of the enforcement app, a module per audience: the command centre's desk and case
page (desk.py, case.py), the department's inbox (inbox.py), the dashboard (dashboard.py), and
/metrics for Prometheus (metrics.py)."""

from enforcement.views.metrics import metrics

__all__ = ["metrics"]
