"""The counts layer, Kaplan-Meier edge cases, Aalen-Johansen cumulative incidence and hazard steps."""

from __future__ import annotations

import numpy as np
import pytest

from awda.errors import ValidationFailed
from awda.stats.counts import CountTable
from awda.stats.hazard_steps import hazard_steps
from awda.stats.incidence import cumulative_incidence
from awda.stats.logrank import logrank
from awda.stats.survival import kaplan_meier, survival_curve


def random_records(seed: int, size: int = 400, causes: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heavily tied days (0..29, day 0 included), causes 0..k, three groups."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 30, size), rng.integers(0, causes + 1, size), rng.choice(["a", "b", "c"], size)


def test_counts_follow_the_at_risk_convention() -> None:
    table = CountTable.from_records([3, 1, 3, 3, 5, 0], [1, 0, 0, 1, 1, 1])
    (group,) = table.groups
    assert group.name == "all"
    assert group.time.tolist() == [0, 1, 3, 5]
    assert group.at_risk.tolist() == [6, 5, 4, 1]  # time >= t
    assert group.events.tolist() == [1, 0, 2, 1]
    assert group.censored.tolist() == [0, 1, 1, 0]
    assert group.time.dtype == np.int64


def test_float_times_stay_floats_and_groups_are_named_by_their_text() -> None:
    table = CountTable.from_records([2.5, 1.0, 2.5], [True, False, True], ["x", "y", "x"])
    assert table.names == ["x", "y"]
    assert table.group("x").time.tolist() == [2.5]
    assert table.group("x").time.dtype == np.float64
    assert table.group("x").events.tolist() == [2]


def test_aggregates_give_the_same_table_as_records() -> None:
    times, causes, groups = random_records(1)
    from_records = CountTable.from_records(times, causes, groups, competing=True)
    keys, counts = np.unique(
        np.stack([times, causes, np.searchsorted(["a", "b", "c"], groups)]), axis=1, return_counts=True
    )
    names = np.array(["a", "b", "c"])[keys[2]]
    # split every count in two rows and add a zero row: counts of repeated keys add up
    rows = (
        [*names, *names, "c"],
        [*keys[0], *keys[0], 99],
        [*keys[1], *keys[1], 2],
        [*(counts - counts // 2), *(counts // 2), 0],
    )
    from_aggregates = CountTable.from_aggregates(rows[0], np.array(rows[1]), np.array(rows[2]), np.array(rows[3]))
    assert from_aggregates.causes == from_records.causes == (1, 2, 3)
    assert from_aggregates.names == from_records.names
    for mine, theirs in zip(from_aggregates.groups, from_records.groups, strict=True):
        assert mine.time.tolist() == theirs.time.tolist()
        assert mine.at_risk.tolist() == theirs.at_risk.tolist()
        assert mine.events_by_cause.tolist() == theirs.events_by_cause.tolist()
        assert mine.censored.tolist() == theirs.censored.tolist()


def test_sparse_and_dense_paths_agree() -> None:
    times, events, _ = random_records(2, causes=1)
    spread = times * 10_000_000  # too wide for the dense day grid
    dense, sparse = CountTable.from_records(times, events), CountTable.from_records(spread, events)
    assert (sparse.groups[0].time // 10_000_000).tolist() == dense.groups[0].time.tolist()
    assert sparse.groups[0].at_risk.tolist() == dense.groups[0].at_risk.tolist()


def test_pooled_is_the_table_without_groups() -> None:
    times, causes, groups = random_records(3)
    pooled = CountTable.from_records(times, causes, groups, competing=True).pooled()
    alone = CountTable.from_records(times, causes, competing=True).groups[0]
    assert pooled.time.tolist() == alone.time.tolist()
    assert pooled.at_risk.tolist() == alone.at_risk.tolist()
    assert pooled.events_by_cause.tolist() == alone.events_by_cause.tolist()


@pytest.mark.parametrize(
    ("durations", "events", "field"),
    [([1, -2], [1, 0], "duration"), ([1.0, float("nan")], [1, 0], "duration"), ([1, 2], [1], "event")],
)
def test_bad_records_are_refused(durations: list[float], events: list[int], field: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        CountTable.from_records(durations, events)
    assert error.value.field == field


def test_negative_or_fractional_cause_codes_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="record 1"):
        CountTable.from_records([1, 2], [1, -1], competing=True)
    with pytest.raises(ValidationFailed, match="record 0"):
        CountTable.from_records([1, 2], [1.5, 1], competing=True)


def test_interval_is_one_before_the_first_event_and_undefined_after_the_last() -> None:
    curve = survival_curve(CountTable.from_records([1, 2, 2, 4], [0, 1, 0, 1]).groups[0])
    assert curve.survival.tolist() == pytest.approx([1.0, 2 / 3, 0.0], abs=1e-15)
    assert (curve.ci_lower[0], curve.ci_upper[0]) == (1.0, 1.0)
    assert np.isnan(curve.se[-1])
    assert np.isnan(curve.ci_lower[-1])
    log_curve = survival_curve(CountTable.from_records([1, 2, 2, 4], [0, 1, 0, 1]).groups[0], "log")
    assert log_curve.ci_lower[-1] == 0.0
    assert curve.at(3) == (float(curve.survival[1]), float(curve.ci_lower[1]), float(curve.ci_upper[1]))
    assert curve.at(0.5) == (1.0, 1.0, 1.0)


def test_bad_interval_and_alpha_are_refused() -> None:
    group = CountTable.from_records([1, 2], [1, 1]).groups[0]
    with pytest.raises(ValidationFailed, match="ci"):
        survival_curve(group, "plain")
    with pytest.raises(ValidationFailed, match="alpha"):
        survival_curve(group, "log", alpha=1.5)


def test_logrank_needs_two_groups_and_finds_a_difference() -> None:
    assert logrank(CountTable.from_records([1, 2], [1, 1])) is None
    rng = np.random.default_rng(4)
    fast, slow = rng.exponential(10, 300), rng.exponential(20, 300)
    table = CountTable.from_records(np.concatenate([fast, slow]), np.ones(600, dtype=int), ["f"] * 300 + ["s"] * 300)
    result = logrank(table)
    assert result is not None
    assert result.df == 1
    assert result.p < 1e-6
    assert result.observed.sum() == pytest.approx(result.expected.sum())


def test_records_without_any_event() -> None:
    table = CountTable.from_records([3, 5, 5, 8], [0, 0, 0, 0], ["a", "a", "b", "b"])
    assert table.causes == (1,)
    curve = kaplan_meier(table)["a"]
    assert curve.survival.tolist() == [1.0, 1.0]
    assert (curve.ci_lower.tolist(), curve.ci_upper.tolist()) == ([1.0, 1.0], [1.0, 1.0])
    assert logrank(table) is None
    assert cumulative_incidence(table)["b"][1].estimate.tolist() == [0.0, 0.0]
    found = hazard_steps(table.groups[0])
    assert (found.change_points, found.segments[0].hazard, found.p_value) == ([], 0.0, None)


def test_logrank_of_three_groups_has_two_degrees_of_freedom() -> None:
    times, causes, groups = random_records(5, causes=1)
    result = logrank(CountTable.from_records(times, causes, groups))
    assert result is not None
    assert result.df == 2
    assert 0.0 <= result.p <= 1.0


# Cumulative incidence: a case small enough to compute by hand, with every kind of tie.
HAND_TIMES = [0, 2, 2, 2, 3, 5]
HAND_CAUSES = [1, 1, 2, 0, 2, 0]  # day 0 event; two causes and a censoring on day 2


def test_cumulative_incidence_by_hand() -> None:
    table = CountTable.from_records(HAND_TIMES, HAND_CAUSES, competing=True)
    curves = cumulative_incidence(table)["all"]
    first, second = curves[1], curves[2]
    assert first.time.tolist() == [0, 2, 3, 5]
    assert first.estimate.tolist() == pytest.approx([1 / 6, 1 / 3, 1 / 3, 1 / 3], abs=1e-15)
    assert second.estimate.tolist() == pytest.approx([0, 1 / 6, 5 / 12, 5 / 12], abs=1e-15)
    # day 0: a binomial proportion, (1/6)(5/6)/6; day 2 by hand from the delta-method sums: 1/27
    assert first.variance[0] == pytest.approx(5 / 216, abs=1e-15)
    assert first.variance[1] == pytest.approx(1 / 27, abs=1e-15)
    assert (second.ci_lower[0], second.ci_upper[0]) == (0.0, 0.0)
    assert first.ci_lower[1] < first.estimate[1] < first.ci_upper[1]


@pytest.mark.parametrize("seed", [6, 7, 8])
def test_incidences_and_survival_add_up_to_one(seed: int) -> None:
    times, causes, groups = random_records(seed)
    table = CountTable.from_records(times, causes, groups, competing=True)
    survival = kaplan_meier(table)
    for name, curves in cumulative_incidence(table).items():
        total = sum(curve.estimate for curve in curves.values()) + survival[name].survival
        assert np.abs(total - 1.0).max() < 1e-12


def test_with_one_cause_incidence_is_one_minus_kaplan_meier_with_greenwood_variance() -> None:
    times, events, _ = random_records(9, causes=1)
    table = CountTable.from_records(times, events)
    curve = survival_curve(table.groups[0])
    incidence = cumulative_incidence(table)["all"][1]
    assert np.abs(incidence.estimate - (1.0 - curve.survival)).max() < 1e-12
    defined = ~np.isnan(curve.se)
    assert np.abs(incidence.variance[defined] - curve.se[defined] ** 2).max() < 1e-12


def test_incidence_variance_matches_the_direct_double_sum() -> None:
    times, causes, _ = random_records(10, size=150)
    table = CountTable.from_records(times, causes, competing=True)
    group = table.groups[0]
    at_risk, events = group.at_risk.astype(float), group.events.astype(float)
    before = np.concatenate([[1.0], np.cumprod(1 - events / at_risk)[:-1]])
    for column, curve in enumerate(cumulative_incidence(table)["all"].values()):
        own = group.events_by_cause[:, column].astype(float)
        estimate = curve.estimate
        for m in range(len(estimate)):
            total = 0.0
            for j in range(m + 1):
                gap = estimate[m] - estimate[j]
                if at_risk[j] > events[j]:
                    total += gap**2 * events[j] / (at_risk[j] * (at_risk[j] - events[j]))
                total += before[j] ** 2 * own[j] * (at_risk[j] - own[j]) / at_risk[j] ** 3
                total -= 2 * gap * before[j] * own[j] / at_risk[j] ** 2
            assert curve.variance[m] == pytest.approx(total, abs=1e-14)


def stepped_times(seed: int, size: int = 3000, step: float = 180.0) -> CountTable:
    """Daily data whose hazard jumps from 0.1 to 0.65 per year at `step` days, censored uniformly."""
    rng = np.random.default_rng(seed)
    early, late = rng.exponential(365.25 / 0.1, size), step + rng.exponential(365.25 / 0.65, size)
    truth = np.where(early < step, early, late)
    censor = rng.uniform(200, 1200, size)
    return CountTable.from_records(np.floor(np.minimum(truth, censor)).astype(int), truth <= censor)


def test_hazard_steps_find_a_planted_step() -> None:
    found = hazard_steps(stepped_times(11).groups[0], simulations=99, seed=3)
    assert len(found.change_points) == 1
    assert abs(found.change_points[0] - 180) <= 30
    before, after = found.segments
    assert before.hazard * 365.25 == pytest.approx(0.1, rel=0.3)
    assert after.hazard * 365.25 == pytest.approx(0.65, rel=0.15)
    assert found.p_value == pytest.approx(0.01)  # 1 / (1 + 99): no simulation comes close
    assert before.events + after.events == int(stepped_times(11).groups[0].events.sum())


def test_hazard_steps_keep_a_constant_hazard_constant() -> None:
    rng = np.random.default_rng(12)
    truth, censor = rng.exponential(1000, 2000), rng.uniform(100, 1500, 2000)
    table = CountTable.from_records(np.floor(np.minimum(truth, censor)).astype(int), truth <= censor)
    found = hazard_steps(table.groups[0], simulations=99, seed=1)
    assert found.change_points == []
    assert found.p_value == 1.0
    (segment,) = found.segments
    assert segment.hazard == pytest.approx(1 / 1000, rel=0.15)
    assert segment.ci_lower < segment.hazard < segment.ci_upper


def test_hazard_steps_p_value_is_reproducible_and_segments_hold_min_events() -> None:
    group = stepped_times(13, size=400).groups[0]
    first = hazard_steps(group, max_steps=3, min_events=25, simulations=49, seed=5)
    again = hazard_steps(group, max_steps=3, min_events=25, simulations=49, seed=5)
    assert first == again
    assert all(segment.events >= 25 for segment in first.segments)


def test_hazard_steps_likelihood_by_hand() -> None:
    # exposure up to t=2: 1 + 2 + 2 + 2 = 7 with 2 events (times 1, 2); after: 1 + 2 = 3 with 2 events
    table = CountTable.from_records([1, 2, 3, 5], [1, 1, 1, 1])
    found = hazard_steps(table.groups[0], max_steps=1, min_events=2, simulations=0)
    constant = 4 * np.log(4 / 11) - 4
    assert found.constant_log_likelihood == pytest.approx(constant, abs=1e-12)
    split = 2 * np.log(2 / 7) - 2 + 2 * np.log(2 / 4) - 2
    assert found.log_likelihood in (pytest.approx(split, abs=1e-12), pytest.approx(constant, abs=1e-12))


def test_too_few_events_give_an_untested_constant_hazard() -> None:
    found = hazard_steps(CountTable.from_records([1, 2, 3], [1, 0, 1]).groups[0], min_events=10)
    assert found.change_points == []
    assert found.p_value is None
    assert found.segments[0].events == 2
