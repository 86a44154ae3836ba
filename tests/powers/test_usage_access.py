"""Who reads a street's power usage (powers.permissions): the report page, its Excel export and
``GET /api/v1/powers/usage/`` answer alike. A street's own staff read their street, the district
every street, anyone else gets a 404 as for a street that does not exist; an anonymous visitor
is sent to log in (the API: 401)."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.choices import Role
from enforcement.api_keys import api_key_create
from enforcement.choices import CaseSource
from enforcement.permissions import access_grant
from grids.models import Region
from powers.models import Department
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db

HH, FZM = "320104010", "320104003"  # 红花街道, 夫子庙街道 (grids.demo)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The streets each demo login reads; every other street is a 404.
READS = {
    "hh_officer": {HH},  # the street of their team
    "hh_grid": {HH},  # the street of their cell
    "hh_command": {HH},  # granted the street
    "hh_leader": {HH},
    "fzm_officer": {FZM},
    "fzm_grid": {FZM},
    "fzm_command": {FZM},
    "fzm_leader": {FZM},
    "dept_liaison": set(),  # sees the cases called to its department, in any street: no list
    "legal_reviewer": set(),  # granted no container
    "district_admin": {HH, FZM},
    # staff of the net beyond the printed logins: a cell's 网格长, another team's officer
    "hh_a1_001_head": {HH},
    "fzm_t2_officer1": {FZM},
}


def period() -> dict:
    today = timezone.localdate()
    return {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}


def answers(client, street: str) -> dict:
    """The status of the page, the export and the API for ``street``."""
    page = client.get(f"/powers/usage/{street}/")
    export = client.get(f"/powers/usage/{street}/export.xlsx")
    api = client.get("/api/v1/powers/usage/", {"street": street, **period()})
    if export.status_code == 200:
        assert export["Content-Type"] == XLSX
    if api.status_code == 404:
        assert api["Content-Type"].startswith("application/problem+json")
    return {"page": page.status_code, "export": export.status_code, "api": api.status_code}


def expected(streets: set[str], street: str) -> dict:
    status = 200 if street in streets else 404
    return {"page": status, "export": status, "api": status}


def test_every_demo_role_reads_its_own_street_only_and_the_district_every_street(client, demo):
    # Given the demo district, its two streets and a login of every role
    users = {u.username: u for u in get_user_model().objects.filter(username__in=READS)}
    assert sorted(users) == sorted(READS)
    seen, wanted = {}, {}
    for who, streets in READS.items():
        client.force_login(users[who])
        for street in (HH, FZM):
            # When each asks for each street's page, export and API
            seen[who, street] = answers(client, street)
            wanted[who, street] = expected(streets, street)
    # Then exactly its own street answers, and every other one is a 404
    assert seen == wanted


def test_a_district_grant_opens_its_streets_and_a_role_without_a_grant_opens_none(client, demo):
    # Given a district administrator granted the district (not a superuser), one granted
    # nothing, and a user of no role at all
    district = Region.objects.get(code="320104")
    granted = UserFactory(username="district_granted", roles=[Role.DISTRICT_ADMIN])
    access_grant(user=granted, container=district)
    role_only = UserFactory(username="district_role_only", roles=[Role.DISTRICT_ADMIN])
    nobody = UserFactory(username="nobody")
    # When each asks for both streets
    seen = {}
    for user in (granted, role_only, nobody):
        client.force_login(user)
        for street in (HH, FZM):
            seen[user.username, street] = answers(client, street)
    # Then the district's grant opens both, the role alone (rights are on containers) and
    # nothing at all open none
    assert seen == {
        ("district_granted", HH): expected({HH, FZM}, HH),
        ("district_granted", FZM): expected({HH, FZM}, FZM),
        ("district_role_only", HH): expected(set(), HH),
        ("district_role_only", FZM): expected(set(), FZM),
        ("nobody", HH): expected(set(), HH),
        ("nobody", FZM): expected(set(), FZM),
    }


def test_an_unknown_code_and_a_community_are_the_same_404_even_for_the_district(client, demo):
    client.force_login(get_user_model().objects.get(username="district_admin"))
    community = Region.objects.filter(parent__code=HH).values_list("code", flat=True).first()
    for code in ("999999999", community):
        assert answers(client, code) == {"page": 404, "export": 404, "api": 404}, code


def test_anonymous_is_sent_to_log_in_and_api_keys_read_no_street(client, demo):
    # Given no login
    for url in (f"/powers/usage/{HH}/", f"/powers/usage/{HH}/export.xlsx"):
        # Then the pages send to the login page, as before
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (
            302,
            f"/accounts/login/?next={url}",
        )
    assert client.get("/api/v1/powers/usage/", {"street": HH, **period()}).status_code == 401
    # Given the API keys of a department and of the 12345 hotline
    _, department_key = api_key_create(department=Department.objects.get(code="CG"), name="城管")
    _, hotline_key = api_key_create(source=CaseSource.HOTLINE_12345, name="12345")
    for key in (department_key, hotline_key):
        for street in (HH, FZM):
            # When either asks for a street's usage
            response = client.get(
                "/api/v1/powers/usage/",
                {"street": street, **period()},
                headers={"authorization": f"Api-Key {key}"},
            )
            # Then no street is theirs
            assert response.status_code == 404, (key[:8], street)


def test_the_page_the_export_and_the_api_read_a_fixed_number_of_queries(
    client, demo, django_assert_max_num_queries
):
    # Given a grid worker (the longest way to a street: cell, community, street) and the demo's
    # 274 items, dozens of them unused and several matters met without the power
    client.force_login(get_user_model().objects.get(username="hh_grid"))
    for url, query in [
        (f"/powers/usage/{HH}/", {}),
        (f"/powers/usage/{HH}/export.xlsx", {}),
        ("/api/v1/powers/usage/", {"street": HH, **period()}),
    ]:
        # Then each reads a handful of queries, none per item
        with django_assert_max_num_queries(20):
            assert client.get(url, query).status_code == 200, url
