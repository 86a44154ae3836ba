"""Reads of the powers app. ``street_holds_power`` is the question every other app asks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db.models import Max, QuerySet
from django.shortcuts import get_object_or_404

from grids.models import Region
from powers.choices import PowerStatus, UsageKind
from powers.constants import ZOMBIE_MONTHS
from powers.models import CatalogueEntry, CatalogueVersion, PowerItem, PowerUsage
from powers.permissions import usage_streets


def catalogue_in_force(*, street: Region, on: date) -> CatalogueVersion | None:
    """The version of the street's list in force on ``on``: the latest effective by then (of two
    effective the same day, the higher number)."""
    return (
        CatalogueVersion.objects.filter(street=street, effective_on__lte=on)
        .order_by("-effective_on", "-number")
        .first()
    )


def catalogue_latest(*, street: Region) -> CatalogueVersion | None:
    """The newest version, in force or not yet: what an adjustment changes."""
    return CatalogueVersion.objects.filter(street=street).order_by("-number").first()


def street_holds_power(street: Region, item: PowerItem, *, on: date) -> bool:
    """Whether ``street`` may exercise ``item`` on ``on``: the item is in the street's version in
    force that day and was not repealed by then. Two queries at most."""
    if item.status == PowerStatus.REPEALED and item.repealed_on and item.repealed_on <= on:
        return False
    version = catalogue_in_force(street=street, on=on)
    return (
        version is not None and CatalogueEntry.objects.filter(version=version, item=item).exists()
    )


def street_powers_held(
    street: Region, items, *, on: date, version: CatalogueVersion | None
) -> set[int]:
    """The ids of ``items`` that ``street`` may exercise on ``on`` under ``version``, its list in
    force that day (catalogue_in_force): street_holds_power for several items in one query."""
    if version is None:
        return set()
    live = [
        item.pk
        for item in items
        if not (item.status == PowerStatus.REPEALED and item.repealed_on and item.repealed_on <= on)
    ]
    return set(
        CatalogueEntry.objects.filter(version=version, item_id__in=live).values_list(
            "item_id", flat=True
        )
    )


def street_powers(*, street: Region, on: date) -> QuerySet[PowerItem]:
    """Every item the street holds on ``on``."""
    version = catalogue_in_force(street=street, on=on)
    if version is None:
        return PowerItem.objects.none()
    return version.items.exclude(status=PowerStatus.REPEALED, repealed_on__lte=on).select_related(
        "category", "department"
    )


@dataclass
class CatalogueDiff:
    added: list[PowerItem]
    removed: list[PowerItem]

    def __len__(self) -> int:
        return len(self.added) + len(self.removed)


def catalogue_diff(old: CatalogueVersion, new: CatalogueVersion) -> CatalogueDiff:
    old_ids = set(old.entries.values_list("item_id", flat=True))
    new_ids = set(new.entries.values_list("item_id", flat=True))
    items = PowerItem.objects.in_bulk(old_ids ^ new_ids)
    return CatalogueDiff(
        added=sorted((items[i] for i in new_ids - old_ids), key=lambda item: item.code),
        removed=sorted((items[i] for i in old_ids - new_ids), key=lambda item: item.code),
    )


def item_list(*, user) -> QuerySet[PowerItem]:
    return PowerItem.objects.select_related("category", "department")


# --- usage assessment ----------------------------------------------------------------------


def usage_street_get(*, user, code: str) -> Region:
    """The street coded ``code`` if ``user`` may read its power usage (powers.permissions);
    Http404 otherwise, whether the street does not exist or is not the user's: the page, the
    export and the API answer both alike."""
    return get_object_or_404(usage_streets(user), code=code)


@dataclass
class ItemUsage:
    item: PowerItem
    uses: int
    last_used: date | None


@dataclass
class UnmetDemand:
    item: PowerItem
    whistled: int
    refused: int

    @property
    def total(self) -> int:
        return self.whistled + self.refused


@dataclass
class Candidate:
    item: PowerItem
    score: int
    unmet: int


@dataclass
class UsageReport:
    """The evidence for the next adjustment of a street's list (seed 000: items never used,
    powers the street needed and lacked)."""

    street: Region
    start: date
    end: date
    zombie_months: int
    version: CatalogueVersion | None
    uses: list[ItemUsage] = field(default_factory=list)
    zombies: list[ItemUsage] = field(default_factory=list)
    unmet: list[UnmetDemand] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def held(self) -> int:
        return len(self.uses)

    @property
    def used(self) -> int:
        return sum(1 for usage in self.uses if usage.uses)


def power_usage_report(
    *, street: Region, start: date, end: date, zombie_months: int = ZOMBIE_MONTHS
) -> UsageReport:
    """Uses per held item in [start, end]; zombie items (held for the whole window of
    ``zombie_months`` before ``end`` and unused in it); unmet demand in [start, end] grouped by
    item; and the 三高两易 ranking of active items the street does not hold (score, then unmet
    demand). Reads PowerUsage, which cases write through power_usage_record."""
    version = catalogue_in_force(street=street, on=end)
    report = UsageReport(
        street=street, start=start, end=end, zombie_months=zombie_months, version=version
    )
    held = list(street_powers(street=street, on=end))
    facts = PowerUsage.objects.filter(street=street, occurred_on__gte=start, occurred_on__lte=end)
    used = Counter(facts.filter(kind=UsageKind.USED).values_list("item_id", flat=True))
    last_used = dict(
        PowerUsage.objects.filter(street=street, kind=UsageKind.USED, occurred_on__lte=end)
        .values("item_id")
        .annotate(last=Max("occurred_on"))
        .values_list("item_id", "last")
    )
    report.uses = sorted(
        (
            ItemUsage(item=item, uses=used[item.pk], last_used=last_used.get(item.pk))
            for item in held
        ),
        key=lambda usage: (-usage.uses, usage.item.code),
    )
    window_start = end - relativedelta(months=zombie_months)
    held_since = catalogue_in_force(street=street, on=window_start)
    held_then = set(held_since.entries.values_list("item_id", flat=True)) if held_since else set()
    report.zombies = [
        usage
        for usage in sorted(report.uses, key=lambda usage: usage.item.code)
        if usage.item.pk in held_then
        and (usage.last_used is None or usage.last_used <= window_start)
    ]
    held_ids = {item.pk for item in held}
    missing = Counter(
        facts.filter(kind__in=[UsageKind.WHISTLED, UsageKind.REFUSED])
        .exclude(item_id__in=held_ids)
        .values_list("item_id", "kind")
    )
    # The page, the export and the API show each item's category and department.
    unmet_items = PowerItem.objects.select_related("category", "department").in_bulk(
        {item_id for item_id, _kind in missing}
    )
    report.unmet = sorted(
        (
            UnmetDemand(
                item=unmet_items[item_id],
                whistled=missing[(item_id, UsageKind.WHISTLED)],
                refused=missing[(item_id, UsageKind.REFUSED)],
            )
            for item_id in unmet_items
        ),
        key=lambda demand: (-demand.total, demand.item.code),
    )
    unmet_by_item = {demand.item.pk: demand.total for demand in report.unmet}
    candidates = (
        PowerItem.objects.filter(status=PowerStatus.ACTIVE)
        .exclude(pk__in=held_ids)
        .select_related("category", "department")
    )
    report.candidates = sorted(
        (
            Candidate(item=item, score=item.score_total, unmet=unmet_by_item.get(item.pk, 0))
            for item in candidates
        ),
        key=lambda candidate: (-candidate.score, -candidate.unmet, candidate.item.code),
    )
    return report
