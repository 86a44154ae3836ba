"""The OpenAPI schema builds clean: not one drf-spectacular warning or error, in either language
(a warning is a name or a type the generator had to guess; `check --deploy` reports each as
drf_spectacular.W001/W002)."""

import pytest
from django.utils import translation
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.plumbing import _load_enum_name_overrides


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_schema_builds_without_a_warning_or_an_error(language, capsys):
    # Given no warning kept from an earlier build in this process: the generator prints and
    # counts each message once, and reads ENUM_NAME_OVERRIDES once per language (a broken
    # override warns only then)
    GENERATOR_STATS.reset()
    _load_enum_name_overrides.cache_clear()
    capsys.readouterr()

    # When the schema is built, as /api/schema/ and `manage.py spectacular` build it
    with translation.override(language):
        schema = SchemaGenerator().get_schema(request=None, public=True)

    # Then nothing was warned about, and the case's status has one name wherever it appears
    assert (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache)) == ({}, {})
    assert capsys.readouterr().err == ""
    components = schema["components"]["schemas"]
    event = components["CaseEvent"]["properties"]
    for field in ("from_status", "to_status"):  # blank: no status before intake, no change
        assert event[field]["oneOf"] == [
            {"$ref": "#/components/schemas/CaseStatusEnum"},
            {"$ref": "#/components/schemas/BlankEnum"},
        ]
    status = components["Case"]["properties"]["status"]  # wrapped in an allOf when titled
    assert status.get("allOf", [status])[0]["$ref"] == "#/components/schemas/CaseStatusEnum"
    assert {"FromStatusEnum", "ToStatusEnum"}.isdisjoint(components)
