"""One part of the planning problem in HiGHS: priority first, then the registration tie-break.

A small part is one whole MIP. A large one (more than `WHOLE_MIP_PAIRS` household-convoy pairs)
is solved in two steps: the LP relaxation over every pair gives the bound (certified by its dual
solution, checked here) and a kernel (the units the LP puts on a convoy, with all their convoys,
plus the current choice); the MIP then runs on that kernel only. The tie-break phase holds the
priority total at the value reached and maximises seniority the same way.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt

from awda.convoys.parts import Part
from awda.convoys.rules import ScheduledConvoy

WHOLE_MIP_PAIRS = 6000  # measured: HiGHS solves parts this size to optimality in well under a second
PRIORITY_SHARE = 0.6  # of a part's time, for the priority phase; the tie-break phase gets the rest
POSITIVE = 1e-6  # an LP value above this puts a unit in the kernel

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Columns:
    """One column per (unit, convoy) pair of a part, as arrays."""

    unit: Ints
    convoy: Ints  # position in part.convoys
    points: Floats
    seniority: Floats
    people: Floats
    seats: Floats
    units: int

    @classmethod
    def of(cls, part: Part, convoys: Sequence[ScheduledConvoy]) -> Columns:
        position = {convoy: at for at, convoy in enumerate(part.convoys)}
        pairs = [(at, position[convoy]) for at, unit in enumerate(part.units) for convoy in unit.convoys]
        unit = np.array([at for at, _ in pairs], dtype=np.int64)
        people = np.array([u.people for u in part.units], dtype=np.float64)
        return cls(
            unit=unit,
            convoy=np.array([convoy for _, convoy in pairs], dtype=np.int64),
            points=np.array([u.points for u in part.units], dtype=np.float64)[unit],
            seniority=np.array([u.seniority for u in part.units], dtype=np.float64)[unit],
            people=people[unit],
            seats=np.array([convoys[index].seats for index in part.convoys], dtype=np.float64),
            units=len(part.units),
        )

    def vector(self, part: Part) -> Floats:
        """The 0/1 column vector of the part's current choice."""
        chosen = np.array([-1 if ride is None else part.convoys.index(ride) for ride in part.choice], dtype=np.int64)
        vector: Floats = (chosen[self.unit] == self.convoy).astype(np.float64)
        return vector

    def choice(self, part: Part, x: Floats) -> list[int | None]:
        rides: list[int | None] = [None] * self.units
        for column in np.flatnonzero(x > 0.5):
            rides[int(self.unit[column])] = part.convoys[int(self.convoy[column])]
        return rides

    def feasible(self, x: Floats) -> bool:
        """At most one convoy per unit and no convoy over its seats, for a rounded 0/1 vector."""
        per_unit = np.bincount(self.unit, weights=x, minlength=self.units)
        load = np.bincount(self.convoy, weights=x * self.people, minlength=len(self.seats))
        return bool((per_unit <= 1).all() and (load <= self.seats).all())

    def kernel(self, relaxed: Floats, part: Part) -> Flags:
        """The columns the LP solution uses (even partly), and those of the current choice."""
        return np.asarray((relaxed > POSITIVE) | (self.vector(part) > 0.5))


@dataclass(frozen=True)
class Outcome:
    x: Floats | None
    objective: float
    dual_bound: float
    optimal: bool
    convoy_duals: Floats | None


def solve_part(part: Part, convoys: Sequence[ScheduledConvoy], seconds: float) -> None:
    """Improve `part.choice` in place (never to a worse plan) and tighten `part.bound`."""
    deadline = time.perf_counter() + seconds
    columns = Columns.of(part, convoys)
    whole = len(columns.unit) <= WHOLE_MIP_PAIRS
    phase_end = time.perf_counter() + seconds * PRIORITY_SHARE
    kernel = np.ones(len(columns.unit), dtype=np.bool_)
    if not whole:
        relaxed = _solve(columns, kernel, columns.points, None, False, phase_end, None)
        if relaxed.x is None or relaxed.convoy_duals is None:
            return
        part.bound = min(part.bound, certified_bound(columns, relaxed.convoy_duals))
        kernel = columns.kernel(relaxed.x, part)
    found = _solve(columns, kernel, columns.points, None, True, phase_end, columns.vector(part))
    _accept(part, columns, found, lambda candidate: candidate.points > part.points)
    if whole and found.x is not None:  # the MIP's own bound: its objective when it proved optimality
        proved = found.objective if found.optimal else found.dual_bound
        part.bound = max(part.points, min(part.bound, math.floor(proved + 1e-6)))
    part.optimal = part.points >= part.bound
    _tie_break(part, columns, whole, deadline)


def _tie_break(part: Part, columns: Columns, whole: bool, deadline: float) -> None:
    """Hold the priority at the value reached and maximise seniority (earlier registration) among such plans."""
    kernel = np.ones(len(columns.unit), dtype=np.bool_)
    floor = part.points
    best_possible = math.inf
    if not whole:
        relaxed = _solve(columns, kernel, columns.seniority, floor, False, deadline, None)
        if relaxed.x is None:
            return
        best_possible = relaxed.objective
        kernel = columns.kernel(relaxed.x, part)
    found = _solve(columns, kernel, columns.seniority, floor, True, deadline, columns.vector(part))
    _accept(part, columns, found, lambda candidate: candidate.points >= floor and candidate.seniority > part.seniority)
    reached = part.seniority >= max(found.objective, best_possible if not whole else 0) - 0.5
    proven = found.optimal and reached
    part.tie_break_optimal = part.optimal and proven


def _accept(part: Part, columns: Columns, outcome: Outcome, better: Callable[[Part], bool]) -> None:
    """Take the solver's plan only if it is feasible (checked here, after rounding) and better."""
    if outcome.x is None:
        return
    x = np.round(outcome.x)
    if not columns.feasible(x):
        return
    candidate = Part(part.units, part.convoys, columns.choice(part, x))
    if better(candidate):
        part.choice = candidate.choice


def certified_bound(columns: Columns, convoy_duals: Floats) -> int:
    """An upper bound on the priority points, from weak duality, valid for any non-negative seat prices.

    With a price y_c >= 0 per seat of each convoy, each unit is worth at most
    max(0, max_c points - people * y_c); the sum of those plus the seats' total price bounds any plan.
    """
    prices = np.maximum(convoy_duals, 0.0)
    worth = columns.points - columns.people * prices[columns.convoy]
    per_unit = np.zeros(columns.units)
    np.maximum.at(per_unit, columns.unit, worth)
    value = float(per_unit.sum() + (columns.seats * prices).sum())
    slack = 1e-9 * float(np.abs(per_unit).sum() + (columns.seats * prices).sum()) + 1e-6
    return math.floor(value + slack)


def _solve(
    columns: Columns,
    kernel: Flags,
    weights: Floats,
    priority_floor: int | None,
    integer: bool,
    deadline: float,
    start: Floats | None,
) -> Outcome:
    """Maximise `weights` over the kernel's columns (LP or MIP) until the deadline."""
    seconds = deadline - time.perf_counter()
    kept = np.flatnonzero(kernel)
    if seconds <= 0.01 or len(kept) == 0:
        return Outcome(None, 0.0, math.inf, False, None)
    highs = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy leaves its constructor unannotated
    for option, value in _OPTIONS.items():
        highs.setOptionValue(option, value)
    highs.setOptionValue("time_limit", seconds)
    highs.passModel(_model(columns, kept, weights, priority_floor, integer))
    if start is not None and integer:
        highs.setSolution(len(kept), np.arange(len(kept), dtype=np.int32), start[kept])
    highs.run()
    return _outcome(highs, columns, kept, integer)


_OPTIONS: dict[str, bool | int | float | str] = {
    "output_flag": False,
    "mip_rel_gap": 0.0,
    "mip_abs_gap": 0.5,  # objectives are whole numbers: a gap under 1 is no gap
    "random_seed": 20,
}


def _model(columns: Columns, kept: Ints, weights: Floats, priority_floor: int | None, integer: bool) -> highspy.HighsLp:
    """Rows: one per unit (at most one convoy), one per convoy (seats), and the priority floor if any."""
    count, units, convoys = len(kept), columns.units, len(columns.seats)
    entries = 2 if priority_floor is None else 3
    rows = [columns.unit[kept], units + columns.convoy[kept]]
    values = [np.ones(count), columns.people[kept]]
    if priority_floor is not None:
        rows.append(np.full(count, units + convoys))
        values.append(columns.points[kept])
    lp = highspy.HighsLp()
    lp.num_col_ = count
    lp.num_row_ = units + convoys + (priority_floor is not None)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = weights[kept]
    lp.col_lower_ = np.zeros(count)
    lp.col_upper_ = np.ones(count)
    lower = [np.full(units + convoys, -highspy.kHighsInf)]
    upper = [np.ones(units), columns.seats]
    if priority_floor is not None:
        lower.append(np.array([float(priority_floor)]))
        upper.append(np.array([highspy.kHighsInf]))
    lp.row_lower_ = np.concatenate(lower)
    lp.row_upper_ = np.concatenate(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, entries * count + 1, entries, dtype=np.int32)
    lp.a_matrix_.index_ = np.stack(rows, axis=1).ravel().astype(np.int32)
    lp.a_matrix_.value_ = np.stack(values, axis=1).ravel()
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * count
    return lp


def _outcome(highs: highspy.Highs, columns: Columns, kept: Ints, integer: bool) -> Outcome:
    status = highs.getModelStatus()
    info = highs.getInfo()
    solution = highs.getSolution()
    has_values = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    if not has_values:
        return Outcome(None, 0.0, math.inf, False, None)
    x = np.zeros(len(columns.unit))
    x[kept] = np.asarray(solution.col_value)
    optimal = status == highspy.HighsModelStatus.kOptimal
    duals = None
    if not integer and optimal and solution.dual_valid:
        duals = np.abs(np.asarray(solution.row_dual)[columns.units : columns.units + len(columns.seats)])
    bound = info.mip_dual_bound if integer else info.objective_function_value
    return Outcome(x, info.objective_function_value, bound, optimal, duals)
