from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from enforcement.choices import EvidenceKind

EVIDENCE_ROOT = "evidence"


def evidence_path(instance, filename: str) -> str:
    # The content's hash names the file: the same photo twice is stored once per case, and no
    # user-given name reaches the file system.
    return f"{EVIDENCE_ROOT}/{instance.case.number}/{instance.sha256}{instance.extension}"


class Evidence(models.Model):
    """A photo, video or PDF attached to a case. Its type is read from the content, its SHA-256
    is in the CaseEvent that records it, so a swapped file is detectable."""

    case = models.ForeignKey("enforcement.Case", on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(_("kind"), max_length=10, choices=EvidenceKind.choices)
    file = models.FileField(_("file"), upload_to=evidence_path)
    content_type = models.CharField(_("content type"), max_length=50)
    extension = models.CharField(max_length=8)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    original_name = models.CharField(_("original name"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["case", "uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "sha256"], name="enforcement_evidence_once_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.sha256[:12]}"
