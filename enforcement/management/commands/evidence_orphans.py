"""``manage.py evidence_orphans [--older-than-hours H] [--delete]``: list (or delete) evidence files
that no Evidence row names — left when a process died between storing a file and committing its
row. Exit 0; prints one line per file."""

from datetime import timedelta

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from enforcement.evidence import evidence_orphans_find


class Command(BaseCommand):
    help = "List or delete evidence files that no evidence row refers to."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-hours",
            type=int,
            default=24,
            help="only files last written this many hours ago or earlier (default 24): younger "
            "ones may belong to an upload still under way",
        )
        parser.add_argument("--delete", action="store_true", help="delete them")

    def handle(self, *args, older_than_hours: int, delete: bool, **options):
        if older_than_hours < 1:
            raise CommandError("--older-than-hours must be 1 or more.")
        orphans = evidence_orphans_find(older_than=timedelta(hours=older_than_hours))
        for orphan in orphans:
            if delete:
                default_storage.delete(orphan.name)
            self.stdout.write(f"{'deleted' if delete else 'orphan'} {orphan.name}")
        self.stdout.write(
            f"{len(orphans)} orphan file(s){' deleted' if delete else ''} "
            f"(older than {older_than_hours} h)."
        )
