"""The waiting list's written rules: vulnerability, order, position and expected week (docs/convoys.md).

Pure: imports neither SQLAlchemy nor the web. The same functions order the list a coordinator
sees, the position a household looks up for itself, and the priority the planner weighs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from awda.convoys.rules import ScheduledConvoy, WaitingHousehold, eligible
from awda.days import check_year

# Points a household earns for each kind of need among its travelling members (each kind once);
# the sum is capped at 1. Medical cases and children alone come first, as the issue asks.
VULNERABILITY_WEIGHTS: Mapping[str, float] = {
    "medical": 0.5,
    "unaccompanied_child": 0.5,
    "disability": 0.3,
    "pregnant": 0.3,
    "elderly": 0.2,
    "female_headed": 0.2,
    "young_child": 0.1,
}
ELDERLY_AGE = 60
YOUNG_CHILD_AGE = 5
# A fully vulnerable household (score 1) waits as if it had registered this many days earlier.
DEFAULT_PRIORITY_DAYS = 90


def member_needs(vulnerabilities: Iterable[str], birth_year: int | None, year: int) -> set[str]:
    """A member's kinds of need: the flags recorded at registration, and age (elderly, young child)."""
    needs = {flag for flag in vulnerabilities if flag in VULNERABILITY_WEIGHTS}
    if birth_year is not None:
        age = year - birth_year
        if age >= ELDERLY_AGE:
            needs.add("elderly")
        if age < YOUNG_CHILD_AGE:
            needs.add("young_child")
    return needs


def household_needs(present: Sequence[object], oldest: int | None, youngest: int | None, year: int) -> set[str]:
    """A household's kinds of need from its members summed up: for each flag of `VULNERABILITY_WEIGHTS`,
    in order, whether any member has it; and the oldest and the youngest birth year (age needs)."""
    recorded = [flag for flag, hit in zip(VULNERABILITY_WEIGHTS, present, strict=True) if hit]
    return member_needs(recorded, oldest, year) | member_needs((), youngest, year)


def vulnerability(needs: Iterable[str]) -> float:
    """The household's score in [0, 1]: the weights of its distinct kinds of need, capped at 1."""
    return min(1.0, round(sum(VULNERABILITY_WEIGHTS[need] for need in set(needs)), 3))


def waiting_since(declared_on: date, score: float, priority_days: int = DEFAULT_PRIORITY_DAYS) -> date:
    """The date a household's place is counted from: its declaration, brought forward by its need."""
    return declared_on - timedelta(days=round(score * priority_days))


@dataclass(frozen=True)
class Waiting:
    """One household on a waiting list, as the list and the planner see it (no personal data)."""

    intention_uid: str
    household_uid: str
    origin: str  # the site code the household leaves from
    destination: str  # P-code
    people: int
    score: float
    declared_on: date
    earliest_date: date
    travel_group: str | None = None
    priority_days: int = DEFAULT_PRIORITY_DAYS

    @property
    def since(self) -> date:
        return waiting_since(self.declared_on, self.score, self.priority_days)

    def sort_key(self) -> tuple[date, date, str]:
        """Earlier effective date first; then earlier declaration; then a fixed arbitrary order (the uid)."""
        return (self.since, self.declared_on, self.intention_uid)

    def for_planner(self) -> WaitingHousehold:
        registered_at = datetime(self.declared_on.year, self.declared_on.month, self.declared_on.day)
        return WaitingHousehold(
            household_id=self.intention_uid,
            size=self.people,
            origin=self.origin,
            destination=self.destination,
            earliest_date=self.earliest_date,
            vulnerability=self.score,
            registered_at=registered_at,
            group_id=self.travel_group,
        )


@dataclass(frozen=True)
class Placed:
    """A household's place on its list (origin, destination) and when it may expect to travel."""

    entry: Waiting
    position: int  # 1 = next
    households_ahead: int
    people_ahead: int
    expected_convoy: str | None = None
    expected_date: date | None = None
    estimated: bool = False  # True when the date is extrapolated beyond the scheduled convoys

    @property
    def expected_week(self) -> str | None:
        if self.expected_date is None:
            return None
        year, week, _ = self.expected_date.isocalendar()
        return f"{year}-W{week:02d}"


def ordered_lists(entries: Sequence[Waiting]) -> dict[tuple[str, str], list[Waiting]]:
    """The lists per (origin, destination), each in the documented order."""
    routes: dict[tuple[str, str], list[Waiting]] = defaultdict(list)
    for entry in entries:
        routes[entry.origin, entry.destination].append(entry)
    return {route: sorted(items, key=Waiting.sort_key) for route, items in sorted(routes.items())}


def place_all(entries: Sequence[Waiting], convoys: Sequence[ScheduledConvoy]) -> dict[str, Placed]:
    """Every household's position, and its expected convoy if the lists were served in order.

    The expectation fills the scheduled convoys in date order, each from the households it may
    take in list order (a travel group boards whole, at its first member's place, or waits);
    beyond the scheduled convoys it extrapolates the route's weekly rate.
    """
    expected = _fill_in_order(entries, convoys)
    placed: dict[str, Placed] = {}
    for route_entries in ordered_lists(entries).values():
        people_ahead = 0
        rate = _weekly_rate(route_entries, expected, convoys)
        horizon = max((c.date for c in convoys), default=None)
        waiting_after_horizon = 0
        for index, entry in enumerate(route_entries):
            convoy = expected.get(entry.intention_uid)
            when: date | None = convoy.date if convoy else None
            estimated = False
            if convoy is None and rate > 0 and horizon is not None:
                waiting_after_horizon += entry.people
                when = horizon + timedelta(weeks=math.ceil(waiting_after_horizon / rate))
                estimated = True
            placed[entry.intention_uid] = Placed(
                entry, index + 1, index, people_ahead, convoy.convoy_id if convoy else None, when, estimated
            )
            people_ahead += entry.people
    return placed


def _weekly_rate(
    route_entries: Sequence[Waiting], expected: Mapping[str, ScheduledConvoy], convoys: Sequence[ScheduledConvoy]
) -> float:
    """People per week this route moves in the scheduled horizon (0 when it has no convoy)."""
    if not convoys:
        return 0.0
    moved = sum(entry.people for entry in route_entries if entry.intention_uid in expected)
    first, last = min(c.date for c in convoys), max(c.date for c in convoys)
    weeks = max(1, math.ceil(((last - first).days + 1) / 7))
    return moved / weeks


def _fill_in_order(entries: Sequence[Waiting], convoys: Sequence[ScheduledConvoy]) -> dict[str, ScheduledConvoy]:
    """intention uid -> the convoy it would ride if every convoy took households in list order."""
    units = _units_in_order(entries)
    taken: dict[str, ScheduledConvoy] = {}
    for convoy in sorted(convoys, key=lambda c: (c.date, c.convoy_id)):
        seats = convoy.seats
        for unit in units:
            if seats <= 0:
                break
            if unit[0].intention_uid in taken:
                continue
            people = sum(entry.people for entry in unit)
            if people <= seats and all(eligible(entry.for_planner(), convoy) for entry in unit):
                seats -= people
                taken.update((entry.intention_uid, convoy) for entry in unit)
    return taken


def _units_in_order(entries: Sequence[Waiting]) -> list[list[Waiting]]:
    """Households in the global list order, a travel group gathered at its first member's place."""
    units: list[list[Waiting]] = []
    groups: dict[str, list[Waiting]] = {}
    for entry in sorted(entries, key=Waiting.sort_key):
        if entry.travel_group is None:
            units.append([entry])
        elif entry.travel_group in groups:
            groups[entry.travel_group].append(entry)
        else:
            groups[entry.travel_group] = [entry]
            units.append(groups[entry.travel_group])
    return units


def reconfirm_window_start(departs_on: date, window_days: int) -> date:
    """The first day on which a re-confirmation counts for a convoy leaving on `departs_on`."""
    return departs_on - timedelta(days=window_days)


def reconfirmed_in_window(reconfirmed_at: datetime | None, departs_on: date, window_days: int) -> bool:
    """Whether the household re-confirmed within `window_days` before the convoy's day (or on it)."""
    if reconfirmed_at is None:
        return False
    return reconfirm_window_start(departs_on, window_days) <= reconfirmed_at.date() <= departs_on


def iso_week_bounds(week: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week written `2026-W49`; ValueError names the expected form."""
    try:
        year_text, week_text = week.strip().upper().split("-W")
        monday = date.fromisocalendar(int(year_text), int(week_text), 1)
    except ValueError:
        raise ValueError(f"{week!r} is not an ISO week; write it like 2026-W49") from None
    check_year(monday.year)  # the last weeks of year 9999 have no Sunday in Python's calendar
    return monday, monday + timedelta(days=6)
