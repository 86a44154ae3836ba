"""``manage.py matter_types_load``: create the standard matter types (idempotent) and link the
power items of the list whose codes they name, where those items exist."""

from django.core.management.base import BaseCommand

from enforcement.services import matter_types_load


class Command(BaseCommand):
    help = "Load the standard matter types and link their power items."

    def handle(self, *args, **options):
        created, linked = matter_types_load()
        self.stdout.write(f"Matter types: {created} created, {linked} power-item links.")
