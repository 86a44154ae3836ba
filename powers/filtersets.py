import django_filters
from django.db.models import Q

from core.filtersets import StrictFilterSet
from powers.choices import ImplementationMode, PowerScope, PowerStatus
from powers.models import PowerItem


class PowerItemFilterSet(StrictFilterSet):
    category = django_filters.CharFilter(field_name="category__code", label="category code")
    department = django_filters.CharFilter(field_name="department__code", label="department code")
    mode = django_filters.ChoiceFilter(choices=ImplementationMode.choices)
    scope = django_filters.ChoiceFilter(choices=PowerScope.choices)
    status = django_filters.ChoiceFilter(choices=PowerStatus.choices)
    is_major = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="search", label="code, name or legal basis contains")

    class Meta:
        model = PowerItem
        fields: list[str] = []

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(code__icontains=value) | Q(name__icontains=value) | Q(legal_basis__icontains=value)
        )
