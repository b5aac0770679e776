"""Every region scope and every staff member's home region come from haoping.accounts.access."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from haoping.accounts.access import staff_home, within_region
from haoping.directory.models import Department, Institution, Region, Staff

PACKAGE = Path(__file__).resolve().parents[2]
# What restating a scope looks like: the subtree filter, or a staff member's home worked out by hand.
RESTATED = re.compile(
    r"path__startswith"
    r"|\.startswith\([\w.]*(region|parent|ancestor)[\w.]*path\)"
    r"|institution\.region if [\w.]*institution else"
)


def test_no_region_scope_is_restated_outside_access() -> None:
    found = []
    for source in sorted(PACKAGE.rglob("*.py")):
        relative = source.relative_to(PACKAGE)
        # The filter itself is defined with the region tree (directory/models.py), and taken from access.
        if relative in (Path("accounts/access.py"), Path("directory/models.py")) or {"tests", "migrations"} & set(
            relative.parts
        ):
            continue
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
            if RESTATED.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert found == [], "region scopes belong in haoping/accounts/access.py:\n" + "\n".join(found)


@pytest.mark.django_db
def test_within_region_takes_the_subtree_and_nothing_beside_it() -> None:
    city = Region.objects.create(code="320100", name="南京市", path="/320100/")
    xuanwu = Region.objects.create(code="320102", name="玄武区", parent=city, path="/320100/320102/")
    # A sibling whose code starts like the other's: paths end with "/", so it is not inside.
    Region.objects.create(code="3201021", name="邻区", parent=city, path="/320100/3201021/")
    inside = Department.objects.create(code="D-IN", name="玄武区政务办", region=xuanwu)
    Department.objects.create(code="D-CITY", name="南京市政务办", region=city)
    assert list(Department.objects.filter(within_region(xuanwu))) == [inside]
    assert set(Region.objects.filter(within_region(xuanwu, field="")).values_list("code", flat=True)) == {"320102"}
    assert Region.objects.filter(within_region(city.path, field="")).count() == 3


@pytest.mark.django_db
def test_a_staff_members_home_is_their_institution_else_their_department() -> None:
    city = Region.objects.create(code="320100", name="南京市", path="/320100/")
    xuanwu = Region.objects.create(code="320102", name="玄武区", parent=city, path="/320100/320102/")
    unit = Department.objects.create(code="D-CITY", name="南京市政务办", region=city)
    hall = Institution.objects.create(code="I-XW", name="玄武区政务服务中心", kind="center", region=xuanwu)
    at_hall = Staff.objects.create(staff_no="S1", name="甲", institution=hall, department=unit)
    in_unit = Staff.objects.create(staff_no="S2", name="乙", department=unit)
    nowhere = Staff.objects.create(staff_no="S3", name="丙")
    assert staff_home(at_hall) == xuanwu
    assert staff_home(in_unit) == city
    assert staff_home(nowhere) is None
