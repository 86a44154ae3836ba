"""``manage.py cases_import <file.jsonl|file.csv> [--chunk-size N] [--actor USERNAME]``: back-fill
past cases (enforcement.imports.cases_import). Prints the cases created, the rows skipped
(their case exists already), every refused row and the rate; exits 1 when a row was refused
(the good rows are imported all the same: running the file again after fixing it skips them).

JSON Lines: one object per line. CSV: a header row naming the columns (UTF-8, a BOM allowed);
empty cells count as absent. Rows are numbered from 1, the CSV header not counted."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from enforcement.imports import DEFAULT_CHUNK_SIZE, RowUnreadable, cases_import


def rows_read(path: Path) -> Iterator[dict | RowUnreadable]:
    """The file's records, streamed; a line that is not a JSON object becomes a RowUnreadable."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if path.suffix.lower() == ".csv":
            for record in csv.DictReader(handle):
                yield {name: value for name, value in record.items() if value not in ("", None)}
            return
        for line in handle:
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except ValueError as exc:
                yield RowUnreadable(_("not JSON: %(error)s") % {"error": exc})


class Command(BaseCommand):
    help = "Import past (ended) cases from a JSON Lines or CSV file."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="a .jsonl or .csv file")
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
        parser.add_argument("--actor", help="username recorded as the reporter of the cases")

    def handle(self, *args, path: Path, chunk_size: int, actor=None, **options):
        if path.suffix.lower() not in (".jsonl", ".csv"):
            raise CommandError(f"{path}: expected a .jsonl or .csv file.")
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        user = None
        if actor:
            user = get_user_model().objects.filter(username=actor).first()
            if user is None:
                raise CommandError(f"No user {actor}.")
        report = cases_import(rows_read(path), actor=user, chunk_size=chunk_size)
        for error in report.errors:
            self.stderr.write(str(error))
        self.stdout.write(
            f"{report.created} case(s) created, {report.skipped} skipped (already imported), "
            f"{len(report.errors)} refused, in {report.seconds:.2f} s "
            f"({report.rate:,.0f} cases/s)."
        )
        if report.errors:
            raise CommandError(f"{len(report.errors)} row(s) refused; the others were imported.")
