"""The survival benchmark runs end to end on a small cohort set and both sides agree (no time is asserted)."""

from __future__ import annotations

from bench.survival import run


def test_survival_benchmark_runs_and_agrees_with_lifelines() -> None:
    result = run(people=5000, agreements=8, seed=3, rounds=1)
    assert result["agreements"] == 8
    assert result["same_results"] is True
    assert max(result["largest_differences"].values()) < 1e-9
    assert result["logrank"]["df"] == 7
    assert result["ratio"] > 0
