"""collectstatic with the production storage (hashed names, compressed) succeeds, and pages link
the hashed files: what `make run` and the container do before serving."""

from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import override_settings
from django.utils.functional import empty

MANIFEST = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def test_collectstatic_with_the_manifest_storage_and_hashed_links(tmp_path, client, db):
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=MANIFEST):
        staticfiles_storage._wrapped = empty  # re-read STORAGES
        try:
            call_command("collectstatic", interactive=False, verbosity=0)
            hashed = staticfiles_storage.stored_name("css/site.css")
            html = client.get("/accounts/login/").content.decode()
        finally:
            staticfiles_storage._wrapped = empty

    assert hashed.startswith("css/site.") and hashed != "css/site.css"
    assert (tmp_path / hashed).exists()
    assert (tmp_path / f"{hashed}.gz").exists()
    assert f'href="/static/{hashed}"' in html
