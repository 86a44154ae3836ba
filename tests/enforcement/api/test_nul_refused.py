"""A NUL character in a URL is a 400 (core.middleware.nul_refused), never a 500 where
PostgreSQL refuses it."""

import pytest

from tests.enforcement.api.test_cases import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases/320104010-2026-0%00/",
        "/api/v1/cases/?matter_type=ZD%00JY",
        "/api/v1/cases/?street%00=320104010",
        "/api/v1/calls/?status=called%00",
        "/open311/v2/requests/320104010-2026-0%00.json",
    ],
)
def test_a_nul_in_the_path_or_query_is_a_400_problem(world, url):
    response = client_for(world, "hh_command").get(url)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
