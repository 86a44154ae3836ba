"""The case admin: no editing, but the command centre's bulk steps as actions that go through
the workflow and report each refusal."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from guardian.shortcuts import assign_perm

from enforcement.choices import CaseSource, CaseStatus, EventKind, HandlingMode
from enforcement.models import Case, MatterType
from enforcement.services import case_intake
from grids.permissions import REGION_PERMISSION
from tests.factories.grids import LAT, LNG, ComprehensiveCellFactory
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases():
    ComprehensiveCellFactory()
    matter = MatterType.objects.create(
        code="ZDJY", name="占道经营", default_handling_mode=HandlingMode.MANAGEMENT
    )
    return [
        case_intake(
            source=CaseSource.RESIDENT, matter_type=matter, description="摆摊", lat=LAT, lng=LNG
        ).case
        for _ in range(2)
    ]


def act(client, action, cases):
    return client.post(
        reverse("admin:enforcement_case_changelist"),
        {"action": action, "_selected_action": [c.pk for c in cases]},
        follow=True,
    )


def staff(*perms):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="enforcement", codename__in=perms)
    )
    return user


def test_merge_and_accept_go_through_the_workflow_and_refusals_are_reported(client, cases):
    original, duplicate = cases
    assert duplicate.likely_duplicate_of == original
    client.cookies["django_language"] = "en"
    # a staff user who may change cases but has no role of the street acts on none of them
    client.force_login(staff("view_case", "change_case"))
    page = act(client, "accept", [original])
    assert f"{original.number}: Your role may not do this." in page.content.decode()
    original.refresh_from_db()
    assert original.status == CaseStatus.REPORTED

    # the street's command centre does
    admin_user = staff("view_case", "change_case")
    admin_user.groups.add(Group.objects.get(name="command_centre"))
    assign_perm(REGION_PERMISSION, admin_user, original.street)
    client.force_login(admin_user)
    act(client, "merge_into_original", [duplicate])
    page = act(client, "accept", [original, duplicate])

    original.refresh_from_db()
    duplicate.refresh_from_db()
    assert (original.status, duplicate.status) == (CaseStatus.ACCEPTED, CaseStatus.MERGED)
    assert original.events.get(kind=EventKind.ACCEPT).actor == admin_user
    text = page.content.decode()
    assert "1 case(s) accepted." in text
    assert f"{duplicate.number}: Cannot accept a case that is merged into another case" in text


def test_viewers_get_no_actions_and_nobody_edits_a_case(client, cases):
    client.force_login(staff("view_case"))
    act(client, "accept", cases)
    assert set(Case.objects.values_list("status", flat=True)) == {CaseStatus.REPORTED}
    page = client.get(reverse("admin:enforcement_case_change", args=[cases[0].pk]))
    assert page.status_code == 200
    assert b'name="description"' not in page.content  # shown, not editable
    assert b"reporter_phone_encrypted" not in page.content


def test_the_district_admin_edits_sla_policies_and_reads_timers_and_supervisions(client, cases):
    from enforcement.models import SlaPolicy

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for name in ("slapolicy", "timer", "supervision"):
        assert client.get(reverse(f"admin:enforcement_{name}_changelist")).status_code == 200
    policy = SlaPolicy.objects.get(matter_type=None, severity="", source="", stage="accept")
    page = client.post(
        reverse("admin:enforcement_slapolicy_change", args=[policy.pk]),
        {
            "matter_type": "",
            "severity": "",
            "source": "",
            "stage": "accept",
            "amount": "2",
            "unit": "working_hours",
            "warn_percent": "75",
        },
    )
    assert page.status_code == 302, page.content.decode()[:2000]
    policy.refresh_from_db()
    assert (policy.amount, policy.unit, policy.warn_percent) == (2, "working_hours", 75)
    # timers are shown, never changed here
    timer_page = client.get(reverse("admin:enforcement_timer_changelist"))
    assert reverse("admin:enforcement_timer_add").encode() not in timer_page.content
