import pytest
from django.utils import translation

from tests.enforcement.api.conftest import world  # noqa: F401 -- the API tests' small world


@pytest.fixture(autouse=True)
def _in_english():
    """The assessment tests read the services' messages in English (their msgids)."""
    with translation.override("en"):
        yield
