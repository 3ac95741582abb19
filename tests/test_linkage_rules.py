"""The pure rules of registry linkage: the merge forest, which pairs merge, household matches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awda.errors import Conflict, ValidationFailed
from awda.linkage.rules import (
    CandidateStatus,
    Decision,
    MergeForest,
    ScoredPair,
    check_decision,
    check_thresholds,
    household_matches,
    plan_merges,
)


def pair(a: int, b: int, p: float, ha: int | None = None, hb: int | None = None) -> ScoredPair:
    return ScoredPair(a, b, ha if ha is not None else a * 10, hb if hb is not None else b * 10, p)


def test_the_forest_resolves_transitively_and_keeps_members() -> None:
    forest = MergeForest([(1, 2), (2, 3), (7, 8)])
    assert {forest.root(x) for x in (1, 2, 3)} == {1}
    assert forest.members(1) == {1, 2, 3}
    assert forest.root(9) == 9 and forest.members(9) == {9}
    forest.join(1, 7)
    assert forest.root(8) == 1 and forest.members(1) == {1, 2, 3, 7, 8}


def test_merges_go_most_likely_first_and_keep_the_lower_root() -> None:
    planned, implied = plan_merges(
        [pair(2, 3, 0.995), pair(1, 2, 0.999), pair(1, 3, 0.991)], MergeForest(), set(), 0.99
    )
    assert [(m.kept, m.merged) for m in planned] == [(1, 2), (1, 3)]
    assert [(p.person_a, p.person_b) for p in implied] == [(1, 3)]


def test_pairs_below_the_threshold_wait_for_review() -> None:
    planned, implied = plan_merges([pair(1, 2, 0.98)], MergeForest(), set(), 0.99)
    assert planned == [] and implied == []


def test_a_rejection_stands_against_transitive_links() -> None:
    # A reviewer said 1 and 3 are different people: 1-2 and 2-3 may not join them through 2.
    planned, _ = plan_merges([pair(1, 2, 0.999), pair(2, 3, 0.998)], MergeForest(), {(1, 3)}, 0.99)
    assert [(m.kept, m.merged) for m in planned] == [(1, 2)]


@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12), st.floats(0.9, 1.0)), max_size=40))
def test_planned_merges_never_join_a_rejected_pair(edges: list[tuple[int, int, float]]) -> None:
    pairs = [pair(min(a, b), max(a, b), p) for a, b, p in edges if a != b]
    rejected = {(0, 1), (2, 5), (3, 4)}
    forest = MergeForest()
    plan_merges(pairs, forest, rejected, 0.95)
    for a, b in rejected:
        assert forest.root(a) != forest.root(b)


def test_household_matches_need_members_matched_together() -> None:
    # Households 100 (3 people) and 200 (4 people): two members matched; 300 and 400: one of one.
    pairs = [
        (pair(1, 11, 0.9, 100, 200), CandidateStatus.PENDING),
        (pair(2, 12, 0.8, 100, 200), CandidateStatus.MERGED),
        (pair(3, 13, 0.7, 100, 200), CandidateStatus.REJECTED),
        (pair(21, 31, 0.95, 300, 400), CandidateStatus.PENDING),
        (pair(41, 51, 0.95, 500, 600), CandidateStatus.PENDING),
    ]
    sizes = {100: 3, 200: 4, 300: 1, 400: 5, 500: 4, 600: 4}
    matches = household_matches(pairs, sizes)
    assert [(m.household_a, m.household_b) for m in matches] == [(100, 200), (300, 400)]
    first, second = matches
    assert first.matched_members == 2 and not first.whole and first.pending_pairs == 1
    assert first.mean_probability == pytest.approx(0.85)
    assert second.whole, "all of the one-person household matched"


def test_thresholds_and_decisions_are_checked() -> None:
    check_thresholds(0.5, 0.99)
    with pytest.raises(ValidationFailed):
        check_thresholds(0.3, 0.99)
    with pytest.raises(ValidationFailed):
        check_thresholds(0.8, 0.7)
    check_decision(CandidateStatus.PENDING, Decision.MERGE)
    with pytest.raises(Conflict):
        check_decision(CandidateStatus.MERGED, Decision.REJECT)
