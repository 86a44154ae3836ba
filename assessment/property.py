"""The 433 evaluation of property companies (seed 000, Honghua: "街道占40%、社区占30%、居民占30%的
433物业评价机制"): per round and residential compound, the street's score, the community's and the
residents', their weighted total, each company's history, and the companies called in for a talk
(约谈) when they fall below the round's threshold (the seed's 阳光里 case).

The rules decided here:

- A round covers every active residential compound in the cells of its street (Subject.cell →
  GridCell.community → Region.parent). Each compound served by a property company on the round's
  first day (PropertyService) gets one PropertyScore with that company; a compound without one is
  listed apart (``property_round_unscored``), never scored. A compound outside the net (no cell)
  is in no street's round.
- Who enters what: the street's 40 % by the street leader or the command centre of the round's
  street; the community's 30 % by the community's own people, i.e. someone serving today as grid
  head (网格长) or grid worker (网格员) in a cell of the compound's community (grids has no
  community role), or by the command centre of the street transcribing the community's written
  score (the record says so). The street leader does not enter the community's part: the 433
  weighs three separate voices. Superusers may do everything.
- The residents' 30 %: the mean of the compound's ResidentAnswer rows (whole numbers 0-100) with
  their count, from one source per compound and round: the residents' form
  (``resident_answer``) or an imported survey (``residents_survey_import``, which replaces that
  compound's earlier survey answers, so importing the same file twice changes nothing). A
  compound with form answers refuses a survey, and the reverse.
- The total is 0.4 street + 0.3 community + 0.3 residents, rounded half up to 0.01, and only when
  all three parts are there; otherwise None (incomplete). It is written on the row whenever a
  part changes and again when the round closes; a closed round refuses every entry.
- Talk list (约谈): a company is called in when **any** of its compounds' totals is below the
  round's threshold, not only its mean: a mean over several compounds hides the one whose
  residents suffer (阳光里 was one compound of its company). Incomplete compounds count for
  neither side; the list of an open round is provisional.
- Audit: PropertyScore has no entered-by / entered-at fields, so each entry of a street or
  community score and each survey import appends one line (when, what, old → new, who) to the
  row's ``note``, in the same transaction; nothing here ever rewrites earlier lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import shapely
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import shape

from assessment.choices import ResidentsSource
from assessment.models import PropertyRound, PropertyScore, PropertyService, ResidentAnswer
from core.choices import Role
from core.selectors import role_names
from enforcement.permissions import scope_of
from grids.choices import GridRole, RegionLevel, SubjectKind
from grids.credit_code import credit_code_make
from grids.models import GridAssignment, GridCell, Region, Subject
from grids.services import SubjectInput, subject_save

# Seed 000 (Honghua street): "创立了街道占40%、社区占30%、居民占30%的433物业评价机制".
PROPERTY_WEIGHTS = {
    "street": Decimal("0.40"),
    "community": Decimal("0.30"),
    "residents": Decimal("0.30"),
}
SCORE_MIN, SCORE_MAX = Decimal(0), Decimal(100)
CENT = Decimal("0.01")
STREET_ROLES = (Role.STREET_LEADER, Role.COMMAND_CENTRE)
# Serving in a cell of a community makes one of the community's people (一长五员: head, worker).
COMMUNITY_GRID_ROLES = (GridRole.LEADER, GridRole.GRID_WORKER)


class PropertyRoundClosed(ValidationError):
    """The round is closed: its figures are frozen."""


@dataclass
class PropertyRoundOpened:
    round: PropertyRound
    scores: list[PropertyScore]
    unserved: list[Subject]  # compounds of the street without a company on the round's start


@dataclass
class CompanyRound:
    """One round of a company's history: its compounds' rows and the mean of the complete
    totals (None when none is complete)."""

    round: PropertyRound
    scores: list[PropertyScore]
    mean: Decimal | None
    incomplete: int


@dataclass
class PropertyTalk:
    """A company called in for a talk (约谈): its compounds below the threshold, lowest first."""

    company: Subject
    below: list[PropertyScore]
    scores: list[PropertyScore] = field(default_factory=list)
    mean: Decimal | None = None


# ---------------------------------------------------------------- rights


def _street_staff(user, street_id: int) -> bool:
    """The street leader or command centre of the street, or a superuser."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(role_names(user) & set(STREET_ROLES)) and street_id in scope_of(user).streets


def _street_staff_check(user, street_id: int) -> None:
    if not _street_staff(user, street_id):
        raise PermissionDenied(
            _("Only the street leader or the command centre of this street may do this.")
        )


def _community_member(user, community_id: int | None) -> bool:
    """Serving today as grid head or grid worker in a cell of the community."""
    if community_id is None:
        return False
    today = timezone.localdate()
    return (
        GridAssignment.objects.filter(
            user=user,
            cell__community_id=community_id,
            role__in=COMMUNITY_GRID_ROLES,
            starts_on__lte=today,
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .exists()
    )


def _community_right(user, score: PropertyScore) -> str:
    """How ``user`` may enter the community's part of ``score``: "community" (one of its
    people), "transcribed" (the command centre, from the community's written score) or
    "superuser"; PermissionDenied otherwise."""
    if user is not None and getattr(user, "is_authenticated", False) and user.is_active:
        if user.is_superuser:
            return "superuser"
        cell = score.compound.cell
        if cell is not None and _community_member(user, cell.community_id):
            return "community"
        if Role.COMMAND_CENTRE in role_names(user) and score.round.street_id in (
            scope_of(user).streets
        ):
            return "transcribed"
    raise PermissionDenied(
        _(
            "The community's score is entered by the community's grid heads and grid workers, "
            "or by the street's command centre from the community's written score."
        )
    )


# ---------------------------------------------------------------- figures


def _score_value(value, label: str) -> Decimal:
    """``value`` as a Decimal 0-100 with at most two decimals, or ValidationError."""
    if isinstance(value, bool):
        value = None  # True is not a score
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(
            _("%(part)s: %(value)r is not a score.") % {"part": label, "value": value}
        )
    if not SCORE_MIN <= number <= SCORE_MAX:
        raise ValidationError(
            _("%(part)s: a score is from 0 to 100, not %(value)s.")
            % {"part": label, "value": number}
        )
    if number != number.quantize(CENT):
        raise ValidationError(
            _("%(part)s: at most two decimals (%(value)s).") % {"part": label, "value": number}
        )
    return number.quantize(CENT)


def property_total(score: PropertyScore) -> Decimal | None:
    """0.4 street + 0.3 community + 0.3 residents, half up to 0.01; None unless all three parts
    are there (shown as incomplete). Pure: reads the row, writes nothing."""
    parts = {
        "street": score.street_score,
        "community": score.community_score,
        "residents": score.residents_score,
    }
    if any(value is None for value in parts.values()):
        return None
    total = sum(Decimal(parts[name]) * weight for name, weight in PROPERTY_WEIGHTS.items())
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def _mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values) / len(values)).quantize(CENT, rounding=ROUND_HALF_UP)


def _audit(score: PropertyScore, line: str) -> None:
    """Append one line to the row's record (the model has no audit fields: see the module)."""
    stamp = timezone.localtime().isoformat(timespec="seconds")
    score.note = f"{score.note}\n{stamp} {line}" if score.note else f"{stamp} {line}"


def _who(user) -> str:
    return f"{user.get_username()} (#{user.pk})"


# ---------------------------------------------------------------- rounds


def _street_compounds(street: Region) -> QuerySet[Subject]:
    return Subject.objects.filter(
        kind=SubjectKind.RESIDENTIAL_COMPOUND, is_active=True, cell__community__parent=street
    ).order_by("name", "pk")


def _company_on(compound_ids: list[int], day: date) -> dict[int, int]:
    """compound id → the company serving it on ``day`` (the latest service begun, if several)."""
    services = (
        PropertyService.objects.filter(compound_id__in=compound_ids, starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .order_by("compound_id", "starts_on", "pk")
    )
    return {s.compound_id: s.company_id for s in services}  # later rows win


def property_round_open(
    *, street: Region, title: str, starts_on: date, ends_on: date, threshold, by
) -> PropertyRoundOpened:
    """Open a 433 round of ``street`` with one score row per compound served by a company on
    ``starts_on``. The street leader or command centre of the street (PermissionDenied);
    ValidationError on bad input. Not idempotent: each call is a new round."""
    _street_staff_check(by, street.pk)
    errors = {}
    if street.level != RegionLevel.STREET:
        errors["street"] = _("A 433 round belongs to a street.")
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Required.")
    elif len(title) > 100:
        errors["title"] = _("At most %(n)d characters.") % {"n": 100}
    if ends_on < starts_on:
        errors["ends_on"] = _("A round cannot end before it starts.")
    try:
        threshold = _score_value(threshold, _("Threshold"))
    except ValidationError as exc:
        errors["threshold"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    compounds = list(_street_compounds(street).select_related("cell"))
    companies = _company_on([c.pk for c in compounds], starts_on)
    with transaction.atomic():
        round_ = PropertyRound.objects.create(
            street=street,
            title=title,
            starts_on=starts_on,
            ends_on=ends_on,
            threshold=threshold,
            created_by=by,
        )
        scores = PropertyScore.objects.bulk_create(
            [
                PropertyScore(round=round_, compound=c, company_id=companies[c.pk])
                for c in compounds
                if c.pk in companies
            ]
        )
    unserved = [c for c in compounds if c.pk not in companies]
    return PropertyRoundOpened(round=round_, scores=scores, unserved=unserved)


def property_round_unscored(round: PropertyRound) -> QuerySet[Subject]:
    """The street's compounds that have no score in ``round`` (no company on its first day, or
    added to the directory since)."""
    scored = PropertyScore.objects.filter(round=round).values("compound")
    return _street_compounds(round.street).exclude(pk__in=scored)


def _round_open_check(round_id: int) -> None:
    """Refuse (PropertyRoundClosed) before any work when the round is closed already; the locked
    read in ``_round_locked`` is the one that counts."""
    closed = PropertyRound.objects.filter(pk=round_id, closed_at__isnull=False).first()
    if closed is not None:
        raise PropertyRoundClosed(_("The round %(title)s is closed.") % {"title": closed.title})


def _round_locked(round_id: int) -> PropertyRound:
    """The round, locked (PostgreSQL) so that an entry and the closing do not cross; refused
    (PropertyRoundClosed) when closed. Call inside a transaction."""
    round_ = PropertyRound.objects.select_for_update().get(pk=round_id)
    if round_.closed_at is not None:
        raise PropertyRoundClosed(_("The round %(title)s is closed.") % {"title": round_.title})
    return round_


def property_round_close(round: PropertyRound, *, by) -> PropertyRound:
    """Freeze the round: totals written once more, then ``closed_at`` set by a conditional
    UPDATE; no entry is taken after. The street leader of the round's street (or a superuser):
    closing decides the talks, as publishing a period does. Idempotent: a closed round is
    returned as it is."""
    leader = by.is_superuser or Role.STREET_LEADER in role_names(by)
    if not (leader and _street_staff(by, round.street_id)):
        raise PermissionDenied(_("Only the street leader of this street closes its 433 round."))
    with transaction.atomic():
        locked = PropertyRound.objects.select_for_update().get(pk=round.pk)
        if locked.closed_at is not None:
            return locked
        for score in PropertyScore.objects.select_for_update().filter(round=locked):
            total = property_total(score)
            if total != score.total:
                score.total = total
                score.save(update_fields=["total"])
        changed = PropertyRound.objects.filter(pk=locked.pk, closed_at__isnull=True).update(
            closed_at=timezone.now()
        )
        locked.refresh_from_db()
        if changed:
            for score in PropertyScore.objects.filter(round=locked):
                _audit(score, f"round closed by {_who(by)}; total {score.total}")
                score.save(update_fields=["note"])
    return locked


# ---------------------------------------------------------------- entries


def property_score_enter(
    score: PropertyScore, *, street_score=None, community_score=None, by
) -> PropertyScore:
    """Enter the street's and/or the community's score (0-100, two decimals) of one compound.
    Rights as in the module's docstring (PermissionDenied, checked for every part given before
    anything is written); ValidationError on a bad value; PropertyRoundClosed when closed. Locks
    the round and the row; writes the total and one audit line per changed part. Entering the
    same value again changes nothing."""
    parts = {}
    if street_score is not None:
        _street_staff_check(by, score.round.street_id)
        parts["street"] = (_score_value(street_score, _("Street")), "")
    if community_score is not None:
        how = _community_right(by, score)
        suffix = " (transcribed from the community's written score)" if how == "transcribed" else ""
        parts["community"] = (_score_value(community_score, _("Community")), suffix)
    if not parts:
        return score
    with transaction.atomic():
        _round_locked(score.round_id)
        locked = PropertyScore.objects.select_for_update().get(pk=score.pk)
        changed = []
        for part, (value, suffix) in parts.items():
            name = f"{part}_score"
            old = getattr(locked, name)
            if old is not None and Decimal(old) == value:
                continue
            setattr(locked, name, value)
            _audit(locked, f"{part} {old} → {value} by {_who(by)}{suffix}")
            changed.append(name)
        if not changed:
            return locked
        locked.total = property_total(locked)
        locked.save(update_fields=[*changed, "total", "note"])
    return locked


def residents_score_update(score: PropertyScore) -> PropertyScore:
    """The residents' score = mean of the compound's answers in the round (half up to 0.01),
    with their count; the total follows. No answers: no residents' score. Refused
    (PropertyRoundClosed) on a closed round."""
    with transaction.atomic():
        _round_locked(score.round_id)
        locked = PropertyScore.objects.select_for_update().get(pk=score.pk)
        figures = ResidentAnswer.objects.filter(
            round_id=locked.round_id, compound_id=locked.compound_id
        ).aggregate(total=Sum("score"), count=Count("pk"))
        count = figures["count"]
        # Summed and divided as Decimals: an average in floating point could round 68.2 down.
        mean = _mean([Decimal(figures["total"]) / count]) if count else None
        locked.residents_score = mean
        locked.residents_answers = count
        if not count:
            locked.residents_source = ""
        locked.total = property_total(locked)
        locked.save(
            update_fields=["residents_score", "residents_answers", "residents_source", "total"]
        )
    return locked


def _answer_value(value) -> int | None:
    """A resident's answer as a whole number 0-100, or None."""
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number) if 0 <= number <= 100 else None


def _round_score(round: PropertyRound, compound: Subject) -> PropertyScore:
    score = PropertyScore.objects.filter(round=round, compound=compound).first()
    if score is None:
        raise ValidationError(
            _("%(compound)s is not evaluated in this round (no property company on its start).")
            % {"compound": compound.name}
        )
    return score


def resident_answer(round: PropertyRound, compound: Subject, score) -> ResidentAnswer:
    """One resident's answer from the form (a whole number 0-100). Refused (ValidationError)
    for a compound not in the round, one whose residents' score comes from a survey, a bad
    value; PropertyRoundClosed when closed. The form is anonymous: the model has no respondent,
    so nothing stops one person answering twice (see the report)."""
    _round_open_check(round.pk)
    value = _answer_value(score)
    if value is None:
        raise ValidationError(
            _("An answer is a whole number from 0 to 100, not %(value)r.") % {"value": score}
        )
    row = _round_score(round, compound)
    with transaction.atomic():
        _round_locked(round.pk)
        locked = PropertyScore.objects.select_for_update().get(pk=row.pk)
        if locked.residents_source == ResidentsSource.SURVEY:
            raise ValidationError(
                _("The residents' score of %(compound)s comes from the imported survey.")
                % {"compound": compound.name}
            )
        answer = ResidentAnswer.objects.create(round=round, compound=compound, score=value)
        if locked.residents_source != ResidentsSource.FORM:
            locked.residents_source = ResidentsSource.FORM
            locked.save(update_fields=["residents_source"])
        residents_score_update(locked)
    return answer


def _row_compound(ref, by_id: dict[int, PropertyScore], by_name: dict[str, list[PropertyScore]]):
    """(score row, error message) for a row's compound reference: an id or a name."""
    is_id = isinstance(ref, int) and not isinstance(ref, bool)
    if is_id or (isinstance(ref, str) and ref.strip().isdigit()):
        row = by_id.get(int(ref))
        if row is None:
            return None, _("compound #%(ref)s is not evaluated in this round.") % {"ref": ref}
        return row, ""
    name = ref.strip() if isinstance(ref, str) else ""
    matches = by_name.get(name, [])
    if not name:
        return None, _("no compound given.")
    if not matches:
        return None, _("no compound named %(name)s is evaluated in this round.") % {"name": name}
    if len(matches) > 1:
        return None, _("several compounds are named %(name)s: give its id.") % {"name": name}
    return matches[0], ""


def residents_survey_import(round: PropertyRound, rows, *, by) -> list[PropertyScore]:
    """Import a residents' survey: ``rows`` of (compound id or name, an answer 0-100 or a list of
    answers); a compound's rows add up. All or nothing: every bad row is refused with its number
    and reason in one ValidationError, and nothing is written. Each compound's earlier survey
    answers are replaced (importing the same file twice changes nothing); a compound with form
    answers is refused. The street leader or command centre of the street (PermissionDenied);
    PropertyRoundClosed when closed. Returns the updated score rows."""
    _street_staff_check(by, round.street_id)
    _round_open_check(round.pk)
    scores = list(PropertyScore.objects.filter(round=round).select_related("compound"))
    by_id = {s.compound_id: s for s in scores}
    by_name: dict[str, list[PropertyScore]] = {}
    for s in scores:
        by_name.setdefault(s.compound.name.strip(), []).append(s)
    answers: dict[int, list[int]] = {}
    errors = []
    for n, raw in enumerate(rows, start=1):
        try:
            ref, given = raw
        except (TypeError, ValueError):
            errors.append(_("Row %(n)d: expected (compound, score or answers).") % {"n": n})
            continue
        row, problem = _row_compound(ref, by_id, by_name)
        values = list(given) if isinstance(given, list | tuple) else [given]
        bad = [v for v in values if _answer_value(v) is None]
        if not problem and not values:
            problem = _("no answers.")
        elif not problem and bad:
            problem = _("%(value)r is not an answer (a whole number from 0 to 100).") % {
                "value": bad[0]
            }
        elif not problem and row.residents_source == ResidentsSource.FORM:
            problem = _("the residents of %(name)s answered the form already.") % {
                "name": row.compound.name
            }
        if problem:
            errors.append(_("Row %(n)d: %(problem)s") % {"n": n, "problem": problem})
            continue
        answers.setdefault(row.pk, []).extend(_answer_value(v) for v in values)
    if errors:
        raise ValidationError(errors)
    updated = []
    with transaction.atomic():
        _round_locked(round.pk)
        for score in PropertyScore.objects.select_for_update().filter(pk__in=answers):
            if score.residents_source == ResidentsSource.FORM:  # answered meanwhile
                raise ValidationError(
                    _("The residents of %(name)s answered the form already.")
                    % {"name": score.compound.name}
                )
            ResidentAnswer.objects.filter(round=round, compound_id=score.compound_id).delete()
            ResidentAnswer.objects.bulk_create(
                [
                    ResidentAnswer(round=round, compound_id=score.compound_id, score=v)
                    for v in answers[score.pk]
                ]
            )
            old = (score.residents_score, score.residents_answers)
            score.residents_source = ResidentsSource.SURVEY
            score.save(update_fields=["residents_source"])
            score = residents_score_update(score)
            if (score.residents_score, score.residents_answers) != old:
                _audit(
                    score,
                    f"residents {old[0]} → {score.residents_score} "
                    f"({score.residents_answers} answers, survey) by {_who(by)}",
                )
                score.save(update_fields=["note"])
            updated.append(score)
    return updated


# ---------------------------------------------------------------- reads


def property_company_history(company: Subject) -> list[CompanyRound]:
    """Per round the company was evaluated in, oldest first: its compounds' rows and the mean of
    their complete totals. Rounds still open are included (``round.closed_at`` is None: their
    figures may still change)."""
    rows = (
        PropertyScore.objects.filter(company=company)
        .select_related("round", "compound")
        .order_by("round__starts_on", "round_id", "compound__name", "compound_id")
    )
    history: dict[int, CompanyRound] = {}
    for row in rows:
        entry = history.setdefault(row.round_id, CompanyRound(row.round, [], None, 0))
        entry.scores.append(row)
    for entry in history.values():
        totals = [Decimal(s.total) for s in entry.scores if s.total is not None]
        entry.mean = _mean(totals)
        entry.incomplete = len(entry.scores) - len(totals)
    return list(history.values())


def property_talk_list(round: PropertyRound) -> list[PropertyTalk]:
    """The companies to call in for a talk (约谈): those with any compound whose total is below
    the round's threshold (see the module for why not the mean), lowest total first; each with
    its compounds below, all its compounds and its mean. Incomplete totals are left out."""
    rows = (
        PropertyScore.objects.filter(round=round)
        .select_related("company", "compound")
        .order_by("total", "compound__name")
    )
    by_company: dict[int, PropertyTalk] = {}
    for row in rows:
        talk = by_company.setdefault(row.company_id, PropertyTalk(row.company, []))
        talk.scores.append(row)
        if row.total is not None and Decimal(row.total) < Decimal(round.threshold):
            talk.below.append(row)
    talks = [t for t in by_company.values() if t.below]
    for talk in talks:
        talk.mean = _mean([Decimal(s.total) for s in talk.scores if s.total is not None])
    return sorted(talks, key=lambda t: (Decimal(t.below[0].total), t.company.name))


# ---------------------------------------------------------------- demo

DEMO_STREET = "320104010"  # 红花街道 (grids.demo)
# Made-up companies and compounds; 阳光里 after the seed's case. Scores give the company of
# 阳光里 a mean just over the threshold, but 阳光里 itself under it: it is called in all the same.
DEMO_COMPANIES = [
    ("红花安居物业管理有限公司", "WY000001", "320104010001002"),
    ("金陵锦程物业服务有限公司", "WY000002", "320104010002002"),
    ("秦淮恒泰物业管理有限公司", "WY000003", "320104010003002"),
]
# compound, cell, company (index), street, community, residents' answers (form or survey)
DEMO_COMPOUNDS = [
    ("石门坎小区", "320104010001003", 0, 88, 90, "survey", [92, 85, 88, 90, 80, 95]),
    ("卡子门花园", "320104010002003", 0, 82, 80, "survey", [78, 85, 80, 75, 88]),
    ("海福巷公寓", "320104010003003", 1, 75, 78, "form", [70, 72, 80, 76]),
    ("阳光里", "320104010003004", 2, 50, 55, "form", [40, 35, 55, 50, 45, 30, 60, 42]),
    ("海福新村", "320104010003005", 2, 72, 70, "survey", [68, 70, 65, 72, 66]),
]
DEMO_SERVICE_FROM = date(2024, 1, 1)


def _demo_subject(street: Region, kind: str, name: str, cell_code: str, credit: str | None):
    found = Subject.objects.filter(kind=kind, name=name, cell__community__parent=street).first()
    if found is not None:
        return found, False
    cell = GridCell.objects.get(code=cell_code)
    lng, lat = shapely.get_coordinates(shape(cell.geometry).representative_point())[0]
    subject = subject_save(
        data=SubjectInput(
            kind=kind,
            name=name,
            address=f"南京市秦淮区{name}",
            lat=round(float(lat), 7),
            lng=round(float(lng), 7),
            credit_code=credit,
        )
    )
    return subject, True


def _previous_quarter(today: date) -> tuple[date, date, str]:
    quarter = (today.month - 1) // 3  # 0-based, this quarter
    this_start = date(today.year, quarter * 3 + 1, 1)
    end = this_start - timedelta(days=1)
    start = date(end.year, (end.month - 1) // 3 * 3 + 1, 1)
    return start, end, f"{start.year}年第{(start.month - 1) // 3 + 1}季度433物业评价"


def property_demo_seed(report) -> None:
    """In 红花街道: three property companies and five compounds served by them, and one closed
    433 round of last quarter with every part entered through the services above (the form for
    some compounds, a survey for others) and 阳光里's company on the talk list. Idempotent: the
    round is made once. Needs grids', core's and enforcement's demo first (cells, users,
    grants)."""
    street = Region.objects.get(code=DEMO_STREET)
    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="hh_")}
    leader, command, grid = users["hh_leader"], users["hh_command"], users.get("hh_grid")
    companies = []
    for name, body, cell_code in DEMO_COMPANIES:
        credit = credit_code_make("9", "1", "320104", body)
        company, created = _demo_subject(
            street, SubjectKind.PROPERTY_COMPANY, name, cell_code, credit
        )
        report.count("property companies", created)
        companies.append(company)
    compounds = []
    for name, cell_code, company_index, *_rest in DEMO_COMPOUNDS:
        compound, created = _demo_subject(
            street, SubjectKind.RESIDENTIAL_COMPOUND, name, cell_code, None
        )
        report.count("residential compounds", created)
        _, created = PropertyService.objects.get_or_create(
            company=companies[company_index],
            compound=compound,
            defaults={"starts_on": DEMO_SERVICE_FROM},
        )
        report.count("property services", created)
        compounds.append(compound)
    starts_on, ends_on, title = _previous_quarter(timezone.localdate())
    if PropertyRound.objects.filter(street=street, title=title).exists():
        return
    opened = property_round_open(
        street=street,
        title=title,
        starts_on=starts_on,
        ends_on=ends_on,
        threshold=Decimal(60),
        by=leader,
    )
    report.count("433 rounds", True)
    rows = {s.compound_id: s for s in opened.scores}
    survey = []
    for compound, (*_where, street_score, community, source, answers) in zip(
        compounds, DEMO_COMPOUNDS, strict=True
    ):
        score = property_score_enter(rows[compound.pk], street_score=street_score, by=leader)
        # The grid worker scores for their own community; elsewhere the command centre
        # transcribes the community's written score.
        mine = grid is not None and _community_member(grid, compound.cell.community_id)
        property_score_enter(score, community_score=community, by=grid if mine else command)
        if source == "form":
            for value in answers:
                resident_answer(opened.round, compound, value)
        else:
            survey.append((compound.name, answers))
        report.count("433 scores", True)
    residents_survey_import(opened.round, survey, by=command)
    property_round_close(opened.round, by=leader)
