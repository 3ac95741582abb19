"""Disclosure control: which counts may be published, and where a survival curve must stop.

Pure: no storage, no files. The rules (docs/scorecard.md):

- A count of 1 to k-1 people is never published (primary suppression); zero is published.
- A reader who knows a total and all but a few of its parts can work the others out. Every such
  relation is an `Equation` (total = sum of parts): the arrivals of each month add up to the
  cohort, a guarantor's figures are the sums of its agreements' figures, the people still followed
  on day 30 are those followed on day 0 minus those who left before day 30. More counts are
  withheld (secondary suppression, the smallest first) until, for every withheld count of 1 to k-1,
  the largest value the published figures allow (a linear programme over all the equations) is at
  least k: the reader cannot tell it from a publishable count. A count the reader already knows to
  be below k (a figure of a cohort of fewer than k people) must not be pinned to one value.
- A curve is cut at the first time where fewer than k people remain at risk.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_array

from awda.stats.report import Curve

ItemId = tuple[str, ...]

# A withheld count passes when the reader's largest possible value reaches k (less this slack).
_LP_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Item:
    """One count: its true value, whether it is meant for publication, and how reluctantly it is withheld."""

    id: ItemId
    value: int
    published: bool = True  # False: never printed, but a reader can reason about it (people who left)
    protected: bool = False  # withheld for a neighbour's sake only when nothing else will do
    upper: int | None = None  # the largest value a reader knows it can have (a cohort known to be small)


@dataclass(frozen=True)
class Equation:
    """`total` is the sum of `parts`: a relation a reader can use to work out a withheld count."""

    total: ItemId
    parts: tuple[ItemId, ...]

    @property
    def members(self) -> tuple[ItemId, ...]:
        return (self.total, *self.parts)


@dataclass(frozen=True)
class Protection:
    """The outcome: which of the counts meant for publication are withheld, and why."""

    withheld: frozenset[ItemId]
    primary: int  # withheld because they are 1 to k-1
    secondary: int  # withheld so that a small count cannot be worked out

    def shows(self, item_id: ItemId) -> bool:
        return item_id not in self.withheld


def is_small(value: int, k: int) -> bool:
    """A count that must not be published: at least one person, fewer than k."""
    return 0 < value < k


def protect(
    items: Sequence[Item], equations: Sequence[Equation], k: int, withhold: Iterable[ItemId] = ()
) -> Protection:
    """Withhold small counts, then every count that would let a reader work a small one out.

    `withhold` names counts that are withheld whatever their value (the figures of a cohort of
    fewer than k people). Deterministic: the same input gives the same answer.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    table = _Table(items, equations, k)
    forced = {item_id for item_id in withhold if item_id in table.values}
    primary = {item.id for item in items if item.published and is_small(item.value, k)} - forced
    table.unknown |= forced | primary
    table.complete()
    withheld = frozenset(item_id for item_id in table.unknown if item_id in table.published)
    return Protection(withheld=withheld, primary=len(primary), secondary=len(withheld - primary - forced))


class _Table:
    """The counts, the equations between them, and the set a reader does not see (`unknown`)."""

    def __init__(self, items: Sequence[Item], equations: Sequence[Equation], k: int) -> None:
        self.k = k
        self.values = {item.id: item.value for item in items}
        if len(self.values) != len(items):
            raise ValueError("two items share an id")
        self.published = {item.id for item in items if item.published}
        self.protected = {item.id for item in items if item.protected}
        self.upper = {item.id: item.upper for item in items if item.upper is not None}
        self.settled: set[ItemId] = set()  # known to be small whatever is withheld
        self.audited: dict[tuple[frozenset[ItemId], frozenset[ItemId]], list[ItemId]] = {}
        self.unknown = {item.id for item in items if not item.published}
        self.equations = list(equations)
        self.touching: dict[ItemId, list[int]] = {}
        for position, equation in enumerate(self.equations):
            for member in equation.members:
                if member not in self.values:
                    raise ValueError(f"equation names an unknown item {member}")
                self.touching.setdefault(member, []).append(position)

    def complete(self) -> None:
        """Suppress until the audit finds no small count a reader could pin below k."""
        while True:
            self._close_obvious_gaps()
            failing = self._audit()
            if not failing:
                return
            # Fixing one count may already have fixed the next: withhold for those still open. A count
            # with nothing left to withhold around it is small whatever is hidden (all its parts come
            # from a small cohort): from then on it must only not be pinned to one value.
            for item_id in failing:
                if self._withhold_neighbour(item_id):
                    continue
                if item_id in self.settled:
                    raise RuntimeError(f"cannot protect {item_id}: nothing left to withhold")
                self.settled.add(item_id)

    def _close_obvious_gaps(self) -> None:
        """Cheap first pass: no equation may leave one non-zero count missing, or a missing sum below k."""
        changed = True
        while changed:
            changed = False
            for equation in self.equations:
                if self._leaks(equation):
                    choice = self._candidate([equation])
                    if choice is not None:
                        self.unknown.add(choice)
                        changed = True

    def _leaks(self, equation: Equation) -> bool:
        missing = [member for member in equation.members if member in self.unknown]
        if not missing:
            return False
        if len(missing) == 1:
            return self.values[missing[0]] != 0
        if equation.total in self.unknown:
            return False
        return is_small(sum(self.values[member] for member in missing), self.k)

    def _candidate(self, equations: Iterable[Equation]) -> ItemId | None:
        """The count to withhold next: not protected if possible, then the smallest non-zero, then by id.

        A zero comes last: it hides nothing from a sum, but it can still pin a neighbour (0 + a count
        known to be small is small).
        """
        seen = {member for equation in equations for member in equation.members if member not in self.unknown}
        if not seen:
            return None
        return min(
            seen,
            key=lambda member: (member in self.protected, self.values[member] == 0, self.values[member], member),
        )

    def _withhold_neighbour(self, item_id: ItemId) -> bool:
        """Withhold one more count near `item_id`, the nearest equations first; False if none is left."""
        near = [self.equations[position] for position in self.touching.get(item_id, [])]
        choice = self._candidate(near)
        if choice is None:
            choice = self._candidate(self._component_equations(item_id))
        if choice is None:
            return False
        self.unknown.add(choice)
        return True

    def _component_equations(self, item_id: ItemId) -> list[Equation]:
        found: set[int] = set()
        frontier = [item_id]
        visited = {item_id}
        while frontier:
            current = frontier.pop()
            for position in self.touching.get(current, []):
                if position in found:
                    continue
                found.add(position)
                for member in self.equations[position].members:
                    if member in self.unknown and member not in visited:
                        visited.add(member)
                        frontier.append(member)
        return [self.equations[position] for position in sorted(found)]

    def _audit(self) -> list[ItemId]:
        """The small unknown counts whose largest value consistent with the published figures is below k."""
        failing: list[ItemId] = []
        for component, equations in self._components():
            sensitive = [item_id for item_id in component if is_small(self.values[item_id], self.k)]
            if not (sensitive and equations):
                continue
            # The same unknowns face the same equations: a component untouched since the last round
            # (and with no count settled since) gives the same answer.
            key = (frozenset(component), frozenset(self.settled.intersection(component)))
            if key not in self.audited:
                self.audited[key] = self._audit_component(component, equations, sensitive)
            failing.extend(self.audited[key])
        return sorted(failing)

    def _components(self) -> list[tuple[list[ItemId], list[Equation]]]:
        """Unknown counts grouped by the equations that tie them together."""
        parent: dict[ItemId, ItemId] = {item_id: item_id for item_id in self.unknown}

        def root(item_id: ItemId) -> ItemId:
            while parent[item_id] != item_id:
                parent[item_id] = parent[parent[item_id]]
                item_id = parent[item_id]
            return item_id

        for equation in self.equations:
            missing = [member for member in equation.members if member in self.unknown]
            for member in missing[1:]:
                parent[root(member)] = root(missing[0])
        members: dict[ItemId, list[ItemId]] = {}
        for item_id in sorted(self.unknown):
            members.setdefault(root(item_id), []).append(item_id)
        tied: dict[ItemId, list[Equation]] = {}
        for equation in self.equations:
            missing = [member for member in equation.members if member in self.unknown]
            if missing:
                tied.setdefault(root(missing[0]), []).append(equation)
        return [(group, tied.get(key, [])) for key, group in sorted(members.items())]

    def _audit_component(
        self, component: list[ItemId], equations: list[Equation], sensitive: list[ItemId]
    ) -> list[ItemId]:
        column = {item_id: position for position, item_id in enumerate(component)}
        rows: list[int] = []
        columns: list[int] = []
        coefficients: list[float] = []
        right = np.zeros(len(equations))
        for row, equation in enumerate(equations):
            for member, sign in ((equation.total, 1.0), *((part, -1.0) for part in equation.parts)):
                if member in column:
                    rows.append(row)
                    columns.append(column[member])
                    coefficients.append(sign)
                else:
                    right[row] -= sign * self.values[member]
        matrix = csr_array((coefficients, (rows, columns)), shape=(len(equations), len(component)))
        bounds = [(0, self.upper.get(item_id)) for item_id in component]
        failing = []
        for item_id in sensitive:
            highest = self._extreme(matrix, right, bounds, column[item_id], -1.0)
            upper = self.upper.get(item_id)
            if (upper is not None and upper < self.k) or item_id in self.settled:
                # Known to be small already: it must not be pinned to one value.
                lowest = self._extreme(matrix, right, bounds, column[item_id], 1.0)
                if highest - lowest < 1 - _LP_TOLERANCE:
                    failing.append(item_id)
            elif highest < self.k - _LP_TOLERANCE:
                failing.append(item_id)
        return failing

    @staticmethod
    def _extreme(
        matrix: csr_array, right: np.ndarray, bounds: list[tuple[int, int | None]], position: int, sign: float
    ) -> float:
        """The smallest (sign 1) or largest (sign -1) value of one unknown under the equations."""
        objective = np.zeros(matrix.shape[1])
        objective[position] = sign
        # scipy-stubs list only dense arrays for A_eq; HiGHS takes sparse ones, which keep this small.
        result = linprog(objective, A_eq=matrix, b_eq=right, bounds=bounds, method="highs")  # type: ignore[call-overload]
        if result.status == 3:  # unbounded: nothing published limits this count
            return float("inf")
        if result.status != 0:
            raise RuntimeError(f"disclosure audit failed: {result.message}")
        return sign * float(result.fun)


def at_risk_on(curve: Curve, day: int) -> int:
    """People still followed on `day` (time >= day): the risk set of the first curve time at or after it."""
    position = bisect_left(curve.time, day)
    return curve.at_risk[position] if position < len(curve.time) else 0


def last_publishable_day(curve: Curve, k: int) -> int | None:
    """The last day on which at least k people remain at risk (the curve is cut after it), or None."""
    last: int | None = None
    for time, at_risk in zip(curve.time, curve.at_risk, strict=True):
        if at_risk < k:
            break
        last = time
    return last


def value_on(times: Sequence[int], values: Sequence[float], day: int, start: float) -> float:
    """A right-continuous step function's value on `day`: the value at the last time <= day, else `start`."""
    position = bisect_right(times, day)
    return values[position - 1] if position else start
