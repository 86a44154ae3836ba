"""The single GridNetVersion row, so that bumping it is one UPDATE with no create-race."""

from django.db import migrations


def version_row_create(apps, schema_editor):
    apps.get_model("grids", "GridNetVersion").objects.get_or_create(pk=1, defaults={"version": 0})


class Migration(migrations.Migration):
    dependencies = [("grids", "0002_cells_assignments_subjects")]

    operations = [migrations.RunPython(version_row_create, migrations.RunPython.noop)]
