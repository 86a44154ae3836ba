"""Indexes for assessment: the events and the deadlines of a period (a day rolled up)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enforcement", "0019_callback_role_and_event"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="caseevent",
            index=models.Index(fields=["at"], name="enforcement_event_at"),
        ),
        migrations.AddIndex(
            model_name="timer",
            index=models.Index(fields=["due_at"], name="enforcement_timer_due"),
        ),
    ]
