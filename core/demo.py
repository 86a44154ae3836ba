"""Demo users, one or more for every role. Part of ``manage.py seed_demo``.

Passwords are set only when a user is created, so re-seeding never undoes a changed password.
Never run seed_demo on a production database: these logins are printed for anyone to read."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from core.choices import Role

# (username, role, full name, staff?) — street-level roles once per demo street, by street prefix.
DEMO_USERS = [
    ("hh_officer", Role.OFFICER, "王建军", False),
    ("hh_grid", Role.GRID_WORKER, "李秀英", False),
    ("hh_command", Role.COMMAND_CENTRE, "张伟", False),
    ("hh_leader", Role.STREET_LEADER, "刘洋", False),
    ("fzm_officer", Role.OFFICER, "陈静", False),
    ("fzm_grid", Role.GRID_WORKER, "杨磊", False),
    ("fzm_command", Role.COMMAND_CENTRE, "赵敏", False),
    ("fzm_leader", Role.STREET_LEADER, "黄强", False),
    ("dept_liaison", Role.DEPARTMENT_LIAISON, "周杰", False),
    ("legal_reviewer", Role.LEGAL_REVIEWER, "吴芳", False),
    ("district_admin", Role.DISTRICT_ADMIN, "徐明", True),
    ("hh_callback", Role.CALLBACK_CALLER, "孙丽", False),
]


# Demo cases `make run` makes over six months: about 25 a month per street, every state and
# stage shown, within the first start's three minutes; each takes about 0.2 s on SQLite
# (seed_demo --cases 3000 for more: ten minutes).
DEMO_CASES = 300


@dataclass
class DemoReport:
    """What seed_demo tells the person who ran it."""

    logins: list[tuple[str, str]] = field(default_factory=list)
    # (department, raw key): a fresh API key per demo department, printed once.
    api_keys: list[tuple[str, str]] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    # How many demo cases to make (seed_demo --cases); the tests ask for few.
    cases: int = DEMO_CASES
    # A progress bar for a long step: progress(total=, desc=) returns an object with update(n),
    # n and close() (a tqdm bar in seed_demo; a silent counter by default).
    progress: object = None

    def __post_init__(self):
        if self.progress is None:
            self.progress = _SilentProgress

    def count(self, what: str, created: bool | int) -> None:
        """Add one when ``created`` is True, or the number given."""
        self.created[what] = self.created.get(what, 0) + int(created)


class _SilentProgress:
    """What a progress bar offers, showing nothing."""

    def __init__(self, *, total: int, desc: str):
        self.total, self.desc, self.n = total, desc, 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        pass


def demo_seed(report: DemoReport) -> None:
    user_model = get_user_model()
    password = make_password(settings.DEMO_PASSWORD)  # hashed once for every demo login
    for username, role, full_name, staff in DEMO_USERS:
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                # Chinese names are written whole, family name first; get_full_name() joins
                # first and last with a space, so the whole name goes in first_name.
                "first_name": full_name,
                "is_staff": staff,
                "is_superuser": staff,
                "password": password,
            },
        )
        # get_or_create: the roles migration made the groups, but a flushed database has none
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
        report.count("users", created)
        report.logins.append((username, str(role.label)))
