"""Evidence: the type comes from the content, the size is limited, the hash is in the history."""

import hashlib
import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from enforcement.choices import CaseSource, EventKind, EvidenceKind, HandlingMode
from enforcement.evidence import evidence_attach
from enforcement.models import Evidence, MatterType
from enforcement.services import case_intake
from enforcement.workflow import InvalidInput
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"0" * 100
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100


@pytest.fixture
def case(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ComprehensiveCellFactory()
    matter = MatterType.objects.create(
        code="ZDJY", name="占道经营", default_handling_mode=HandlingMode.MANAGEMENT
    )
    return case_intake(
        source=CaseSource.PATROL, matter_type=matter, description="x", lat=LAT, lng=LNG
    ).case


@pytest.mark.parametrize(
    ("content", "kind", "content_type"),
    [
        (JPEG, EvidenceKind.PHOTO, "image/jpeg"),
        (PDF, EvidenceKind.DOCUMENT, "application/pdf"),
        (MP4, EvidenceKind.VIDEO, "video/mp4"),
    ],
)
def test_a_file_is_typed_by_its_content_and_its_hash_enters_the_history(
    case, content, kind, content_type
):
    evidence = evidence_attach(
        case=case, actor=UserFactory(), upload=SimpleUploadedFile("whatever.bin", content)
    )

    assert (evidence.kind, evidence.content_type, evidence.size) == (
        kind,
        content_type,
        len(content),
    )
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    assert evidence.file.read() == content
    event = case.events.get(kind=EventKind.EVIDENCE)
    assert event.data["sha256"] == evidence.sha256


def test_an_executable_renamed_jpg_is_refused(case):
    windows_exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
    with translation.override("en"), pytest.raises(InvalidInput, match="this file is none of them"):
        evidence_attach(
            case=case,
            actor=UserFactory(),
            upload=SimpleUploadedFile("现场照片.jpg", windows_exe, content_type="image/jpeg"),
        )
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 100
    with pytest.raises(InvalidInput):
        evidence_attach(case=case, actor=UserFactory(), upload=SimpleUploadedFile("photo.png", elf))
    assert not Evidence.objects.exists()
    assert not case.events.filter(kind=EventKind.EVIDENCE).exists()


def test_an_oversize_file_is_refused(case, settings):
    settings.EVIDENCE_MAX_BYTES = 100
    with translation.override("en"), pytest.raises(InvalidInput, match="larger than"):
        evidence_attach(case=case, actor=UserFactory(), upload=SimpleUploadedFile("big.jpg", JPEG))


def test_the_same_file_twice_is_stored_once(case):
    first = evidence_attach(
        case=case, actor=UserFactory(), upload=SimpleUploadedFile("a.jpg", JPEG)
    )
    second = evidence_attach(
        case=case, actor=UserFactory(), upload=SimpleUploadedFile("b.jpg", JPEG)
    )
    assert first.pk == second.pk
    assert case.events.filter(kind=EventKind.EVIDENCE).count() == 1


def stored_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_a_failure_after_storing_removes_the_file(case, settings, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("enforcement.evidence.case_event_record", broken)
    with pytest.raises(RuntimeError):
        evidence_attach(case=case, actor=UserFactory(), upload=SimpleUploadedFile("a.jpg", JPEG))

    assert not Evidence.objects.exists()
    assert stored_files(settings.MEDIA_ROOT) == []


def test_a_file_left_by_an_outer_rollback_is_reused_and_orphans_are_found(case, settings):
    from datetime import datetime, timedelta

    from django.core.management import call_command
    from django.db import transaction

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        evidence_attach(case=case, actor=UserFactory(), upload=SimpleUploadedFile("a.jpg", JPEG))
        raise Rollback  # the caller's transaction fails after the attachment
    left = stored_files(settings.MEDIA_ROOT)
    assert len(left) == 1 and not Evidence.objects.exists()

    # an old leftover of another file is an orphan; the one reused below is not
    stale = settings.MEDIA_ROOT / "evidence" / case.number / ("0" * 64 + ".pdf")
    stale.write_bytes(PDF)
    old = (datetime.now() - timedelta(hours=30)).timestamp()
    os.utime(stale, (old, old))

    evidence = evidence_attach(
        case=case, actor=UserFactory(), upload=SimpleUploadedFile("a.jpg", JPEG)
    )
    assert evidence.file.name == left[0]  # the same name: no second copy with a suffix

    out = io.StringIO()
    call_command("evidence_orphans", stdout=out)
    assert out.getvalue().splitlines() == [
        f"orphan evidence/{case.number}/{'0' * 64}.pdf",
        "1 orphan file(s) (older than 24 h).",
    ]
    call_command("evidence_orphans", "--delete", stdout=io.StringIO())
    assert stored_files(settings.MEDIA_ROOT) == left
    assert evidence.file.read() == JPEG
