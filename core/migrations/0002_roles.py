"""Create one Group per role (core.choices.Role). Later migrations grant them permissions."""

from django.db import migrations

# Frozen copy of Role's values at the time of this migration: migrations never import live code.
ROLES = [
    "officer",
    "grid_worker",
    "command_centre",
    "department_liaison",
    "legal_reviewer",
    "street_leader",
    "district_admin",
]


def roles_create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def roles_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_heartbeat"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(roles_create, roles_delete)]
