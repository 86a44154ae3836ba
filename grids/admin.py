"""Admin for the net. Writes go through grids.services, so that polygons are validated, bounding
boxes derived, the net's version bumped and subjects placed into their cell."""

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from grids.choices import GridLevel
from grids.forms import GridCellForm, SubjectForm
from grids.geometry import geometry_svg_path
from grids.models import GridAssignment, GridCell, Region, Subject
from grids.selectors import phone_mask, subject_contact_phone_visible
from grids.services import assignment_create, cell_delete, cell_save, subject_save


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]


def polygon_svg(cell: GridCell, size: int = 240) -> str:
    if not cell.geometry:
        return "-"
    path, width, height = geometry_svg_path(cell.geometry, size=size)
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" '
        'role="img" aria-label="{}"><path d="{}" fill="#c0392b33" stroke="#c0392b" '
        'stroke-width="1.5" fill-rule="evenodd"/></svg>',
        width,
        height,
        width,
        height,
        cell.code,
        path,
    )


class GridAssignmentInline(admin.TabularInline):
    model = GridAssignment
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "starts_on", "ends_on"]


@admin.register(GridCell)
class GridCellAdmin(admin.ModelAdmin):
    form = GridCellForm
    list_display = ["code", "name", "level", "area", "community", "thumbnail"]
    list_filter = ["level", "area", "community__parent"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["community", "parent"]
    readonly_fields = ["drawing", "min_lng", "min_lat", "max_lng", "max_lat", "updated_at"]
    fields = [
        "code",
        "name",
        "level",
        "parent",
        "community",
        "area",
        "geometry",
        "drawing",
        ("min_lng", "min_lat", "max_lng", "max_lat"),
        "updated_at",
    ]
    inlines = [GridAssignmentInline]

    @admin.display(description=_("polygon"))
    def thumbnail(self, cell):
        return polygon_svg(cell, size=48)

    @admin.display(description=_("drawing"))
    def drawing(self, cell):
        return polygon_svg(cell)

    def save_model(self, request, obj, form, change):
        saved = cell_save(
            code=obj.code,
            name=obj.name,
            level=obj.level,
            community=obj.community,
            geometry=obj.geometry,
            area=obj.area,
            parent=obj.parent if obj.level == GridLevel.COMPREHENSIVE else None,
        )
        obj.pk = saved.cell.pk
        for warning in saved.warnings:
            messages.warning(request, warning)

    def save_formset(self, request, form, formset, change):
        # Assignments through the service: one serving head per cell, periods checked.
        instances = formset.save(commit=False)
        for removed in formset.deleted_objects:
            removed.delete()
        for assignment in instances:
            if assignment.pk:
                assignment.save()
            else:
                assignment_create(
                    user=assignment.user,
                    cell=form.instance,
                    role=assignment.role,
                    starts_on=assignment.starts_on,
                    ends_on=assignment.ends_on,
                )

    def delete_model(self, request, obj):
        cell_delete(cell=obj)


@admin.register(GridAssignment)
class GridAssignmentAdmin(admin.ModelAdmin):
    list_display = ["cell", "role", "user", "starts_on", "ends_on"]
    list_filter = ["role", "cell__area"]
    search_fields = ["cell__code", "cell__name", "user__username", "user__first_name"]
    autocomplete_fields = ["cell", "user"]


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    form = SubjectForm
    list_display = ["name", "kind", "credit_code", "cell", "risk_level", "is_active"]
    list_filter = ["kind", "risk_level", "is_active", "cell__area"]
    search_fields = ["name", "credit_code", "address"]
    readonly_fields = ["cell", "masked_phone", "created_at", "updated_at"]

    def get_fields(self, request, obj=None):
        fields = [*SubjectForm.Meta.fields, "cell", "created_at", "updated_at"]
        if not subject_contact_phone_visible(user=request.user):
            # PIPL: whoever may not see the number gets it masked, and cannot overwrite it blind.
            fields[fields.index("contact_phone")] = "masked_phone"
        return fields

    @admin.display(description=_("contact phone"))
    def masked_phone(self, subject):
        return phone_mask(subject.contact_phone) if subject.contact_phone else "-"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("cell")

    def save_model(self, request, obj, form, change):
        saved = subject_save(subject=obj if change else None, data=form.subject_input())
        obj.pk = saved.pk
