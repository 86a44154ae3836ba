"""Street leaders propose and decide adjustments of power lists; district administrators decide."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "street_leader": ["add_adjustmentrequest", "decide_adjustment", "view_adjustmentrequest"],
    "district_admin": ["add_adjustmentrequest", "decide_adjustment", "view_adjustmentrequest"],
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); these are needed now.
    # The app config of a migration state has no models module, which create_permissions checks.
    config = apps.get_app_config("powers")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        group, _ = group_model.objects.get_or_create(name=group_name)
        group.permissions.add(
            *permission_model.objects.filter(
                content_type__app_label="powers", codename__in=codenames
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("powers", "0003_decide_adjustment_permission"),
        ("core", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
