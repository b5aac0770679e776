"""The rating rules a record decides when it is registered (DESIGN.md R2, R4, R5), over plain facts.

Records are registered through the API, its batches, the demo loader and the intake from lower
systems; each looks up its facts its own way and asks these functions. None of them reads the
database. `haoping.evaluations.rules` re-exports them beside the rules of a rating.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from haoping.errors import Invalid

# The kinds of ratable service and of bundle, and the service modes (the models' choices' values).
COMPLETION, VISIT, THEME = "completion", "visit", "theme"
BATCH = "batch"
ONSITE, ONLINE, MIXED = "onsite", "online", "mixed"


def window_closes_at(kind: str, opens_at: dt.datetime, window_days: int) -> dt.datetime | None:
    """R2: a service's rating window closes `window_days` natural days after the service, fixed
    when it opens; a theme has none of its own (its linked records carry theirs)."""
    if kind == THEME:
        return None
    return opens_at + dt.timedelta(days=window_days)


def rated_per_visit(mode: str, on_the_spot: bool) -> bool:
    """R4: mixed and not-on-the-spot services are rated at each window visit, besides once at
    completion; fully online, self-service and on-the-spot ones only at completion."""
    return mode == MIXED or (mode == ONSITE and not on_the_spot)


def batch_item_check(bundle_kind: str, batch_item_id: int | None, item_id: int) -> None:
    """R5: a batch is several records of one service item; `batch_item_id` is the item of the
    records it holds already (None while it holds none)."""
    if bundle_kind == BATCH and batch_item_id is not None and batch_item_id != item_id:
        raise Invalid("invalid", _("bundle: a batch holds records of one service item only"), field="bundle")
