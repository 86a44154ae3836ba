from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    """The administrative tree, with the length of the official code at each level: the 6-digit
    division code of the district, then 3 digits for the street, then 3 for the community."""

    DISTRICT = "district", _("District")
    STREET = "street", _("Street / township")
    COMMUNITY = "community", _("Community / village")


# Length of the official code of a region at each level (GB/T 2260 division code + 3 + 3).
REGION_CODE_LENGTH = {
    RegionLevel.DISTRICT: 6,
    RegionLevel.STREET: 9,
    RegionLevel.COMMUNITY: 12,
}
# The level a region's parent must have.
REGION_PARENT_LEVEL = {
    RegionLevel.DISTRICT: None,
    RegionLevel.STREET: RegionLevel.DISTRICT,
    RegionLevel.COMMUNITY: RegionLevel.STREET,
}


class GridLevel(models.TextChoices):
    """Jiangsu's one net (seed 003): first-level cells, each holding comprehensive cells. Cases
    land in comprehensive cells."""

    FIRST_LEVEL = "first_level", _("First-level grid")
    COMPREHENSIVE = "comprehensive", _("Comprehensive grid")


class GridRole(models.TextChoices):
    """一长五员: the head of a grid and the five kinds of members (DESIGN.md, grids)."""

    LEADER = "leader", _("Grid head")  # 网格长
    GRID_WORKER = "grid_worker", _("Grid worker")  # 网格员
    INSPECTOR = "inspector", _("Supervisor")  # 督查员
    INFORMANT = "informant", _("Information officer")  # 信息员
    LIAISON = "liaison", _("Liaison officer")  # 联络员
    PATROLLER = "patroller", _("Patroller")  # 巡查员


class SubjectKind(models.TextChoices):
    """Kinds of inspected parties in the directory (市场主体名录库 / 检查对象名录库)."""

    STREET_SHOP = "street_shop", _("Street shop")  # 沿街商铺
    CATERING = "catering", _("Restaurant")  # 餐饮单位
    CONSTRUCTION_SITE = "construction_site", _("Construction site")  # 建筑工地
    RESIDENTIAL_COMPOUND = "residential_compound", _("Residential compound")  # 住宅小区
    PROPERTY_COMPANY = "property_company", _("Property management company")  # 物业公司
    ENTERPRISE = "enterprise", _("Enterprise")  # 企业
    MARKET = "market", _("Market")  # 集贸市场
    KEY_PROTECTED_UNIT = "key_protected_unit", _("Key protected unit")  # 重点保护单位


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low risk")
    MEDIUM = "medium", _("Medium risk")
    HIGH = "high", _("High risk")


class Crs(models.TextChoices):
    """Coordinate systems a client may send; everything is stored in WGS-84."""

    WGS84 = "wgs84", _("WGS-84 (GPS)")
    GCJ02 = "gcj02", _("GCJ-02 (AMap, Tencent)")
    BD09 = "bd09", _("BD-09 (Baidu)")
