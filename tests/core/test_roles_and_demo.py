"""Roles are groups made by a data migration; seed_demo builds a demo district idempotently."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.http import HttpRequest

from core.choices import Role
from grids.choices import RegionLevel
from grids.models import Region

pytestmark = pytest.mark.django_db


def test_every_role_is_a_group_after_migrating():
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)
    assert len(Role.values) == 8


def test_seed_demo_creates_a_district_with_two_streets_and_a_user_for_every_role(capsys):
    call_command("seed_demo", cases=0)

    district = Region.objects.get(level=RegionLevel.DISTRICT)
    assert district.name == "秦淮区"
    assert sorted(district.children.values_list("name", flat=True)) == ["夫子庙街道", "红花街道"]
    users = get_user_model().objects.filter(groups__name__in=Role.values)
    assert {g for u in users for g in u.groups.values_list("name", flat=True)} == set(Role.values)
    out = capsys.readouterr().out
    assert "Demo logins (password: shaoxiang-demo):" in out
    assert "district_admin" in out


def test_seed_demo_twice_changes_nothing_and_keeps_changed_passwords(capsys):
    call_command("seed_demo", cases=0)
    capsys.readouterr()
    user = get_user_model().objects.get(username="hh_officer")
    user.set_password("changed-by-officer")
    user.save()
    # Each run makes new demo API keys, each with its system user (a key is shown only once).
    people = get_user_model().objects.exclude(username__startswith="apikey-")
    counts = (Region.objects.count(), people.count(), Group.objects.count())

    call_command("seed_demo", cases=0)

    assert (Region.objects.count(), people.count(), Group.objects.count()) == counts
    assert get_user_model().objects.get(username="hh_officer").check_password("changed-by-officer")
    summary = next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("Demo data ready")
    )
    assert re.match(r"Demo data ready in [\d.]+ s \(users \+0, regions \+0", summary), summary
    assert re.findall(r"\+(\d+)", summary) == ["0"] * len(re.findall(r"\+(\d+)", summary))


def test_demo_users_log_in_with_the_printed_password(client, demo):
    # django-axes checks every login against its lockouts and needs the request for it.
    assert client.login(request=HttpRequest(), username="hh_command", password="shaoxiang-demo")


def test_only_the_district_admin_is_staff(demo):
    staff = get_user_model().objects.filter(is_staff=True)
    assert list(staff.values_list("username", flat=True)) == ["district_admin"]
