"""The convoy planning problem as plain values, its rules, and an independent plan checker (docs/convoys.md).

Pure: imports neither SQLAlchemy nor the web. The planner (`planner.py`) and the registry both
speak these types.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

# Priority is counted in thousandths of a person, so the solver works on exact integers:
# a vulnerability is taken to three decimal places (0.3333 counts as 0.333).
PRIORITY_SCALE = 1000


@dataclass(frozen=True)
class WaitingHousehold:
    """A household on a waiting list, as the planner sees it (no personal data)."""

    household_id: str
    size: int
    origin: str
    destination: str
    earliest_date: date
    vulnerability: float
    registered_at: datetime | date
    group_id: str | None = None


@dataclass(frozen=True)
class ScheduledConvoy:
    """A scheduled movement: it leaves `origin` on `date` and serves every place in `destinations`."""

    convoy_id: str
    date: date
    origin: str
    destinations: tuple[str, ...]
    seats: int


@dataclass(frozen=True)
class Plan:
    """The planner's answer: who rides which convoy, and how good that is.

    `objective` is the sum of `size * (1 + vulnerability)` over assigned households; `bound` is an
    upper bound on it that the solver proved; `optimal` says the objective equals the bound.
    `tie_break_optimal` says the registration tie-break was also solved to proven optimality.
    """

    assignments: Mapping[str, str]
    objective: float
    bound: float
    optimal: bool
    tie_break_optimal: bool
    assigned_households: int
    assigned_people: int
    unassigned_households: int
    without_eligible_convoy: tuple[str, ...]
    seconds: float
    method: str

    def summary(self) -> dict[str, object]:
        """The report shown by `awda convoys plan --json`: the five promised keys first."""
        return {
            "objective": self.objective,
            "bound": self.bound,
            "assigned_households": self.assigned_households,
            "assigned_people": self.assigned_people,
            "seconds": round(self.seconds, 3),
            "optimal": self.optimal,
            "tie_break_optimal": self.tie_break_optimal,
            "unassigned_households": self.unassigned_households,
            "without_eligible_convoy": len(self.without_eligible_convoy),
            "method": self.method,
        }


@dataclass(frozen=True)
class InputProblem:
    """One broken rule in the input: which list (`households` or `convoys`), which item, which field."""

    kind: str
    index: int
    field: str
    message: str


@dataclass(frozen=True)
class TravelUnit:
    """Households that travel together (a group, or one household alone) and the convoys they may ride."""

    household_ids: tuple[str, ...]
    people: int
    points: int
    seniority: int
    convoys: tuple[int, ...] = field(default=())


def priority_points(household: WaitingHousehold) -> int:
    """`size * (1 + vulnerability)` in thousandths of a person (exact integer)."""
    return household.size * (PRIORITY_SCALE + round(household.vulnerability * PRIORITY_SCALE))


def points_to_objective(points: int) -> float:
    return points / PRIORITY_SCALE


def registration_instant(value: datetime | date) -> datetime:
    """A comparable instant: dates count as midnight; aware times are converted to UTC, naive ones taken as UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value
    return datetime(value.year, value.month, value.day)


def seniorities(households: Sequence[WaitingHousehold]) -> dict[str, int]:
    """How many households registered after each one (by registration time, then household id).

    The earliest registered household has the highest seniority; no two households share one.
    """
    order = sorted(households, key=lambda h: (registration_instant(h.registered_at), h.household_id))
    last = len(order) - 1
    return {household.household_id: last - position for position, household in enumerate(order)}


def eligible(household: WaitingHousehold, convoy: ScheduledConvoy) -> bool:
    """Same origin, the convoy serves the household's destination, and it leaves on or after its earliest date."""
    return (
        household.origin == convoy.origin
        and household.destination in convoy.destinations
        and convoy.date >= household.earliest_date
    )


def why_no_convoy(household: WaitingHousehold, convoys: Sequence[ScheduledConvoy]) -> str:
    """Why no convoy can take this household, in words (for messages): the first rule that fails."""
    from_origin = [convoy for convoy in convoys if convoy.origin == household.origin]
    serving = [convoy for convoy in from_origin if household.destination in convoy.destinations]
    if not from_origin:
        return f"no convoy leaves {household.origin}"
    if not serving:
        return f"no convoy from {household.origin} serves {household.destination}"
    if all(convoy.date < household.earliest_date for convoy in serving):
        return f"every convoy to {household.destination} leaves before {household.earliest_date.isoformat()}"
    return "no convoy it may ride has seats for its whole group" if household.group_id else "no convoy has seats"


def group_key(household: WaitingHousehold) -> str | None:
    return household.group_id or None


def travel_units(households: Sequence[WaitingHousehold], convoys: Sequence[ScheduledConvoy]) -> list[TravelUnit]:
    """Households grouped into units; a unit may ride a convoy every member may ride that has seats for all."""
    seniority = seniorities(households)
    members: dict[str, list[WaitingHousehold]] = defaultdict(list)
    units: list[list[WaitingHousehold]] = []
    for household in households:
        key = group_key(household)
        if key is None:
            units.append([household])
        else:
            if key not in members:
                units.append(members[key])
            members[key].append(household)
    by_route = _convoys_by_route(convoys)
    return [_unit(unit, seniority, convoys, by_route) for unit in units]


def _convoys_by_route(convoys: Sequence[ScheduledConvoy]) -> dict[tuple[str, str], list[int]]:
    routes: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, convoy in enumerate(convoys):
        for destination in dict.fromkeys(convoy.destinations):
            routes[convoy.origin, destination].append(index)
    return routes


def _unit(
    members: list[WaitingHousehold],
    seniority: Mapping[str, int],
    convoys: Sequence[ScheduledConvoy],
    by_route: Mapping[tuple[str, str], list[int]],
) -> TravelUnit:
    people = sum(household.size for household in members)
    allowed: set[int] | None = None
    for household in members:
        route = by_route.get((household.origin, household.destination), [])
        mine = {index for index in route if convoys[index].date >= household.earliest_date}
        allowed = mine if allowed is None else allowed & mine
    return TravelUnit(
        household_ids=tuple(household.household_id for household in members),
        people=people,
        points=sum(priority_points(household) for household in members),
        seniority=sum(household.size * seniority[household.household_id] for household in members),
        convoys=tuple(sorted(index for index in allowed or () if convoys[index].seats >= people)),
    )


def input_problems(households: Sequence[WaitingHousehold], convoys: Sequence[ScheduledConvoy]) -> list[InputProblem]:
    """Every broken input rule, in input order: ids, sizes, seats, vulnerability, and groups that cannot travel."""
    problems = [*_household_problems(households), *_convoy_problems(convoys), *_group_problems(households)]
    return sorted(problems, key=lambda problem: (problem.kind != "households", problem.index))


def _household_problems(households: Sequence[WaitingHousehold]) -> Iterable[InputProblem]:
    seen: set[str] = set()
    for index, household in enumerate(households):
        if not household.household_id:
            yield InputProblem("households", index, "household_id", "is empty")
        elif household.household_id in seen:
            yield InputProblem("households", index, "household_id", "is used by more than one household")
        seen.add(household.household_id)
        if household.size < 1:
            yield InputProblem("households", index, "size", f"must be at least 1, not {household.size}")
        if not (math.isfinite(household.vulnerability) and household.vulnerability >= 0):
            yield InputProblem("households", index, "vulnerability", "must be a number >= 0")
        if not household.origin or not household.destination:
            yield InputProblem("households", index, "origin" if not household.origin else "destination", "is empty")


def _convoy_problems(convoys: Sequence[ScheduledConvoy]) -> Iterable[InputProblem]:
    seen: set[str] = set()
    for index, convoy in enumerate(convoys):
        if not convoy.convoy_id:
            yield InputProblem("convoys", index, "convoy_id", "is empty")
        elif convoy.convoy_id in seen:
            yield InputProblem("convoys", index, "convoy_id", "is used by more than one convoy")
        seen.add(convoy.convoy_id)
        if convoy.seats < 0:
            yield InputProblem("convoys", index, "seats", f"must be >= 0, not {convoy.seats}")
        if not convoy.origin:
            yield InputProblem("convoys", index, "origin", "is empty")
        if not convoy.destinations or not all(convoy.destinations):
            yield InputProblem("convoys", index, "destinations", "needs at least one place, and no empty one")


def _group_problems(households: Sequence[WaitingHousehold]) -> Iterable[InputProblem]:
    first: dict[str, WaitingHousehold] = {}
    for index, household in enumerate(households):
        key = group_key(household)
        if key is None:
            continue
        leader = first.setdefault(key, household)
        for name in ("origin", "destination"):
            if getattr(household, name) != getattr(leader, name):
                message = (
                    f"group {key} mixes {name}s {getattr(leader, name)} and {getattr(household, name)}; "
                    "a group travels together, so its households must share origin and destination"
                )
                yield InputProblem("households", index, name, message)


def check_plan(
    households: Sequence[WaitingHousehold],
    convoys: Sequence[ScheduledConvoy],
    assignments: Mapping[str, str] | Iterable[tuple[str, str]],
) -> list[str]:
    """Every way `assignments` (household id -> convoy id) breaks the rules; empty when the plan is feasible.

    Written apart from the planner, constraint by constraint, so that the two can check each other.
    """
    pairs = list(assignments.items()) if isinstance(assignments, Mapping) else list(assignments)
    by_household = {household.household_id: household for household in households}
    by_convoy = {convoy.convoy_id: convoy for convoy in convoys}
    problems: list[str] = []
    times = Counter(household_id for household_id, _ in pairs)
    problems += [f"household {h} is assigned {n} times" for h, n in times.items() if n > 1]
    load: Counter[str] = Counter()
    for household_id, convoy_id in pairs:
        household, convoy = by_household.get(household_id), by_convoy.get(convoy_id)
        if household is None or convoy is None:
            problems.append(
                f"unknown {'household' if household is None else 'convoy'} in {household_id} -> {convoy_id}"
            )
            continue
        load[convoy_id] += household.size
        problems += _pair_problems(household, convoy)
    for convoy_id, people in load.items():
        if people > by_convoy[convoy_id].seats:
            problems.append(f"convoy {convoy_id} carries {people} people in {by_convoy[convoy_id].seats} seats")
    return problems + _group_plan_problems(households, pairs)


def _pair_problems(household: WaitingHousehold, convoy: ScheduledConvoy) -> list[str]:
    where = f"household {household.household_id} on convoy {convoy.convoy_id}"
    problems = []
    if household.origin != convoy.origin:
        problems.append(f"{where}: leaves from {convoy.origin}, not {household.origin}")
    if household.destination not in convoy.destinations:
        problems.append(f"{where}: does not serve {household.destination}")
    if convoy.date < household.earliest_date:
        problems.append(f"{where}: leaves {convoy.date}, before the earliest date {household.earliest_date}")
    return problems


def _group_plan_problems(households: Sequence[WaitingHousehold], pairs: Sequence[tuple[str, str]]) -> list[str]:
    ride = dict(pairs)
    groups: dict[str, set[str | None]] = defaultdict(set)
    for household in households:
        if household.group_id:
            groups[household.group_id].add(ride.get(household.household_id))
    return [
        f"group {group_id} is split: {sorted(str(convoy) for convoy in rides)}"
        for group_id, rides in groups.items()
        if len(rides) > 1
    ]
