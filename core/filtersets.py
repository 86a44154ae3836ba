"""The base of every FilterSet: unknown query parameters are an error, not silently ignored
(django-filter would ignore them and return every row; NOTES.md)."""

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_filters.fields import IsoDateTimeField

# Parameters that belong to pagination and rendering, not to filtering.
NON_FILTER_PARAMETERS = frozenset({"page", "page_size", "cursor", "format"})


class StrictFilterSet(django_filters.FilterSet):
    def is_valid(self) -> bool:
        valid = super().is_valid()
        unknown = sorted(set(self.data) - set(self.filters) - NON_FILTER_PARAMETERS)
        for name in unknown:
            known = ", ".join(sorted(self.filters)) or "-"
            self.form.errors[name] = self.form.error_class(
                [_("Unknown filter. Known filters: %(known)s.") % {"known": known}]
            )
        return valid and not unknown


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, answered in UTC. PostgreSQL refuses UTC offsets beyond ±15:59
    that Python accepts (up to ±23:59), and an instant before year 1 or after 9999 in UTC
    cannot be represented: both are invalid input here, not a server error."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError(_("Date and time out of range."), code="invalid") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """django-filter's IsoDateTimeFilter, with the value converted to UTC (UtcIsoDateTimeField)."""

    field_class = UtcIsoDateTimeField
