"""The standard matter types: at least 40, the seeds' three handling modes, linked to the list."""

from pathlib import Path

import pytest
from django.core.management import call_command

from enforcement.choices import HandlingMode
from enforcement.matter_types import MATTER_TYPES
from enforcement.models import MatterType
from powers.imports import catalogue_import
from tests.factories.powers import sample_departments_create

pytestmark = pytest.mark.django_db
SAMPLE = Path(__file__).resolve().parents[2] / "powers" / "data" / "sample_catalogue.csv"


def test_every_named_power_item_exists_in_the_sample_list():
    import csv

    codes = {row[1] for row in list(csv.reader(SAMPLE.open(encoding="utf-8")))[2:]}
    missing = {code for *_rest, items in MATTER_TYPES for code in items} - codes
    assert missing == set()


def test_load_creates_forty_types_links_items_and_is_idempotent(capsys):
    sample_departments_create()
    assert catalogue_import(SAMPLE, street=None).ok

    call_command("matter_types_load")
    call_command("matter_types_load")

    assert MatterType.objects.count() == len(MATTER_TYPES) >= 40
    assert set(MatterType.objects.values_list("default_handling_mode", flat=True)) == set(
        HandlingMode.values
    )
    assert list(
        MatterType.objects.get(code="ZDJY")
        .power_items.values_list("code", flat=True)
        .order_by("code")
    ) == [
        "SR-014",
        "SZ-001",
    ]
    assert "0 created, 0 power-item links" in capsys.readouterr().out.splitlines()[-1]
