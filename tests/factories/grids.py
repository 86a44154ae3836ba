"""Regions, cells and subjects of the net. Cells and subjects are written through grids.services,
so that polygons are validated, bounding boxes derived, the net's version bumped and subjects
placed into their cell, as in production."""

import factory

from grids.choices import GridLevel, RegionLevel, RiskLevel, SubjectKind
from grids.credit_code import credit_code_make
from grids.models import GridCell, Region, Subject
from grids.services import SubjectInput, cell_save, subject_save

# Near Honghua street, Qinhuai district, Nanjing (grids.demo).
LAT, LNG = 32.0, 118.79


def square(lat: float = LAT, lng: float = LNG, half: float = 0.005) -> dict:
    """A GeoJSON Polygon: the square of side 2 * ``half`` degrees centred on (lat, lng)."""
    west, east, south, north = lng - half, lng + half, lat - half, lat + half
    return {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [east, south], [east, north], [west, north], [west, south]]
        ],
    }


def credit_code(n: int) -> str:
    """The n-th valid unified social credit code of a Qinhuai enterprise; its organisation code
    starts with letters (MA), as recent ones do, so that case matters."""
    return credit_code_make("9", "1", "320104", f"MA{n:06d}")


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ["code"]

    level = RegionLevel.DISTRICT
    code = "320104"
    name = "秦淮区"


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ["code"]

    level = RegionLevel.STREET
    parent = factory.SubFactory(DistrictFactory)
    code = factory.LazyAttribute(lambda o: f"{o.parent.code}010")
    name = "红花街道"


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ["code"]

    level = RegionLevel.COMMUNITY
    parent = factory.SubFactory(StreetFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.parent.code}{n % 999 + 1:03d}")
    name = factory.Sequence(lambda n: f"石门坎{n}社区")


class _CellFactory(factory.Factory):
    """Builds the keyword arguments of cell_save; ``lat``, ``lng`` and ``half`` place the square."""

    class Meta:
        model = GridCell

    class Params:
        lat = LAT
        lng = LNG
        half = 0.005

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"第{n}网格")
    area = ""
    geometry = factory.LazyAttribute(lambda o: square(o.lat, o.lng, o.half))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return cell_save(**kwargs).cell


class FirstLevelCellFactory(_CellFactory):
    class Params:
        half = 0.02

    level = GridLevel.FIRST_LEVEL
    code = factory.LazyAttribute(lambda o: f"{o.community.code}000")


class ComprehensiveCellFactory(_CellFactory):
    """By default in a first-level cell of its own, four times as wide, around the same centre."""

    level = GridLevel.COMPREHENSIVE
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.community.code}{n % 998 + 1:03d}")
    parent = factory.SubFactory(
        FirstLevelCellFactory,
        community=factory.SelfAttribute("..community"),
        lat=factory.SelfAttribute("..lat"),
        lng=factory.SelfAttribute("..lng"),
        half=factory.LazyAttribute(lambda o: o.factory_parent.half * 4),
    )


class SubjectInputFactory(factory.Factory):
    """A valid SubjectInput at the default cell's centre."""

    class Meta:
        model = SubjectInput

    kind = SubjectKind.STREET_SHOP
    name = factory.Sequence(lambda n: f"红花便利店{n}")
    address = factory.Sequence(lambda n: f"南京市秦淮区应天大街{n}号")
    lat = LAT
    lng = LNG
    credit_code = factory.Sequence(lambda n: credit_code(n + 1))
    risk_level = RiskLevel.LOW
    contact_name = "王伟"
    contact_phone = "13812345678"


class SubjectFactory(SubjectInputFactory):
    class Meta:
        model = Subject

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return subject_save(data=SubjectInput(**kwargs))
