"""Attaching evidence to a case: the type is read from the file's first bytes, never from its
name or the client's content type; the size is limited (EVIDENCE_MAX_BYTES); the SHA-256 is
recorded in the case's hash-chained history; the file goes through Django's storage API."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from enforcement.choices import EventKind, EvidenceKind
from enforcement.events import case_event_record
from enforcement.models import Case, Evidence
from enforcement.workflow import InvalidInput

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
    Raises InvalidInput."""
    size = getattr(upload, "size", None)
    if size is not None and size > settings.EVIDENCE_MAX_BYTES:
        raise InvalidInput(
            _("The file is larger than %(mb)d MiB.")
            % {"mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)}
        )
    digest, data = hashlib.sha256(), bytearray()
    for chunk in (
        upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
    ):
        data.extend(chunk)
        if len(data) > settings.EVIDENCE_MAX_BYTES:
            raise InvalidInput(
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
            evidence.file.save(f"{sha256}{extension}", ContentFile(bytes(data)), save=False)
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
        return Evidence.objects.get(case=case, sha256=sha256)
    return evidence
