"""The demo city's fixed shape: regions, departments, halls, windows, platforms and service items.

All codes are invented (the 3299xx prefix is not a real division), so demo data can never be
mistaken for a real city's.
"""

from __future__ import annotations

from dataclasses import dataclass

CITY_CODE = "329900"
CITY_NAME = "示例市"

# District code, name, share of the city's district-level work, towns (code suffix, name).
DISTRICTS: list[tuple[str, str, float, list[tuple[str, str]]]] = [
    ("329902", "东湖区", 0.40, [("001", "湖滨街道"), ("002", "新城街道"), ("101", "东桥镇")]),
    ("329903", "西岭区", 0.30, [("001", "岭南街道"), ("002", "金山街道")]),
    ("329904", "南港区", 0.30, [("001", "港城街道"), ("101", "临江镇"), ("102", "白沙镇")]),
]

CITY_DEPARTMENTS: dict[str, str] = {
    "SCJG": "示例市市场监督管理局",
    "ZRZY": "示例市自然资源和规划局（不动产登记中心）",
    "RSJ": "示例市人力资源和社会保障局",
    "YBJ": "示例市医疗保障局",
    "GJJ": "示例市住房公积金管理中心",
    "GAJ": "示例市公安局（出入境管理支队）",
    "ZJJ": "示例市住房和城乡建设局",
    "SWJ": "国家税务总局示例市税务局",
    "JTJ": "示例市交通运输局",
}

# District department abbreviation → name pattern.
DISTRICT_DEPARTMENTS: dict[str, str] = {
    "SCJG": "{district}市场监督管理局",
    "RSJ": "{district}人力资源和社会保障局",
    "YBJ": "{district}医疗保障局",
    "GAFJ": "示例市公安局{district}分局（户籍）",
    "MZJ": "{district}民政局",
}

# Window name, department abbreviation (None: 无差别综合受理), count.
CENTER_WINDOWS: list[tuple[str, str | None, int]] = [
    ("综合受理窗口", None, 4),
    ("企业开办专区", "SCJG", 2),
    ("不动产登记窗口", "ZRZY", 4),
    ("工程建设项目审批窗口", "ZJJ", 2),
    ("社保窗口", "RSJ", 2),
    ("医保窗口", "YBJ", 2),
    ("公积金窗口", "GJJ", 3),
    ("出入境窗口", "GAJ", 3),
    ("税务窗口", "SWJ", 3),
    ("交通运输窗口", "JTJ", 1),
    ("帮办代办窗口", None, 1),
    ("综合出件窗口", None, 1),
]
HALL_WINDOWS: list[tuple[str, str | None, int]] = [
    ("综合受理窗口", None, 3),
    ("企业开办专区", "SCJG", 2),
    ("社保窗口", "RSJ", 2),
    ("医保窗口", "YBJ", 1),
    ("户籍窗口", "GAFJ", 2),
    ("婚姻登记窗口", "MZJ", 1),
    ("不动产登记窗口", "city:ZRZY", 2),
    ("税务窗口", "city:SWJ", 1),
    ("帮办代办窗口", None, 1),
    ("综合出件窗口", None, 1),
]
STATION_WINDOWS: list[tuple[str, str | None, int]] = [("综合便民服务窗口", None, 2)]

# Platform code suffix, name, kind.
PLATFORMS: list[tuple[str, str, str]] = [
    ("WSBS", "示例市网上办事大厅", "web"),
    ("ZSB", "“示例办”掌上办APP", "mobile"),
    ("ZZZD", "示例市政务服务自助终端", "kiosk"),
    ("12345", "示例市12345政务服务便民热线", "hotline"),
]

# Items whose applicants are companies (legal persons) rather than people.
BUSINESS_ITEMS = {
    "food_production",
    "special_equipment",
    "land_planning",
    "works_planning",
    "construction_permit",
    "presale_permit",
    "completion_filing",
    "hr_license",
    "fund_register",
    "new_taxpayer",
    "invoice",
    "freight_license",
    "company_setup",
    "company_change",
    "company_cancel",
    "food_business",
    "employee_insurance",
    "seal_filing",
}

ITEM_TYPES = {"XK": "行政许可", "QR": "行政确认", "GF": "行政给付", "GG": "公共服务", "QT": "其他行政权力"}


@dataclass(frozen=True)
class ItemSpec:
    """One kind of service item and how people use it."""

    key: str
    name: str
    dept: str
    type: str
    legal_days: int
    promised_days: int
    weight: float  # relative popularity
    spot: float  # share completed on the spot when handled at a window
    online: float  # share handled fully online
    mixed: float  # share applied online and finished at a window
    places: tuple[str, ...]  # center, hall, station
    batchable: bool = False
    agent: float = 0.03  # share handled by an agent (帮办代办)
    hot: float = 1.0  # how much likelier a bad review is (堵点)
    kiosk: bool = False
    hotline: bool = False


# fmt: off
CITY_ITEMS: list[ItemSpec] = [
    ItemSpec("food_production", "食品生产许可", "SCJG", "XK", 20, 10, 1.5, 0, 0.3, 0.3, ("center",)),
    ItemSpec("special_equipment", "特种设备使用登记", "SCJG", "XK", 15, 5, 1.2, 0.2, 0.4, 0.1, ("center",)),
    ItemSpec("estate_first", "国有建设用地使用权及房屋所有权首次登记", "ZRZY", "QR", 30, 5, 2.5, 0, 0.1, 0.2,
             ("center", "hall"), batchable=True, agent=0.15),
    ItemSpec("estate_transfer", "国有建设用地使用权及房屋所有权转移登记（二手房）", "ZRZY", "QR", 30, 3, 5, 0.1, 0.05,
             0.25, ("center", "hall"), agent=0.1, hot=3),
    ItemSpec("mortgage_first", "抵押权首次登记", "ZRZY", "QR", 30, 1, 4, 0.3, 0.3, 0.1, ("center", "hall"),
             batchable=True, agent=0.35),
    ItemSpec("mortgage_cancel", "抵押权注销登记", "ZRZY", "QR", 30, 0, 3.5, 0.95, 0.4, 0.05, ("center", "hall"),
             batchable=True, agent=0.3),
    ItemSpec("estate_query", "不动产登记资料查询", "ZRZY", "GG", 1, 0, 3.5, 1, 0.35, 0, ("center", "hall"), kiosk=True),
    ItemSpec("estate_correct", "不动产更正登记", "ZRZY", "QR", 30, 10, 0.6, 0, 0, 0.1, ("center",), hot=2),
    ItemSpec("land_planning", "建设用地规划许可证核发", "ZRZY", "XK", 20, 10, 0.5, 0, 0.5, 0.3, ("center",), agent=0.4),
    ItemSpec("works_planning", "建设工程规划许可证核发", "ZRZY", "XK", 20, 10, 0.7, 0, 0.5, 0.3, ("center",),
             agent=0.4, hot=2),
    ItemSpec("construction_permit", "建筑工程施工许可证核发", "ZJJ", "XK", 15, 3, 0.8, 0, 0.6, 0.2, ("center",),
             agent=0.45),
    ItemSpec("presale_permit", "商品房预售许可", "ZJJ", "XK", 20, 7, 0.3, 0, 0.4, 0.3, ("center",), agent=0.3),
    ItemSpec("completion_filing", "建设工程竣工验收备案", "ZJJ", "QT", 15, 5, 0.6, 0, 0.5, 0.2, ("center",), agent=0.3),
    ItemSpec("contract_filing", "新建商品房买卖合同网签备案", "ZJJ", "GG", 1, 0, 2, 1, 0.6, 0, ("center",),
             batchable=True),
    ItemSpec("social_card", "社会保障卡申领", "RSJ", "GG", 20, 5, 3, 0.4, 0.5, 0.1, ("center", "hall", "station")),
    ItemSpec("hr_license", "人力资源服务许可", "RSJ", "XK", 20, 10, 0.3, 0, 0.6, 0.2, ("center",)),
    ItemSpec("medical_remote", "异地就医备案", "YBJ", "GG", 1, 0, 3, 1, 0.8, 0, ("center",), hotline=True),
    ItemSpec("chronic_illness", "门诊慢特病待遇认定", "YBJ", "QR", 20, 10, 1.5, 0, 0.3, 0.2, ("center", "hall")),
    ItemSpec("fund_register", "住房公积金单位缴存登记", "GJJ", "GG", 5, 1, 1, 0.6, 0.5, 0, ("center",)),
    ItemSpec("fund_rent", "住房公积金提取（租房）", "GJJ", "GF", 3, 0, 4, 1, 0.75, 0, ("center",), kiosk=True),
    ItemSpec("fund_purchase", "住房公积金提取（购房）", "GJJ", "GF", 3, 1, 3, 0.5, 0.5, 0.1, ("center",)),
    ItemSpec("fund_loan", "住房公积金个人住房贷款", "GJJ", "GF", 15, 10, 1.5, 0, 0.1, 0.3, ("center",),
             agent=0.2, hot=2.5),
    ItemSpec("fund_proof", "住房公积金缴存证明打印", "GJJ", "GG", 1, 0, 2.5, 1, 0.5, 0, ("center",), kiosk=True),
    ItemSpec("passport", "普通护照签发", "GAJ", "XK", 7, 7, 3, 0, 0, 0.5, ("center",)),
    ItemSpec("hk_macao_permit", "往来港澳通行证签发", "GAJ", "XK", 7, 5, 3, 0, 0, 0.4, ("center",)),
    ItemSpec("hk_macao_endorse", "往来港澳通行证签注", "GAJ", "XK", 7, 0, 2, 0.8, 0.6, 0, ("center",), kiosk=True),
    ItemSpec("taiwan_permit", "往来台湾通行证签发", "GAJ", "XK", 7, 5, 0.6, 0, 0, 0.4, ("center",)),
    ItemSpec("new_taxpayer", "新办纳税人套餐式服务", "SWJ", "GG", 1, 0, 2, 1, 0.6, 0, ("center", "hall")),
    ItemSpec("deed_tax", "契税申报", "SWJ", "QT", 1, 0, 3, 1, 0.2, 0, ("center", "hall")),
    ItemSpec("invoice", "增值税发票领用", "SWJ", "GG", 1, 0, 2, 1, 0.7, 0, ("center", "hall"), kiosk=True),
    ItemSpec("freight_license", "道路货物运输经营许可", "JTJ", "XK", 20, 5, 0.5, 0, 0.6, 0.1, ("center",)),
    ItemSpec("taxi_driver", "出租汽车驾驶员从业资格证核发", "JTJ", "XK", 20, 10, 0.4, 0, 0.3, 0.3, ("center",)),
]

DISTRICT_ITEMS: list[ItemSpec] = [
    ItemSpec("company_setup", "企业设立登记", "SCJG", "XK", 3, 1, 4, 0.3, 0.6, 0.1, ("hall",), agent=0.15),
    ItemSpec("individual_setup", "个体工商户设立登记", "SCJG", "XK", 3, 0, 3, 0.9, 0.5, 0, ("hall", "station"),
             batchable=True),
    ItemSpec("company_change", "企业变更登记", "SCJG", "XK", 3, 1, 2, 0.3, 0.7, 0, ("hall",), agent=0.1),
    ItemSpec("company_cancel", "企业注销登记", "SCJG", "XK", 3, 1, 1, 0, 0.6, 0.1, ("hall",), agent=0.1, hot=2),
    ItemSpec("food_business", "食品经营许可", "SCJG", "XK", 20, 5, 2, 0, 0.5, 0.2, ("hall",), hot=1.5),
    ItemSpec("employee_insurance", "企业职工参保登记", "RSJ", "GG", 5, 0, 2, 1, 0.6, 0, ("hall",), batchable=True),
    ItemSpec("resident_pension", "城乡居民基本养老保险参保登记", "RSJ", "GG", 5, 0, 2, 1, 0.3, 0, ("hall", "station"),
             batchable=True),
    ItemSpec("unemployment", "失业保险金申领", "RSJ", "GF", 20, 5, 1.5, 0, 0.6, 0.1, ("hall", "station")),
    ItemSpec("employment_card", "就业创业证申领", "RSJ", "GG", 5, 0, 1, 1, 0.4, 0, ("hall", "station")),
    ItemSpec("resident_medical", "城乡居民基本医疗保险参保登记", "YBJ", "GG", 5, 0, 3, 1, 0.4, 0, ("hall", "station"),
             batchable=True),
    ItemSpec("medical_refund", "医疗费用手工（零星）报销", "YBJ", "GF", 20, 10, 1.5, 0, 0.2, 0.1, ("hall", "station"),
             hot=2.5),
    ItemSpec("maternity", "生育保险待遇核准支付", "YBJ", "GF", 20, 5, 1, 0, 0.5, 0, ("hall",)),
    ItemSpec("id_card", "居民身份证换领", "GAFJ", "XK", 60, 15, 4, 0, 0, 0.1, ("hall",)),
    ItemSpec("household_move", "户口迁移（投靠落户）", "GAFJ", "QR", 20, 5, 1.5, 0, 0.2, 0.2, ("hall",), hot=3),
    ItemSpec("birth_register", "出生登记", "GAFJ", "QR", 1, 0, 1.5, 1, 0.3, 0, ("hall",)),
    ItemSpec("seal_filing", "公章刻制备案", "GAFJ", "QT", 1, 0, 1.5, 1, 0.7, 0, ("hall",)),
    ItemSpec("marriage", "内地居民结婚登记", "MZJ", "QR", 1, 0, 1.5, 1, 0, 0, ("hall",)),
    ItemSpec("subsistence", "最低生活保障审核确认", "MZJ", "QR", 30, 20, 0.5, 0, 0.1, 0, ("hall", "station")),
]

# fmt: on


@dataclass(frozen=True)
class ThemeSpec:
    """一件事: items applied for together at one window (R6)."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    place: str  # center or hall
    window: str  # window name it is received at
    weight: float


# fmt: off
THEMES: list[ThemeSpec] = [
    ThemeSpec("企业开办一件事", ("company_setup", "seal_filing", "new_taxpayer"),
              ("employee_insurance", "fund_register"), "hall", "企业开办专区", 3),
    ThemeSpec("新生儿出生一件事", ("birth_register", "resident_medical"), ("social_card",),
              "hall", "综合受理窗口", 2),
    ThemeSpec("二手房交易登记一件事", ("estate_transfer", "deed_tax"), ("mortgage_first",),
              "center", "不动产登记窗口", 2),
]
# fmt: on

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国建华志强志明晓东晓燕海波"
    "海燕春梅雪梅宇轩子涵梓萱浩然欣怡思远嘉怡文博雨桐俊杰晨曦佳琪婷婷丹丹亮亮国庆立新振华德明永康建平"
)
COMPANY_BRANDS = (
    "华信",
    "恒达",
    "瑞丰",
    "鼎盛",
    "安和",
    "博远",
    "金诚",
    "新元",
    "宏图",
    "联创",
    "万嘉",
    "启明",
    "德润",
    "睿智",
    "嘉禾",
    "拓海",
    "泰和",
    "蓝湾",
    "云帆",
    "众邦",
    "同舟",
    "锦程",
    "汇通",
    "长青",
    "星河",
    "润泽",
    "盛世",
    "明道",
)
COMPANY_TRADES = (
    "科技",
    "贸易",
    "建筑工程",
    "餐饮管理",
    "物流",
    "电子商务",
    "文化传媒",
    "医疗器械",
    "装饰工程",
    "食品",
    "信息技术",
    "房地产开发",
    "物业管理",
    "新能源",
    "教育咨询",
)

# R8: bad-review comments by reason tag (the default questionnaire, haoping.evaluations.questionnaire_defaults).
BAD_COMMENTS: dict[str, tuple[str, ...]] = {
    "attitude": (
        "窗口人员态度冷淡，问了几遍都不耐烦",
        "工作人员一直在看手机，叫了好几声才理人",
        "说话很冲，解释不清楚还嫌我问得多",
    ),
    "efficiency": (
        "排队时间太长，等了两个多小时",
        "取号后等了一上午才轮到",
        "承诺的办结时间到了还没办好，也没人通知",
    ),
    "process": (
        "流程太复杂，要在几个窗口之间来回跑",
        "同样的信息要填好几张表",
    ),
    "materials": (
        "材料要求反复变化，每次来都说缺东西",
        "要求提供的证明太多，有的明明系统里能查到",
    ),
    "repeat_visits": (
        "跑了三趟才办成，第一次没有一次性告知",
        "上次说可以办，这次又说不行",
    ),
    "guidance": (
        "办事指南写得不清楚，和窗口说的不一样",
        "导办人员指引错了窗口，白排了一次队",
    ),
    "system": (
        "网上申报系统老是卡顿，上传材料失败好几次",
        "提交后一直显示审核中，没有任何进度提示",
        "自助终端读不了身份证，只能去窗口排队",
    ),
    "environment": (
        "大厅座位太少，老人只能站着等",
        "停车太难，周边没有车位",
    ),
    "other": (
        "咨询电话一直打不通",
        "评价短信里的链接打不开",
    ),
}
ONSITE_REASONS = ("attitude", "efficiency", "process", "materials", "repeat_visits", "guidance", "environment", "other")
ONLINE_REASONS = ("system", "efficiency", "materials", "guidance", "process", "other")

MIDDLE_COMMENTS = (
    "还行，就是等的时间有点长",
    "办成了，但材料准备有点麻烦",
    "整体一般，希望流程再简化一些",
    "窗口人员挺好，就是叫号系统有点乱",
)
GOOD_COMMENTS = (
    "工作人员很耐心，一次就办好了",
    "比想象中快多了，点赞",
    "材料一次性告知，很清楚",
    "导办人员很热情，全程有人指引",
    "不用来回跑，非常方便",
    "服务周到，为你们点赞",
)
ONLINE_GOOD_COMMENTS = ("网上就能办，非常方便", "手机上提交，第二天就办结了", "全程网办，一次都没跑")
AGENT_GOOD_COMMENTS = ("帮办代办很贴心，全程不用自己跑", "代办员业务熟练，省了很多事")
THEME_GOOD_COMMENTS = ("一件事一次办，省了好多事", "一张表、一个窗口就办完了，很方便")
SUGGESTIONS = ("希望增加周末延时服务", "建议增加停车位", "希望手机上能查办理进度", "建议办事指南配上示例图")

# --- 差评整改: what handlers, managers and staff write on the demo's cases ------------------
# Districts' ASCII names, for the console usernames (manager_donghu, handler_donghu_scjg).
DISTRICT_SLUGS = {"329902": "donghu", "329903": "xiling", "329904": "nangang"}

# What the handler found when they called the evaluator, by the rating's first reason.
CASE_PROBLEMS: dict[str, str] = {
    "attitude": "窗口工作人员答复不耐心、语气生硬",
    "efficiency": "高峰时段排队等候时间过长",
    "process": "办理环节多，需要在几个窗口之间往返",
    "materials": "要求提交的部分材料可以通过数据共享获取",
    "repeat_visits": "首次受理时未一次性告知所需材料，导致群众多次往返",
    "guidance": "办事指南与窗口要求不一致",
    "system": "网上申报系统上传材料失败、页面卡顿",
    "environment": "大厅等候座椅不足、停车不便",
    "other": "咨询电话长时间无人接听",
}
CASE_CONTACT_NOTES = (
    "已电话联系办事群众，核实情况属实：{problem}。",
    "已于当日电话回访评价人，了解具体诉求，并调取窗口录像核实，{problem}的情况属实。",
    "已与评价人电话沟通，评价人反映{problem}，已向其致歉并说明后续处理安排。",
    "已联系评价人并调阅受理记录，确认{problem}，评价人同意等待整改结果。",
)
# Before a rating found groundless, mistaken or malicious: nothing is confirmed yet.
CASE_CONTACT_NEUTRAL_NOTES = (
    "已电话联系评价人，了解其具体诉求，并调阅了受理记录和窗口录像。",
    "已与评价人电话沟通，详细了解评价原因和办理经过。",
)
CASE_CLASSIFY_NOTES: dict[str, str] = {
    "simple": "问题明确，可立即整改。",
    "general": "需调整窗口工作安排，按一般问题限期整改。",
    "complex": "涉及多个部门协同，按复杂问题办理。",
    "no_legal_basis": "群众诉求缺乏法律法规依据，需作出解释说明。",
    "mistaken": "评价人表示系误操作。",
    "malicious": "评价人存在以差评相要挟的情形。",
}
CASE_RECTIFICATIONS: dict[str, str] = {
    "attitude": "已对当事窗口人员进行批评教育并约谈科室负责人，组织窗口人员开展服务礼仪和沟通技巧培训，"
    "将该问题纳入月度绩效考核。",
    "efficiency": "已在上午高峰时段增开2个综合受理窗口，推行预约分时办理，并安排导办人员现场分流，"
    "平均等候时间明显缩短。",
    "process": "已梳理该事项办理流程，将受理、审核两个环节合并，实行一窗受理、内部流转，群众只需在一个窗口递交材料。",
    "materials": "已取消营业执照、身份证等可通过数据共享获取的材料复印件，同步更新办事指南和窗口材料清单。",
    "repeat_visits": "已重申一次性告知制度，制作材料清单告知单和二维码，窗口受理时逐项核对并留存告知记录。",
    "guidance": "已修订该事项办事指南，补充填写示例和常见问题解答，并与窗口工作人员统一答复口径。",
    "system": "已联系平台运维单位排查，修复大文件上传失败的问题并优化页面加载速度，经测试已恢复正常。",
    "environment": "已在等候区增设座椅20个，协调周边单位开放临时停车位，并设置老年人等候专区。",
    "other": "已安排专人值守咨询电话，增开一条服务热线，并在大厅和网站公布工作时间和备用联系方式。",
}
CASE_REPLIES = (
    "您好，您反映的问题我们已核实并整改：{rectification}感谢您的监督和理解。",
    "您好！感谢您的评价。经核实，{problem}的情况属实，我们深表歉意。{rectification}欢迎您继续监督我们的工作。",
)
CASE_EXPLANATIONS = (
    "经核实，群众要求免于提交的材料属于法律法规明确规定的必要材料，无法取消。已向群众详细说明政策依据，"
    "并告知可通过网上预审减少跑动，群众表示理解。",
    "经核实，群众要求当场办结，但该事项法定审核时限为5个工作日，不具备即办条件。已向群众解释相关规定，"
    "并告知办理进度的查询方式。",
    "经核实，群众反映的收费标准由上级价格主管部门核定，窗口无权调整。已将政策文件提供给群众并作出解释说明。",
    "经核实，群众诉求超出本事项的法定办理范围，已向群众解释说明，并引导其向有权机关申请办理。",
)
CASE_EXPLANATION_REPLY = (
    "您好，关于您反映的问题，经核实，相关要求有明确的法律法规依据，我们已与您电话沟通说明。感谢您的理解和监督。"
)
CASE_INVALIDATION_REASONS: dict[str, tuple[str, ...]] = {
    "mistaken": (
        "经电话核实，评价人表示在评价器上误点了“不满意”，对办理过程和结果均满意，申请不予采纳。",
        "评价人确认系家中老人代为操作误评，本人对服务满意，已留存通话录音，申请按误评处理。",
    ),
    "malicious": (
        "经核实，评价人因不符合条件的申请未获受理，多次以差评相要挟，要求窗口违规办理；"
        "调取录音录像证实窗口服务规范，申请认定为恶意评价。",
    ),
}
CASE_INVALIDATION_APPROVALS = ("经审核，佐证材料充分，同意不予采纳。", "情况属实，同意按规定不予采纳。")
CASE_INVALIDATION_REJECTION = "佐证材料不足，不能认定为误评，请按一般问题继续整改。"
CASE_BLOCK_REASON = "多次恶意差评并以差评要挟工作人员，经审核认定为恶意评价，纳入恶意评价人员信息库。"
CASE_EXTENSION_REASONS = (
    "整改涉及业务系统改造，需协调平台运维单位排期上线，申请延期。",
    "问题涉及多个部门的数据共享，需联合会商后统一整改，申请延期。",
)
CASE_EXTENSION_APPROVAL = "同意延期，请在延长期限内完成整改并上传佐证材料。"
CASE_EXTENSION_REJECTION = "延期理由不充分，请在原期限内完成整改。"
CASE_CONSULTATION_NOTE = "该问题涉及跨部门材料共享和审批衔接，邀请相关单位会商，共同研究整改方案。"
CASE_DISPATCH_NOTE = "经研判，该事项由{unit}负责办理，转派责任单位处理。"
CASE_REVISIT_SATISFIED = ("电话回访评价人，对整改结果表示满意。", "回访时评价人表示问题已解决，认可处理结果。")
CASE_REVISIT_UNSATISFIED = "评价人认为问题尚未彻底解决，对整改结果不满意，要求继续整改。"
CASE_CLOSE_NOTE = "三次电话回访评价人均未接通，已发送短信告知整改结果，按规定办结。"
CASE_APPEAL_REASONS = (
    "该群众办理时材料不齐，窗口已按规定一次性书面告知所需材料并留存告知单，差评原因与事实不符，申请复核。",
    "当日系统故障已在大厅公告，窗口及时启用应急办理并向群众说明，差评原因不在窗口，申请复核。",
)
CASE_APPEAL_REJECTION = "经调阅监控和受理记录，窗口虽已履行告知义务，但解释不够耐心，申诉理由不成立，请继续整改。"
CASE_SPOT_CHECK_PASSED = "整改措施落实到位，回访记录完整。"
CASE_SPOT_CHECK_FAILED = "整改佐证材料缺失，回访记录与评价人陈述不符，退回重新整改。"
