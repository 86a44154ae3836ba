"""A small world on the demo district for the API tests: cases in two streets, in and out of
a grid worker's cell, on a team, and called to two departments; people of every role and the
API keys of two departments and of the 12345 hotline."""

import pytest
import shapely
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from shapely.geometry import shape

from enforcement import workflow
from enforcement.choices import CaseSource, DispatchTarget
from enforcement.models import MatterType, Team
from enforcement.services import case_intake
from grids.models import GridCell
from powers.models import PowerItem
from tests.factories.users import UserFactory

HH, FZM = "320104010", "320104003"
HH_GRID_CELL = "320104010001001"  # hh_grid's cell (grids.demo)


def point_in(cell_code: str) -> tuple[float, float]:
    geometry = GridCell.objects.get(code=cell_code).geometry
    lng, lat = shapely.get_coordinates(shape(geometry).representative_point())[0]
    return float(lat), float(lng)


def intake(cell_code: str, description: str, *, actor=None, source=CaseSource.PATROL):
    lat, lng = point_in(cell_code)
    matter = MatterType.objects.order_by("code").first()
    return case_intake(
        source=source,
        matter_type=matter,
        description=description,
        lat=lat,
        lng=lng,
        reporter_phone="13812345678",
        actor=actor,
    ).case


def other_cell(street: str, not_code: str) -> str:
    return (
        GridCell.objects.filter(code__startswith=street, level="comprehensive")
        .exclude(code=not_code)
        .order_by("-code")
        .values_list("code", flat=True)
        .first()
    )


@pytest.fixture
def world(demo):
    from enforcement.api_keys import api_key_create

    users = {u.username: u for u in get_user_model().objects.all()}
    command = users["hh_command"]
    team = Team.objects.get(street__code=HH, name="红花执法1中队")

    # A: in hh_grid's cell, dispatched to hh_officer's team
    a = intake(HH_GRID_CELL, "A: 红花 网格员的网格, 一中队")
    a = workflow.case_accept(case=a, actor=command)
    a = workflow.case_dispatch(case=a, actor=command, target=DispatchTarget.TEAM, team=team)
    # B: another hh cell, only accepted
    b = workflow.case_accept(
        case=intake(other_cell(HH, HH_GRID_CELL), "B: 红花 其他网格"), actor=command
    )
    # C: in the other street
    c = intake(other_cell(FZM, ""), "C: 夫子庙")
    # D: called to the city management bureau (CG); E: called to the housing bureau (ZJ)
    cg = PowerItem.objects.filter(department__code="CG").order_by("code").first()
    zj = PowerItem.objects.filter(department__code="ZJ").order_by("code").first()
    d = workflow.case_accept(case=intake(other_cell(HH, HH_GRID_CELL), "D: 城管"), actor=command)
    d = workflow.case_whistle(case=d, actor=command, items=[cg])
    e = workflow.case_accept(case=intake(other_cell(HH, HH_GRID_CELL), "E: 住建"), actor=command)
    e = workflow.case_whistle(case=e, actor=command, items=[zj])
    _, cg_key = api_key_create(department=cg.department, name="城管系统")
    _, zj_key = api_key_create(department=zj.department, name="住建系统")
    hotline_obj, hotline_key = api_key_create(source=CaseSource.HOTLINE_12345, name="12345")
    # F: filed by the hotline's key
    f = intake(
        other_cell(HH, HH_GRID_CELL),
        "F: 12345",
        actor=hotline_obj.user,
        source=CaseSource.HOTLINE_12345,
    )
    return {
        "users": users,
        "nobody": UserFactory(username="nobody"),
        "cases": {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f},
        "keys": {"cg": cg_key, "zj": zj_key, "hotline": hotline_key},
        "team": team,
        "items": {"cg": cg, "zj": zj},
    }


def client_for(world, who: str) -> APIClient:
    """A client acting as ``who``: a demo username, "anonymous", "nobody" (a user without any
    right) or "key:<name>" (an API key of the world)."""
    client = APIClient()
    if who == "anonymous":
        return client
    if who.startswith("key:"):
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {world['keys'][who[4:]]}")
        return client
    user = world["nobody"] if who == "nobody" else world["users"][who]
    client.force_authenticate(user)
    return client
