"""Demo enforcement data for ``manage.py seed_demo``: the standard matter types linked to the
sample power list, one team per area of each street and officers with certificates (one of them
expired, as happens), then the demo cases (enforcement.demo_cases). Idempotent."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from core.choices import Role
from enforcement.api_keys import api_keys_demo_seed
from enforcement.demo_cases import demo_cases_seed
from enforcement.models import Officer, Team
from enforcement.permissions import access_grant
from enforcement.services import matter_types_load
from grids.models import GridAssignment, Region
from powers.demo import adjustment_demo_seed
from powers.models import Department

STREETS = {"320104010": ("hh", "红花"), "320104003": ("fzm", "夫子庙")}
AREAS = ["一片区", "二片区", "三片区"]
NAMES = [
    "王建国",
    "李卫东",
    "张志强",
    "刘海涛",
    "陈晓明",
    "杨帆",
    "赵磊",
    "黄勇",
    "周斌",
    "吴昊",
    "徐军",
    "孙鹏",
]


def demo_seed(report) -> None:
    created, _linked = matter_types_load()
    report.count("matter types", created)
    user_model = get_user_model()
    officer_group, _ = Group.objects.get_or_create(name=Role.OFFICER)
    serial = 0
    for street_code, (prefix, short) in STREETS.items():
        street = Region.objects.get(code=street_code)
        for n, area in enumerate(AREAS, start=1):
            team, created = Team.objects.get_or_create(
                street=street, name=f"{short}执法{n}中队", defaults={"areas": [area]}
            )
            report.count("teams", created)
            for k in range(2):
                serial += 1
                username = f"{prefix}_t{n}_officer{k + 1}"
                user, user_created = user_model.objects.get_or_create(
                    username=username, defaults={"first_name": NAMES[(serial - 1) % len(NAMES)]}
                )
                if user_created:
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                user.groups.add(officer_group)
                # The third team's second officer lets his certificate lapse: Art. 42 refusals
                # have something to show.
                expiry = date(2025, 12, 31) if (n, k) == (3, 1) else date(2028, 6, 30)
                _, officer_created = Officer.objects.get_or_create(
                    user=user,
                    defaults={
                        "team": team,
                        "certificate_number": f"3201{serial:07d}",
                        "certificate_expires_on": expiry,
                    },
                )
                report.count("officers", officer_created)
                if team.leader_id is None:
                    # The first officer leads the team: supervisions of its cases go to them.
                    team.leader = user
                    team.save(update_fields=["leader"])
    # The printed officer logins belong to the first team of their street.
    for prefix, (street_code, name) in {
        "hh": ("320104010", "红花执法1中队"),
        "fzm": ("320104003", "夫子庙执法1中队"),
    }.items():
        user = user_model.objects.filter(username=f"{prefix}_officer").first()
        if user and not Officer.objects.filter(user=user).exists():
            serial += 1
            Officer.objects.create(
                user=user,
                team=Team.objects.get(street__code=street_code, name=name),
                certificate_number=f"3201{90 + serial:07d}",
                certificate_expires_on=date(2028, 6, 30),
            )
    access_seed(report)
    adjustment_demo_seed(report)
    # Before the cases: each demo department's system (its API key's user, a liaison granted
    # the department) is who the cases' calls and their supervisions are addressed to.
    api_keys_demo_seed(report)
    demo_cases_seed(report, count=report.cases)


# The demo's people and the containers whose cases they see (enforcement.permissions).
STREET_STAFF = {
    "320104010": ("hh_command", "hh_leader", "hh_callback"),
    "320104003": ("fzm_command", "fzm_leader"),
}
LIAISON_DEPARTMENT = ("dept_liaison", "CG")  # the liaison of the city management bureau


def access_seed(report) -> None:
    """Grant the demo users their containers: the command centre and the leader their street,
    every officer their team, every serving grid worker their cells, the liaison a department;
    the command centres may read reporters' phone numbers (each reading recorded)."""
    user_model = get_user_model()
    granted = 0
    for street_code, usernames in STREET_STAFF.items():
        street = Region.objects.get(code=street_code)
        for user in user_model.objects.filter(username__in=usernames):
            granted += access_grant(user=user, container=street)
    for officer in Officer.objects.select_related("user", "team"):
        granted += access_grant(user=officer.user, container=officer.team)
    for assignment in GridAssignment.objects.filter(ends_on=None).select_related("user", "cell"):
        granted += access_grant(user=assignment.user, container=assignment.cell)
    username, department_code = LIAISON_DEPARTMENT
    liaison = user_model.objects.filter(username=username).first()
    department = Department.objects.filter(code=department_code).first()
    if liaison and department:
        granted += access_grant(user=liaison, container=department)
    phone = Permission.objects.get(
        content_type__app_label="enforcement", codename="view_reporter_phone"
    )
    Group.objects.get_or_create(name=Role.COMMAND_CENTRE)[0].permissions.add(phone)
    report.count("access grants", granted)
