"""Bulk import of past cases (enforcement.imports): numbered after the existing cases without a
gap, located in their cells, a verifiable two-event history at their historical times, no
timers; a re-import skips what exists; a bad row is reported and the others go in."""

import json
import threading
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, connections

from enforcement.choices import CaseSource, CaseStatus, EventKind, HandlingMode
from enforcement.events import history_verify
from enforcement.imports import ImportReport, RowError, RowUnreadable, cases_import
from enforcement.models import Case, CaseEvent, MatterType, Timer
from enforcement.services import case_intake, case_numbers_allocate
from grids.locate import cell_locate
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory
from tests.factories.users import UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 1, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _english():
    """The messages are compared in English (the default language is Chinese)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def world(db):
    """One cell and one matter type; the clock stands still at NOW for the whole test."""
    with time_machine.travel(NOW, tick=False):
        cell = ComprehensiveCellFactory()
        matter = MatterType.objects.create(
            code="ZDJY", name="占道经营", default_handling_mode=HandlingMode.MANAGEMENT
        )
        yield {"cell": cell, "street": cell.community.parent, "matter": matter}


def row(n: int, **changes) -> dict:
    """A closed 12345 work order of 2025 inside the world's cell."""
    return {
        "source": "hotline_12345",
        "external_id": f"GD{n:05d}",
        "matter_type": "ZDJY",
        "description": f"人行道摆摊{n}",
        "lat": LAT,
        "lng": LNG,
        "reported_at": f"2025-03-{n % 28 + 1:02d}T08:00:00+08:00",
        "closed_at": f"2025-03-{n % 28 + 1:02d}T10:30:00+08:00",
        "result": "已劝离",
    } | changes


@pytest.mark.django_db
def test_imported_cases_are_numbered_located_and_carry_a_verifiable_history(world):
    actor = UserFactory()

    report = cases_import([row(1), row(2, address="石门坎1号", severity="major")], actor=actor)

    assert (report.created, report.skipped, report.errors) == (2, 0, [])
    first, second = Case.objects.order_by("sequence")
    street = world["street"].code
    assert (first.number, second.number) == (f"{street}-2025-000001", f"{street}-2025-000002")
    assert (first.cell, first.street, first.status) == (
        world["cell"],
        world["street"],
        CaseStatus.CLOSED,
    )
    assert (first.severity, second.severity, second.address) == ("ordinary", "major", "石门坎1号")
    assert first.handling_mode == HandlingMode.MANAGEMENT
    assert first.reported_by == actor
    assert first.created_at == datetime(2025, 3, 2, 8, 0, tzinfo=SHANGHAI)
    assert first.updated_at == datetime(2025, 3, 2, 10, 30, tzinfo=SHANGHAI)
    events = list(first.events.order_by("sequence"))
    assert [(e.kind, e.from_status, e.to_status) for e in events] == [
        (EventKind.IMPORT, "", CaseStatus.CLOSED)
    ]
    (event,) = events
    assert (event.at, event.actor) == (first.updated_at, actor)
    assert event.data["external_id"] == "GD00001"
    assert event.data["cell"] == world["cell"].code
    assert event.data["result"] == "已劝离"
    assert event.data["reported_at"] == "2025-03-02T00:00:00+00:00"
    assert history_verify() is None
    assert Timer.objects.count() == 0


@pytest.mark.django_db
def test_an_edited_imported_event_breaks_the_chain(world):
    cases_import([row(1)])

    event = CaseEvent.objects.get(kind=EventKind.IMPORT)
    CaseEvent.objects.filter(pk=event.pk).update(data=event.data | {"result": "已立案"})

    broken = history_verify()
    assert (broken.sequence, broken.reason) == (1, "content does not match its hash")


@pytest.mark.django_db
def test_numbers_continue_after_existing_cases_without_a_gap_across_chunks_and_years(world):
    live = case_intake(
        source=CaseSource.PATROL,
        matter_type=world["matter"],
        description="巡查发现",
        lat=LAT,
        lng=LNG,
    ).case
    rows = [row(n) for n in range(1, 6)] + [
        row(6, reported_at="2024-12-31T23:30:00+08:00", closed_at="2025-01-01T01:00:00+08:00"),
        row(7, reported_at="2024-12-31T16:30:00Z", closed_at=None, status="rejected"),
    ]

    report = cases_import(rows, chunk_size=2)

    assert (report.created, report.errors) == (7, [])
    assert live.sequence == 1
    assert sorted(Case.objects.filter(year=2025).values_list("sequence", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
    ]
    # 16:30 UTC on New Year's Eve is already 2025 in the street's time zone.
    assert sorted(
        Case.objects.filter(year=2024).values_list("external_id", "sequence", "status")
    ) == [("GD00006", 1, CaseStatus.CLOSED)]
    late = Case.objects.get(external_id="GD00007")
    assert (late.year, late.status) == (2025, CaseStatus.REJECTED)
    assert late.events.get().data["reported_at"] == late.created_at.isoformat()  # UTC
    assert history_verify() is None


@pytest.mark.django_db
def test_a_reimport_skips_existing_cases_and_repeated_rows(world):
    cases_import([row(1), row(2)])
    numbers = set(Case.objects.values_list("number", flat=True))

    report = cases_import([row(1), row(2), row(3), row(3, description="又一次")])

    assert (report.created, report.skipped, report.errors) == (1, 3, [])
    assert Case.objects.count() == 3
    assert numbers < set(Case.objects.values_list("number", flat=True))
    assert Case.objects.get(external_id="GD00003").description == "人行道摆摊3"
    assert CaseEvent.objects.count() == 3  # one IMPORT event per case


@pytest.mark.django_db
def test_bad_rows_are_reported_by_number_and_the_others_imported(world):
    rows = [
        row(1),
        row(2, matter_type="NOPE"),
        row(3, external_id=" "),
        row(4, closed_at="2025-03-01T07:00:00+08:00"),
        row(5, lat=LAT + 1),
        row(6, reported_at="yesterday"),
        row(7, status="accepted", closed_at=None),
        row(8, lng="east"),
        row(9, reported_at="2025-07-01T08:00:00+08:00", closed_at=None),
        RowUnreadable("not JSON: Expecting value"),
        row(11, closed_at=None),
        row(12),
    ]

    report = cases_import(rows)

    assert [(e.row, e.message) for e in report.errors] == [
        (2, "unknown matter type 'NOPE'"),
        (3, "external_id is required for an import"),
        (4, "closed_at is before reported_at"),
        (6, "reported_at is not an ISO 8601 time: 'yesterday'"),
        (7, "status 'accepted': an import holds only closed, rejected or transferred cases"),
        (8, "lng is not a number"),
        (9, "reported_at lies in the future"),
        (10, "not JSON: Expecting value"),
        (11, "give closed_at or status: an import holds only ended cases"),
        (5, "the point lies outside every grid cell: name the street"),
    ]
    assert str(report.errors[0]) == "row 2: unknown matter type 'NOPE'"
    assert report.created == 2
    assert sorted(Case.objects.values_list("external_id", "sequence")) == [
        ("GD00001", 1),
        ("GD00012", 2),
    ]
    # Never a case without its history.
    assert CaseEvent.objects.count() == 2  # one per imported case


@pytest.mark.django_db
def test_a_point_outside_every_cell_goes_in_with_the_street_it_names(world):
    report = cases_import(
        [row(1, lat=LAT + 1, street=world["street"].code), row(2, lat=LAT + 1, street="999")]
    )

    assert report.errors == [RowError(2, "unknown street '999'")]
    case = Case.objects.get()
    assert (case.cell, case.street) == (None, world["street"])
    assert case.events.get(sequence=1).data["cell"] is None


@pytest.mark.django_db
def test_a_point_on_a_shared_boundary_goes_to_the_cell_with_the_smallest_code(world):
    west = world["cell"]
    east = ComprehensiveCellFactory(lng=LNG + 0.01, community=west.community, parent=west.parent)

    cases_import([row(1, lng=LNG + 0.005)])  # on the edge between the two squares

    assert Case.objects.get().cell == min(west, east, key=lambda cell: cell.code)
    assert cell_locate(LAT, LNG + 0.005).cell.id == Case.objects.get().cell_id


def test_numbers_allocated_in_bulk_follow_the_single_ones(world):
    street = world["street"]
    case_numbers_allocate(street=street, year=2025, count=2)

    numbers = case_numbers_allocate(street=street, year=2025, count=3)

    assert numbers == [(n, f"{street.code}-2025-{n:06d}") for n in (3, 4, 5)]
    assert case_numbers_allocate(street=street, year=2025, count=0) == []


@pytest.mark.django_db
def test_the_command_imports_json_lines_and_csv_and_exits_1_on_refused_rows(world, tmp_path):
    lines = tmp_path / "cases.jsonl"
    lines.write_text(json.dumps(row(1)) + "\n\n{broken\n" + json.dumps(row(2)) + "\n")
    table = tmp_path / "cases.csv"
    table.write_text(
        "\ufeffsource,external_id,matter_type,description,lat,lng,reported_at,status,address\n"
        f"hotline_12345,GD00003,ZDJY,占道,{LAT},{LNG},2025-03-05 08:00,transferred,\n"
        f"hotline_12345,GD00001,ZDJY,重复,{LAT},{LNG},2025-03-05 08:00,closed,\n",
        encoding="utf-8",
    )
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match=r"^1 row\(s\) refused; the others were imported\.$"):
        call_command("cases_import", str(lines), "--chunk-size", "1", stdout=out, stderr=err)
    call_command("cases_import", str(table), stdout=out, stderr=err)

    assert err.getvalue().startswith("row 2: not JSON: Expecting property name")
    assert out.getvalue().startswith("2 case(s) created, 0 skipped (already imported), 1 refused")
    assert "1 case(s) created, 1 skipped (already imported), 0 refused" in out.getvalue()
    transferred = Case.objects.get(external_id="GD00003")
    assert (transferred.status, transferred.address) == (CaseStatus.TRANSFERRED, "")
    assert transferred.created_at == datetime(2025, 3, 5, 8, 0, tzinfo=SHANGHAI)
    assert history_verify() is None


@pytest.mark.django_db
def test_an_error_reading_the_rows_stops_the_import_after_the_chunks_before_it(world):
    def rows():
        yield row(1)
        yield row(2)
        yield row(3)
        raise OSError("disk gone")

    with pytest.raises(OSError, match=r"^disk gone$"):
        cases_import(rows(), chunk_size=2)

    assert sorted(Case.objects.values_list("external_id", flat=True)) == ["GD00001", "GD00002"]
    assert history_verify() is None


def test_the_report_rate_is_cases_per_second():
    assert ImportReport(created=500, seconds=0.25).rate == 2000
    assert ImportReport().rate == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_imports_and_intakes_share_the_numbers_without_gap_or_repeat():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL: this runs in CI's PostgreSQL run")
    cell = ComprehensiveCellFactory()
    matter = MatterType.objects.create(
        code="ZDJY", name="占道经营", default_handling_mode=HandlingMode.MANAGEMENT
    )
    this_year = datetime.now(SHANGHAI).year
    when = f"{this_year}-01-01T08:00:00+08:00"
    barrier = threading.Barrier(4)
    results: list = [None] * 4

    def work(index: int):
        try:
            barrier.wait(timeout=10)
            if index < 2:  # two imports of 30 rows, in chunks of 7
                return cases_import(
                    [row(index * 100 + n, reported_at=when, closed_at=when) for n in range(30)],
                    chunk_size=7,
                ).created
            return [  # two intakes of five cases each
                case_intake(
                    source=CaseSource.PATROL,
                    matter_type=matter,
                    description="巡查发现",
                    lat=LAT,
                    lng=LNG,
                ).case.sequence
                for _ in range(5)
            ]
        finally:
            connections.close_all()

    def target(index: int) -> None:
        try:
            results[index] = work(index)
        except Exception as exc:  # the outcome is what the test reads
            results[index] = exc

    threads = [threading.Thread(target=target, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert results[:2] == [30, 30]
    assert len(results[2]) == len(results[3]) == 5
    sequences = sorted(
        Case.objects.filter(street=cell.community.parent, year=this_year).values_list(
            "sequence", flat=True
        )
    )
    assert sequences == list(range(1, 71))
    assert history_verify() is None
