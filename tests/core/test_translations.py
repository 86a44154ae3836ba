"""Every UI string has its Chinese translation, and the catalogue compiles."""

from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_zh_hans_catalogue_is_complete():
    po = polib.pofile(str(CATALOGUE))
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    assert len(po.translated_entries()) >= 40


def test_compiled_catalogue_matches_the_source(tmp_path):
    po = polib.pofile(str(CATALOGUE))
    mo_path = tmp_path / "django.mo"
    po.save_as_mofile(str(mo_path))
    mo = polib.mofile(str(mo_path))
    assert {(e.msgctxt, e.msgid): e.msgstr for e in mo if e.msgid} == {
        (e.msgctxt, e.msgid): e.msgstr for e in po.translated_entries()
    }
