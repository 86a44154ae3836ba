"""What the assessment pages read (issue 17, "Pages"): the periods of the schemes a leader
assesses with where each stands, one period's results (as published, or as they stand before
publication) with the drill-down of every figure, and a department's own published results and
appeals. Reads only; the rules are assessment.schemes'."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from assessment.choices import AppealDecision, PeriodKind
from assessment.drill import drill_url, drill_url_published
from assessment.kpis import KPIS
from assessment.models import Appeal, Period, Scheme, SchemeVersion, Snapshot
from assessment.schemes import (
    DEPARTMENT_KINDS,
    _plain,
    _weights_parse,
    period_bounds,
    results_compute,
    scheme_targets,
    scheme_version_for,
    snapshot_results,
    target_scope,
)
from core.choices import Role
from core.selectors import role_names
from enforcement.permissions import scope_of

MONTHS_SHOWN = 6  # the months of the overview, the current one first


@dataclass
class PeriodRow:
    """A period of a scheme on the overview."""

    kind: str
    starts_on: date
    label: str
    over: bool
    published: Snapshot | None = None  # the current version
    appeals_pending: int = 0


def period_get(kind: str, starts_on: date) -> Period:
    """The period ``kind`` starting on ``starts_on`` (a first day, else ValueError), read, or an
    unsaved one when nobody has scored or published it yet (a GET creates nothing)."""
    start, end, label = period_bounds(kind, starts_on)
    if start != starts_on:
        raise ValueError("not the first day of a period")
    found = Period.objects.filter(kind=kind, starts_on=start).first()
    return found or Period(kind=kind, starts_on=start, ends_on=end, label=label)


def scheme_periods(scheme: Scheme, *, today: date | None = None) -> list[PeriodRow]:
    """The last MONTHS_SHOWN months, this one first, and the quarters and years already
    published, each with its current published version and pending appeals: three queries."""
    today = today or timezone.localdate()
    rows: dict[tuple[str, date], PeriodRow] = {}
    day = today
    for _n in range(MONTHS_SHOWN):
        start, end, label = period_bounds(PeriodKind.MONTH, day)
        rows[(PeriodKind.MONTH, start)] = PeriodRow(PeriodKind.MONTH, start, label, end <= today)
        day = start - timedelta(days=1)
    snapshots = (
        Snapshot.objects.filter(scheme_version__scheme=scheme)
        .select_related("period")
        .order_by("period__starts_on", "version")
    )
    for snapshot in snapshots:
        period = snapshot.period
        key = (period.kind, period.starts_on)
        if key not in rows:
            rows[key] = PeriodRow(period.kind, period.starts_on, period.label, True)
        rows[key].published = snapshot  # the highest version comes last
    pending = (
        Appeal.objects.filter(
            snapshot__scheme_version__scheme=scheme, decision=AppealDecision.PENDING
        )
        .values("snapshot__period__kind", "snapshot__period__starts_on")
        .annotate(n=Count("pk"))
    )
    for row in pending:
        key = (row["snapshot__period__kind"], row["snapshot__period__starts_on"])
        if key in rows:
            rows[key].appeals_pending = row["n"]
    return sorted(rows.values(), key=lambda r: (r.starts_on, r.kind), reverse=True)


# --- one period's results ------------------------------------------------------------------------


@dataclass
class Cell:
    """One indicator of one target on the page."""

    code: str
    name: str
    unit: str
    value: Decimal | None
    numerator: int | None
    denominator: int
    too_few: bool
    points: Decimal | None
    weight: Decimal
    weight_effective: Decimal
    excluded: int
    appeal: dict | None
    drill: dict[str, str] = field(default_factory=dict)  # part → the desk's URL


@dataclass
class Row:
    target: dict
    rank: int | None
    total: Decimal | None
    data_points: Decimal | None
    manual_points: Decimal
    complete: bool
    cells: list[Cell]
    manual: list[dict]


@dataclass
class PeriodResults:
    scheme: Scheme
    period: Period
    version: SchemeVersion | None  # the scheme version the period is assessed under
    snapshot: Snapshot | None  # the version shown, when published
    versions: list[Snapshot]
    rows: list[Row]
    indicators: list[tuple[str, str, Decimal]]  # (code, name, weight), the columns
    manual_items: list[tuple[str, str, Decimal]]
    appeals: list[Appeal]
    over: bool
    missing: list[str]  # targets with a manual score still to enter
    content_change: dict | None = None

    @property
    def published(self) -> bool:
        return self.snapshot is not None

    @property
    def publishable(self) -> bool:
        return not self.versions and self.over and self.version is not None and not self.missing


def _number(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _rows(results: list[dict], drills) -> list[Row]:
    rows = []
    for result in results:
        cells = []
        for code, figure in result["indicators"].items():
            kpi = KPIS.get(code)
            cells.append(
                Cell(
                    code=code,
                    name=str(kpi.name) if kpi else code,
                    unit=figure["unit"],
                    value=_number(figure["value"]),
                    numerator=figure["numerator"],
                    denominator=figure["denominator"],
                    too_few=figure["too_few"],
                    points=_number(figure["points"]),
                    weight=_number(figure["weight"]),
                    weight_effective=_number(figure["weight_effective"]),
                    excluded=figure["excluded"],
                    appeal=figure.get("appeal"),
                    drill=drills(result["target"]["id"], code, figure),
                )
            )
        manual = [
            {"item": item, **spec, "score": _number(spec["score"])}
            for item, spec in result["manual"].items()
        ]
        rows.append(
            Row(
                target=result["target"],
                rank=result["rank"],
                total=_number(result["total"]),
                data_points=_number(result["data_points"]),
                manual_points=_number(result["manual_points"]),
                complete=result["complete"],
                cells=cells,
                manual=manual,
            )
        )
    return rows


def _parts(figure: dict) -> list[str]:
    parts = ["numerator", "denominator"] if figure["numerator"] is not None else ["numerator"]
    return [*parts, "excluded"] if figure["excluded"] else parts


def period_results(
    scheme: Scheme, period: Period, *, version_number: int | None = None
) -> PeriodResults:
    """``period``'s results under ``scheme``: the published version (the current one, or
    ``version_number``; LookupError for a version that does not exist), read from its stored
    bytes; before publication, as they stand now (results_compute over the scheme's targets)."""
    today = timezone.localdate()
    versions = (
        list(
            Snapshot.objects.filter(period=period, scheme_version__scheme=scheme)
            .select_related("published_by", "scheme_version")
            .order_by("version")
        )
        if period.pk
        else []
    )
    shown = versions[-1] if versions else None
    if version_number is not None:
        shown = next((v for v in versions if v.version == version_number), None)
        if shown is None:
            raise LookupError(version_number)
    appeals = (
        list(
            Appeal.objects.filter(snapshot__period=period, snapshot__scheme_version__scheme=scheme)
            .select_related("filed_by", "decided_by", "snapshot", "result")
            .order_by("-filed_at")
        )
        if period.pk
        else []
    )
    if shown is not None:
        content = snapshot_results(shown)
        weights = content["weights"]
        version = shown.scheme_version

        def drills(target_id, code, figure):
            return {
                part: drill_url_published(snapshot=shown, target_id=target_id, code=code, part=part)
                for part in _parts(figure)
            }

        rows = _rows(content["results"], drills)
        change = content.get("change")
    else:
        version = scheme_version_for(scheme, period.starts_on)
        weights, rows, change = {"indicators": {}, "manual_items": {}}, [], None
        if version is not None:
            targets = {t.pk: t for t in scheme_targets(scheme)}
            results = _plain(results_compute(period, version, list(targets.values())))
            weights = _plain_weights(version)

            def drills(target_id, code, figure):
                scope = target_scope(scheme, targets[target_id])
                return {
                    part: drill_url(
                        code=code,
                        part=part,
                        scope=scope,
                        start=period.starts_on,
                        end=period.ends_on,
                    )
                    for part in _parts(figure)
                }

            rows = _rows(results, drills)
    indicators = [
        (code, str(KPIS[code].name) if code in KPIS else code, _number(_weight(spec)))
        for code, spec in sorted(weights["indicators"].items())
    ]
    manual_items = [
        (item, spec["name"], _number(spec["weight"]))
        for item, spec in weights["manual_items"].items()
    ]
    names = {row.target["id"]: row.target["name"] for row in rows}
    items = {code: name for code, name, _w in indicators + manual_items}
    for appeal in appeals:
        appeal.target_name = names.get(appeal.target_id, appeal.target_id)
        appeal.item_name = items.get(appeal.item, appeal.item)
    return PeriodResults(
        scheme=scheme,
        period=period,
        version=version,
        snapshot=shown,
        versions=versions,
        rows=rows,
        indicators=indicators,
        manual_items=manual_items,
        appeals=appeals,
        over=period.ends_on <= today,
        missing=[r.target["name"] for r in rows if not r.complete] if shown is None else [],
        content_change=change,
    )


def _weight(spec) -> str:
    return spec["weight"] if isinstance(spec, dict) else spec


def _plain_weights(version: SchemeVersion) -> dict:
    return _plain(_weights_parse(version.indicators, version.manual_items))


# --- a department's own results ------------------------------------------------------------------


@dataclass
class DepartmentResult:
    """One published result of a department (its row in the current version)."""

    snapshot: Snapshot
    scheme: Scheme
    row: Row
    ranked_of: int
    appeal_until: object  # the last moment an appeal may be filed
    appeals: list[Appeal]

    @property
    def appeal_open(self) -> bool:
        return timezone.now() <= self.appeal_until


def liaison_departments(user) -> list[int]:
    """The departments whose assessment ``user`` reads: a department liaison's (their grants)."""
    if Role.DEPARTMENT_LIAISON.value not in role_names(user):
        return []
    return sorted(scope_of(user).departments)


def department_results(department_ids: list[int], *, limit: int = 12) -> list[DepartmentResult]:
    """The latest published results (current versions) of schemes assessing departments or
    agencies that rank one of ``department_ids``, newest period first, with the department's
    appeals on them. Three queries and one per result shown for its first version's time."""
    if not department_ids:
        return []
    snapshots = list(
        Snapshot.objects.filter(
            scheme_version__scheme__target_kind__in=list(DEPARTMENT_KINDS),
            superseded_by__isnull=True,
        )
        .select_related("period", "scheme_version__scheme__assessor")
        .order_by("-period__starts_on", "-pk")[: limit * 4]
    )
    appeals = list(
        Appeal.objects.filter(
            target_id__in=department_ids,
            target_kind__in=list(DEPARTMENT_KINDS),
            snapshot__period__in=[s.period_id for s in snapshots],
        )
        .select_related("snapshot", "decided_by", "filed_by")
        .order_by("-filed_at")
    )
    firsts = {
        (scheme_version, period): at
        for scheme_version, period, at in Snapshot.objects.filter(
            version=1,
            period__in=[s.period_id for s in snapshots],
            scheme_version__in=[s.scheme_version_id for s in snapshots],
        ).values_list("scheme_version_id", "period_id", "published_at")
    }
    found = []
    for snapshot in snapshots:
        content = snapshot_results(snapshot)
        for result in content["results"]:
            if result["target"]["id"] not in department_ids:
                continue
            row = _rows(
                [result],
                lambda target_id, code, figure, s=snapshot: {
                    part: drill_url_published(snapshot=s, target_id=target_id, code=code, part=part)
                    for part in _parts(figure)
                },
            )[0]
            first_at = firsts.get((snapshot.scheme_version_id, snapshot.period_id))
            names = {c.code: c.name for c in row.cells} | {m["item"]: m["name"] for m in row.manual}
            found.append(
                DepartmentResult(
                    snapshot=snapshot,
                    scheme=snapshot.scheme_version.scheme,
                    row=row,
                    ranked_of=sum(1 for r in content["results"] if r["rank"] is not None),
                    appeal_until=(first_at or snapshot.published_at)
                    + timedelta(days=settings.ASSESSMENT_APPEAL_DAYS),
                    appeals=[
                        _named(a, names)
                        for a in appeals
                        if a.target_id == result["target"]["id"]
                        and a.snapshot.period_id == snapshot.period_id
                        and a.snapshot.scheme_version_id == snapshot.scheme_version_id
                    ],
                )
            )
    return found[:limit]


def _named(appeal: Appeal, names: dict) -> Appeal:
    appeal.item_name = names.get(appeal.item, appeal.item)
    return appeal


__all__ = [
    "department_results",
    "liaison_departments",
    "period_get",
    "period_results",
    "scheme_periods",
]
