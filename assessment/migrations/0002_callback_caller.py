"""The callback caller's role (回访员): a Group, allowed to read a reporter's phone whole (each
reading recorded in the case's history, as for the command centre)."""

from django.db import migrations

ROLE = "callback_caller"  # frozen copy of core.choices.Role.CALLBACK_CALLER


def role_create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    group, _created = Group.objects.get_or_create(name=ROLE)
    content_type, _created = ContentType.objects.get_or_create(
        app_label="enforcement", model="case"
    )
    phone, _created = Permission.objects.get_or_create(
        content_type=content_type,
        codename="view_reporter_phone",
        defaults={"name": "Can read a reporter's phone number whole (recorded)"},
    )
    group.permissions.add(phone)


def role_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=ROLE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0001_callbacks"),
        ("core", "0002_roles"),
        ("enforcement", "0005_reporter_phone"),
    ]

    operations = [migrations.RunPython(role_create, role_delete)]
