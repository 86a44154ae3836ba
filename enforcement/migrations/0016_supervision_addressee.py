"""Supervisions record whom they address when that is not one person: a team, or a role with
its department. The open and past rows without a named person are given the addressee their
level and stage had (the rule of enforcement.addressees.addressee_of, read from the case as it is
now: the team or the grid it is dispatched to)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

WORK_STAGES = {"arrive", "opinion", "resolve", "penalty_decision", "penalty_notice"}


def addressees_fill(apps, schema_editor):
    supervision_model = apps.get_model("enforcement", "Supervision")
    rows = supervision_model.objects.filter(addressee__isnull=True).select_related("case", "call")
    for row in rows.iterator(chunk_size=2000):
        team, role, department = None, "", None
        if row.level >= 3:
            role = "district_admin"
        elif row.level == 2:
            role = "street_leader"
        elif row.call_id is not None:
            role, department = "department_liaison", row.call.department_id
        elif row.stage in WORK_STAGES and row.case.team_id is not None:
            team = row.case.team_id
        elif row.stage in WORK_STAGES and row.case.dispatch_target == "grid":
            role = "grid_worker"
        else:
            role = "command_centre"
        supervision_model.objects.filter(pk=row.pk).update(
            addressee_team_id=team, addressee_role=role, addressee_department_id=department
        )


class Migration(migrations.Migration):
    dependencies = [
        ("enforcement", "0015_case_event_status_labels"),
        ("powers", "0007_command_centre_proposes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="supervision",
            name="addressee_department",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="powers.department",
                verbose_name="addressed to (department)",
            ),
        ),
        migrations.AddField(
            model_name="supervision",
            name="addressee_role",
            field=models.CharField(
                blank=True,
                choices=[
                    ("officer", "Enforcement officer"),
                    ("grid_worker", "Grid worker"),
                    ("command_centre", "Command centre"),
                    ("department_liaison", "Department liaison"),
                    ("legal_reviewer", "Legal reviewer"),
                    ("street_leader", "Street leader"),
                    ("district_admin", "District administrator"),
                ],
                max_length=30,
                verbose_name="addressed to (role)",
            ),
        ),
        migrations.AddField(
            model_name="supervision",
            name="addressee_team",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="enforcement.team",
                verbose_name="addressed to (team)",
            ),
        ),
        migrations.RunPython(addressees_fill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="supervision",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        models.Q(
                            ("addressee__isnull", False),
                            ("addressee_role", ""),
                            ("addressee_team__isnull", True),
                        ),
                        models.Q(
                            ("addressee__isnull", True),
                            ("addressee_role", ""),
                            ("addressee_team__isnull", False),
                        ),
                        models.Q(
                            ("addressee__isnull", True),
                            ("addressee_team__isnull", True),
                            models.Q(("addressee_role", ""), _negated=True),
                        ),
                        _connector="OR",
                    ),
                    models.Q(
                        ("addressee_department__isnull", True),
                        ("addressee_role", "department_liaison"),
                        _connector="OR",
                    ),
                ),
                name="enforcement_supervision_one_addressee",
            ),
        ),
    ]
