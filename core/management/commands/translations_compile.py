"""``manage.py translations_compile``: compile ``locale/*/LC_MESSAGES/*.po`` into ``.mo``.

Django's ``compilemessages`` needs GNU gettext's ``msgfmt``, which a fresh machine may lack;
polib writes the same binary format in pure Python. Fuzzy and untranslated entries are left out,
as msgfmt does. Only files whose ``.po`` is newer are rewritten."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the project's .po catalogues to .mo without GNU gettext."

    def handle(self, *args, **options):
        compiled = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                compiled += 1
        self.stdout.write(f"Compiled {compiled} catalogue(s).")
