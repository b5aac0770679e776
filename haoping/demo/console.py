"""The demo's console users: the city's manager, one per district, handlers of the units with the
most bad reviews, and two window staff members who were rated badly. They share one password."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count

from haoping.accounts.models import Membership
from haoping.demo.catalog import CITY_CODE, DISTRICT_SLUGS, GIVEN_CHARS, SURNAMES
from haoping.directory.models import Department, Region, Staff
from haoping.evaluations import rules
from haoping.evaluations.models import Evaluation

HANDLER_UNITS = 4
STAFF_USERS = 2


@dataclass(frozen=True)
class ConsoleLogin:
    username: str
    name: str
    role: str
    scope: str


def _name(rng: random.Random) -> tuple[str, str]:
    """(surname, given name)."""
    return rng.choice(SURNAMES), "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))


def console_users_create(*, rng: random.Random, password_hash: str) -> list[str]:
    """Create the users with their memberships; returns their usernames, in the order to print them.

    `password_hash` is made once by the caller: hashing is slow on purpose, and every demo user
    has the same password.
    """
    bad = Evaluation.objects.filter(rules.bad_q(), source=Evaluation.Source.ACTIVE, blocked=False)
    users: list[tuple[str, tuple[str, str], Membership]] = []
    city = Region.objects.get(code=CITY_CODE)
    users.append(("manager", _name(rng), Membership(role=Membership.Role.MANAGER, region=city)))
    for district in Region.objects.filter(parent=city).order_by("code"):
        slug = DISTRICT_SLUGS.get(district.code, district.code)
        users.append((f"manager_{slug}", _name(rng), Membership(role=Membership.Role.MANAGER, region=district)))
    # The units that draw the most bad reviews, so that their handlers have work to show.
    units = (
        bad.values("department")
        .annotate(n=Count("receipt", distinct=True))
        .order_by("-n", "department")
        .values_list("department", flat=True)[:HANDLER_UNITS]
    )
    for unit in Department.objects.filter(pk__in=list(units)).order_by("code"):
        users.append((handler_username(unit), _name(rng), Membership(role=Membership.Role.HANDLER, department=unit)))
    rated = (
        bad.filter(staff__isnull=False, staff__window__isnull=False)
        .values("staff")
        .annotate(n=Count("receipt", distinct=True))
        .order_by("-n", "staff")
        .values_list("staff", flat=True)[:STAFF_USERS]
    )
    for staff in Staff.objects.filter(pk__in=list(rated)).order_by("staff_no"):
        # Directory names are one-character surnames (catalog.SURNAMES) and a given name.
        name = (staff.name[:1], staff.name[1:])
        users.append((f"staff_{staff.staff_no}", name, Membership(role=Membership.Role.STAFF, staff=staff)))
    model = get_user_model()
    created = model.objects.bulk_create(
        [
            model(username=username, password=password_hash, last_name=surname, first_name=given)
            for username, (surname, given), _m in users
        ]
    )
    memberships = []
    for user, (_u, _n, membership) in zip(created, users, strict=True):
        membership.user = user
        memberships.append(membership)
    Membership.objects.bulk_create(memberships)
    return [username for username, _n, _m in users]


def handler_username(unit: Department) -> str:
    region, _dash, abbr = unit.code.partition("-")
    if region == CITY_CODE:
        return f"handler_{abbr.lower()}"
    return f"handler_{DISTRICT_SLUGS.get(region, region)}_{abbr.lower()}"


def full_name(user: object) -> str:
    """Chinese order, surname first, without a space (as the console labels its users)."""
    return f"{getattr(user, 'last_name', '')}{getattr(user, 'first_name', '')}"


def console_logins(usernames: list[str]) -> list[ConsoleLogin]:
    """The users among `usernames` that still exist, in that order, with what they may do."""
    users = {
        u.username: u
        for u in get_user_model()
        .objects.filter(username__in=usernames, membership__isnull=False)
        .select_related("membership__region", "membership__department", "membership__staff__window")
    }
    logins = []
    for username in usernames:
        user = users.get(username)
        if user is None:
            continue
        membership = user.membership
        if membership.role == Membership.Role.MANAGER:
            assert membership.region is not None
            scope = membership.region.name
        elif membership.role == Membership.Role.HANDLER:
            assert membership.department is not None
            scope = membership.department.name
        else:
            assert membership.staff is not None
            window = membership.staff.window
            scope = f"{membership.staff.staff_no}" + (f" · {window.name}" if window else "")
        logins.append(ConsoleLogin(username, full_name(user), str(membership.get_role_display()), scope))
    return logins
