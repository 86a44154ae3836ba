"""The API tests' small world (tests/enforcement/api/conftest.py) serves the pages' tests too:
cases in two streets, on a team, called to two departments, people of every role."""

from django.test import Client

from tests.enforcement.api.conftest import (  # noqa: F401 -- fixtures and helpers shared
    FZM,
    HH,
    HH_GRID_CELL,
    intake,
    other_cell,
    point_in,
    world,
)


def browser_for(world_, who: str) -> Client:
    """A Django test client signed in as ``who`` (a demo username), or anonymous."""
    client = Client()
    if who != "anonymous":
        client.force_login(world_["users"][who])
    return client
