"""Two-way assessment (双向考核, issue 17): periods, versioned schemes, the street leader's manual
scores, results from the KPI registry, publication frozen as canonical JSON, appeals and the
Excel export. Business rules live here; the pages only call these functions.

The rules, decided once:

- A period is a month, a quarter or a year, ``[starts_on, ends_on)`` (``period_for``).
- A scheme's weights live in versions; a change is a new version, and a version a snapshot used
  is never edited (``scheme_version_amend`` refuses it). A period is assessed under the version
  in force on its first day (``scheme_version_for(scheme, period.starts_on)``): its rules are
  known before it begins. A version's indicator and manual weights add up to 100 points.
- Points of an indicator (``_points``): a rate where higher is better earns ``weight × value /
  100``; a rate where lower is better ``weight × (1 − value / 100)``; a count where lower is
  better (supervisions received) ``max(0, weight − deduct × count)``. Medians in minutes, splits
  and counts with no better direction have no fair scale and are refused in a scheme.
- Too few cases (settings.ASSESSMENT_MIN_CASES, the registry's rule): the rate has no value, so
  its weight is spread over the target's rates that have one, in proportion to their weights.
  Full points would reward a department the street rarely calls, zero would punish it for what
  it was never asked; spreading scores the target on what was measured, out of the same total as
  every other target. Counts keep their own weight. A target none of whose rates has enough
  cases is not ranked (its total is None).
- Ranking: by total, highest first; equal totals (to the cent) share a rank and the next rank
  skips (1, 1, 3); targets not ranked come last without a rank.
- Publishing freezes inputs, weights, manual scores with their reasons and results as canonical
  JSON (sorted keys, no whitespace, Decimals as strings) with its SHA-256 (``Snapshot`` version
  1). A period is published once per scheme, under whichever version: publishing it again, under
  the same or a newer version, would re-score a published period. Reading a published result
  reads the stored bytes only (``snapshot_results``).
- Appeals (申诉): by the target department's liaison, on one point of the current version,
  within settings.ASSESSMENT_APPEAL_DAYS natural days of the period's first publication (an
  upheld appeal does not reopen the window). The street leader decides; upheld, the point takes
  the new score in a new version made from the stored content, totals and ranks recomputed from
  it, the decision's reason on the version.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from assessment.choices import AppealDecision, PeriodKind, TargetKind
from assessment.kpis import KPIS, Scope, ScopeKind, Unit, kpis_compute_many
from assessment.models import Appeal, ManualScore, Period, Scheme, SchemeVersion, Snapshot
from core.choices import Role
from core.selectors import role_names
from enforcement.models import Officer, Team
from enforcement.permissions import scope_of
from enforcement.workflow import WorkflowError
from grids.choices import RegionLevel
from grids.exchange import spreadsheet_safe
from grids.models import Region
from powers.choices import DepartmentKind
from powers.models import Department

# The street's share of an assessed body's annual score (seed 002, Linyi, 兰山区: 「街道评价结果
# 至少占部门年度绩效考核权重的30%、派驻机构年度绩效考核权重的60%」; 罗庄区: 「派出部门考核40%,
# 街道占考核指标额度的60%」). Both are floors: a district may give the street more.
STREET_SHARE_DEPARTMENT = Decimal("0.30")
STREET_SHARE_AGENCY = Decimal("0.60")
DEPARTMENT_SHARE_AGENCY = Decimal("0.40")  # 1 − STREET_SHARE_AGENCY, the sending department's

SCHEME_TOTAL = Decimal("100")  # the points of a scheme: its weights add up to this
CENT = Decimal("0.01")
CONTENT_FORMAT = 2  # the layout of a snapshot's content; a new layout gets a new number

# Who is assessed, as what model, and the KPI scope its figures are computed over.
TARGET_MODELS = {
    TargetKind.DEPARTMENT: Department,
    TargetKind.AGENCY: Department,
    TargetKind.STREET: Region,
    TargetKind.TEAM: Team,
    TargetKind.OFFICER: Officer,
}
TARGET_SCOPES = {
    TargetKind.DEPARTMENT: ScopeKind.DEPARTMENT,
    TargetKind.AGENCY: ScopeKind.DEPARTMENT,
    TargetKind.STREET: ScopeKind.STREET,
    TargetKind.TEAM: ScopeKind.TEAM,
    TargetKind.OFFICER: ScopeKind.OFFICER,
}
# A district department is assessed as a department, a dispatched agency or a police station
# (区级部门派驻的市场监管所和派出所, seed 002) as an agency.
DEPARTMENT_KINDS = {
    TargetKind.DEPARTMENT: (DepartmentKind.FUNCTIONAL, DepartmentKind.OTHER),
    TargetKind.AGENCY: (DepartmentKind.DISPATCHED, DepartmentKind.POLICE_STATION),
}

# An indicator values provider: ``provider(codes, *, start, end, scope, now)`` → {code: result},
# each result with ``value`` (None when too few), ``numerator``, ``denominator``, ``too_few`` and
# ``denominator_ids`` (assessment.kpis.KpiResult). The registry's kpis_compute by default.
Provider = Callable[..., dict]


class AssessmentRefused(WorkflowError):
    """A request the assessment rules refuse; ``str()`` is the message for people."""

    code = "assessment_refused"


# --- periods -------------------------------------------------------------------------------------


def period_bounds(kind: str, day: date) -> tuple[date, date, str]:
    """The first day, the day after the last and the label of the ``kind`` period holding
    ``day``. Labels are data, written the way the street writes them (2026年11月)."""
    if kind == PeriodKind.MONTH:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return start, end, f"{day.year}年{day.month}月"
    if kind == PeriodKind.QUARTER:
        quarter = (day.month - 1) // 3 + 1
        start = date(day.year, 3 * quarter - 2, 1)
        end = date(day.year + 1, 1, 1) if quarter == 4 else date(day.year, 3 * quarter + 1, 1)
        return start, end, f"{day.year}年第{quarter}季度"
    if kind == PeriodKind.YEAR:
        return date(day.year, 1, 1), date(day.year + 1, 1, 1), f"{day.year}年"
    raise ValueError(f"no period kind {kind!r}")


def period_for(kind: str, day: date) -> Period:
    """The month, quarter or year holding ``day``, made the first time it is asked for.
    Idempotent (get-or-create on the unique kind and first day)."""
    start, end, label = period_bounds(kind, day)
    period, _created = Period.objects.get_or_create(
        kind=kind, starts_on=start, defaults={"ends_on": end, "label": label}
    )
    return period


def period_published(period: Period, scheme: Scheme) -> bool:
    return Snapshot.objects.filter(period=period, scheme_version__scheme=scheme).exists()


# --- schemes -------------------------------------------------------------------------------------


def _decimal(value, what: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise AssessmentRefused(_("%(what)s is not a number.") % {"what": what}) from None
    if not number.is_finite():
        raise AssessmentRefused(_("%(what)s is not a number.") % {"what": what})
    return number


def _text(value: Decimal) -> str:
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")


def _indicators_clean(scheme: Scheme, indicators: dict) -> dict:
    """``{code: weight}`` for a rate, ``{code: {"weight": w, "deduct": d}}`` for a count where
    lower is better (points lost per unit); weights and deductions stored as text."""
    scope_kind = TARGET_SCOPES[scheme.target_kind]
    clean = {}
    for code, spec in (indicators or {}).items():
        kpi = KPIS.get(code)
        if kpi is None:
            raise AssessmentRefused(_("There is no indicator %(code)s.") % {"code": code})
        if scope_kind not in kpi.scopes:
            raise AssessmentRefused(
                _("%(name)s is not computed for who this scheme assesses.") % {"name": kpi.name_zh}
            )
        spec = spec if isinstance(spec, dict) else {"weight": spec}
        weight = _decimal(spec.get("weight"), kpi.name_zh)
        if weight <= 0:
            raise AssessmentRefused(_("A weight is more than zero."))
        if kpi.unit == Unit.PERCENT and kpi.higher_is_better is not None:
            clean[code] = _text(weight)
        elif kpi.unit == Unit.COUNT and kpi.higher_is_better is False:
            deduct = spec.get("deduct")
            deduct = None if deduct is None else _decimal(deduct, kpi.name_zh)
            if deduct is None or deduct <= 0:
                raise AssessmentRefused(
                    _("%(name)s is a count: say how many points each one takes off.")
                    % {"name": kpi.name_zh}
                )
            clean[code] = {"weight": _text(weight), "deduct": _text(deduct)}
        else:
            raise AssessmentRefused(
                _("%(name)s has no fair scale for points (a median, a split or a plain count).")
                % {"name": kpi.name_zh}
            )
    return clean


def _manual_items_clean(manual_items: dict, indicators: dict) -> dict:
    clean = {}
    for code, spec in (manual_items or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        name = str(spec.get("name", "")).strip()
        if not code or code in indicators or code in KPIS or not name:
            raise AssessmentRefused(
                _("A manual item has a code of its own and a name (%(code)s).") % {"code": code}
            )
        weight = _decimal(spec.get("weight"), name)
        if weight <= 0:
            raise AssessmentRefused(_("A weight is more than zero."))
        clean[code] = {"name": name, "weight": _text(weight)}
    return clean


def _weights_clean(scheme: Scheme, indicators: dict, manual_items: dict) -> tuple[dict, dict]:
    indicators = _indicators_clean(scheme, indicators)
    manual_items = _manual_items_clean(manual_items, indicators)
    weights = _weights_parse(indicators, manual_items)
    total = sum(w["weight"] for w in weights["indicators"].values()) + sum(
        w["weight"] for w in weights["manual_items"].values()
    )
    if total != SCHEME_TOTAL:
        raise AssessmentRefused(
            _("The weights add up to %(total)s points, not 100.") % {"total": _text(total)}
        )
    return indicators, manual_items


def _weights_parse(indicators: dict, manual_items: dict) -> dict:
    """A version's weights as Decimals: ``{"indicators": {code: {"weight", "deduct"}},
    "manual_items": {code: {"name", "weight"}}}`` (``deduct`` None for a rate)."""
    parsed = {"indicators": {}, "manual_items": {}}
    for code, spec in indicators.items():
        spec = spec if isinstance(spec, dict) else {"weight": spec}
        deduct = spec.get("deduct")
        parsed["indicators"][code] = {
            "weight": Decimal(str(spec["weight"])),
            "deduct": None if deduct is None else Decimal(str(deduct)),
        }
    for code, spec in manual_items.items():
        parsed["manual_items"][code] = {
            "name": spec["name"],
            "weight": Decimal(str(spec["weight"])),
        }
    return parsed


def scheme_version_new(
    *, scheme: Scheme, indicators: dict, manual_items: dict, valid_from: date, by
) -> SchemeVersion:
    """A new version of ``scheme``'s weights from ``valid_from`` on (not before the latest
    version's). Locks the scheme; never touches an earlier version, so a published period keeps
    the weights it was scored with. Raises AssessmentRefused on weights that are not a fair
    scheme (see the module's docstring)."""
    assessor_check(by, scheme)
    indicators, manual_items = _weights_clean(scheme, indicators, manual_items)
    with transaction.atomic():
        Scheme.objects.select_for_update().get(pk=scheme.pk)
        latest = scheme.versions.order_by("-version").first()
        if latest is not None and valid_from < latest.valid_from:
            raise AssessmentRefused(
                _("A new version starts on or after the latest one (%(day)s).")
                % {"day": latest.valid_from.isoformat()}
            )
        return SchemeVersion.objects.create(
            scheme=scheme,
            version=(latest.version if latest else 0) + 1,
            valid_from=valid_from,
            indicators=indicators,
            manual_items=manual_items,
            created_by=by,
        )


def scheme_version_amend(
    *, version: SchemeVersion, indicators: dict, manual_items: dict, by
) -> SchemeVersion:
    """Correct a version no snapshot has used yet, in place. Refused (AssessmentRefused) once a
    period was published with it: then a change is scheme_version_new. Locks the scheme, as
    period_publish does, so a publication and an amendment cannot cross."""
    assessor_check(by, version.scheme)
    indicators, manual_items = _weights_clean(version.scheme, indicators, manual_items)
    with transaction.atomic():
        Scheme.objects.select_for_update().get(pk=version.scheme_id)
        if Snapshot.objects.filter(scheme_version=version).exists():
            raise AssessmentRefused(
                _("Results were published with this version: make a new version instead.")
            )
        SchemeVersion.objects.filter(pk=version.pk).update(
            indicators=indicators, manual_items=manual_items
        )
    version.refresh_from_db()
    return version


def scheme_version_for(scheme: Scheme, day: date) -> SchemeVersion | None:
    """The version in force on ``day``: the latest started on or before it (None before the
    first)."""
    return scheme.versions.filter(valid_from__lte=day).order_by("-valid_from", "-version").first()


def _targets_of(scheme: Scheme):
    """The queryset of everyone ``scheme`` assesses: for a street, the departments (or agencies)
    serving it (a department with no street named serves every street), its teams and their
    officers; for the district, its streets."""
    kind, assessor = scheme.target_kind, scheme.assessor_id
    if kind in DEPARTMENT_KINDS:
        return Department.objects.filter(kind__in=DEPARTMENT_KINDS[kind]).filter(
            Q(streets=assessor) | Q(streets__isnull=True)
        )
    if kind == TargetKind.STREET:
        return Region.objects.filter(level=RegionLevel.STREET, parent=assessor)
    if kind == TargetKind.TEAM:
        return Team.objects.filter(street=assessor)
    return Officer.objects.filter(team__street=assessor).select_related("user")


def scheme_targets(scheme: Scheme) -> list:
    """Everyone ``scheme`` assesses (``_targets_of``), in a stable order."""
    order = "code" if scheme.target_kind in (*DEPARTMENT_KINDS, TargetKind.STREET) else "pk"
    return list(_targets_of(scheme).distinct().order_by(order))


def target_scope(scheme: Scheme, target) -> Scope:
    """What the figures of ``target`` count under ``scheme``: a department's calls from the
    assessing street only (the street assesses what it asked of it), a team's, an officer's or
    a street's cases."""
    if scheme.target_kind in DEPARTMENT_KINDS:
        return Scope.of_department_in(scheme.assessor_id, target.pk)
    return Scope(TARGET_SCOPES[scheme.target_kind], target.pk)


def _target_check(scheme: Scheme, target) -> None:
    _targets_check(scheme, [target])


def _targets_check(scheme: Scheme, targets: list) -> None:
    """AssessmentRefused naming the first of ``targets`` the scheme does not assess (one
    query)."""
    kind = scheme.target_kind
    assessed = set(_targets_of(scheme).values_list("pk", flat=True)) if targets else set()
    for target in targets:
        ok = isinstance(target, TARGET_MODELS[kind]) and target.pk in assessed
        if ok and kind in DEPARTMENT_KINDS:
            ok = target.kind in DEPARTMENT_KINDS[kind]
        elif ok and kind == TargetKind.STREET:
            ok = target.level == RegionLevel.STREET
        if not ok:
            raise AssessmentRefused(
                _("%(target)s is not assessed by this scheme.") % {"target": _target_name(target)}
            )


def _target_name(target) -> str:
    if isinstance(target, Officer):
        return target.user.get_full_name() or target.user.username
    return str(getattr(target, "name", target))


# --- the annual score ----------------------------------------------------------------------------


def annual_score_combine(
    *, target_kind: str, own_score, street_score, street_share: Decimal | None = None
) -> Decimal:
    """A department's or dispatched agency's annual score: its own assessment (by the district,
    or by the sending department for an agency) and the street's, weighted by the street's
    share (seed 002: at least STREET_SHARE_DEPARTMENT of a department's, at least
    STREET_SHARE_AGENCY of an agency's, the department keeping DEPARTMENT_SHARE_AGENCY). Scores
    out of 100; rounded to the cent. A share under the floor or over 1 is refused."""
    floors = {
        TargetKind.DEPARTMENT: STREET_SHARE_DEPARTMENT,
        TargetKind.AGENCY: STREET_SHARE_AGENCY,
    }
    if target_kind not in floors:
        raise AssessmentRefused(_("Only departments and agencies have a street's share."))
    floor = floors[target_kind]
    share = floor if street_share is None else _decimal(street_share, _("The street's share"))
    if not floor <= share <= 1:
        raise AssessmentRefused(
            _("The street's share is at least %(floor)s%%.") % {"floor": int(floor * 100)}
        )
    own, street = _decimal(own_score, _("A score")), _decimal(street_score, _("A score"))
    if not (0 <= own <= SCHEME_TOTAL and 0 <= street <= SCHEME_TOTAL):
        raise AssessmentRefused(_("A score is from 0 to 100."))
    return (own * (1 - share) + street * share).quantize(CENT, rounding=ROUND_HALF_UP)


# --- manual scores -------------------------------------------------------------------------------


def assessor_check(user, scheme: Scheme) -> None:
    """Who scores, publishes and decides appeals for ``scheme``: the leader of its street (a
    street leader granted that street), or for a district's scheme its administrator (granted
    the district). PermissionDenied otherwise."""
    if user.is_superuser:
        return
    assessor = scheme.assessor
    scope = scope_of(user)
    if assessor.level == RegionLevel.STREET:
        ok = Role.STREET_LEADER.value in role_names(user) and assessor.pk in scope.streets
        message = _("Only the leader of %(street)s does this.")
    else:
        streets = set(
            Region.objects.filter(parent=assessor, level=RegionLevel.STREET).values_list(
                "pk", flat=True
            )
        )
        ok = Role.DISTRICT_ADMIN.value in role_names(user) and streets <= scope.streets
        message = _("Only the administrator of %(street)s does this.")
    if not ok:
        raise PermissionDenied(message % {"street": assessor.name})


def schemes_assessed_by(user):
    """The schemes ``user`` assesses (assessor_check), by code."""
    return [s for s in Scheme.objects.select_related("assessor") if _assesses(user, s)]


def _assesses(user, scheme: Scheme) -> bool:
    try:
        assessor_check(user, scheme)
    except PermissionDenied:
        return False
    return True


def manual_score_enter(
    *, period: Period, scheme: Scheme, target, item: str, score, reason: str, by
) -> ManualScore:
    """The street leader's score of ``target`` on the manual item ``item`` (述职测评, 过程评议 …)
    of the version in force on the period's first day: from 0 to the item's weight, at most two
    decimals, with a reason. Before publication, entering it again replaces it (with the new
    reason and time); the same score and reason again changes nothing. Once the period is
    published for the scheme it is refused: a change goes through an appeal. Locks the scheme
    (period_publish does too). Raises PermissionDenied, AssessmentRefused."""
    assessor_check(by, scheme)
    reason = (reason or "").strip()
    if not reason:
        raise AssessmentRefused(_("A manual score gives its reason."))
    score = _decimal(score, _("The score"))
    _target_check(scheme, target)
    with transaction.atomic():
        Scheme.objects.select_for_update().get(pk=scheme.pk)
        if period_published(period, scheme):
            raise AssessmentRefused(
                _("%(period)s is published: a score changes only through an appeal.")
                % {"period": period.label}
            )
        version = scheme_version_for(scheme, period.starts_on)
        items = _weights_parse({}, version.manual_items)["manual_items"] if version else {}
        if item not in items:
            raise AssessmentRefused(_("There is no manual item %(item)s.") % {"item": item})
        weight = items[item]["weight"]
        if not 0 <= score <= weight or score != score.quantize(CENT):
            raise AssessmentRefused(
                _("%(name)s is scored from 0 to %(weight)s, to the cent.")
                % {"name": items[item]["name"], "weight": _text(weight)}
            )
        key = {
            "period": period,
            "scheme": scheme,
            "target_kind": scheme.target_kind,
            "target_id": target.pk,
            "item": item,
        }
        existing = ManualScore.objects.select_for_update().filter(**key).first()
        if existing is not None and existing.score == score and existing.reason == reason:
            return existing
        if existing is None:
            return ManualScore.objects.create(**key, score=score, reason=reason, entered_by=by)
        existing.history = [
            *existing.history,
            {
                "score": _text(existing.score),
                "reason": existing.reason,
                "by": existing.entered_by.username,
                "at": existing.entered_at.astimezone(UTC).isoformat(),
            },
        ]
        existing.score, existing.reason, existing.entered_by = score, reason, by
        existing.entered_at = timezone.now()
        existing.save(update_fields=["score", "reason", "entered_by", "entered_at", "history"])
        return existing


# --- results -------------------------------------------------------------------------------------


def _points(kpi, weight: Decimal, deduct: Decimal | None, value: Decimal) -> Decimal:
    """The points of one indicator's value (the module's docstring), unrounded."""
    if deduct is not None:
        return max(Decimal(0), weight - deduct * value)
    if kpi.higher_is_better:
        return weight * value / 100
    return weight * (1 - value / 100)


def _indicators_score(weights: dict, figures: dict) -> dict:
    """Each indicator's figure and points for one target; rates with too few cases give their
    weight to the target's measured rates, in proportion."""
    rates = {c for c in weights if weights[c]["deduct"] is None}
    measured = {c for c in rates if figures[c].value is not None}
    rate_weight = sum((weights[c]["weight"] for c in rates), Decimal(0))
    measured_weight = sum((weights[c]["weight"] for c in measured), Decimal(0))
    scored = {}
    for code, spec in weights.items():
        kpi, figure = KPIS[code], figures[code]
        weight = spec["weight"]
        if code in measured:
            weight = weight * rate_weight / measured_weight
        elif code in rates:
            weight = Decimal(0)
        points = None
        if figure.value is not None and (code in measured or spec["deduct"] is not None):
            points = _points(kpi, weight, spec["deduct"], figure.value).quantize(
                CENT, rounding=ROUND_HALF_UP
            )
        scored[code] = {
            "name_zh": kpi.name_zh,
            "unit": kpi.unit,
            "higher_is_better": kpi.higher_is_better,
            "weight": spec["weight"],
            "deduct": spec["deduct"],
            "weight_effective": weight.quantize(CENT, rounding=ROUND_HALF_UP),
            "value": figure.value,
            "numerator": figure.numerator,
            "denominator": figure.denominator,
            "excluded": len(getattr(figure, "excluded_ids", ())),
            "ids_count": len(getattr(figure, "denominator_ids", ())),
            # What the figure counted, for its drill-down as published (assessment.drill).
            "ids_of": getattr(figure, "ids_of", "cases"),
            "ids": {
                "numerator": sorted(getattr(figure, "numerator_ids", ())),
                "denominator": sorted(getattr(figure, "denominator_ids", ())),
                "excluded": sorted(getattr(figure, "excluded_ids", ())),
            },
            "too_few": bool(figure.too_few),
            "points": points,
        }
    return scored


def _totals(result: dict) -> None:
    """Fill a result's data points, manual points, total, completeness and whether it is ranked
    from its indicators and manual items (Decimals or their text: computed and stored content
    alike)."""

    def number(value):
        return None if value is None else Decimal(str(value))

    indicators = result["indicators"].values()
    rates = [i for i in indicators if i["deduct"] is None]
    ranked = not rates or any(i["value"] is not None for i in rates)
    data = sum((number(i["points"]) for i in indicators if i["points"] is not None), Decimal(0))
    manual = sum(
        (number(m["score"]) for m in result["manual"].values() if m["score"] is not None),
        Decimal(0),
    )
    result["ranked"] = ranked
    result["complete"] = all(m["score"] is not None for m in result["manual"].values())
    result["data_points"] = data.quantize(CENT) if ranked else None
    result["manual_points"] = manual.quantize(CENT)
    result["total"] = (data + manual).quantize(CENT) if ranked else None


def _rank(results: list[dict]) -> list[dict]:
    """Ranks in place (ties share a rank, the next skips); returns the results ranked first,
    highest total first, then the unranked, each group by target id."""
    ranked = sorted(
        (r for r in results if r["ranked"]),
        key=lambda r: (-Decimal(str(r["total"])), r["target"]["id"]),
    )
    previous, rank = None, 0
    for position, result in enumerate(ranked, start=1):
        total = Decimal(str(result["total"]))
        if total != previous:
            rank, previous = position, total
        result["rank"] = rank
    unranked = sorted((r for r in results if not r["ranked"]), key=lambda r: r["target"]["id"])
    for result in unranked:
        result["rank"] = None
    return ranked + unranked


def results_compute(
    period: Period,
    scheme_version: SchemeVersion,
    targets: Iterable,
    *,
    provider: Provider | None = None,
    now: datetime | None = None,
) -> list[dict]:
    """Each target's results over ``period`` under ``scheme_version``, ranked: per indicator its
    figure from the registry (over the period, for the target's scope) and its points, the
    manual scores with their reasons, the total and the rank (the module's docstring gives the
    rules). Reads only: the registry's six queries for every target at once (the facts of the
    assessor's street or district, kpis_compute_many), one for the targets' check and one for
    the manual scores; a ``provider`` (tests) is called per target."""
    scheme = scheme_version.scheme
    weights = _weights_parse(scheme_version.indicators, scheme_version.manual_items)
    targets = list(targets)
    _targets_check(scheme, targets)
    codes = sorted(weights["indicators"])
    if provider is None and codes and targets:
        many = kpis_compute_many(
            codes,
            start=period.starts_on,
            end=period.ends_on,
            scopes=[target_scope(scheme, t) for t in targets],
            within=scheme.assessor,
            now=now,
        )

        def provider(_codes, *, start, end, scope, now):
            return many[scope]

    scores = {
        (s.target_id, s.item): s
        for s in ManualScore.objects.filter(
            period=period.pk,  # None for a period nobody scored yet (assessment.overview)
            scheme=scheme,
            target_kind=scheme.target_kind,
            target_id__in=[t.pk for t in targets],
        ).select_related("entered_by")
    }
    results = []
    for target in targets:
        figures = (
            provider(
                codes,
                start=period.starts_on,
                end=period.ends_on,
                scope=target_scope(scheme, target),
                now=now,
            )
            if codes
            else {}
        )
        manual = {}
        for item, spec in weights["manual_items"].items():
            entered = scores.get((target.pk, item))
            manual[item] = {
                "name": spec["name"],
                "weight": spec["weight"],
                "score": entered.score if entered else None,
                "reason": entered.reason if entered else "",
                "entered_by": entered.entered_by.username if entered else "",
                "entered_at": entered.entered_at if entered else None,
            }
        result = {
            "target": {"kind": scheme.target_kind, "id": target.pk, "name": _target_name(target)},
            "indicators": _indicators_score(weights["indicators"], figures),
            "manual": manual,
        }
        _totals(result)
        results.append(result)
    return _rank(results)


# --- publication ---------------------------------------------------------------------------------


def _plain(value):
    """``value`` as JSON's types: Decimals as their text, moments in ISO 8601 (UTC), dates in
    ISO 8601. A float is refused: its text is not canonical."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)  # a TextChoices member as its value
    if value is None or isinstance(value, bool | int):
        return value
    raise TypeError(f"not canonical JSON: {value!r}")


def canonical_json(value) -> bytes:
    """The canonical bytes of ``value``: sorted keys, no whitespace, UTF-8, Decimals as text."""
    return json.dumps(
        _plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def period_publish(
    *,
    period: Period,
    scheme_version: SchemeVersion,
    by,
    targets: Iterable | None = None,
    provider: Provider | None = None,
) -> Snapshot:
    """Publish ``period``'s results under ``scheme_version`` (the version in force on the
    period's first day), for ``targets`` (default: everyone the scheme assesses): computed once,
    frozen as canonical JSON with its SHA-256 in Snapshot version 1. Refused (AssessmentRefused)
    before the period is over, when a manual item of a target has no score, and when the period
    was published for the scheme already (under this version or another). Locks the scheme, so
    no manual score or amendment slips in meanwhile. By the street leader."""
    scheme = scheme_version.scheme
    assessor_check(by, scheme)
    if period.ends_on > timezone.localdate():
        raise AssessmentRefused(_("%(period)s is not over yet.") % {"period": period.label})
    with transaction.atomic():
        Scheme.objects.select_for_update().get(pk=scheme.pk)
        if period_published(period, scheme):
            raise AssessmentRefused(
                _("%(period)s was published already; a change goes through an appeal.")
                % {"period": period.label}
            )
        if scheme_version_for(scheme, period.starts_on) != scheme_version:
            raise AssessmentRefused(
                _("%(period)s is assessed under the version in force on its first day.")
                % {"period": period.label}
            )
        now = timezone.now()
        targets = scheme_targets(scheme) if targets is None else list(targets)
        results = results_compute(period, scheme_version, targets, provider=provider, now=now)
        missing = [r["target"]["name"] for r in results if not r["complete"]]
        if missing:
            raise AssessmentRefused(
                _("Manual scores are missing for %(targets)s.") % {"targets": "、".join(missing)}
            )
        content = {
            "format": CONTENT_FORMAT,
            "period": {
                "kind": period.kind,
                "label": period.label,
                "starts_on": period.starts_on,
                "ends_on": period.ends_on,
            },
            "scheme": {
                "code": scheme.code,
                "name": scheme.name,
                "target_kind": scheme.target_kind,
                "assessor": {"code": scheme.assessor.code, "name": scheme.assessor.name},
                "version": scheme_version.version,
                "valid_from": scheme_version.valid_from,
            },
            "weights": _weights_parse(scheme_version.indicators, scheme_version.manual_items),
            "min_cases": settings.ASSESSMENT_MIN_CASES,
            "version": 1,
            "published_at": now,
            "published_by": by.username,
            "supersedes": None,
            "change": None,
            "results": results,
        }
        return _snapshot_save(
            period, scheme_version, content, by=by, published_at=now, supersedes=None, reason=""
        )


def _snapshot_save(
    period, scheme_version, content, *, by, published_at, supersedes, reason
) -> Snapshot:
    data = canonical_json(content)
    try:
        with transaction.atomic():
            return Snapshot.objects.create(
                period=period,
                scheme_version=scheme_version,
                version=content["version"],
                content=data,
                sha256=hashlib.sha256(data).hexdigest(),
                published_at=published_at,
                published_by=by,
                supersedes=supersedes,
                reason=reason,
            )
    except IntegrityError:
        # The unique (period, version, number) and the one-to-one ``supersedes``: someone else
        # published or decided at the same moment.
        raise AssessmentRefused(_("These results were changed meanwhile; reload them.")) from None


def snapshot_results(snapshot: Snapshot) -> dict:
    """The published content, read from the stored bytes alone (never recomputed), after checking
    them against their SHA-256 (ValueError if they differ)."""
    data = bytes(snapshot.content)
    if hashlib.sha256(data).hexdigest() != snapshot.sha256:
        raise ValueError(f"snapshot {snapshot.pk}: content does not match its SHA-256")
    return json.loads(data)


def snapshot_current(snapshot: Snapshot) -> Snapshot:
    """The latest version of ``snapshot``'s period and scheme version (each version supersedes
    the one before, so the highest number is the current one)."""
    return (
        Snapshot.objects.filter(
            period=snapshot.period_id, scheme_version=snapshot.scheme_version_id
        )
        .order_by("-version")
        .first()
    )


# --- appeals -------------------------------------------------------------------------------------


def _point(content: dict, target_kind: str, target_id: int, item: str) -> tuple[dict, dict, str]:
    """The result of the target and its point ``item`` (an indicator or a manual item) in the
    stored content, and which kind of point it is."""
    for result in content["results"]:
        if result["target"]["kind"] == target_kind and result["target"]["id"] == target_id:
            if item in result["manual"]:
                return result, result["manual"][item], "manual"
            if item in result["indicators"]:
                return result, result["indicators"][item], "indicator"
            break
    raise AssessmentRefused(_("There is no such point in these results."))


def appeal_file(*, snapshot: Snapshot, target, item: str, reason: str, by) -> Appeal:
    """A department's appeal (申诉) against the point ``item`` of its result in ``snapshot``: by
    a department liaison with a right on that department, on the current version, within
    settings.ASSESSMENT_APPEAL_DAYS of the period's first publication, with a reason; one
    pending appeal per point. An indicator scored nothing for too few cases cannot be appealed
    (its weight went to the others). Raises PermissionDenied, AssessmentRefused."""
    content = snapshot_results(snapshot)
    kind = content["scheme"]["target_kind"]
    scope = scope_of(by)
    if (
        kind not in DEPARTMENT_KINDS
        or not isinstance(target, Department)
        or Role.DEPARTMENT_LIAISON.value not in role_names(by)
        or not (scope.everything or target.pk in scope.departments)
    ):
        raise PermissionDenied(_("Only the liaison of the department assessed appeals."))
    reason = (reason or "").strip()
    if not reason:
        raise AssessmentRefused(_("An appeal gives its reason."))
    now = timezone.now()
    with transaction.atomic():
        current = Snapshot.objects.select_for_update().get(pk=snapshot_current(snapshot).pk)
        if current.pk != snapshot.pk:
            raise AssessmentRefused(
                _("These results were superseded by version %(version)d: appeal on it.")
                % {"version": current.version}
            )
        first = Snapshot.objects.get(
            period=snapshot.period_id, scheme_version=snapshot.scheme_version_id, version=1
        )
        if now > first.published_at + timedelta(days=settings.ASSESSMENT_APPEAL_DAYS):
            raise AssessmentRefused(
                _("Appeals were open for %(days)d days after publication.")
                % {"days": settings.ASSESSMENT_APPEAL_DAYS}
            )
        _result, point, point_kind = _point(content, kind, target.pk, item)
        if point_kind == "indicator" and point["points"] is None:
            raise AssessmentRefused(_("This indicator had too few cases: it scored nothing."))
        pending = Appeal.objects.filter(
            snapshot__period=snapshot.period_id,
            snapshot__scheme_version=snapshot.scheme_version_id,
            target_kind=kind,
            target_id=target.pk,
            item=item,
            decision=AppealDecision.PENDING,
        )
        if pending.exists():
            raise AssessmentRefused(_("This point is under appeal already."))
        return Appeal.objects.create(
            snapshot=snapshot,
            target_kind=kind,
            target_id=target.pk,
            item=item,
            reason=reason,
            filed_by=by,
            filed_at=now,
        )


def appeal_decide(*, appeal: Appeal, decision: str, reason: str, new_score=None, by) -> Appeal:
    """The street leader's decision on a pending appeal, with a reason. Rejected: recorded, the
    results unchanged. Upheld: ``new_score`` (within the point's weight, or effective weight for
    an indicator) replaces the point in a new Snapshot version made from the current version's
    stored content, superseding it, totals and ranks recomputed, the reason on the version and
    the appeal pointing to it. Deciding twice is refused; the appeal is claimed by a conditional
    UPDATE (the losing side of a race is refused). Raises PermissionDenied, AssessmentRefused."""
    assessor_check(by, appeal.snapshot.scheme_version.scheme)
    reason = (reason or "").strip()
    if not reason:
        raise AssessmentRefused(_("A decision gives its reason."))
    if decision not in (AppealDecision.UPHELD, AppealDecision.REJECTED):
        raise AssessmentRefused(_("An appeal is upheld or rejected."))
    if decision == AppealDecision.REJECTED and new_score is not None:
        raise AssessmentRefused(_("A rejected appeal changes no score."))
    now = timezone.now()
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().select_related("snapshot").get(pk=appeal.pk)
        if appeal.decision != AppealDecision.PENDING:
            raise AssessmentRefused(_("This appeal was decided already."))
        fields = {
            "decision": decision,
            "decided_by": by,
            "decided_at": now,
            "decision_reason": reason,
        }
        if decision == AppealDecision.UPHELD:
            if new_score is None:
                raise AssessmentRefused(_("An upheld appeal gives the new score."))
            fields["new_score"] = score = _decimal(new_score, _("The score"))
            fields["result"] = _snapshot_amend(appeal, score, reason=reason, by=by, now=now)
        claimed = Appeal.objects.filter(pk=appeal.pk, decision=AppealDecision.PENDING).update(
            **fields
        )
        if claimed != 1:
            raise AssessmentRefused(_("This appeal was decided already."))
    appeal.refresh_from_db()
    return appeal


def _snapshot_amend(appeal: Appeal, score: Decimal, *, reason: str, by, now) -> Snapshot:
    """The next version of the appealed results with the point changed: from the current
    version's stored content, never from a recomputation."""
    current = Snapshot.objects.select_for_update().get(pk=snapshot_current(appeal.snapshot).pk)
    content = snapshot_results(current)
    result, point, point_kind = _point(content, appeal.target_kind, appeal.target_id, appeal.item)
    before = point["score"] if point_kind == "manual" else point["points"]
    limit = Decimal(point["weight"] if point_kind == "manual" else point["weight_effective"])
    if before is None:
        raise AssessmentRefused(_("This indicator had too few cases: it scored nothing."))
    if not 0 <= score <= limit or score != score.quantize(CENT):
        raise AssessmentRefused(
            _("This point is scored from 0 to %(weight)s, to the cent.") % {"weight": _text(limit)}
        )
    if score == Decimal(before):
        raise AssessmentRefused(_("That is the score already: reject the appeal instead."))
    point["score" if point_kind == "manual" else "points"] = _text(score)
    point["appeal"] = {"id": appeal.pk, "before": before}
    _totals(result)
    content["results"] = _plain(_rank(content["results"]))
    content["version"] = current.version + 1
    content["published_at"] = now
    content["published_by"] = by.username
    content["supersedes"] = current.sha256
    content["change"] = {
        "appeal": appeal.pk,
        "target": result["target"],
        "item": appeal.item,
        "before": before,
        "after": _text(score),
        "appeal_reason": appeal.reason,
        "filed_by": appeal.filed_by.username,
        "decision_reason": reason,
        "decided_by": by.username,
    }
    return _snapshot_save(
        current.period,
        current.scheme_version,
        content,
        by=by,
        published_at=now,
        supersedes=current,
        reason=reason,
    )


# --- export --------------------------------------------------------------------------------------


def period_results_xlsx(snapshot: Snapshot) -> bytes:
    """The published results as an Excel workbook, from the stored content alone: the results
    (one row per target, in rank order), their points (one row per target and indicator or
    manual item) and the snapshot's identity (period, scheme, version, SHA-256). Every text cell
    formula-safe (grids.exchange.spreadsheet_safe, as the desk's export)."""
    content = snapshot_results(snapshot)
    workbook = Workbook(write_only=True)
    results = workbook.create_sheet(_("Results"))
    _row(results, [_("Rank"), _("Assessed"), _("Total"), _("Indicator points"), _("Manual points")])
    points = workbook.create_sheet(_("Points"))
    _row(
        points,
        [
            _("Assessed"),
            _("Point"),
            _("Code"),
            _("Value"),
            _("Unit"),
            _("Numerator"),
            _("Denominator"),
            _("Cases counted"),
            _("Too few cases"),
            _("Weight"),
            _("Weight after too few cases"),
            _("Points"),
            _("Reason"),
        ],
    )
    for result in content["results"]:
        name = result["target"]["name"]
        _row(
            results,
            [
                result["rank"],
                name,
                _cell(result["total"]),
                _cell(result["data_points"]),
                _cell(result["manual_points"]),
            ],
        )
        for code, figure in sorted(result["indicators"].items()):
            _row(
                points,
                [
                    name,
                    figure["name_zh"],
                    code,
                    _cell(figure["value"]),
                    figure["unit"],
                    figure["numerator"],
                    figure["denominator"],
                    figure["ids_count"],
                    _("yes") if figure["too_few"] else "",
                    _cell(figure["weight"]),
                    _cell(figure["weight_effective"]),
                    _cell(figure["points"]),
                    "",
                ],
            )
        for code, manual in sorted(result["manual"].items()):
            weight, score = _cell(manual["weight"]), _cell(manual["score"])
            blank = [None, "", None, None, None, ""]  # value, unit, parts, cases, too few
            _row(
                points, [name, manual["name"], code, *blank, weight, None, score, manual["reason"]]
            )
    about = workbook.create_sheet(_("Published"))
    for label, value in (
        (_("Period"), content["period"]["label"]),
        (_("Scheme"), f"{content['scheme']['name']} v{content['scheme']['version']}"),
        (_("Version of the results"), content["version"]),
        (_("Published"), content["published_at"]),
        (_("Reason of this version"), snapshot.reason),
        (_("SHA-256"), snapshot.sha256),
    ):
        _row(about, [label, value])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _row(sheet, values: list) -> None:
    sheet.append([spreadsheet_safe(value) for value in values])


def _cell(text):
    """A stored Decimal text as a number for the spreadsheet (None stays empty)."""
    return None if text is None else Decimal(text)
