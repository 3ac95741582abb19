"""Pure rules of registry linkage: pair statuses, the merge forest, which pairs merge, household matches.

No SQLAlchemy and no I/O: services load ids and probabilities, these functions decide.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from awda.errors import Conflict, ValidationFailed

DEFAULT_REVIEW_THRESHOLD = 0.5  # pairs at or above go to the review queue (the engine keeps pairs from 0.5)
LOWEST_REVIEW_THRESHOLD = 0.5
DEFAULT_MERGE_THRESHOLD = 0.99  # pairs at or above merge without review (undoable)


class CandidateStatus(StrEnum):
    PENDING = "pending"
    MERGED = "merged"
    REJECTED = "rejected"


class Decision(StrEnum):
    MERGE = "merge"
    REJECT = "reject"


class MergeReason(StrEnum):
    AUTOMATIC = "automatic"  # the model was sure enough (>= the merge threshold)
    REVIEWED = "reviewed"  # a person decided


@dataclass(frozen=True)
class ScoredPair:
    """Two persons (a < b) of different households, and how likely they are one."""

    person_a: int
    person_b: int
    household_a: int
    household_b: int
    probability: float


@dataclass(frozen=True)
class PlannedMerge:
    kept: int  # the root that stays
    merged: int  # the root merged into it
    pair: ScoredPair


@dataclass(frozen=True)
class HouseholdMatch:
    """Two households whose members were matched together."""

    household_a: int
    household_b: int
    matched_members: int
    size_a: int
    size_b: int
    mean_probability: float
    pending_pairs: int

    @property
    def whole(self) -> bool:
        """Every member of the smaller household has a match in the other."""
        return self.matched_members >= min(self.size_a, self.size_b)


def check_thresholds(review: float, merge: float) -> None:
    if not LOWEST_REVIEW_THRESHOLD <= review < 1.0:
        raise ValidationFailed("review_threshold", f"must be at least {LOWEST_REVIEW_THRESHOLD} and below 1")
    if not review <= merge <= 1.0:
        raise ValidationFailed("merge_threshold", "must be at least the review threshold and at most 1")


def ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def check_decision(status: str, decision: Decision) -> None:
    """A pending pair can be merged or rejected; a decided pair is changed by undoing its merge."""
    if status != CandidateStatus.PENDING:
        raise Conflict(f"this pair was already decided ({status}); undo the merge to change it")
    if decision not in Decision:  # pragma: no cover - the enum type makes this unreachable
        raise ValidationFailed("decision", "must be merge or reject")


class MergeForest:
    """Active merges as a forest: every person resolves to the root it was merged into, transitively."""

    def __init__(self, merges: Iterable[tuple[int, int]] = ()) -> None:
        self._parent: dict[int, int] = {}
        self._members: dict[int, set[int]] = {}
        for kept, merged in merges:
            self._parent[merged] = kept
        for person in list(self._parent):
            root = self.root(person)
            self._members.setdefault(root, {root}).add(person)

    def root(self, person: int) -> int:
        seen = person
        while seen in self._parent:
            seen = self._parent[seen]
        return seen

    def members(self, root: int) -> set[int]:
        return self._members.get(root, {root})

    def join(self, kept_root: int, merged_root: int) -> None:
        self._parent[merged_root] = kept_root
        joined = self.members(kept_root) | self.members(merged_root)
        self._members.pop(merged_root, None)
        self._members[kept_root] = joined


def plan_merges(
    pairs: Sequence[ScoredPair],
    forest: MergeForest,
    rejected: set[tuple[int, int]],
    threshold: float,
) -> tuple[list[PlannedMerge], list[ScoredPair]]:
    """Which pairs at or above `threshold` merge (most likely first), and which are already one person.

    A merge never joins two clusters between which a person has rejected a pair: the rejection
    stands against transitive links too. The earlier registered root (the lower id) is kept.
    """
    planned: list[PlannedMerge] = []
    implied: list[ScoredPair] = []
    for pair in sorted(pairs, key=lambda p: (-p.probability, p.person_a, p.person_b)):
        if pair.probability < threshold:
            continue
        root_a, root_b = forest.root(pair.person_a), forest.root(pair.person_b)
        if root_a == root_b:
            implied.append(pair)
            continue
        if rejected and _rejected_between(forest.members(root_a), forest.members(root_b), rejected):
            continue
        kept, merged = ordered(root_a, root_b)
        forest.join(kept, merged)
        planned.append(PlannedMerge(kept, merged, pair))
    return planned, implied


def _rejected_between(left: set[int], right: set[int], rejected: set[tuple[int, int]]) -> bool:
    return any(ordered(a, b) in rejected for a in left for b in right)


def household_matches(
    pairs: Iterable[tuple[ScoredPair, str]], sizes: Mapping[int, int], minimum_members: int = 2
) -> list[HouseholdMatch]:
    """Households matched together: at least `minimum_members` members, or all of the smaller one.

    `pairs` are (pair, status) of pending and merged pairs; rejected ones do not count.
    """
    grouped: dict[tuple[int, int], list[tuple[ScoredPair, str]]] = defaultdict(list)
    for pair, status in pairs:
        if status != CandidateStatus.REJECTED:
            grouped[ordered(pair.household_a, pair.household_b)].append((pair, status))
    found = [_household_match(key, members, sizes) for key, members in grouped.items()]
    matches = [m for m in found if m.matched_members >= minimum_members or m.whole]
    return sorted(matches, key=lambda m: (-m.matched_members, -m.mean_probability, m.household_a, m.household_b))


def _household_match(
    key: tuple[int, int], members: list[tuple[ScoredPair, str]], sizes: Mapping[int, int]
) -> HouseholdMatch:
    side_a = {p.person_a if p.household_a == key[0] else p.person_b for p, _ in members}
    side_b = {p.person_b if p.household_b == key[1] else p.person_a for p, _ in members}
    mean = sum(p.probability for p, _ in members) / len(members)
    pending = sum(1 for _, status in members if status == CandidateStatus.PENDING)
    matched = min(len(side_a), len(side_b))
    return HouseholdMatch(key[0], key[1], matched, sizes.get(key[0], 0), sizes.get(key[1], 0), mean, pending)
