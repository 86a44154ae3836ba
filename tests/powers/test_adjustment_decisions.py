"""Who decides a step of a power-list adjustment (powers.permissions.step_decide_check), replayed
as the security review's requests: another street's leader, the wrong role of the right street,
the proposer approving their own request, one person deciding two steps; and the rightful
deciders, who publish the version."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from powers.models import CatalogueVersion
from powers.services import adjustment_approve, adjustment_submit, catalogue_publish
from tests.factories.grids import StreetFactory
from tests.factories.powers import PowerItemFactory
from tests.factories.users import UserFactory
from tests.factories.users import region_holder as holder
from tests.powers.people import chain_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client):
    honghua = StreetFactory()
    fuzimiao = StreetFactory(code="320104003", name="夫子庙街道", parent=honghua.parent)
    items = [PowerItemFactory() for _ in range(4)]
    catalogue_publish(
        street=honghua, items=items[:2], effective_on=date(2024, 1, 1), notice_number="秦政发1号"
    )
    hh, fzm = chain_people(honghua), chain_people(fuzimiao, prefix="fzm")
    with time_machine.travel(date(2026, 11, 21), tick=False):
        request = adjustment_submit(
            street=honghua,
            title="调整",
            justification="需求突出",
            adds=items[2:3],
            revokes=items[:1],
            effective_on=date(2027, 1, 1),
            actor=hh.command,
        )
        yield {
            "client": client,
            "honghua": honghua,
            "request": request,
            "hh": hh,
            "fzm": fzm,
            "url": f"/api/v1/powers/adjustments/{request.pk}/",
        }


def approve(client, user, url, **body):
    client.force_login(user)
    return client.post(
        f"{url}approve/", body, content_type="application/json", headers={"Accept-Language": "en"}
    )


def reject(client, user, url):
    client.force_login(user)
    return client.post(f"{url}reject/", {"comment": "不同意"}, content_type="application/json")


def test_another_streets_leader_neither_sees_nor_decides_the_request(world):
    client, url, hh, fzm = world["client"], world["url"], world["hh"], world["fzm"]
    assert approve(client, hh.leader, url).status_code == 200  # pending at the district step

    # the review's proof: 夫子庙's leader approving 红花's request twice
    assert approve(client, fzm.leader, url).status_code == 404
    assert approve(client, fzm.leader, url, notice_number="x").status_code == 404
    assert reject(client, fzm.leader, url).status_code == 404
    client.force_login(fzm.leader)
    assert client.get("/api/v1/powers/adjustments/").json() == []
    # and in the service (a page or a command would ask the same rule)
    with pytest.raises(PermissionDenied):
        adjustment_approve(request=world["request"], actor=fzm.leader)
    assert world["request"].steps.get(level="district").decided_by is None
    assert CatalogueVersion.objects.filter(street=world["honghua"]).count() == 1


def test_the_wrong_role_of_the_right_street_is_refused(world):
    client, url, hh = world["client"], world["url"], world["hh"]
    # the street's command centre has no right to decide; the district may not take the
    # street's step; an officer of the street neither
    officer = holder("hh_officer", "officer", world["honghua"])
    for user in (hh.command, hh.district, officer):
        response = approve(client, user, url)
        assert response.status_code in (403, 404), (user, response.content)
    response = approve(client, hh.district, url)
    assert response.status_code == 403
    assert response.json()["detail"] == "The Street step is decided by a Street leader."
    # a street leader without the street (no grant)
    stray = UserFactory(username="stray_leader", roles=["street_leader"])
    assert approve(client, stray, url).status_code == 404
    # the leader, at the district step, is not the district
    assert approve(client, hh.leader, url).status_code == 200
    assert approve(client, hh.leader, url).status_code == 403


def test_the_proposer_does_not_approve_their_own_request(world):
    client, hh = world["client"], world["hh"]
    # a leader may propose too, but then another leader of the street decides its step
    client.force_login(hh.leader)
    created = client.post(
        "/api/v1/powers/adjustments/",
        {
            "street": world["honghua"].code,
            "title": "再调整",
            "justification": "需求",
            "adds": [world["request"].changes.first().item.code],
            "effective_on": "2027-02-01",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    url = f"/api/v1/powers/adjustments/{created.json()['id']}/"
    response = approve(client, hh.leader, url)
    assert response.status_code == 403
    assert "proposed" in response.json()["detail"]
    second = holder("hh_leader2", "street_leader", world["honghua"])
    assert approve(client, second, url).status_code == 200


def test_one_person_decides_one_step_of_a_request(world):
    client, url, hh = world["client"], world["url"], world["hh"]
    assert approve(client, hh.leader, url).status_code == 200
    assert approve(client, hh.district, url).status_code == 200
    # the district's administrator again, for the city's step
    response = approve(client, hh.district, url, notice_number="宁政复〔2026〕12号")
    assert response.status_code == 403
    assert "two" in response.json()["detail"]
    # a superuser is bound by it too
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    adjustment_approve(request=world["request"], actor=root, notice_number="宁政复〔2026〕12号")
    world["request"].refresh_from_db()
    assert world["request"].status == "published"


def test_the_rightful_deciders_publish_the_version(world):
    client, url, hh = world["client"], world["url"], world["hh"]
    assert approve(client, hh.leader, url, comment="同意").status_code == 200
    assert approve(client, hh.district, url, comment="同意上报").status_code == 200
    done = approve(client, hh.city, url, notice_number="宁政复〔2026〕12号")
    assert done.status_code == 200, done.content
    assert (done.json()["status"], done.json()["published_version"]) == ("published", 2)
    assert [s["decided_by"] for s in done.json()["steps"]] == [
        "hh_leader",
        "district_admin",
        "district_office",
    ]


def test_a_street_outside_ones_grants_is_not_proposed_for(world):
    client, fzm = world["client"], world["fzm"]
    client.force_login(fzm.command)
    response = client.post(
        "/api/v1/powers/adjustments/",
        {
            "street": world["honghua"].code,
            "title": "x",
            "justification": "y",
            "revokes": [world["request"].changes.get(action="revoke").item.code],
            "effective_on": "2027-02-01",
        },
        content_type="application/json",
    )
    assert response.status_code == 403
