"""Webhook hardening (security review, issue 14): signing secrets are kept encrypted
(core.crypto, as reporters' phones), with their last four characters as a hint; a try's record
keeps what the receiver answered apart (``detail``, for administrators) from the class of the
failure the department sees (``error``). Existing rows are converted: each secret encrypted,
each error split into its class and its detail."""

from django.db import migrations, models

from core.crypto import field_decrypt, field_encrypt

# enforcement.webhooks.SECRET_HINT_MIN_LENGTH and enforcement.webhook_egress's texts, as they
# were when this migration was written.
SECRET_HINT_MIN_LENGTH = 16
ERROR_CONNECT = "could not connect"
ERROR_TIMEOUT = "timeout"
ERROR_REFUSED = "refused: address not allowed (WEBHOOK_ALLOWED_HOSTS)"


def secrets_encrypt(apps, schema_editor):
    endpoint_model = apps.get_model("enforcement", "WebhookEndpoint")
    for endpoint in endpoint_model.objects.all().iterator(chunk_size=500):
        secret = endpoint.secret
        endpoint_model.objects.filter(pk=endpoint.pk).update(
            secret_encrypted=field_encrypt(secret),
            secret_hint=secret[-4:] if len(secret) >= SECRET_HINT_MIN_LENGTH else "",
        )


def secrets_decrypt(apps, schema_editor):
    endpoint_model = apps.get_model("enforcement", "WebhookEndpoint")
    for endpoint in endpoint_model.objects.all().iterator(chunk_size=500):
        endpoint_model.objects.filter(pk=endpoint.pk).update(
            secret=field_decrypt(endpoint.secret_encrypted)
        )


def errors_split(apps, schema_editor):
    """``HTTP 500: <the receiver's body>`` becomes ``HTTP 500`` with the body as detail; an
    exception's text (``URLError: [Errno 111] …``) becomes the one text of a failed connection."""
    attempt_model = apps.get_model("enforcement", "WebhookAttempt")
    for attempt in attempt_model.objects.exclude(error="").iterator(chunk_size=2000):
        if attempt.status_code is not None:
            error = f"HTTP {attempt.status_code}"
        elif "WEBHOOK_ALLOWED_HOSTS" in attempt.error:
            error = ERROR_REFUSED
        elif "timed out" in attempt.error:
            error = ERROR_TIMEOUT
        else:
            error = ERROR_CONNECT
        attempt_model.objects.filter(pk=attempt.pk).update(error=error, detail=attempt.error)


def errors_join(apps, schema_editor):
    attempt_model = apps.get_model("enforcement", "WebhookAttempt")
    attempt_model.objects.exclude(detail="").update(error=models.F("detail"))


class Migration(migrations.Migration):
    dependencies = [
        ("enforcement", "0016_supervision_addressee"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint",
            name="secret_encrypted",
            field=models.TextField(default="", verbose_name="signing secret (encrypted)"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="secret_hint",
            field=models.CharField(
                blank=True,
                help_text="blank: a secret too short to show any of it",
                max_length=4,
                verbose_name="signing secret ends with",
            ),
        ),
        migrations.AddField(
            model_name="webhookattempt",
            name="detail",
            field=models.TextField(blank=True, verbose_name="detail (administrators only)"),
        ),
        migrations.RunPython(secrets_encrypt, secrets_decrypt, elidable=False),
        migrations.RunPython(errors_split, errors_join, elidable=False),
        # Blank first, so that going back re-adds the column with a default for existing rows
        # (which secrets_decrypt then fills).
        migrations.AlterField(
            model_name="webhookendpoint",
            name="secret",
            field=models.CharField(blank=True, max_length=100, verbose_name="signing secret"),
        ),
        migrations.RemoveField(model_name="webhookendpoint", name="secret"),
    ]
