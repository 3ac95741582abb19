"""Validation on simulated data with known hazards (docs/survival.md, "Validation").

One real scenario from `awda.simulate` gives the hazard model (its manifest) and is analysed
as it stands; the 50 seeds are drawn with numpy from that manifest's rates exactly as the
simulator draws them (piecewise-constant hazard from the arrival day, the day of a violation is
the day it falls in, observation ends at the scenario end), which is 100 times faster than
simulating 50 whole scenarios.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from awda.simulate import write_scenario
from awda.stats.counts import CountTable
from awda.stats.hazard_steps import hazard_steps
from awda.stats.simulated import (
    SERIOUS_TYPES,
    Arrivals,
    HazardPeriod,
    first_serious_violations,
    hazard_periods,
    true_survival,
)
from awda.stats.survival import survival_curve

SEEDS = range(50)
DAYS = (180, 365)
COHORTS = ("AG-2019-RUKBAN/return", "AG-2018-NHOMS/return")  # military-age men: the cohorts at risk
PROFILE = "military_age_man"
PLANTED_STEP = 180


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenario")
    write_scenario(folder, 3000, seed=1, workers=1)
    return folder / "truth"


@pytest.fixture(scope="module")
def arrivals(scenario: Path) -> Arrivals:
    return first_serious_violations(scenario)


def serious_rates(periods: list[HazardPeriod], cohort: str) -> list[tuple[int, float]]:
    """(from_day, serious violations per day) of each period of one cohort's military-age men."""
    agreement, intention = cohort.split("/")
    chosen = [
        p for p in periods if (p["agreement_id"], p["intention"], p["profile"]) == (agreement, intention, PROFILE)
    ]
    return [
        (p["from_day"], sum(v for k, v in p["rates_per_person_year"].items() if k in SERIOUS_TYPES) / 365.25)
        for p in sorted(chosen, key=lambda p: p["from_day"])
    ]


def draw(periods: list[HazardPeriod], cohort: str, seed: int, people: int = 500) -> CountTable:
    """People of one cohort as the simulator draws them; horizons of 1 to 3.5 years to the scenario end."""
    rng = np.random.default_rng([seed, COHORTS.index(cohort)])
    (start, before), (step, after) = serious_rates(periods, cohort)
    assert (start, step) == (0, PLANTED_STEP)
    first = rng.exponential(1 / before, people)
    times = np.where(first < step, first, step + rng.exponential(1 / after, people))
    horizon = rng.integers(365, 1300, people)
    violated = times < horizon
    return CountTable.from_records(np.where(violated, np.floor(times).astype(int), horizon), violated)


def covered(table: CountTable, truth: np.ndarray) -> list[bool]:
    curve = survival_curve(table.groups[0])
    return [curve.at(day)[1] <= value <= curve.at(day)[2] for day, value in zip(DAYS, truth, strict=True)]


def test_the_true_curve_is_inside_the_band_for_nine_seeds_in_ten(scenario: Path) -> None:
    periods = hazard_periods(scenario / "manifest.json")
    for cohort in COHORTS:
        truth = true_survival(periods, cohort, PROFILE, DAYS)
        inside = np.array([covered(draw(periods, cohort, seed), truth) for seed in SEEDS])
        # pointwise 95% bands: each day on its own (both days at once: about 91% expected)
        assert inside.mean(axis=0).min() >= 0.9, (cohort, inside.sum(axis=0))


def test_the_planted_step_is_found_within_30_days_for_every_seed(scenario: Path) -> None:
    periods = hazard_periods(scenario / "manifest.json")
    for cohort in COHORTS:
        for seed in SEEDS:
            found = hazard_steps(draw(periods, cohort, seed).groups[0], simulations=0)
            nearest = min((abs(point - PLANTED_STEP) for point in found.change_points), default=None)
            assert nearest is not None, (cohort, seed)
            assert nearest <= 30, (cohort, seed, found.change_points)


def test_the_real_scenario_curves_hold_the_truth(scenario: Path, arrivals: Arrivals) -> None:
    periods = hazard_periods(scenario / "manifest.json")
    for cohort in COHORTS:
        days, violated = arrivals.select(cohort, PROFILE)
        assert len(days) > 300
        assert covered(CountTable.from_records(days, violated), true_survival(periods, cohort, PROFILE, DAYS)) == [
            True,
            True,
        ]


def test_the_real_scenario_step_is_found_and_significant(arrivals: Arrivals) -> None:
    days, violated = arrivals.select(COHORTS[0], PROFILE)
    found = hazard_steps(CountTable.from_records(days, violated).groups[0], simulations=199, seed=1)
    assert min(abs(point - PLANTED_STEP) for point in found.change_points) <= 30
    assert found.p_value is not None
    assert found.p_value <= 0.01
    assert found.segments[0].hazard < found.segments[1].hazard


def test_the_reduction_counts_each_arrival_once(scenario: Path, arrivals: Arrivals) -> None:
    lines = (scenario / "movements.csv").read_text(encoding="utf-8").splitlines()[1:]
    arrived_under_agreements = [line for line in lines if ",arrived," in line and ",relocate," not in line]
    assert len(arrivals.days) == len(arrived_under_agreements)
    assert arrivals.days.min() >= 0
    assert 0 < arrivals.violated.sum() < len(arrivals.days)
