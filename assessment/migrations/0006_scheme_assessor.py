"""Who assesses (Scheme.assessor): a street or the district. A scheme made before this migration
assessed for the district (the only assessor there was), so it is given the district; a
database with schemes but no district cannot say who assessed them and stops here."""

import django.db.models.deletion
from django.db import migrations, models


def assessors_fill(apps, schema_editor):
    Scheme = apps.get_model("assessment", "Scheme")
    Region = apps.get_model("grids", "Region")
    schemes = Scheme.objects.filter(assessor__isnull=True)
    if not schemes.exists():
        return
    district = Region.objects.filter(level="district").order_by("pk").first()
    if district is None:
        raise RuntimeError("assessment schemes exist but no district to assess them")
    schemes.update(assessor=district)


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0005_appeal_and_callback_labels"),
        ("grids", "0001_region"),
    ]

    operations = [
        migrations.AddField(
            model_name="scheme",
            name="assessor",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assessment_schemes",
                to="grids.region",
                verbose_name="assessed by",
            ),
        ),
        migrations.RunPython(assessors_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="scheme",
            name="assessor",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assessment_schemes",
                to="grids.region",
                verbose_name="assessed by",
            ),
        ),
        migrations.AddField(
            model_name="manualscore",
            name="history",
            field=models.JSONField(blank=True, default=list, verbose_name="earlier scores"),
        ),
        migrations.AddConstraint(
            model_name="appeal",
            constraint=models.UniqueConstraint(
                condition=models.Q(("decision", "pending")),
                fields=("snapshot", "target_kind", "target_id", "item"),
                name="assessment_appeal_one_pending",
            ),
        ),
    ]
