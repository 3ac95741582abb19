"""The convoy planning benchmark runs end to end on a small instance (its timing is not asserted)."""

from __future__ import annotations

from awda.convoys.parts import greedy_fill, split_parts
from awda.convoys.planner import plan_convoys
from awda.convoys.rules import check_plan, points_to_objective, travel_units
from bench.convoys import generate, lp_bound, run


def test_convoy_benchmark_runs_and_its_plan_is_feasible_and_near_the_lp_bound() -> None:
    result = run(households=1500, convoys=24, time_limit=2, seed=3)
    assert result["feasible"] and result["problems"] == []
    assert result["groups"] > 5 and result["assigned_households"] > 100
    assert 0.99 <= result["ratio"] <= 1.0 + 1e-9  # no plan can beat the LP relaxation
    assert result["solver_bound"] >= result["objective"]


def test_the_generated_instance_is_realistic() -> None:
    households, convoys = generate(4000, 40, seed=1)
    assert len(households) == 4000 and len(convoys) == 40
    assert len({h.origin for h in households}) >= 3 and len({d for c in convoys for d in c.destinations}) == 6
    grouped = sum(1 for h in households if h.group_id)
    assert 0.02 * 4000 < grouped < 0.1 * 4000
    assert {h.size for h in households} == set(range(1, 13))
    assert sum(h.vulnerability == 0 for h in households) > 0.7 * 4000


def test_the_solver_improves_on_its_greedy_start_on_a_large_part() -> None:
    households, convoys = generate(6000, 60, seed=4)
    parts = split_parts(travel_units(households, convoys))
    for part in parts:
        greedy_fill(part, convoys)
    assert max(part.pairs for part in parts) > 6000  # the LP + kernel path, not one whole MIP
    greedy = points_to_objective(sum(part.points for part in parts))
    plan = plan_convoys(households, convoys, time_limit=4)
    assert check_plan(households, convoys, plan.assignments) == []
    assert greedy <= plan.objective <= plan.bound
    assert plan.bound <= lp_bound(households, convoys) + 1e-6 * plan.bound
