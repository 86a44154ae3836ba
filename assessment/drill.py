"""Drill-down (issue 17): every figure links to the exact cases behind its numerator, its
denominator and what it left out, through the desk's filtered list (``/desk/?queue=all&drill=…``;
enforcement.filtersets.DrillFilter, so the API's ``/api/v1/cases/?drill=…`` reads the same).

Two kinds of link:

- ``live,<kpi>,<part>,<scope kind>,<scope value>,<start>,<end>``: the figure as it is now,
  computed again from the raw tables (assessment.kpis.kpi_compute) — the dashboard's figures and
  a period not yet published;
- ``snapshot,<snapshot id>,<target id>,<kpi>,<part>``: the figure as it was published, read from
  the ids frozen in the snapshot (assessment.schemes stores them), so the list behind a
  published point stays the one it was scored on after later events.

A figure over calls (a department's 退回率) or supervisions lists the cases of those calls or
supervisions. The desk's own permission filter still applies: a link shows nobody a case they
could not see."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessment.kpis import KPIS, Scope, ScopeKind, kpi_compute
from assessment.models import Snapshot
from assessment.schemes import snapshot_results
from enforcement.filtersets import Drill, drill_register
from enforcement.models import DepartmentCall, MatterType, Officer, Supervision, Team
from grids.models import GridCell, Region
from powers.models import Department

PARTS = {
    "numerator": gettext_lazy("numerator"),
    "denominator": gettext_lazy("denominator"),
    "excluded": gettext_lazy("left out"),
}


def _invalid() -> ValidationError:
    return ValidationError(_("This figure's link is not understood."), code="invalid")


def _cases_of(ids_of: str, ids) -> Q:
    ids = [int(i) for i in ids]
    if ids_of == "calls":
        return Q(pk__in=DepartmentCall.objects.filter(pk__in=ids).values("case"))
    if ids_of == "supervisions":
        return Q(pk__in=Supervision.objects.filter(pk__in=ids).values("case"))
    return Q(pk__in=ids)


def _part_ids(result, part: str) -> tuple:
    """The ids of ``part`` of a KpiResult; a count's "numerator" is what it counted."""
    if part == "numerator" and result.numerator is None:
        return result.denominator_ids
    return {
        "numerator": result.numerator_ids,
        "denominator": result.denominator_ids,
        "excluded": result.excluded_ids,
    }[part]


def scope_label(scope: Scope) -> str:
    """What people call a scope: its place, team, officer, department or value."""
    if scope.kind == ScopeKind.STREET_DEPARTMENT:
        street, department = scope.street_department
        names = dict(Region.objects.filter(pk=street).values_list("pk", "name"))
        department_name = Department.objects.filter(pk=department).values_list("name", flat=True)
        return f"{names.get(street, street)} · {next(iter(department_name), department)}"
    models = {
        ScopeKind.DISTRICT: Region,
        ScopeKind.STREET: Region,
        ScopeKind.COMMUNITY: Region,
        ScopeKind.CELL: GridCell,
        ScopeKind.TEAM: Team,
        ScopeKind.DEPARTMENT: Department,
        ScopeKind.MATTER_TYPE: MatterType,
    }
    if scope.kind == ScopeKind.OFFICER:
        officer = Officer.objects.select_related("user").filter(pk=scope.value).first()
        if officer is None:
            return "—"
        return officer.user.get_full_name() or officer.user.username
    model = models.get(scope.kind)
    if model is None:
        return str(scope.value)
    found = model.objects.filter(pk=scope.value).first()
    return str(getattr(found, "name", found)) if found else "—"


def _live(rest: str) -> Drill:
    try:
        code, part, kind, value, start, end = rest.split(",")
        kpi = KPIS[code]
        start_day, end_day = date.fromisoformat(start), date.fromisoformat(end)
    except (KeyError, ValueError):
        raise _invalid() from None
    if part not in PARTS or kind not in kpi.scopes or end_day <= start_day:
        raise _invalid()
    scope_value: int | str = value  # a source or a handling mode as it is
    if kind in (ScopeKind.SOURCE, ScopeKind.HANDLING_MODE):
        pass
    elif kind == ScopeKind.STREET_DEPARTMENT:
        try:
            scope_value = "{}:{}".format(*(int(v) for v in value.split(":")))
        except (TypeError, ValueError, IndexError):
            raise _invalid() from None
    else:
        try:
            scope_value = int(value)
        except ValueError:
            raise _invalid() from None
    scope = Scope(kind, scope_value)
    result = kpi_compute(code, start=start_day, end=end_day, scope=scope)
    label = " · ".join(
        [
            str(kpi.name),
            str(PARTS[part]),
            scope_label(scope),
            f"{start_day.isoformat()} – {end_day.isoformat()}",
        ]
    )
    return Drill(cases=_cases_of(result.ids_of, _part_ids(result, part)), label=label)


def _published(rest: str) -> Drill:
    try:
        snapshot_id, target_id, code, part = rest.split(",")
        snapshot = Snapshot.objects.select_related("period").get(pk=int(snapshot_id))
        target_id = int(target_id)
    except (ValueError, Snapshot.DoesNotExist):
        raise _invalid() from None
    if part not in PARTS:
        raise _invalid()
    content = snapshot_results(snapshot)
    for result in content["results"]:
        if result["target"]["id"] == target_id and code in result["indicators"]:
            indicator = result["indicators"][code]
            break
    else:
        raise _invalid()
    ids = indicator.get("ids", {})
    chosen = ids.get(part, [])
    if part == "numerator" and indicator.get("numerator") is None:
        chosen = ids.get("denominator", [])
    label = " · ".join(
        [
            str(KPIS[code].name) if code in KPIS else code,
            str(PARTS[part]),
            result["target"]["name"],
            _("%(period)s, as published (version %(version)d)")
            % {"period": snapshot.period.label, "version": snapshot.version},
        ]
    )
    return Drill(cases=_cases_of(indicator.get("ids_of", "cases"), chosen), label=label)


def _desk(value: str) -> str:
    return f"{reverse('enforcement:desk')}?{urlencode({'queue': 'all', 'drill': value})}"


def drill_url(*, code: str, part: str, scope, start: date, end: date) -> str:
    """The desk's list of the cases behind ``part`` of the live figure ``code`` over
    ``[start, end)`` for ``scope`` (a Scope, or what Scope.of takes)."""
    scope = Scope.of(scope)
    return _desk(
        ",".join(
            ["live", code, part, scope.kind, str(scope.value), start.isoformat(), end.isoformat()]
        )
    )


def drill_url_published(*, snapshot: Snapshot, target_id: int, code: str, part: str) -> str:
    """The desk's list of the cases behind ``part`` of a published point."""
    return _desk(",".join(["snapshot", str(snapshot.pk), str(target_id), code, part]))


def drills_register() -> None:
    """Called by AssessmentConfig.ready()."""
    drill_register("live", _live)
    drill_register("snapshot", _published)


__all__ = ["drill_url", "drill_url_published", "drills_register", "scope_label"]
