"""The base of every FilterSet: unknown query parameters are an error, not silently ignored
(django-filter would ignore them and return every row; NOTES.md)."""

import django_filters
from django.utils.translation import gettext as _

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
