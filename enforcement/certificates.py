"""Administrative Penalty Law Art. 42: enforcement is done by at least two officers holding
enforcement certificates (执法证) valid that day. Asked by the penalty procedure
(enforcement.penalties) on each of its steps and by the workflow on a result recorded in the
enforcement handling mode (enforcement.workflow.case_resolve)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.utils.translation import gettext as _

from enforcement.models import Officer

ART_42_MINIMUM = 2


def officers_certified(officers: Iterable[Officer], on: date) -> tuple[list[Officer], str]:
    """The distinct officers of ``officers`` with certificates valid on ``on``, and "" when they
    are at least two, else the refusal's message (naming any expired certificates)."""
    distinct = list({officer.pk: officer for officer in officers}.values())
    valid = [o for o in distinct if o.certificate_expires_on >= on]
    if len(valid) >= ART_42_MINIMUM:
        return valid, ""
    message = _(
        "At least two officers with certificates valid on %(date)s must act "
        "(Administrative Penalty Law, Art. 42)."
    ) % {"date": on}
    expired = [o for o in distinct if o.certificate_expires_on < on]
    if expired:
        message += " " + _("Expired certificates: %(numbers)s.") % {
            "numbers": ", ".join(o.certificate_number for o in expired)
        }
    return valid, message
