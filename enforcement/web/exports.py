"""The desk's filtered list as a file (CSV or Excel), formula-safe (grids.exchange)."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.exchange import table_bytes

# The most rows one export holds: a file for a meeting, not a dump of the database (the API's
# cursor pages are for that).
EXPORT_MAX_ROWS = 10_000


def _header() -> list[str]:
    return [
        _("Case number"),
        _("Status"),
        _("Matter type"),
        _("Source"),
        _("Severity"),
        _("Street"),
        _("Grid cell"),
        _("Address"),
        _("Description"),
        _("Reported"),
    ]


def case_export(cases, *, fmt: str) -> HttpResponse:
    """The newest EXPORT_MAX_ROWS of ``cases`` (already filtered for the user) as ``fmt``."""
    rows = (
        [
            case.number,
            case.get_status_display(),
            case.matter_type.name,
            case.get_source_display(),
            case.get_severity_display(),
            case.street.name,
            case.cell.name if case.cell_id else "",
            case.address,
            case.description,
            timezone.localtime(case.created_at).strftime("%Y-%m-%d %H:%M"),
        ]
        for case in cases.order_by("-created_at", "-pk")[:EXPORT_MAX_ROWS]
    )
    content, content_type = table_bytes(fmt, _header(), rows)
    response = HttpResponse(content, content_type=content_type)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="cases-{stamp}.{fmt}"'
    return response
