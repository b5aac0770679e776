"""The demo city's directory: built as `directory_import` data, then indexed for the record plan."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from haoping.demo.catalog import (
    CENTER_WINDOWS,
    CITY_CODE,
    CITY_DEPARTMENTS,
    CITY_ITEMS,
    CITY_NAME,
    DISTRICT_DEPARTMENTS,
    DISTRICT_ITEMS,
    DISTRICTS,
    HALL_WINDOWS,
    PLATFORMS,
    STATION_WINDOWS,
    ItemSpec,
)
from haoping.demo.people import person_name
from haoping.directory.models import Staff, Window

CENTER_CODE = f"{CITY_CODE}-ZWFW"


def department_code(region_code: str, abbr: str) -> str:
    return f"{region_code}-{abbr}"


def item_code(region_code: str, spec: ItemSpec, index: int) -> str:
    return f"{region_code}-{spec.type}-{index:04d}"


def hall_code(district_code: str) -> str:
    return f"{district_code}-ZWFW"


def station_code(town_code: str) -> str:
    return f"{town_code}-BMFW"


def platform_code(suffix: str) -> str:
    return f"{CITY_CODE}-{suffix}"


def directory_data(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """Rows in the shape `haoping.directory.services.directory_import` documents."""
    data: dict[str, list[dict[str, Any]]] = defaultdict(list)
    data["regions"].append({"code": CITY_CODE, "name": CITY_NAME, "parent": ""})
    for abbr, name in CITY_DEPARTMENTS.items():
        data["departments"].append({"code": department_code(CITY_CODE, abbr), "name": name, "region": CITY_CODE})
    data["institutions"].append(
        {"code": CENTER_CODE, "name": "示例市市民中心（市政务服务中心）", "kind": "center", "region": CITY_CODE}
    )
    _windows(data, CENTER_CODE, CITY_CODE, CITY_CODE, CENTER_WINDOWS)
    for suffix, name, kind in PLATFORMS:
        data["platforms"].append({"code": platform_code(suffix), "name": name, "kind": kind, "region": CITY_CODE})
    for index, spec in enumerate(CITY_ITEMS, start=1):
        data["items"].append(_item_row(CITY_CODE, spec, 1000 + index))
    for district_code, district_name, _share, towns in DISTRICTS:
        _district(data, district_code, district_name, towns)
    _staff(data, rng)
    return dict(data)


def _district(data: dict[str, list[dict[str, Any]]], code: str, name: str, towns: list[tuple[str, str]]) -> None:
    data["regions"].append({"code": code, "name": name, "parent": CITY_CODE})
    for abbr, pattern in DISTRICT_DEPARTMENTS.items():
        short = name.removesuffix("区") if abbr == "GAFJ" else name
        data["departments"].append(
            {"code": department_code(code, abbr), "name": pattern.format(district=short), "region": code}
        )
    data["institutions"].append(
        {"code": hall_code(code), "name": f"{name}政务服务中心", "kind": "hall", "region": code}
    )
    _windows(data, hall_code(code), code, CITY_CODE, HALL_WINDOWS)
    for suffix, town_name in towns:
        town_code = code + suffix
        data["regions"].append({"code": town_code, "name": town_name, "parent": code})
        data["institutions"].append(
            {
                "code": station_code(town_code),
                "name": f"{town_name}便民服务中心",
                "kind": "station",
                "region": town_code,
            }
        )
        _windows(data, station_code(town_code), code, CITY_CODE, STATION_WINDOWS)
    for index, spec in enumerate(DISTRICT_ITEMS, start=1):
        data["items"].append(_item_row(code, spec, 2000 + index))


def _windows(
    data: dict[str, list[dict[str, Any]]],
    institution: str,
    own_level: str,
    city_level: str,
    specs: list[tuple[str, str | None, int]],
) -> None:
    number = 0
    for name, dept, count in specs:
        department = ""
        if dept:
            level, _colon, abbr = dept.rpartition(":")
            department = department_code(city_level if level == "city" else own_level, abbr)
        for seat in range(1, count + 1):
            number += 1
            label = f"{name}（{seat}号）" if count > 1 else name
            data["windows"].append(
                {
                    "code": f"{institution}-W{number:02d}",
                    "name": label,
                    "institution": institution,
                    "department": department,
                }
            )


def _item_row(region_code: str, spec: ItemSpec, index: int) -> dict[str, Any]:
    return {
        "code": item_code(region_code, spec, index),
        "name": spec.name,
        "type": spec.type,
        "department": department_code(region_code, spec.dept),
        "legal_days": spec.legal_days,
        "promised_days": spec.promised_days,
    }


def _staff(data: dict[str, list[dict[str, Any]]], rng: random.Random) -> None:
    numbers: dict[str, int] = defaultdict(int)
    for window in data["windows"]:
        region = window["institution"].split("-")[0]
        # Busy halls put two people on a window (shifts, breaks); stations one.
        count = 1 if window["institution"].endswith("BMFW") else rng.choice((1, 2, 2))
        for _ in range(count):
            numbers[region] += 1
            data["staff"].append(
                {
                    "staff_no": f"{region}{numbers[region]:04d}",
                    "name": person_name(rng),
                    "department": window["department"],
                    "institution": window["institution"],
                    "window": window["code"],
                }
            )


@dataclass
class ItemRef:
    code: str
    spec: ItemSpec
    department_code: str


@dataclass
class WindowRef:
    code: str
    name: str
    department_code: str | None
    staff: list[str] = field(default_factory=list)


@dataclass
class Index:
    """What the record plan needs to know about the directory, by code."""

    items: dict[tuple[str, str], ItemRef]  # (spec key, region code) → item
    windows: dict[str, list[WindowRef]]  # institution code → windows
    stations: dict[str, list[str]]  # district code → station codes
    platforms: dict[str, str]  # kind → code

    def item(self, key: str, region_code: str) -> ItemRef:
        return self.items.get((key, region_code)) or self.items[(key, CITY_CODE)]


def directory_index() -> Index:
    items: dict[tuple[str, str], ItemRef] = {}
    for region_code, specs in [(CITY_CODE, CITY_ITEMS)] + [(code, DISTRICT_ITEMS) for code, *_ in DISTRICTS]:
        offset = 1000 if region_code == CITY_CODE else 2000
        for index, spec in enumerate(specs, start=1):
            ref = ItemRef(item_code(region_code, spec, offset + index), spec, department_code(region_code, spec.dept))
            items[(spec.key, region_code)] = ref
    staff: dict[str, list[str]] = defaultdict(list)
    for staff_no, window_code in Staff.objects.filter(window__isnull=False).values_list("staff_no", "window__code"):
        staff[window_code].append(staff_no)
    windows: dict[str, list[WindowRef]] = defaultdict(list)
    for code, name, institution, department in Window.objects.order_by("code").values_list(
        "code", "name", "institution__code", "department__code"
    ):
        windows[institution].append(WindowRef(code, name, department, sorted(staff[code])))
    stations = {
        code: [station_code(code + suffix) for suffix, _name in towns] for code, _name, _share, towns in DISTRICTS
    }
    platforms = {kind: platform_code(suffix) for suffix, _name, kind in PLATFORMS}
    return Index(items=items, windows=dict(windows), stations=stations, platforms=platforms)
