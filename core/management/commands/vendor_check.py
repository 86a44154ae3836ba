"""``manage.py vendor_check [--offline]``: the files under ``static/vendor/`` are what
``static/vendor/MANIFEST.md`` says they are.

A vendored library is a copy of someone else's release that nobody reads line by line: the
manifest records where each file came from and its sha256. Offline, each file is checked
against that hash (the test suite does this); online (``make vendor-check``), each npm tarball
is downloaded again, checked against the registry's integrity hash for that version, and the
named file in it, with the recorded change applied, must have the same hash. Exits non-zero
naming every file that does not match."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.vendor import VendorError, vendor_file_check, vendor_manifest_read, vendor_tarball_fetch


class Command(BaseCommand):
    help = "Check the vendored front-end files against static/vendor/MANIFEST.md and npm."

    def add_arguments(self, parser):
        parser.add_argument(
            "--offline",
            action="store_true",
            help="Check only the local files' sha256, without downloading the tarballs.",
        )
        parser.add_argument(
            "--manifest",
            type=Path,
            default=Path(settings.BASE_DIR) / "static" / "vendor" / "MANIFEST.md",
            help="The manifest to read (its paths are relative to the project's root).",
        )

    def handle(self, *args, offline=False, manifest, **options):
        try:
            files = vendor_manifest_read(manifest)
        except (VendorError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        tarballs: dict[str, bytes | VendorError] = {}
        problems = []
        for file in files:
            tarball = None
            if not offline:
                if file.tarball not in tarballs:
                    try:
                        tarballs[file.tarball] = vendor_tarball_fetch(file)
                    except VendorError as exc:
                        tarballs[file.tarball] = exc
                tarball = tarballs[file.tarball]
                if isinstance(tarball, VendorError):
                    problems.append(f"{file.path}: {tarball}")
                    tarball = None
            problems += vendor_file_check(file, root=settings.BASE_DIR, tarball=tarball)
        if problems:
            raise CommandError("vendored files do not match the manifest:\n" + "\n".join(problems))
        against = "the manifest" if offline else "the manifest and their npm tarballs"
        self.stdout.write(f"{len(files)} vendored file(s) match {against}.")
