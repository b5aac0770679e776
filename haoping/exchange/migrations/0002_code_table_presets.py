"""The code-table presets (field notes §1c): the national interface as most provinces use it, the
variant that puts SMS at pf 6 and timed-out ratings at 7 and swaps promisetime (Zhejiang), and
GB/T 39046—2020, whose 满意度代码 runs the other way (1 非常满意). Administrators copy and edit
them; evalDetail codes come from the national content catalogue of the region's version."""

from __future__ import annotations

from typing import Any

from django.db import migrations

TASK_TYPES = {
    "行政许可": "01",
    "行政给付": "05",
    "行政确认": "07",
    "行政奖励": "08",
    "行政裁决": "09",
    "其他行政权力": "10",
    "公共服务": "20",
    "*": "99",
}
LEVELS = {str(n): str(n) for n in range(1, 6)}
MODES = {"online": "1", "onsite": "2", "mixed": "2"}

PRESETS: list[dict[str, Any]] = [
    {
        "slug": "national",
        "name": "全国好差评接口",
        "description": "pf 1 PC端、2 移动端、3 二维码、4 政务大厅平板电脑、5 政务大厅其他终端、6 电话、7 短信；"
        "纸质评价表与超时默认评价记为 5，可按省里要求修改。satisfaction 5 非常满意 … 1 非常不满意。",
        "codes": {
            "pf": {
                "pc": "1",
                "mobile": "2",
                "qrcode": "3",
                "pad": "4",
                "kiosk": "5",
                "phone": "6",
                "sms": "7",
                "paper": "5",
                "default": "5",
            },
            "satisfaction": LEVELS,
            "userProp": {"person": "1", "legal_person": "2", "other": "9"},
            "taskType": TASK_TYPES,
            "promisetime": {"instant": "1", "promised": "2"},
            "proChannel": MODES,
        },
    },
    {
        "slug": "national-sms6",
        "name": "短信为 6、默认评价为 7 的省级接口",
        "description": "pf 6 短信、7 系统默认评价；电话与纸质评价表记为 5。promisetime 1 承诺件、2 即办件；"
        "userProp 1 个人、2 法人。",
        "codes": {
            "pf": {
                "pc": "1",
                "mobile": "2",
                "qrcode": "3",
                "pad": "4",
                "kiosk": "5",
                "phone": "5",
                "sms": "6",
                "paper": "5",
                "default": "7",
            },
            "satisfaction": LEVELS,
            "userProp": {"person": "1", "legal_person": "2", "other": "2"},
            "taskType": TASK_TYPES,
            "promisetime": {"instant": "2", "promised": "1"},
            "proChannel": MODES,
        },
    },
    {
        "slug": "gbt39046",
        "name": "GB/T 39046—2020 政务服务平台基础数据规范",
        "description": "满意度代码 1 非常满意 … 5 非常不满意（附录 A.8）；服务对象 1 自然人、2 企业法人、6 其他组织（A.4）；"
        "办件类型 1 即办件、2 承诺件（A.6）。",
        "codes": {
            "pf": {
                "pc": "1",
                "mobile": "2",
                "qrcode": "3",
                "pad": "4",
                "kiosk": "5",
                "phone": "6",
                "sms": "7",
                "paper": "5",
                "default": "5",
            },
            "satisfaction": {str(n): str(6 - n) for n in range(1, 6)},
            "userProp": {"person": "1", "legal_person": "2", "other": "6"},
            "taskType": TASK_TYPES,
            "promisetime": {"instant": "1", "promised": "2"},
            "proChannel": MODES,
        },
    },
]


def load(apps: Any, schema_editor: Any) -> None:
    CodeTable = apps.get_model("exchange", "CodeTable")
    CodeEntry = apps.get_model("exchange", "CodeEntry")
    for preset in PRESETS:
        table, _ = CodeTable.objects.get_or_create(
            slug=preset["slug"], defaults={"name": preset["name"], "description": preset["description"]}
        )
        for field, pairs in preset["codes"].items():
            for local, code in pairs.items():
                CodeEntry.objects.get_or_create(table=table, field=field, local=local, defaults={"code": code})


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_exchange_rows")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
