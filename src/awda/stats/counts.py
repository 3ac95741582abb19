"""Survival counts: records grouped, in one pass, into per-group (time, cause) counts.

Every estimator (`survival`, `logrank`, `incidence`, `hazard_steps`) works from a `CountTable`,
never from individual records, so the grouping can equally be pushed down into SQL
(`CountTable.from_aggregates`): the cost of the statistics then does not grow with the number of
people. Event codes: 0 = censored, 1..k = causes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from awda.errors import ValidationFailed

CENSORED = 0
SINGLE_GROUP = "all"  # the name of the one group when records carry no group
Times = NDArray[np.int64] | NDArray[np.float64]
Counts = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class GroupCounts:
    """One group's distinct times (ascending), each with who was at risk, failed (per cause), was censored.

    `at_risk[i]` counts those whose time is >= `time[i]`; events at a time are removed before the
    censorings at that time (those censored at t were at risk at t).
    """

    name: str
    time: Times
    at_risk: Counts
    events_by_cause: Counts  # shape (len(time), len(causes)), columns in `CountTable.causes` order
    censored: Counts

    @property
    def events(self) -> Counts:
        """Events of any cause at each time."""
        total: Counts = self.events_by_cause.sum(axis=1)
        return total

    @property
    def size(self) -> int:
        """How many records the group holds."""
        return int(self.at_risk[0]) if len(self.at_risk) else 0


@dataclass(frozen=True, slots=True)
class CountTable:
    """Counts of every group (in name order) and the event codes of the causes (columns)."""

    groups: tuple[GroupCounts, ...]
    causes: tuple[int, ...]

    @property
    def names(self) -> list[str]:
        return [group.name for group in self.groups]

    def group(self, name: str) -> GroupCounts:
        for group in self.groups:
            if group.name == name:
                return group
        raise KeyError(name)

    def pooled(self, name: str = SINGLE_GROUP) -> GroupCounts:
        """All groups together, as one group."""
        if len(self.groups) == 1:
            only = self.groups[0]
            return GroupCounts(name, only.time, only.at_risk, only.events_by_cause, only.censored)
        times = np.concatenate([group.time for group in self.groups])
        cells = np.concatenate([np.column_stack([group.censored, group.events_by_cause]) for group in self.groups])
        unique, inverse = np.unique(times, return_inverse=True)
        summed = np.zeros((len(unique), cells.shape[1]), dtype=np.int64)
        np.add.at(summed, inverse, cells)
        return _group_from_cells(name, unique, summed)

    @classmethod
    def from_records(
        cls,
        durations: ArrayLike,
        events: ArrayLike,
        groups: ArrayLike | None = None,
        *,
        group_names: Sequence[str] | None = None,
        competing: bool = False,
    ) -> CountTable:
        """Count individual records: a duration (>= 0), an event code and optionally a group each.

        Without `competing` any non-zero event (or True) is an event of cause 1; with it, event codes
        must be integers >= 0 (0 = censored). `groups` holds labels (their text becomes the group
        name), or integer codes into `group_names` when that is given (the fast path for big inputs).
        """
        times = _checked_durations(durations)
        causes = _checked_events(events, len(times), competing)
        codes, names = _group_codes(groups, group_names, len(times))
        return _tabulate(codes, names, times, causes, None)

    @classmethod
    def from_aggregates(
        cls, groups: Sequence[str], times: ArrayLike, causes: ArrayLike, counts: ArrayLike
    ) -> CountTable:
        """Build from rows (group, time, cause, count) aggregated elsewhere (for example in SQL).

        Cause 0 = censored; rows may repeat a (group, time, cause): their counts add up.
        """
        time_values = _checked_durations(times)
        cause_codes = _checked_events(causes, len(time_values), competing=True)
        weights = np.asarray(counts)
        if weights.shape != time_values.shape or not np.issubdtype(weights.dtype, np.integer):
            raise ValidationFailed("count", "counts must be integers, one per row")
        if len(weights) and weights.min() < 0:
            raise ValidationFailed("count", f"must be >= 0 (row {int(np.argmin(weights))})")
        codes, names = _group_codes(np.asarray(groups, dtype=object), None, len(time_values))
        return _tabulate(codes, names, time_values, cause_codes, weights.astype(np.int64))


def _checked_durations(durations: ArrayLike) -> Times:
    values = np.asarray(durations)
    if values.ndim != 1:
        raise ValidationFailed("duration", "must be a one-dimensional sequence")
    if values.dtype == np.bool_ or not np.issubdtype(values.dtype, np.number):
        raise ValidationFailed("duration", "must be numbers")
    if np.issubdtype(values.dtype, np.integer):
        checked: Times = values.astype(np.int64)
    else:
        checked = values.astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(checked))
        if len(bad):
            raise ValidationFailed("duration", f"must be a finite number (record {int(bad[0])})")
    negative = np.flatnonzero(checked < 0)
    if len(negative):
        raise ValidationFailed("duration", f"must be >= 0 (record {int(negative[0])})")
    return checked


def _checked_events(events: ArrayLike, size: int, competing: bool) -> Counts:
    values = np.asarray(events)
    if values.shape != (size,):
        raise ValidationFailed("event", f"needs one value per record ({size})")
    if values.dtype == np.bool_:
        return values.astype(np.int64)
    if not np.issubdtype(values.dtype, np.number):
        raise ValidationFailed("event", "must be numbers or booleans")
    if not competing:
        flags: Counts = (values != 0).astype(np.int64)
        return flags
    codes: Counts = values.astype(np.int64)
    bad = np.flatnonzero((codes != values) | (codes < 0))
    if len(bad):
        raise ValidationFailed("event", f"codes are integers >= 0, 0 = censored (record {int(bad[0])})")
    return codes


def _group_codes(groups: ArrayLike | None, group_names: Sequence[str] | None, size: int) -> tuple[Counts, list[str]]:
    if groups is None:
        return np.zeros(size, dtype=np.int64), [SINGLE_GROUP]
    labels = np.asarray(groups)
    if labels.shape != (size,):
        raise ValidationFailed("group", f"needs one value per record ({size})")
    if group_names is not None:
        codes = labels.astype(np.int64)
        if size and (codes.min() < 0 or codes.max() >= len(group_names)):
            raise ValidationFailed("group", "codes must index group_names")
        return codes, [str(name) for name in group_names]
    unique, inverse = np.unique(labels, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), [str(label) for label in unique]


def _time_ranks(times: Times) -> tuple[Times, Counts]:
    """The grid of candidate times and each record's index in it (a dense day grid for integers)."""
    if len(times) and np.issubdtype(times.dtype, np.integer):
        low, high = int(times.min()), int(times.max())
        if high - low <= max(4 * len(times), 1 << 16):
            grid: Times = np.arange(low, high + 1, dtype=np.int64)
            offsets: Counts = np.asarray(times - low, dtype=np.int64)
            return grid, offsets
    unique = np.unique(times)
    ranks: Counts = np.searchsorted(unique, times).astype(np.int64)
    if np.issubdtype(times.dtype, np.integer):
        return unique.astype(np.int64), ranks
    return unique.astype(np.float64), ranks


def _tabulate(codes: Counts, names: list[str], times: Times, causes: Counts, weights: Counts | None) -> CountTable:
    """One pass: bincount of (group, time, cause) keys, then one slice per group."""
    present = np.flatnonzero(np.bincount(causes, weights=weights, minlength=1))
    cause_codes = [int(code) for code in present if code != CENSORED] or [1]
    column = np.zeros(max(int(causes.max(initial=0)), cause_codes[-1]) + 1, dtype=np.int64)
    column[cause_codes] = np.arange(1, len(cause_codes) + 1)
    width = len(cause_codes) + 1
    grid, ranks = _time_ranks(times)
    cells_per_group = len(grid)
    keys = (codes * cells_per_group + ranks) * width + column[causes]
    total_cells = len(names) * cells_per_group
    if total_cells * width <= max(4 * len(keys), 1 << 20):
        flat = np.bincount(keys, weights=weights, minlength=total_cells * width)
        cells = flat.reshape(total_cells, width).astype(np.int64)
        occupied = np.arange(total_cells)
    else:
        unique_keys, inverse = np.unique(keys // width, return_inverse=True)
        flat = np.bincount(inverse.reshape(-1) * width + keys % width, weights=weights)
        padded = np.zeros(len(unique_keys) * width)
        padded[: len(flat)] = flat
        cells = padded.reshape(len(unique_keys), width).astype(np.int64)
        occupied = unique_keys
    kept = cells.any(axis=1)  # rows of zero count (aggregates) leave no trace
    cells, occupied = cells[kept], occupied[kept]
    group_of = occupied // cells_per_group
    bounds = np.searchsorted(group_of, np.arange(len(names) + 1))
    groups = tuple(
        _group_from_cells(name, grid[occupied[start:stop] % cells_per_group], cells[start:stop])
        for name, start, stop in zip(names, bounds[:-1], bounds[1:], strict=True)
        if stop > start
    )
    return CountTable(groups, tuple(cause_codes))


def _group_from_cells(name: str, time: Times, cells: Counts) -> GroupCounts:
    """`cells[:, 0]` censored, `cells[:, 1:]` events per cause, at ascending `time`."""
    leaving = cells.sum(axis=1)
    at_risk = np.cumsum(leaving[::-1])[::-1]
    return GroupCounts(name, time, at_risk, cells[:, 1:], cells[:, 0])
