"""Assign waiting households to scheduled convoys: a greedy start, then HiGHS, part by part.

The problem (docs/convoys.md) splits into parts that share no convoy: households from different
origins never meet, nor do households whose convoys are disjoint. Each part starts from the greedy
plan and is improved lexicographically: first the priority total (`size * (1 + vulnerability)`),
then, with the priority held at the best value found, the registration tie-break. The reported
bound is the sum of the parts' proven bounds on the priority total.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from awda.convoys.parts import Part, greedy_fill, split_parts
from awda.convoys.rules import (
    Plan,
    ScheduledConvoy,
    TravelUnit,
    WaitingHousehold,
    input_problems,
    points_to_objective,
    travel_units,
)
from awda.errors import ValidationFailed

DEFAULT_TIME_LIMIT = 30.0
RESERVE_SECONDS = 0.3  # kept back from the solvers for assembling the plan

Progress = Callable[[int], None]


def plan_convoys(
    households: Sequence[WaitingHousehold],
    convoys: Sequence[ScheduledConvoy],
    time_limit: float = DEFAULT_TIME_LIMIT,
    on_progress: Progress | None = None,
) -> Plan:
    """The best plan found within about `time_limit` seconds, with the bound proved on its objective.

    Raises ValidationFailed (naming the household or convoy) for input that breaks a rule.
    `on_progress(n)` is called when the n households of a part are planned.
    """
    started = time.perf_counter()
    validate(households, convoys)
    units = travel_units(households, convoys)
    parts = split_parts(units)
    for part in parts:
        greedy_fill(part, convoys)
    deadline = started + max(time_limit - min(RESERVE_SECONDS, time_limit / 50), 0.0)
    pending = [part for part in parts if not (part.optimal and part.tie_break_optimal)]
    remaining_pairs = sum(part.pairs for part in pending)
    if on_progress is not None:  # households with nothing left to decide are done at once
        on_progress(len(households) - sum(part.households for part in pending))
    from awda.convoys.solver import solve_part  # HiGHS loads only when there is something to solve

    for part in sorted(pending, key=lambda part: part.pairs):  # the largest part last, with the time left over
        budget = max(deadline - time.perf_counter(), 0.0) * part.pairs / remaining_pairs
        remaining_pairs -= part.pairs
        solve_part(part, convoys, budget)
        if on_progress is not None:
            on_progress(part.households)
    return _plan(households, units, parts, convoys, time.perf_counter() - started, bool(pending))


def validate(households: Sequence[WaitingHousehold], convoys: Sequence[ScheduledConvoy]) -> None:
    """Raise ValidationFailed for the first broken input rule, naming the household or convoy."""
    problems = input_problems(households, convoys)
    if problems:
        problem = problems[0]
        if problem.kind == "households":
            name = f"household {households[problem.index].household_id or f'#{problem.index + 1}'}"
        else:
            name = f"convoy {convoys[problem.index].convoy_id or f'#{problem.index + 1}'}"
        raise ValidationFailed(problem.field, f"{name}: {problem.message}")


def _plan(
    households: Sequence[WaitingHousehold],
    units: Sequence[TravelUnit],
    parts: Sequence[Part],
    convoys: Sequence[ScheduledConvoy],
    seconds: float,
    solver_ran: bool,
) -> Plan:
    sizes = {household.household_id: household.size for household in households}
    assignments: dict[str, str] = {}
    for part in parts:
        for unit, ride in zip(part.units, part.choice, strict=True):
            if ride is not None:
                assignments.update(dict.fromkeys(unit.household_ids, convoys[ride].convoy_id))
    points = sum(part.points for part in parts)
    bound = sum(part.bound for part in parts)
    return Plan(
        assignments=assignments,
        objective=points_to_objective(points),
        bound=points_to_objective(bound),
        optimal=points >= bound,
        tie_break_optimal=all(part.tie_break_optimal for part in parts),
        assigned_households=len(assignments),
        assigned_people=sum(sizes[household_id] for household_id in assignments),
        unassigned_households=len(households) - len(assignments),
        without_eligible_convoy=tuple(h for unit in units if not unit.convoys for h in unit.household_ids),
        seconds=seconds,
        method="greedy + HiGHS (lexicographic)" if solver_ran else "greedy (proven optimal)",
    )
