import pytest

from tests.factories.grids import StreetFactory


@pytest.fixture
def street():
    """红花街道 (320104010) in 秦淮区 (320104)."""
    return StreetFactory()
