"""The default SLA policies, from the seeds (a frozen copy: later changes are the admin's)."""

from django.db import migrations

# (severity, stage, amount, unit, warn percent). Blank severity: both.
DEFAULTS = [
    # Platform choices: the command centre accepts and dispatches within half an hour.
    ("", "accept", 30, "minutes", 80),
    ("", "dispatch", 30, "minutes", 80),
    # Seed 001 (红花街道): "30分钟赶到现场,原则上30分钟以内有处理结果".
    ("", "arrive", 30, "minutes", 80),
    ("ordinary", "resolve", 30, "minutes", 80),
    # Seed 001: "重大、复杂案件,1天有处理意见,15天内有处理结果".
    ("major", "opinion", 1, "working_days", 80),
    ("major", "resolve", 15, "natural_days", 80),
    # Platform choices: verification within a working day; a whistled department reports in
    # within half an hour (吹哨报到) and completes within five working days; a supervision is
    # answered within a working day.
    ("", "verify", 1, "working_days", 80),
    ("", "call_report_in", 30, "minutes", 80),
    ("", "call_complete", 5, "working_days", 80),
    ("", "supervision_response", 1, "working_days", 80),
    # Administrative Penalty Law Art. 60: a decision within 90 days of filing; warned at 80 days
    # (89%), and a notice at 60 days (its own stage, which only notifies).
    ("", "penalty_decision", 90, "natural_days", 89),
    ("", "penalty_notice", 60, "natural_days", 0),
]


def load(apps, schema_editor):
    SlaPolicy = apps.get_model("enforcement", "SlaPolicy")
    for severity, stage, amount, unit, warn in DEFAULTS:
        SlaPolicy.objects.get_or_create(
            matter_type=None,
            severity=severity,
            source="",
            stage=stage,
            defaults={"amount": amount, "unit": unit, "warn_percent": warn},
        )


class Migration(migrations.Migration):
    dependencies = [("enforcement", "0007_timers")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
