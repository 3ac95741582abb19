"""Convoy planning: awda's plan against the LP-relaxation bound computed by SciPy's HiGHS in the same run.

    .venv/bin/python bench/convoys.py [--households 20000] [--convoys 200] [--time-limit 30] [--seed 6] [--json]

A seeded instance: several origins (camps and neighbourhoods), 6 destinations, convoys over ten
weeks serving one to three destinations each, households of 1 to 12 people (about 5% travel in
groups of 2 or 3 households), vulnerability mostly 0, some 0.5 and 1. awda's planner runs with the
time limit; its plan is checked independently with `check_plan`; the LP relaxation of the same
problem (fractional assignments allowed), built here from the raw data, gives an upper bound on
any plan's objective. The figure is objective / LP bound (1.0 = provably nothing left to gain).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from awda.convoys.planner import plan_convoys
from awda.convoys.rules import ScheduledConvoy, WaitingHousehold, check_plan

TARGET_RATIO = 0.999
ORIGINS = {"SY-RUKBAN": 5, "SY-WAER": 3, "SY-YARMOUK": 2, "SY-ARSAL": 2}  # relative size of each waiting list
DESTINATIONS = ("SY-QUSAYR", "SY-TALBISEH", "SY-RASTAN", "SY-PALMYRA", "SY-QARYATAYN", "SY-HOMS")
SIZE_WEIGHTS = (6, 8, 10, 12, 13, 12, 10, 8, 7, 5, 4, 3)  # households of 1..12 people
VULNERABILITY = ((0.0, 80), (0.5, 15), (1.0, 5))
GROUP_SHARE = 0.05
FIRST_CONVOY = date(2026, 12, 1)
WEEKS = 10


def _household(rng: random.Random, number: int, origin: str, destination: str, group: str | None) -> WaitingHousehold:
    ready = rng.random() < 0.6  # most are ready now; the rest from a later week
    earliest = FIRST_CONVOY - timedelta(days=30) if ready else FIRST_CONVOY + timedelta(days=rng.randrange(WEEKS * 7))
    registered = datetime(2025, 11, 1) + timedelta(seconds=rng.randrange(390 * 86_400))
    values, weights = zip(*VULNERABILITY, strict=True)
    return WaitingHousehold(
        household_id=f"H{number:06d}",
        size=rng.choices(range(1, 13), weights=SIZE_WEIGHTS)[0],
        origin=origin,
        destination=destination,
        earliest_date=earliest,
        vulnerability=rng.choices(values, weights=weights)[0],
        registered_at=registered,
        group_id=group,
    )


def generate(households: int, convoys: int, seed: int) -> tuple[list[WaitingHousehold], list[ScheduledConvoy]]:
    """A realistic, seeded instance of the planning problem."""
    rng = random.Random(seed)
    origins, weights = list(ORIGINS), list(ORIGINS.values())
    waiting: list[WaitingHousehold] = []
    groups = 0
    while len(waiting) < households:
        origin, destination = rng.choices(origins, weights=weights)[0], rng.choice(DESTINATIONS)
        together = rng.random() < GROUP_SHARE / 2.5  # groups of 2-3 households: about 5% of households
        members = min(rng.choice((2, 3)) if together else 1, households - len(waiting))
        group = f"G{groups:05d}" if members > 1 else None
        groups += members > 1
        for _ in range(members):
            waiting.append(_household(rng, len(waiting), origin, destination, group))
    scheduled = [
        ScheduledConvoy(
            convoy_id=f"C{number:04d}",
            date=FIRST_CONVOY + timedelta(days=rng.randrange(WEEKS * 7)),
            origin=rng.choices(origins, weights=weights)[0],
            destinations=tuple(rng.sample(DESTINATIONS, rng.choice((1, 1, 2, 2, 3)))),
            seats=50 * rng.randrange(2, 7),  # two to six buses of 50 seats
        )
        for number in range(convoys)
    ]
    return waiting, scheduled


def lp_bound(households: Sequence[WaitingHousehold], convoys: Sequence[ScheduledConvoy]) -> float:
    """The LP relaxation's optimum, from the raw data: x[h, c] in [0, 1], groups as one unit, seats, one convoy."""
    units: dict[str, list[WaitingHousehold]] = {}
    for household in households:
        units.setdefault(household.group_id or f"\0{household.household_id}", []).append(household)
    routes: dict[tuple[str, str], list[int]] = {}
    for index, convoy in enumerate(convoys):
        for destination in set(convoy.destinations):
            routes.setdefault((convoy.origin, destination), []).append(index)
    value: list[float] = []
    rows: list[int] = []
    columns: list[int] = []
    coefficients: list[float] = []
    for row, members in enumerate(units.values()):
        people = sum(member.size for member in members)
        for index in routes.get((members[0].origin, members[0].destination), []):
            convoy = convoys[index]
            if people <= convoy.seats and all(
                m.origin == convoy.origin and m.destination in convoy.destinations and convoy.date >= m.earliest_date
                for m in members
            ):
                column = len(value)
                value.append(sum(member.size * (1 + member.vulnerability) for member in members))
                rows += [row, len(units) + index]
                columns += [column, column]
                coefficients += [1.0, float(people)]
    if not value:
        return 0.0
    matrix = coo_array((coefficients, (rows, columns)), shape=(len(units) + len(convoys), len(value))).tocsr()
    limits = np.array([1.0] * len(units) + [float(convoy.seats) for convoy in convoys])
    relaxed = np.zeros(len(value), dtype=np.int64)  # integrality relaxed: every x is continuous in [0, 1]
    result = milp(
        -np.array(value),
        integrality=relaxed,
        bounds=Bounds(0.0, 1.0),
        constraints=LinearConstraint(matrix, -np.inf, limits),
    )
    if not result.success or result.fun is None:
        raise RuntimeError(f"the LP relaxation failed: {result.message}")
    return float(-result.fun)


def run(households: int = 20_000, convoys: int = 200, time_limit: float = 30.0, seed: int = 6) -> dict[str, Any]:
    waiting, scheduled = generate(households, convoys, seed)
    plan = plan_convoys(waiting, scheduled, time_limit)
    problems = check_plan(waiting, scheduled, plan.assignments)
    started = time.perf_counter()
    bound = lp_bound(waiting, scheduled)
    lp_seconds = time.perf_counter() - started
    ratio = plan.objective / bound if bound else 1.0
    return {
        "households": len(waiting),
        "people": sum(household.size for household in waiting),
        "groups": len({household.group_id for household in waiting if household.group_id}),
        "convoys": len(scheduled),
        "seats": sum(convoy.seats for convoy in scheduled),
        "time_limit": time_limit,
        "objective": plan.objective,
        "solver_bound": plan.bound,
        "lp_bound": round(bound, 3),
        "ratio": round(ratio, 6),
        "target_ratio": TARGET_RATIO,
        "target_met": ratio >= TARGET_RATIO and plan.seconds <= time_limit + 1 and not problems,
        "feasible": not problems,
        "problems": problems[:5],
        "optimal": plan.optimal,
        "tie_break_optimal": plan.tie_break_optimal,
        "assigned_households": plan.assigned_households,
        "assigned_people": plan.assigned_people,
        "planner_seconds": round(plan.seconds, 2),
        "lp_seconds": round(lp_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--convoys", type=int, default=200)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    result = run(arguments.households, arguments.convoys, arguments.time_limit, arguments.seed)
    if arguments.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['households']} households, {result['convoys']} convoys: objective {result['objective']}, "
            f"LP bound {result['lp_bound']}, ratio {result['ratio']} (target {TARGET_RATIO}), "
            f"{result['planner_seconds']} s (limit {result['time_limit']} s), "
            f"feasible {result['feasible']}, optimal {result['optimal']}"
        )


if __name__ == "__main__":
    main()
