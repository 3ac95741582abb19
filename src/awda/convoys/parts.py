"""Independent parts of the planning problem, and the greedy start for each (pure Python)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from awda.convoys.rules import ScheduledConvoy, TravelUnit


@dataclass
class Part:
    """Units and the convoys they are connected to through eligibility; solved on its own.

    `bound` is a proven upper bound on the part's priority points; `optimal` says the choice reaches it;
    `tie_break_optimal` says that, among choices with that priority, the seniority total is proven best too.
    """

    units: list[TravelUnit]
    convoys: list[int]
    choice: list[int | None]  # per unit: the index of the convoy it rides, or None
    bound: int = 0
    optimal: bool = False
    tie_break_optimal: bool = False

    @property
    def pairs(self) -> int:
        return sum(len(unit.convoys) for unit in self.units)

    @property
    def households(self) -> int:
        return sum(len(unit.household_ids) for unit in self.units)

    @property
    def points(self) -> int:
        return sum(unit.points for unit, ride in zip(self.units, self.choice, strict=True) if ride is not None)

    @property
    def seniority(self) -> int:
        return sum(unit.seniority for unit, ride in zip(self.units, self.choice, strict=True) if ride is not None)


def split_parts(units: Sequence[TravelUnit]) -> list[Part]:
    """Units grouped by the connected parts of the unit-convoy eligibility graph (units with no convoy left out).

    Households from different origins never share a part, nor do households whose convoys never meet.
    """
    parent: dict[int, int] = {}

    def root(convoy: int) -> int:
        while parent.setdefault(convoy, convoy) != convoy:
            parent[convoy] = parent[parent[convoy]]
            convoy = parent[convoy]
        return convoy

    for unit in units:
        for convoy in unit.convoys[1:]:
            parent[root(convoy)] = root(unit.convoys[0])
    grouped: dict[int, list[TravelUnit]] = {}
    for unit in units:
        if unit.convoys:
            grouped.setdefault(root(unit.convoys[0]), []).append(unit)
    parts = []
    for members in grouped.values():
        used = sorted({convoy for unit in members for convoy in unit.convoys})
        parts.append(Part(members, used, [None] * len(members)))
    return parts


def greedy_fill(part: Part, convoys: Sequence[ScheduledConvoy]) -> None:
    """Highest priority per seat first, earlier registration first among equals. Each unit takes, of the
    convoys with room for it, the one least wanted by the units still to come (people wanting it per seat
    left), then the earliest. A group is one unit: all ride or none."""
    room = {index: convoys[index].seats for index in part.convoys}
    wanted = dict.fromkeys(part.convoys, 0)
    for unit in part.units:
        for index in unit.convoys:
            wanted[index] += unit.people
    for at in sorted(range(len(part.units)), key=lambda at: _greedy_rank(part.units[at])):
        unit = part.units[at]
        for index in unit.convoys:
            wanted[index] -= unit.people
        fitting = [index for index in unit.convoys if room[index] >= unit.people]
        if fitting:
            chosen = min(fitting, key=lambda index: (wanted[index] / room[index], convoys[index].date))
            part.choice[at] = chosen
            room[chosen] -= unit.people
    part.bound = fractional_bound(part, convoys)
    everyone = all(ride is not None for ride in part.choice)
    part.optimal = everyone or part.points >= part.bound
    part.tie_break_optimal = everyone


def _greedy_rank(unit: TravelUnit) -> tuple[float, float]:
    """Priority per seat first, then seniority per seat (earlier registration first)."""
    return (-unit.points / unit.people, -unit.seniority / unit.people)


def fractional_bound(part: Part, convoys: Sequence[ScheduledConvoy]) -> int:
    """A cheap proven bound: all the part's seats filled by its best priority per seat, fractions allowed."""
    seats = sum(convoys[index].seats for index in part.convoys)
    total = 0
    for unit in sorted(part.units, key=lambda unit: unit.points / unit.people, reverse=True):
        if seats <= 0:
            break
        taken = min(unit.people, seats)
        total += -(-unit.points * taken // unit.people)  # rounded up, so the bound stays valid
        seats -= taken
    return min(total, sum(unit.points for unit in part.units))
