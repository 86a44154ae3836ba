"""Demo territory for ``manage.py seed_demo``: Nanjing's Qinhuai district (320104, real) with two
streets, three communities each, one first-level cell per community (its 片区) holding 14
comprehensive cells, staff for every grid role, and 520 subjects with valid credit codes.

The street outlines sit where Honghua and Fuzimiao streets lie, but the cell lattice, community
names below street level, people and subjects are made up (seeded, so every run builds the same
district). Idempotent: what exists is left alone."""

from __future__ import annotations

import random

import shapely
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from grids.choices import GridLevel, GridRole, RegionLevel, RiskLevel, SubjectKind
from grids.credit_code import ALPHABET, credit_code_make
from grids.models import GridAssignment, GridCell, Region, Subject
from grids.services import SubjectInput, assignment_create, cell_save, subject_save

DISTRICT = ("320104", "秦淮区")
# code, name, prefix of usernames, (south, west, north, east) in WGS-84, communities
STREETS = [
    (
        "320104010",
        "红花街道",
        "hh",
        (31.990, 118.795, 32.010, 118.825),
        ["石门坎社区", "卡子门社区", "海福巷社区"],
    ),
    (
        "320104003",
        "夫子庙街道",
        "fzm",
        (32.015, 118.772, 32.033, 118.800),
        ["贡院社区", "钞库街社区", "琵琶街社区"],
    ),
]
AREAS = ["一片区", "二片区", "三片区"]
COLUMNS_PER_AREA, ROWS = 2, 7  # 14 comprehensive cells per first-level cell, 42 per street
SUBJECTS_PER_STREET = 260
START = "2025-01-01"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲红建国志飞鹏辉宇浩然欣悦雪梅"
SHOP_KINDS = [
    (SubjectKind.STREET_SHOP, ["便利店", "五金店", "水果店", "理发店", "服装店", "烟酒店"]),
    (SubjectKind.CATERING, ["面馆", "小吃店", "烧烤店", "鸭血粉丝汤", "快餐店"]),
    (SubjectKind.CONSTRUCTION_SITE, ["住宅项目工地", "道路改造工地", "管网工程工地"]),
    (SubjectKind.RESIDENTIAL_COMPOUND, ["小区", "花园", "新村"]),
    (SubjectKind.PROPERTY_COMPANY, ["物业管理有限公司"]),
    (SubjectKind.ENTERPRISE, ["科技有限公司", "商贸有限公司", "文化传媒有限公司"]),
    (SubjectKind.MARKET, ["农贸市场"]),
    (SubjectKind.KEY_PROTECTED_UNIT, ["文物保护单位", "学校"]),
]
ROADS = [
    "中山南路",
    "龙蟠南路",
    "应天大街",
    "来凤街",
    "瑞金路",
    "长白街",
    "剪子巷",
    "平江府路",
    "贡院街",
    "琵琶街",
]


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _lattice(bounds, rng: random.Random) -> list[list[tuple[float, float]]]:
    """(lng, lat) vertices of a 6 x 7 lattice over the street; inner vertices moved a little, so
    that cells are irregular quadrilaterals that still tile the street exactly."""
    south, west, north, east = bounds
    columns = COLUMNS_PER_AREA * len(AREAS)
    dx, dy = (east - west) / columns, (north - south) / ROWS
    points = []
    for j in range(ROWS + 1):
        row = []
        for i in range(columns + 1):
            lng, lat = west + i * dx, south + j * dy
            if 0 < i < columns and 0 < j < ROWS:
                lng += rng.uniform(-0.2, 0.2) * dx
                lat += rng.uniform(-0.2, 0.2) * dy
            row.append((round(lng, 7), round(lat, 7)))
        points.append(row)
    return points


def _polygon(shape) -> dict:
    return shapely.geometry.mapping(shapely.geometry.polygon.orient(shape))


def demo_seed(report) -> None:
    rng = random.Random(20261121)  # noqa: S311 -- reproducible demo data, not a secret
    district, created = Region.objects.get_or_create(
        code=DISTRICT[0], defaults={"level": RegionLevel.DISTRICT, "name": DISTRICT[1]}
    )
    report.count("regions", created)
    password = make_password(settings.DEMO_PASSWORD)  # hashed once: hundreds of staff users
    user_model = get_user_model()
    for street_code, street_name, prefix, bounds, communities in STREETS:
        street, created = Region.objects.get_or_create(
            code=street_code,
            defaults={"level": RegionLevel.STREET, "name": street_name, "parent": district},
        )
        report.count("regions", created)
        lattice = _lattice(bounds, rng)
        cells: list[GridCell] = []
        for a, (area, community_name) in enumerate(zip(AREAS, communities, strict=True)):
            community, created = Region.objects.get_or_create(
                code=f"{street_code}{a + 1:03d}",
                defaults={"level": RegionLevel.COMMUNITY, "name": community_name, "parent": street},
            )
            report.count("regions", created)
            quads = []
            for j in range(ROWS):
                for i in range(a * COLUMNS_PER_AREA, (a + 1) * COLUMNS_PER_AREA):
                    ring = [
                        lattice[j][i],
                        lattice[j][i + 1],
                        lattice[j + 1][i + 1],
                        lattice[j + 1][i],
                    ]
                    quads.append(shapely.Polygon(ring))
            first_code = f"{community.code}000"
            first = GridCell.objects.filter(code=first_code).first()
            if first is None:
                first = cell_save(
                    code=first_code,
                    name=f"{community_name}{area}",
                    level=GridLevel.FIRST_LEVEL,
                    community=community,
                    area=area,
                    geometry=_polygon(shapely.union_all(quads)),
                ).cell
                report.count("grid cells", True)
            for n, quad in enumerate(quads, start=1):
                code = f"{community.code}{n:03d}"
                cell = GridCell.objects.filter(code=code).first()
                if cell is None:
                    cell = cell_save(
                        code=code,
                        name=f"{community_name}第{n}网格",
                        level=GridLevel.COMPREHENSIVE,
                        community=community,
                        area=area,
                        parent=first,
                        geometry=_polygon(quad),
                    ).cell
                    report.count("grid cells", True)
                cells.append(cell)
            _staff(
                first,
                [c for c in cells if c.parent_id == first.pk],
                prefix,
                a,
                password,
                rng,
                report,
            )
        _subjects(street, cells, rng, report)
    # The printed grid-worker logins work in the first cell of their street.
    for prefix, community_code in (("hh", "320104010001"), ("fzm", "320104003001")):
        user = user_model.objects.filter(username=f"{prefix}_grid").first()
        cell = GridCell.objects.get(code=f"{community_code}001")
        if user and not GridAssignment.objects.filter(user=user, cell=cell).exists():
            assignment_create(user=user, cell=cell, role=GridRole.GRID_WORKER, starts_on=START)


def _staff(
    first: GridCell, cells: list[GridCell], prefix: str, area: int, password: str, rng, report
) -> None:
    """一长五员: a head and a grid worker in every comprehensive cell; a supervisor, an information
    officer, a liaison and a patroller for the area's first-level cell."""
    user_model = get_user_model()

    def person(username: str):
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"first_name": _person(rng), "password": password}
        )
        report.count("grid staff", created)
        return user

    for cell in cells:
        seq = cell.code[-3:]
        for role, tag in ((GridRole.LEADER, "head"), (GridRole.GRID_WORKER, "worker")):
            user = person(f"{prefix}_a{area + 1}_{seq}_{tag}")
            if not GridAssignment.objects.filter(cell=cell, role=role, ends_on=None).exists():
                assignment_create(user=user, cell=cell, role=role, starts_on=START)
    for role in (GridRole.INSPECTOR, GridRole.INFORMANT, GridRole.LIAISON, GridRole.PATROLLER):
        user = person(f"{prefix}_a{area + 1}_{role.value}")
        if not GridAssignment.objects.filter(cell=first, role=role, user=user).exists():
            assignment_create(user=user, cell=first, role=role, starts_on=START)


def _subjects(street: Region, cells: list[GridCell], rng: random.Random, report) -> None:
    """Shops, sites, compounds … at random points of the street's cells, each with a valid code."""
    if Subject.objects.filter(cell__community__parent=street).count() >= SUBJECTS_PER_STREET:
        return
    existing = set(Subject.objects.values_list("credit_code", flat=True))
    for _ in range(SUBJECTS_PER_STREET):
        kind, names = rng.choice(SHOP_KINDS)
        cell = rng.choice(cells)
        shape = shapely.geometry.shape(cell.geometry)
        while True:
            min_lng, min_lat, max_lng, max_lat = shape.bounds
            lng, lat = rng.uniform(min_lng, max_lng), rng.uniform(min_lat, max_lat)
            if shape.contains(shapely.Point(lng, lat)):
                break
        body = "".join(rng.choice(ALPHABET) for _ in range(8))
        code = credit_code_make("9", "1", "320104", body)
        if code in existing:
            continue
        existing.add(code)
        road = rng.choice(ROADS)
        subject_save(
            data=SubjectInput(
                kind=kind,
                name=f"{street.name[:2]}{_person(rng)}{rng.choice(names)}",
                address=f"南京市秦淮区{road}{rng.randint(1, 399)}号",
                lat=round(lat, 7),
                lng=round(lng, 7),
                credit_code=code,
                risk_level=rng.choices(RiskLevel.values, weights=(70, 22, 8))[0],
                contact_name=_person(rng),
                contact_phone=f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}",
            )
        )
        report.count("subjects", True)
