import django_filters
from django.db.models import Q

from core.filtersets import StrictFilterSet
from grids.choices import GridLevel, RiskLevel, SubjectKind
from grids.models import GridCell, Subject


class GridCellFilterSet(StrictFilterSet):
    street = django_filters.CharFilter(field_name="community__parent__code", label="street code")
    community = django_filters.CharFilter(field_name="community__code", label="community code")
    level = django_filters.ChoiceFilter(choices=GridLevel.choices)
    area = django_filters.CharFilter()

    class Meta:
        model = GridCell
        fields: list[str] = []


class SubjectFilterSet(StrictFilterSet):
    kind = django_filters.ChoiceFilter(choices=SubjectKind.choices)
    risk_level = django_filters.ChoiceFilter(choices=RiskLevel.choices)
    cell = django_filters.CharFilter(field_name="cell__code", label="grid cell code")
    community = django_filters.CharFilter(
        field_name="cell__community__code", label="community code"
    )
    street = django_filters.CharFilter(
        field_name="cell__community__parent__code", label="street code"
    )
    is_active = django_filters.BooleanFilter()
    credit_code = django_filters.CharFilter()
    q = django_filters.CharFilter(method="search", label="name or address contains")

    class Meta:
        model = Subject
        fields: list[str] = []

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(address__icontains=value))
