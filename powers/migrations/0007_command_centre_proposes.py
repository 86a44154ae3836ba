"""The command centre drafts adjustments of its street's list; its leader, who decides the street's
step, is then never the one who proposed (powers.permissions.step_decide_check)."""

from django.db import migrations

CODENAMES = ["add_adjustmentrequest", "view_adjustmentrequest"]


def grant(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.get_or_create(name="command_centre")
    group.permissions.add(
        *permission_model.objects.filter(content_type__app_label="powers", codename__in=CODENAMES)
    )


def ungrant(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group = group_model.objects.filter(name="command_centre").first()
    if group is not None:
        group.permissions.remove(
            *permission_model.objects.filter(
                content_type__app_label="powers", codename__in=CODENAMES
            )
        )


class Migration(migrations.Migration):
    dependencies = [("powers", "0006_department_case_permissions")]

    operations = [migrations.RunPython(grant, ungrant)]
