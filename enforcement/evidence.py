"""Attaching evidence to a case: the type is read from the file's first bytes, never from its
name or the client's content type; the size is limited (EVIDENCE_MAX_BYTES); the SHA-256 is
recorded in the case's hash-chained history; the file goes through Django's storage API."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enforcement.choices import EventKind, EvidenceKind
from enforcement.events import case_event_record
from enforcement.models import Case, Evidence
from enforcement.models.evidence import EVIDENCE_ROOT, evidence_path
from enforcement.workflow import InvalidInput, TooLarge

# (kind, content type, extension) by signature. MP4/MOV/HEIC share the ISO "ftyp" box.
_SIGNATURES = [
    (b"\xff\xd8\xff", (EvidenceKind.PHOTO, "image/jpeg", ".jpg")),
    (b"\x89PNG\r\n\x1a\n", (EvidenceKind.PHOTO, "image/png", ".png")),
    (b"%PDF-", (EvidenceKind.DOCUMENT, "application/pdf", ".pdf")),
]
_FTYP = {
    b"heic": (EvidenceKind.PHOTO, "image/heic", ".heic"),
    b"heix": (EvidenceKind.PHOTO, "image/heic", ".heic"),
    b"mif1": (EvidenceKind.PHOTO, "image/heif", ".heif"),
    b"qt  ": (EvidenceKind.VIDEO, "video/quicktime", ".mov"),
}


def evidence_sniff(head: bytes) -> tuple[str, str, str] | None:
    """(kind, content type, extension) of a file from its first bytes, or None."""
    for signature, found in _SIGNATURES:
        if head.startswith(signature):
            return found
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return EvidenceKind.PHOTO, "image/webp", ".webp"
    if head[4:8] == b"ftyp":
        return _FTYP.get(head[8:12], (EvidenceKind.VIDEO, "video/mp4", ".mp4"))
    return None


def evidence_attach(*, case: Case, actor, upload) -> Evidence:
    """Store ``upload`` (a Django UploadedFile or any file object with ``name``) as evidence of
    ``case``. Refuses oversize files and any content that is not a JPEG, PNG, WebP, HEIC, MP4/MOV
    or PDF — an executable renamed .jpg included. Attaching the same file twice returns the first.
    Raises InvalidInput (TooLarge for an oversize file)."""
    size = getattr(upload, "size", None)
    if size is not None and size > settings.EVIDENCE_MAX_BYTES:
        raise TooLarge(
            _("The file is larger than %(mb)d MiB.")
            % {"mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)}
        )
    digest, data = hashlib.sha256(), bytearray()
    for chunk in (
        upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
    ):
        data.extend(chunk)
        if len(data) > settings.EVIDENCE_MAX_BYTES:
            raise TooLarge(
                _("The file is larger than %(mb)d MiB.")
                % {"mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)}
            )
        digest.update(chunk)
    found = evidence_sniff(bytes(data[:16]))
    if found is None:
        raise InvalidInput(
            _(
                "Only photos (JPEG, PNG, WebP, HEIC), videos (MP4, MOV) and PDF files are "
                "accepted; this file is none of them."
            )
        )
    kind, content_type, extension = found
    sha256 = digest.hexdigest()
    existing = Evidence.objects.filter(case=case, sha256=sha256).first()
    if existing is not None:
        return existing
    written = None
    try:
        with transaction.atomic():
            locked = Case.objects.select_for_update().get(pk=case.pk)
            evidence = Evidence(
                case=locked,
                kind=kind,
                content_type=content_type,
                extension=extension,
                size=len(data),
                sha256=sha256,
                original_name=(getattr(upload, "name", "") or "")[:255],
                uploaded_by=actor,
            )
            name = evidence_path(evidence, "")
            if _stored_sha256(name) == sha256:
                # left by an attempt whose transaction rolled back: the same bytes, reuse them
                evidence.file.name = name
            else:
                evidence.file.save(name, ContentFile(bytes(data)), save=False)
                written = evidence.file.name
            evidence.save()
            case_event_record(
                case=locked,
                kind=EventKind.EVIDENCE,
                actor=actor,
                from_status=locked.status,
                to_status=locked.status,
                data={
                    "evidence": evidence.pk,
                    "kind": kind,
                    "sha256": sha256,
                    "size": len(data),
                    "content_type": content_type,
                },
            )
    except IntegrityError:  # the same file attached at the same moment by someone else
        _orphan_remove(written)
        return Evidence.objects.get(case=case, sha256=sha256)
    except BaseException:
        _orphan_remove(written)  # the row is gone with the transaction; so goes its file
        raise
    return evidence


def _stored_sha256(name: str) -> str | None:
    if not default_storage.exists(name):
        return None
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as stored:
        for chunk in iter(lambda: stored.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _orphan_remove(name: str | None) -> None:
    if name and not Evidence.objects.filter(file=name).exists():
        default_storage.delete(name)


@dataclass(frozen=True)
class OrphanFile:
    name: str
    modified: datetime


def evidence_orphans_find(*, older_than: timedelta) -> list[OrphanFile]:
    """Files under the evidence folder that no Evidence row names, last written more than
    ``older_than`` ago: left when a process died between storing a file and committing its row,
    or when a caller's outer transaction rolled back. Younger files may belong to an attachment
    still under way."""
    referenced = set(Evidence.objects.values_list("file", flat=True))
    cutoff = timezone.now() - older_than
    found = []

    def walk(folder: str) -> None:
        if not default_storage.exists(folder):
            return
        folders, files = default_storage.listdir(folder)
        for name in sorted(files):
            path = f"{folder}/{name}"
            if path in referenced:
                continue
            modified = default_storage.get_modified_time(path)
            if modified <= cutoff:
                found.append(OrphanFile(name=path, modified=modified))
        for sub in sorted(folders):
            walk(f"{folder}/{sub}")

    walk(EVIDENCE_ROOT)
    return found
