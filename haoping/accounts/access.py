"""What an API client may touch: its region's subtree. Every scope check goes through here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from haoping.accounts.models import ApiClient, Membership
from haoping.directory.models import Region, ServiceItem, Staff, subtree_q
from haoping.directory.selectors import region_contains
from haoping.errors import Forbidden, Invalid, NotFound


def unknown_code(field: str, code: str) -> Invalid:
    """The answer to a code that does not exist, and to one outside the client's region alike: a
    key learns nothing about what lies outside its subtree, not even that a code is in use."""
    return Invalid("unknown_code", _("%(field)s: unknown code %(code)s") % {"field": field, "code": code}, field=field)


def access_region(client: ApiClient, region: Region, field: str, code: str) -> None:
    if not region_contains(client.region, region):
        raise unknown_code(field, code)


def access_item(client: ApiClient, item: ServiceItem, field: str) -> None:
    """Items of the client's own subtree or of a level above it (a city's item served in a district)."""
    region = item.department.region
    if not (region_contains(client.region, region) or region_contains(region, client.region)):
        raise unknown_code(field, item.code)


def within_region(region: Region | str, field: str = "region") -> Q:
    """The rows whose `field` (a foreign key to Region, "" for regions themselves) lies in the
    subtree of `region` (a region, or a region's path). Every region scope is this one filter."""
    return subtree_q(region if isinstance(region, str) else region.path, field)


def staff_home(staff: Staff) -> Region | None:
    """The region a staff member belongs to: their institution's, else their department's."""
    if staff.institution is not None:
        return staff.institution.region
    if staff.department is not None:
        return staff.department.region
    return None


def access_staff(client: ApiClient, staff: Staff, field: str) -> None:
    home = staff_home(staff)
    if home is None or not region_contains(client.region, home):
        raise unknown_code(field, staff.staff_no)


def access_visible(client: ApiClient | None, region: Region, what: str) -> None:
    """Data outside the client's region does not exist for it (404, not 403)."""
    if client is not None and not region_contains(client.region, region):
        raise NotFound("not_found", _("%(what)s not found") % {"what": what})


@dataclass(frozen=True)
class Actor:
    """Who is acting on a case: a console user in their role, or an API client within its region.

    An API client acts inside its region's subtree by its role: a business system and the 12345
    hotline work cases as the unit's handler (the hotline also sends cases on to units); a
    management platform also decides as the region's manager.
    """

    label: str
    roles: frozenset[str]
    region: Region | None = None
    unit_id: int | None = None
    staff_id: int | None = None
    user: Any = None
    client: ApiClient | None = None

    def has(self, role: str) -> bool:
        return role in self.roles


def actor_evaluator() -> Actor:
    return Actor(label=_("the evaluator"), roles=frozenset({"evaluator"}))


def actor_system() -> Actor:
    return Actor(label=_("the system"), roles=frozenset({"system"}))


CLIENT_ROLES: dict[str, frozenset[str]] = {
    ApiClient.Role.BUSINESS: frozenset({"handler"}),
    # Ezhou: bad reviews reach the units through 12345.
    ApiClient.Role.HOTLINE: frozenset({"handler", "hotline"}),
    ApiClient.Role.MANAGER: frozenset({"handler", "manager"}),
}


def actor_for_client(client: ApiClient) -> Actor:
    return Actor(label=client.name, roles=CLIENT_ROLES[client.role], region=client.region, client=client)


def same_party(actor: Actor, *, user_id: int | None, client_id: int | None) -> bool:
    """Whether the actor is the console user or the API client given (who asked for something)."""
    if actor.client is not None:
        return client_id is not None and client_id == actor.client.pk
    return actor.user is not None and user_id is not None and user_id == actor.user.pk


def access_decide(
    actor: Actor, *, region: Region, requested_by_id: int | None, requested_by_client_id: int | None
) -> None:
    """R12, R14: appeals, invalidations and extensions are decided by a second person: a manager,
    never the one who asked, of the unit's region or of the region above it as the region's
    policy says (RegionPolicy.decided_by). `region` is the case's."""
    from haoping.directory.models import RegionPolicy
    from haoping.directory.selectors import policy_for_region

    if not actor.has("manager"):
        raise Forbidden("forbidden", _("only a manager may decide this; this key or account cannot decide anything"))
    if same_party(actor, user_id=requested_by_id, client_id=requested_by_client_id):
        raise Forbidden(
            "own_request", _("you asked for this yourself: another manager must decide it (two-person rule)")
        )
    if actor.region is None:
        raise Forbidden("forbidden", _("only a manager may decide this; this key or account cannot decide anything"))
    access_case_region(actor, region)
    above = policy_for_region(region).decided_by == RegionPolicy.Decider.REGION_ABOVE
    # At the top of the tree there is no region above: its own managers decide.
    if above and actor.region.pk == region.pk and region.parent_id is not None:
        raise Forbidden(
            "decider_level",
            _("in this region a manager of the region above (%(region)s) decides this")
            % {"region": region.parent.name if region.parent else region.name},
        )


def actor_for_user(user: Any) -> Actor | None:
    """The console role of a signed-in user, or None when they have none."""
    membership = getattr(user, "membership", None) if getattr(user, "is_authenticated", False) else None
    if membership is None:
        return None
    # Chinese names read family name first, with no space.
    label = f"{user.last_name}{user.first_name}".strip() or user.get_username()
    if membership.role == Membership.Role.MANAGER:
        return Actor(label=label, roles=frozenset({"manager"}), region=membership.region, user=user)
    if membership.role == Membership.Role.HANDLER:
        return Actor(label=label, roles=frozenset({"handler"}), unit_id=membership.department_id, user=user)
    return Actor(label=label, roles=frozenset({"staff"}), staff_id=membership.staff_id, user=user)


def manages(actor: Actor, region: Region) -> bool:
    """Whether the actor is a manager of `region` or of a region above it."""
    return actor.has("manager") and actor.region is not None and region_contains(actor.region, region)


def access_case_region(actor: Actor, region: Region) -> None:
    """A manager or an API client acts only inside its region's subtree (actors without a region
    are bounded by their unit or their own record instead)."""
    if actor.region is not None and not region_contains(actor.region, region):
        raise Forbidden("out_of_region", _("this case is outside your region"))


def access_case_act(actor: Actor, case: Any, role: str) -> None:
    """Acting (beyond seeing) needs the role, the case inside the actor's region, and for a
    handler, the case being their unit's."""
    if not actor.has(role):
        raise Forbidden("forbidden", _("only a %(role)s may do this") % {"role": ROLE_LABELS.get(role, role)})
    # Services may be handed any case: the check must not rely on the caller having scoped it.
    access_case_region(actor, case.region)
    if role == "handler" and actor.unit_id is not None and case.unit_id != actor.unit_id:
        raise Forbidden("forbidden", _("this case belongs to another unit"))


def access_identity(actor: Actor) -> bool:
    """R10: staff never learn who rated them; handlers and managers may, with an audited reveal."""
    return actor.has("handler") or actor.has("manager")


ROLE_LABELS = {
    "handler": _lazy("handler of the responsible unit"),
    "hotline": _lazy("12345 hotline"),
    "manager": _lazy("manager"),
    "staff": _lazy("staff member"),
    "evaluator": _lazy("evaluator"),
}


def access_operations(user: Any) -> None:
    """The background jobs' health is for administrators: users given the view permission on job
    runs in the admin (superusers have every permission)."""
    if not user.has_perm("ops.view_jobrun"):
        raise PermissionDenied
