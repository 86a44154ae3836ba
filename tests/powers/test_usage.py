"""The usage report: uses per held item, zombie items, unmet demand, the 三高两易 ranking, and
its Excel export."""

from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook

from grids.models import Region
from powers.choices import UsageKind
from powers.exports import usage_report_workbook
from powers.selectors import power_usage_report
from powers.services import catalogue_publish, power_usage_record
from tests.factories.powers import DepartmentFactory, PowerItemFactory
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db
END = date(2026, 10, 31)


@pytest.fixture
def setting(street):
    """Five held items since 2024; two unheld environmental items; uses and unmet demand."""
    held = [PowerItemFactory(code=f"SR-00{n}", score_frequency=5) for n in range(1, 6)]
    held[4].name = '=HYPERLINK("http://x","点我")'  # a name a spreadsheet would run
    held[4].save()
    environment = DepartmentFactory(code="HB", name="南京市秦淮生态环境局")
    fumes = PowerItemFactory(
        code="HB-001",
        name="对餐饮油烟直排的行政处罚",
        department=environment,
        score_frequency=5,
        score_integration=5,
        score_demand=5,
        score_detect=4,
        score_handle=4,
    )
    sewage = PowerItemFactory(
        code="HB-002", name="对向雨水管网排放污水的行政处罚", department=environment
    )
    catalogue_publish(
        street=street, items=held, effective_on=date(2024, 1, 1), notice_number="秦政发〔2023〕88号"
    )
    uses = {
        "SR-001": [date(2026, 3, 1), date(2026, 9, 9), date(2026, 10, 30)],
        "SR-002": [date(2026, 1, 5)],
        "SR-003": [date(2025, 6, 1)],
    }  # SR-003 last used 17 months before END
    for code, days in uses.items():
        for n, day in enumerate(days):
            power_usage_record(
                street=street,
                item=next(i for i in held if i.code == code),
                kind=UsageKind.USED,
                occurred_on=day,
                reference=f"HH-{code}-{n}",
            )
    for n in range(4):
        power_usage_record(
            street=street,
            item=fumes,
            kind=UsageKind.WHISTLED,
            occurred_on=date(2026, 5, n + 1),
            reference=f"HH-2026-{n:05d}",
        )
    power_usage_record(
        street=street,
        item=fumes,
        kind=UsageKind.REFUSED,
        occurred_on=date(2026, 6, 1),
        reference="HH-2026-00100",
    )
    power_usage_record(
        street=street,
        item=sewage,
        kind=UsageKind.WHISTLED,
        occurred_on=date(2026, 7, 1),
        reference="HH-2026-00200",
    )
    return street


def test_uses_zombies_unmet_demand_and_candidates(setting):
    report = power_usage_report(street=setting, start=date(2025, 11, 1), end=END)

    assert [(u.item.code, u.uses) for u in report.uses] == [
        ("SR-001", 3),
        ("SR-002", 1),
        ("SR-003", 0),
        ("SR-004", 0),
        ("SR-005", 0),
    ]
    assert (report.held, report.used) == (5, 2)
    assert [u.item.code for u in report.zombies] == ["SR-003", "SR-004", "SR-005"]
    assert [z.last_used for z in report.zombies] == [date(2025, 6, 1), None, None]
    assert [(d.item.code, d.whistled, d.refused, d.total) for d in report.unmet] == [
        ("HB-001", 4, 1, 5),
        ("HB-002", 1, 0, 1),
    ]
    assert [(c.item.code, c.score, c.unmet) for c in report.candidates] == [
        ("HB-001", 23, 5),
        ("HB-002", 15, 1),
    ]


def test_recording_the_same_fact_twice_counts_once(setting):
    item = setting.catalogue_versions.get().items.get(code="SR-002")
    power_usage_record(
        street=setting,
        item=item,
        kind=UsageKind.USED,
        occurred_on=date(2026, 1, 5),
        reference="HH-SR-002-0",
    )

    report = power_usage_report(street=setting, start=date(2025, 11, 1), end=END)
    assert {u.item.code: u.uses for u in report.uses}["SR-002"] == 1


def test_items_held_for_less_than_the_window_are_not_zombies(setting):
    later = PowerItemFactory(code="SR-009")
    version = setting.catalogue_versions.get()
    catalogue_publish(
        street=setting,
        items=[*version.items.all(), later],
        effective_on=date(2026, 9, 1),
        notice_number="x",
    )

    report = power_usage_report(street=setting, start=date(2025, 11, 1), end=END)
    assert "SR-009" in [u.item.code for u in report.uses]
    assert "SR-009" not in [u.item.code for u in report.zombies]


def test_the_excel_export_opens_and_a_name_starting_with_equals_stays_text(setting):
    buffer = BytesIO()
    usage_report_workbook(
        power_usage_report(street=setting, start=date(2025, 11, 1), end=END), buffer
    )

    workbook = load_workbook(BytesIO(buffer.getvalue()))
    assert workbook.sheetnames == ["概况", "使用情况", "僵尸事项", "未满足需求", "候选事项"]
    zombies = workbook["僵尸事项"]
    names = [row[1].value for row in zombies.iter_rows(min_row=2)]
    cell = next(row[1] for row in zombies.iter_rows(min_row=2) if row[0].value == "SR-005")
    assert cell.data_type == "s"
    assert cell.value == '\'=HYPERLINK("http://x","点我")'
    assert len(names) == 3
    unmet = [[c.value for c in row] for row in workbook["未满足需求"].iter_rows(min_row=2)]
    assert unmet[0] == ["HB-001", "对餐饮油烟直排的行政处罚", "南京市秦淮生态环境局", 4, 1, 5]


def street_leader(street):
    """A street leader of ``street``: granted its cases, so its usage (powers.permissions)."""
    from enforcement.permissions import access_grant

    leader = UserFactory(username="leader", roles=["street_leader"])
    access_grant(user=leader, container=street)
    return leader


def test_the_report_page_and_its_export(client, setting):
    client.force_login(street_leader(setting))
    page = client.get("/powers/usage/320104010/?start=2025-11-01&end=2026-10-31")
    html = page.content.decode()
    assert page.status_code == 200
    assert "HB-001" in html and "SR-004" in html

    export = client.get("/powers/usage/320104010/export.xlsx?start=2025-11-01&end=2026-10-31")
    assert (
        export["Content-Type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert load_workbook(BytesIO(export.content))["候选事项"]["B2"].value == "HB-001"

    assert client.get("/powers/usage/320104010/?start=2026-12-01&end=2026-01-01").status_code == 200
    assert client.get("/powers/usage/999999999/").status_code == 404


def test_the_usage_api(client, setting):
    client.force_login(street_leader(setting))
    body = client.get(
        "/api/v1/powers/usage/?street=320104010&start=2025-11-01&end=2026-10-31"
    ).json()
    assert [z["code"] for z in body["zombies"]] == ["SR-003", "SR-004", "SR-005"]
    assert body["unmet"][0] == {
        "code": "HB-001",
        "name": "对餐饮油烟直排的行政处罚",
        "category": "SR",
        "department": "HB",
        "whistled": 4,
        "refused": 1,
        "total": 5,
    }
    assert (
        client.get(
            "/api/v1/powers/usage/?street=320104010&start=2026-12-01&end=2026-01-01"
        ).status_code
        == 400
    )
    assert (
        client.get(
            "/api/v1/powers/usage/?street=320104010&start=2025-11-01&end=2026-10-31&x=1"
        ).status_code
        == 400
    )


def test_the_demo_street_shows_zombies_unmet_demand_and_an_adjustment_under_way(demo):
    from django.utils import timezone

    from powers.models import AdjustmentRequest

    today = timezone.localdate()
    honghua = Region.objects.get(code="320104010")
    report = power_usage_report(street=honghua, start=today.replace(year=today.year - 1), end=today)

    assert report.used == 30  # Honghua used about 30 of its powers (seed 000)
    assert len(report.zombies) > 50
    assert {d.item.category.code for d in report.unmet} >= {"HB"}
    request = AdjustmentRequest.objects.get(street=honghua)
    assert [s.status for s in request.steps.order_by("order")] == ["approved", "pending", "waiting"]
    assert request.evidence["zombies"]
