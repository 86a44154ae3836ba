"""``manage.py api_key_revoke <prefix>``: stop a key from authenticating (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from enforcement.api_keys import api_key_revoke
from enforcement.models import ApiKey


class Command(BaseCommand):
    help = "Revoke the API key with this prefix (the 8 characters after 'sx_')."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, **options):
        key = ApiKey.objects.filter(prefix=options["prefix"]).first()
        if key is None:
            raise CommandError(f"No API key with prefix {options['prefix']!r}.")
        already = key.revoked_at is not None
        key = api_key_revoke(key=key)
        when = key.revoked_at.isoformat(timespec="seconds")
        if already:
            self.stdout.write(f"API key {key.prefix} ({key.name}) was already revoked at {when}.")
        else:
            self.stdout.write(f"API key {key.prefix} ({key.name}) revoked at {when}.")
