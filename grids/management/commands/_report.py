"""Shared output of the grids import commands."""

from django.core.management.base import CommandError
from tqdm import tqdm

from grids.imports import ImportReport


def progress_bar(stderr, label: str):
    """A progress bar on stderr when it is a terminal; nothing otherwise."""

    def wrap(items):
        return tqdm(items, desc=label, file=stderr, disable=None, unit="row")

    return wrap


def report_write(command, report: ImportReport, path) -> None:
    """Print warnings, then either the counts or every bad row and fail (status 1)."""
    for warning in report.warnings:
        command.stderr.write(f"warning: {warning}")
    if report.ok:
        command.stdout.write(f"{path}: {report.created} created, {report.updated} updated.")
        return
    for error in report.errors:
        command.stderr.write(str(error))
    rows = {error.row for error in report.errors}
    if rows == {0}:
        raise CommandError(f"{path}: cannot be imported; nothing was imported.")
    raise CommandError(f"{path}: {len(rows - {0})} bad row(s); nothing was imported.")
