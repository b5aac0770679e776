"""Plans of the demo's service records: who applied for what, where, when, and each window visit.

The plan is pure data; `haoping.demo.services` registers it through the records services.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone

from haoping.demo.catalog import BUSINESS_ITEMS, CITY_CODE, CITY_ITEMS, DISTRICT_ITEMS, DISTRICTS, THEMES, ItemSpec
from haoping.demo.directory import CENTER_CODE, Index, ItemRef, WindowRef, hall_code
from haoping.demo.people import Party, People

HISTORY_DAYS = 92
BATCH_SHARE = 0.06  # share of records submitted in batches (R5)
THEME_SHARE = 0.06  # share of records applied for as 一件事 (R6)
# Office hours of the halls: mornings are busier.
MORNING = (dt.time(9, 0), dt.time(12, 0))
AFTERNOON = (dt.time(13, 30), dt.time(17, 30))
# Online applications by hour of day (0–23): evenings are busy too.
ONLINE_HOURS = (1, 1, 1, 1, 1, 1, 2, 4, 8, 12, 12, 10, 7, 8, 10, 10, 9, 8, 7, 8, 9, 8, 5, 2)


@dataclass
class VisitPlan:
    window: str
    staff: str | None
    at: dt.datetime


@dataclass
class RecordPlan:
    item: ItemRef
    region_code: str
    institution: str | None
    platform: str | None
    window: str | None
    staff: str | None
    mode: str
    on_the_spot: bool
    applicant: Party
    agent: Party | None
    accepted_at: dt.datetime
    completed_at: dt.datetime | None = None
    visits: list[VisitPlan] = field(default_factory=list)
    bundle_kind: str | None = None
    bundle_key: int | None = None
    bundle_no: str | None = None
    record_no: str = ""


@dataclass
class Place:
    institution: str
    region_code: str
    item: ItemRef


class Planner:
    def __init__(self, rng: random.Random, index: Index, people: People, now: dt.datetime) -> None:
        self.rng = rng
        self.index = index
        self.people = people
        self.now = now
        self.tz = timezone.get_current_timezone()
        today = timezone.localtime(now).date()
        self.days = [today - dt.timedelta(days=n) for n in range(HISTORY_DAYS)]
        # Halls open on workdays, with a Saturday-morning service; online works every day.
        self.hall_day_weights = [{5: 0.1, 6: 0.02}.get(d.weekday(), 1.0) for d in self.days]
        self.online_day_weights = [0.45 if d.weekday() >= 5 else 1.0 for d in self.days]
        self.menu: list[tuple[ItemSpec, str]] = [(s, CITY_CODE) for s in CITY_ITEMS] + [
            (s, code) for code, _n, _share, _t in DISTRICTS for s in DISTRICT_ITEMS
        ]
        shares = {code: share for code, _n, share, _t in DISTRICTS}
        self.menu_weights = [s.weight * shares.get(code, 1.0) for s, code in self.menu]
        self.bundle_keys = itertools.count(1)

    def plan(self, total: int) -> list[RecordPlan]:
        """About `total` records, in order of acceptance, with record and bundle numbers."""
        plans: list[RecordPlan] = []
        batches = max(2, round(total * BATCH_SHARE / 3.5))
        themes = max(2, round(total * THEME_SHARE / 3))
        for _ in range(batches):
            plans.extend(self._batch())
        for _ in range(themes):
            plans.extend(self._theme())
        while len(plans) < total:
            plans.append(self._single())
        plans.sort(key=lambda p: (p.accepted_at, p.bundle_key or 0))
        self._number(plans)
        return plans

    # --- cases ---------------------------------------------------------------------------

    def _single(self) -> RecordPlan:
        spec, region = self.rng.choices(self.menu, self.menu_weights)[0]
        r = self.rng.random()
        mode = "online" if r < spec.online else "mixed" if r < spec.online + spec.mixed else "onsite"
        if mode == "online":
            return self._online(self.index.item(spec.key, region))
        place = self._place(spec, region)
        window = self._window(place.institution, place.item)
        agent = self.people.agent() if self.rng.random() < spec.agent else None
        if agent and self.rng.random() < 0.5:
            # R7: agents often work through the hall's 帮办代办 window.
            window = self._named_window(place.institution, "帮办代办") or window
        plan = RecordPlan(
            item=place.item,
            region_code=place.region_code,
            institution=place.institution,
            platform=self.index.platforms["web" if self.rng.random() < 0.5 else "mobile"] if mode == "mixed" else None,
            window=window.code,
            staff=self._staff(window),
            mode=mode,
            on_the_spot=mode == "onsite" and self.rng.random() < spec.spot,
            applicant=self.people.applicant(spec.key in BUSINESS_ITEMS),
            agent=agent,
            accepted_at=self._moment(online=mode == "mixed"),
        )
        self._schedule(plan, window)
        return plan

    def _online(self, item: ItemRef) -> RecordPlan:
        spec = item.spec
        kind = "mobile" if self.rng.random() < 0.5 else "web"
        if spec.kiosk and self.rng.random() < 0.8:
            kind = "kiosk"
        elif spec.hotline and self.rng.random() < 0.1:
            kind = "hotline"
        region = item.code.split("-")[0]
        # The back office that decides is the item's home hall, so the district sees its own work.
        institution = CENTER_CODE if region == CITY_CODE else hall_code(region)
        plan = RecordPlan(
            item=item,
            region_code=region,
            institution=institution,
            platform=self.index.platforms[kind],
            window=None,
            staff=None,
            mode="online",
            on_the_spot=self.rng.random() < spec.spot,
            applicant=self.people.applicant(spec.key in BUSINESS_ITEMS),
            agent=self.people.agent() if self.rng.random() < spec.agent / 2 else None,
            accepted_at=self._moment(online=kind != "kiosk"),
        )
        if plan.on_the_spot:
            plan.completed_at = plan.accepted_at + dt.timedelta(minutes=self.rng.uniform(0.5, 30))
        else:
            plan.completed_at = self._office_moment(self._workdays_later(plan.accepted_at, self._duration(spec)))
        self._cut_at_now(plan)
        return plan

    def _batch(self) -> list[RecordPlan]:
        """R5: several records of one item, submitted together at one window."""
        candidates = [(i, m) for i, m in enumerate(self.menu) if m[0].batchable]
        index = self.rng.choices([i for i, _m in candidates], [self.menu_weights[i] for i, _m in candidates])[0]
        spec, region = self.menu[index]
        place = self._place(spec, region)
        window = self._window(place.institution, place.item)
        agent = self.people.agent() if self.rng.random() < 0.6 else None
        first = RecordPlan(
            item=place.item,
            region_code=place.region_code,
            institution=place.institution,
            platform=None,
            window=window.code,
            staff=self._staff(window),
            mode="onsite",
            on_the_spot=self.rng.random() < spec.spot,
            applicant=self.people.applicant(spec.key in BUSINESS_ITEMS),
            agent=agent,
            accepted_at=self._moment(online=False),
            bundle_kind="batch",
            bundle_key=next(self.bundle_keys),
        )
        self._schedule(first, window)
        plans = [first]
        for _ in range(self.rng.randint(2, 5) - 1):
            applicant = self.people.applicant(spec.key in BUSINESS_ITEMS)
            plans.append(dataclasses.replace(first, applicant=applicant, visits=list(first.visits)))
        return plans

    def _theme(self) -> list[RecordPlan]:
        """R6: one applicant's 一件事, received at one window, each item completed on its own."""
        theme = self.rng.choices(THEMES, [t.weight for t in THEMES])[0]
        keys = list(theme.required) + [k for k in theme.optional if self.rng.random() < 0.6]
        region = CITY_CODE
        institution = CENTER_CODE
        if theme.place == "hall":
            region = self._district()
            institution = hall_code(region)
        window = self._named_window(institution, theme.window) or self.index.windows[institution][0]
        business = theme.required[0] in BUSINESS_ITEMS
        applicant = self.people.applicant(business)
        agent = self.people.agent() if business and self.rng.random() < 0.3 else None
        accepted_at = self._moment(online=False)
        staff = self._staff(window)
        bundle_key = next(self.bundle_keys)
        plans = []
        for key in keys:
            item = self.index.item(key, region)
            plan = RecordPlan(
                item=item,
                region_code=region,
                institution=institution,
                platform=None,
                window=window.code,
                staff=staff,
                mode="onsite",
                on_the_spot=self.rng.random() < item.spec.spot,
                applicant=applicant,
                agent=agent,
                accepted_at=accepted_at,
                bundle_kind="theme",
                bundle_key=bundle_key,
            )
            self._schedule(plan, window)
            plans.append(plan)
        return plans

    # --- where ---------------------------------------------------------------------------

    def _district(self) -> str:
        return self.rng.choices([c for c, *_ in DISTRICTS], [share for _c, _n, share, _t in DISTRICTS])[0]

    def _place(self, spec: ItemSpec, region: str) -> Place:
        if region == CITY_CODE:
            if "hall" in spec.places and self.rng.random() < 0.4:
                district = self._district()
                return Place(hall_code(district), district, self.index.item(spec.key, CITY_CODE))
            return Place(CENTER_CODE, CITY_CODE, self.index.item(spec.key, CITY_CODE))
        item = self.index.item(spec.key, region)
        if "station" in spec.places and self.rng.random() < 0.3:
            station = self.rng.choice(self.index.stations[region])
            return Place(station, station.split("-")[0], item)
        return Place(hall_code(region), region, item)

    def _window(self, institution: str, item: ItemRef) -> WindowRef:
        windows = self.index.windows[institution]
        own = [w for w in windows if w.department_code == item.department_code]
        if own and self.rng.random() < 0.7:
            return self.rng.choice(own)
        general = [w for w in windows if w.name.startswith("综合") and "出件" not in w.name]
        return self.rng.choice(general or windows)

    def _named_window(self, institution: str, name: str) -> WindowRef | None:
        found = [w for w in self.index.windows[institution] if w.name.startswith(name)]
        return self.rng.choice(found) if found else None

    def _staff(self, window: WindowRef) -> str | None:
        return self.rng.choice(window.staff) if window.staff else None

    # --- when ----------------------------------------------------------------------------

    def _moment(self, *, online: bool) -> dt.datetime:
        for _ in range(50):
            weights = self.online_day_weights if online else self.hall_day_weights
            day = self.rng.choices(self.days, weights)[0]
            if online:
                hour = self.rng.choices(range(24), ONLINE_HOURS)[0]
                at = dt.datetime.combine(day, dt.time(hour), tzinfo=self.tz) + dt.timedelta(
                    seconds=self.rng.randrange(3600)
                )
            else:
                at = self._office_moment(day)
            if at < self.now - dt.timedelta(minutes=15):
                return at
        return self.now - dt.timedelta(days=1)

    def _office_moment(self, day: dt.date) -> dt.datetime:
        start, end = MORNING if self.rng.random() < 0.6 else AFTERNOON
        begin = dt.datetime.combine(day, start, tzinfo=self.tz)
        span = (dt.datetime.combine(day, end) - dt.datetime.combine(day, start)).total_seconds()
        return begin + dt.timedelta(seconds=self.rng.uniform(0, span))

    def _workdays_later(self, start: dt.datetime, workdays: int) -> dt.date:
        day = timezone.localtime(start, self.tz).date()
        while workdays > 0:
            day += dt.timedelta(days=1)
            if day.weekday() < 5:
                workdays -= 1
        return day

    def _duration(self, spec: ItemSpec) -> int:
        """Workdays to completion: usually well within the promise; hot items now and then late."""
        promised = max(1, spec.promised_days)
        days = self.rng.randint(max(1, math.ceil(promised * 0.3)), promised)
        if self.rng.random() < 0.03 * spec.hot:
            days = promised + self.rng.randint(1, 3)
        return days

    def _schedule(self, plan: RecordPlan, window: WindowRef) -> None:
        """Visits and completion time. R4: mixed and not-on-the-spot services visit the window."""
        spec = plan.item.spec
        at = plan.accepted_at
        minutes = dt.timedelta(minutes=1)
        if plan.mode == "onsite" and plan.on_the_spot:
            plan.completed_at = at + minutes * self.rng.uniform(5, 40)
        elif plan.mode == "onsite":
            plan.visits.append(VisitPlan(window.code, plan.staff, at + minutes * self.rng.uniform(1, 3)))
            if self.rng.random() < 0.06 * spec.hot:  # 补正: came back with missing materials
                again = self._office_moment(self._workdays_later(at, self.rng.randint(1, 3)))
                plan.visits.append(VisitPlan(window.code, self._staff(window), again))
                at = again
            self._finish(plan, window, at, spec)
        else:  # mixed: applied online, then at the window to check originals or collect
            check = self._office_moment(self._workdays_later(at, self.rng.randint(1, 3)))
            plan.visits.append(VisitPlan(window.code, self._staff(window), check))
            self._finish(plan, window, check, spec)
        self._cut_at_now(plan)

    def _finish(self, plan: RecordPlan, window: WindowRef, after: dt.datetime, spec: ItemSpec) -> None:
        if spec.promised_days == 0:
            plan.completed_at = after + dt.timedelta(minutes=self.rng.uniform(10, 60))
            return
        done = self._office_moment(self._workdays_later(after, self._duration(spec)))
        if self.rng.random() < 0.55:  # collects the result in person; otherwise it is mailed
            pickup = self._named_window(plan.institution or "", "综合出件") or window
            plan.visits.append(VisitPlan(pickup.code, self._staff(pickup), done))
            done += dt.timedelta(minutes=self.rng.uniform(1, 5))
        plan.completed_at = done

    def _cut_at_now(self, plan: RecordPlan) -> None:
        """What has not happened yet is left out: such records are still in progress."""
        limit = self.now - dt.timedelta(minutes=5)
        plan.visits = [v for v in plan.visits if v.at <= limit]
        if plan.completed_at is not None and plan.completed_at > limit:
            plan.completed_at = None

    # --- numbers -------------------------------------------------------------------------

    def _number(self, plans: list[RecordPlan]) -> None:
        """办件编号 region + date + sequence; bundles get 批量 (PL) or 一件事 (YJS) numbers."""
        sequence: dict[tuple[str, dt.date], int] = defaultdict(int)
        bundles: dict[int, str] = {}
        for plan in plans:
            day = timezone.localtime(plan.accepted_at, self.tz).date()
            sequence[(plan.region_code, day)] += 1
            plan.record_no = f"{plan.region_code}{day:%Y%m%d}{sequence[(plan.region_code, day)]:05d}"
            if plan.bundle_key is not None:
                prefix = "PL" if plan.bundle_kind == "batch" else "YJS"
                plan.bundle_no = bundles.setdefault(plan.bundle_key, prefix + plan.record_no)
