"""The standard matter types (事项类型) of street enforcement, with their usual handling (the
seeds' 70/20/10 of service, management and enforcement) and the codes of the power items in the
district's list that may apply (codes of powers/data/sample_catalogue.csv; an installation with
its own list maps its codes in the admin). Loaded by ``manage.py matter_types_load``."""

from enforcement.choices import HandlingMode, Severity

S, M, E = HandlingMode.SERVICE, HandlingMode.MANAGEMENT, HandlingMode.ENFORCEMENT
O, J = Severity.ORDINARY, Severity.MAJOR  # noqa: E741 -- short names keep the table readable

# (code, name, handling, severity, power item codes)
MATTER_TYPES = [
    ("ZDJY", "占道经营", M, O, ["SR-014", "SZ-001"]),
    ("LDTF", "流动摊贩", M, O, ["SR-015"]),
    ("DWJY", "店外经营", M, O, ["SR-016"]),
    ("WJDP", "违建搭棚", E, O, ["SR-011", "GH-003"]),
    ("WFJS", "违法建设", E, J, ["GH-001", "GH-002"]),
    ("LSWG", "临时建筑逾期未拆", E, O, ["GH-005"]),
    ("TPWS", "偷排污水", E, O, ["SZ-013", "SZ-014"]),
    ("YSHJ", "雨污混接", E, O, ["SZ-012"]),
    ("YYRM", "油烟扰民", E, O, ["SR-035", "SR-036"]),
    ("ZTSL", "渣土撒漏", E, O, ["SR-019", "SR-020"]),
    ("JZLJ", "建筑垃圾乱倒", E, O, ["SR-021", "SR-028"]),
    ("SGYC", "施工扬尘", E, O, ["JS-001", "JS-002"]),
    ("YJSG", "夜间施工噪声", E, O, ["JS-006", "JS-005"]),
    ("GBLB", "商业高音喇叭", M, O, ["SR-040", "SR-041"]),
    ("GCWY", "广场舞噪声", S, O, ["SR-042"]),
    ("ZXZS", "装修噪声", S, O, ["SR-043"]),
    ("LTSK", "露天烧烤", M, O, ["SR-037"]),
    ("FSLJ", "焚烧垃圾落叶", M, O, ["SR-038", "SR-039"]),
    ("LZTX", "乱张贴乱涂写", S, O, ["SR-002", "SR-003"]),
    ("HWGG", "户外广告违规", M, O, ["SR-010"]),
    ("DZPS", "店招店牌破损", S, O, ["SR-017"]),
    ("HFTF", "违规横幅条幅", M, O, ["SR-018"]),
    ("LDLF", "乱堆乱放", S, O, ["SR-011"]),
    ("YTDF", "阳台窗外堆放吊挂", S, O, ["SR-004"]),
    ("BLLJ", "暴露垃圾", S, O, ["SR-005", "SR-006"]),
    ("LJFL", "垃圾分类投放不规范", M, O, ["SR-030"]),
    ("CYLJ", "厨余垃圾违规处置", M, O, ["SR-031"]),
    ("HLZL", "毁绿占绿", E, O, ["YL-001", "YL-007"]),
    ("KFSM", "擅自砍伐树木", E, O, ["YL-002"]),
    ("WJDL", "擅自挖掘道路", E, O, ["SZ-002", "SZ-011"]),
    ("SHSS", "损坏市政设施", E, O, ["SR-013", "SZ-016"]),
    ("JGQS", "井盖缺损", S, O, ["SZ-007"]),
    ("ZMSS", "照明设施私接乱挂", M, O, ["SZ-019", "SZ-020"]),
    ("RQYH", "燃气使用隐患", M, O, ["SZ-023", "SZ-025", "YJ-004"]),
    ("DDCC", "电动车楼道停放充电", M, O, ["YJ-015"]),
    ("XFTD", "消防通道堵塞", M, O, ["YJ-011", "YJ-012"]),
    ("WYFW", "物业服务违规", S, O, ["JS-020", "JS-022", "JS-023"]),
    ("WZWZ", "无证无照经营", E, O, ["SC-001"]),
    ("SPWZ", "食品无证经营", E, O, ["SC-005"]),
    ("CZWG", "违规群租", M, O, ["JS-017", "JS-016"]),
    ("ZXCZ", "擅改房屋承重结构", E, J, ["JS-010", "JS-009"]),
    ("GDWD", "工地围挡不规范", M, O, ["SR-008", "JS-001"]),
    ("GDYH", "生产经营安全隐患", M, J, ["YJ-005", "YJ-006"]),
    ("HDLJ", "河道倾倒垃圾", E, O, ["HB-009"]),
    ("YWQT", "异味废气扰民", E, O, ["HB-001", "HB-006"]),
]
