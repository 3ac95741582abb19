"""Hazard steps: a piecewise-constant hazard whose change points are chosen by profile likelihood.

From one group's counts: the events and the person-time up to every candidate change point give
the exact Poisson (piecewise-exponential) log-likelihood of any segmentation, sum D log(D/E) - D.
Dynamic programming finds the best segmentation with 1..max_steps change points (each segment
holding at least `min_events` events); BIC (2 parameters per change point, log of the number of
events) picks how many; the p-value against a constant hazard comes from data sets simulated
under a constant hazard given the observed person-time, on which the whole search is repeated.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from awda.errors import ValidationFailed
from awda.stats.counts import CountTable, GroupCounts
from awda.stats.survival import Floats, z_value

CELLS_PER_BATCH = 2_000_000  # simulated data sets are searched in batches of about this many cells


@dataclass(frozen=True, slots=True)
class Segment:
    """Times in (start, end] (the first segment includes its start, 0); end None = open."""

    start: float
    end: float | None
    events: int
    exposure: float  # person-time, in the unit of the durations
    hazard: float  # events per unit of person-time
    ci_lower: float  # exact Poisson interval of the hazard, given the change points
    ci_upper: float


@dataclass(frozen=True, slots=True)
class HazardSteps:
    """The chosen change points, the hazard of each segment and the test against a constant hazard."""

    name: str
    change_points: list[float]
    segments: list[Segment]
    log_likelihood: float
    constant_log_likelihood: float
    statistic: float  # 2 (l_k - l_0) - 2 k log(events): the BIC gain of the chosen model
    p_value: float | None  # None when not computed (no simulations, or too few events)
    simulations: int
    seed: int
    settings: dict[str, int] = field(default_factory=dict)

    def segment_dicts(self) -> list[dict[str, float | int | None]]:
        return [
            {
                "start": s.start,
                "end": s.end,
                "events": s.events,
                "exposure": s.exposure,
                "hazard": s.hazard,
                "ci_lower": s.ci_lower,
                "ci_upper": s.ci_upper,
            }
            for s in self.segments
        ]

    def as_dict(self) -> dict[str, object]:
        return {
            "change_points": self.change_points,
            "segments": self.segment_dicts(),
            "log_likelihood": self.log_likelihood,
            "constant_log_likelihood": self.constant_log_likelihood,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "simulations": self.simulations,
            "seed": self.seed,
            **self.settings,
        }


@dataclass(frozen=True, slots=True)
class _Bins:
    """Candidate change points and the cumulative events and person-time at each boundary."""

    candidates: NDArray[np.float64]  # change point i closes bin i
    cumulative_events: NDArray[np.float64]  # at boundaries 0 (start), candidates..., end
    cumulative_exposure: NDArray[np.float64]
    integer_times: bool


def _bins(group: GroupCounts, max_candidates: int) -> _Bins:
    events = group.events
    event_times = group.time[events > 0]
    running = np.cumsum(events[events > 0])
    if len(event_times) - 1 > max_candidates:  # thin to event quantiles
        targets = np.arange(1, max_candidates + 1) * (running[-1] / (max_candidates + 1))
        candidates = np.unique(event_times[np.searchsorted(running, targets)])
    else:
        candidates = event_times
    candidates = candidates[candidates < event_times[-1]] if len(event_times) else candidates
    time = group.time.astype(np.float64)
    leaving = (events + group.censored).astype(np.float64)
    upto = np.searchsorted(time, candidates, side="right")  # records with time <= candidate
    cum_events = np.concatenate(([0.0], np.cumsum(events.astype(np.float64))))
    cum_leaving = np.concatenate(([0.0], np.cumsum(leaving)))
    cum_time = np.concatenate(([0.0], np.cumsum(time * leaving)))
    total = cum_leaving[-1]
    exposure = cum_time[upto] + candidates * (total - cum_leaving[upto])
    return _Bins(
        candidates.astype(np.float64),
        np.concatenate(([0.0], cum_events[upto], [cum_events[-1]])),
        np.concatenate(([0.0], exposure, [cum_time[-1]])),
        bool(np.issubdtype(group.time.dtype, np.integer)),
    )


def _segment_loglik(cum_events: Floats, cum_exposure: Floats, min_events: int) -> Floats:
    """ll[b, i, j] of the segment from boundary i to j: D log(D/E) - D; -inf where not allowed."""
    counts = cum_events[:, None, :] - cum_events[:, :, None]
    exposure = (cum_exposure[None, :] - cum_exposure[:, None])[None, :, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        loglik = np.where(counts > 0, counts * np.log(counts / exposure), 0.0) - counts
    allowed = (counts >= min_events) & (exposure > 0) & np.triu(np.ones(exposure.shape[1:], dtype=bool), 1)
    return np.where(allowed, loglik, -np.inf)


def _best_segmentations(loglik: Floats, max_steps: int) -> tuple[Floats, list[NDArray[np.int64]]]:
    """Best log-likelihood with 0..max_steps change points (shape (batch, max_steps + 1)), and back-pointers."""
    last = loglik.shape[2] - 1
    best = loglik[:, 0, :]
    results = [best[:, last]]
    pointers = []
    for _ in range(max_steps):
        candidates = best[:, :, None] + loglik
        pointers.append(np.argmax(candidates, axis=1))
        best = np.max(candidates, axis=1)
        results.append(best[:, last])
    return np.stack(results, axis=1), pointers


def _criterion(logliks: Floats, total_events: float) -> Floats:
    """BIC on the deviance scale: 2 l_k - 2 k log D (a change point adds a location and a level)."""
    steps = np.arange(logliks.shape[1])
    criteria: Floats = 2.0 * logliks - 2.0 * steps * np.log(max(total_events, 1.0))
    return criteria


def _simulated_statistics(bins: _Bins, min_events: int, max_steps: int, simulations: int, seed: int) -> Floats:
    """The search's statistic on data sets drawn under a constant hazard given the person-time."""
    rng = np.random.default_rng(seed)
    total = int(bins.cumulative_events[-1])
    exposure = np.diff(bins.cumulative_exposure)
    chances = exposure / exposure.sum()
    size = len(bins.cumulative_events)
    batch = max(1, CELLS_PER_BATCH // (size * size))
    statistics = []
    for start in range(0, simulations, batch):
        draws = rng.multinomial(total, chances, size=min(batch, simulations - start)).astype(np.float64)
        cumulative = np.concatenate((np.zeros((len(draws), 1)), np.cumsum(draws, axis=1)), axis=1)
        logliks, _ = _best_segmentations(_segment_loglik(cumulative, bins.cumulative_exposure, min_events), max_steps)
        criteria = _criterion(logliks, total)
        statistics.append(np.max(criteria, axis=1) - criteria[:, 0])
    return np.concatenate(statistics)


def hazard_steps(
    group: GroupCounts,
    max_steps: int = 3,
    min_events: int = 10,
    simulations: int = 999,
    seed: int = 0,
    max_candidates: int = 200,
    alpha: float = 0.05,
) -> HazardSteps:
    """Change points of one group's hazard (events of any cause), their segments and a p-value.

    Candidates are the distinct event times (thinned to `max_candidates` event quantiles); a change
    point c splits times <= c from times > c. The p-value is (1 + #{simulated >= observed}) / (1 +
    simulations); it is 1 when no change point is chosen, None when `simulations` is 0.
    """
    _check_settings(max_steps, min_events, simulations, max_candidates)
    bins = _bins(group, max_candidates)
    total = float(bins.cumulative_events[-1])
    settings = {"max_steps": max_steps, "min_events": min_events}
    if total < min_events or bins.cumulative_exposure[-1] <= 0:  # nothing to split (or no person-time)
        return _constant_only(group, bins, settings, seed, alpha)
    loglik = _segment_loglik(bins.cumulative_events[None, :], bins.cumulative_exposure, min_events)
    logliks, pointers = _best_segmentations(loglik, max_steps)
    criteria = _criterion(logliks, total)[0]
    chosen = int(np.argmax(np.where(np.isfinite(criteria), criteria, -np.inf)))
    statistic = float(criteria[chosen] - criteria[0])
    boundaries = _backtrack(pointers, chosen, len(bins.cumulative_events) - 1)
    if chosen == 0:
        p_value: float | None = 1.0
    elif simulations == 0:
        p_value = None
    else:
        simulated = _simulated_statistics(bins, min_events, max_steps, simulations, seed)
        p_value = float((1 + np.sum(simulated >= statistic - 1e-9)) / (1 + simulations))
    return HazardSteps(
        group.name,
        [_as_time(bins.candidates[b - 1], bins.integer_times) for b in boundaries[1:-1]],
        _segments(bins, boundaries, alpha),
        float(logliks[0, chosen]),
        float(logliks[0, 0]),
        statistic,
        p_value,
        simulations,
        seed,
        settings,
    )


def _check_settings(max_steps: int, min_events: int, simulations: int, max_candidates: int) -> None:
    if max_steps < 1:
        raise ValidationFailed("max_steps", "must be at least 1")
    if min_events < 1:
        raise ValidationFailed("min_events", "must be at least 1")
    if simulations < 0:
        raise ValidationFailed("permutations", "must be 0 or more")
    if max_candidates < 1:
        raise ValidationFailed("max_candidates", "must be at least 1")


def _backtrack(pointers: list[NDArray[np.int64]], steps: int, last: int) -> list[int]:
    boundaries = [last]
    for level in range(steps - 1, -1, -1):
        boundaries.append(int(pointers[level][0, boundaries[-1]]))
    return [0, *reversed(boundaries)]


def _as_time(value: float, integer: bool) -> float:
    return int(value) if integer else float(value)


def _segments(bins: _Bins, boundaries: list[int], alpha: float) -> list[Segment]:
    z_value(alpha)  # checks alpha
    segments = []
    for start, stop in itertools.pairwise(boundaries):
        events = float(bins.cumulative_events[stop] - bins.cumulative_events[start])
        exposure = float(bins.cumulative_exposure[stop] - bins.cumulative_exposure[start])
        low = chi2.ppf(alpha / 2, 2 * events) / 2 if events > 0 else 0.0
        high = chi2.ppf(1 - alpha / 2, 2 * events + 2) / 2
        rate = events / exposure if exposure > 0 else float("nan")
        segments.append(
            Segment(
                _as_time(bins.candidates[start - 1], bins.integer_times) if start > 0 else 0,
                _as_time(bins.candidates[stop - 1], bins.integer_times) if stop < len(bins.candidates) + 1 else None,
                int(events),
                exposure,
                rate,
                float(low / exposure) if exposure > 0 else float("nan"),
                float(high / exposure) if exposure > 0 else float("nan"),
            )
        )
    return segments


def _constant_only(group: GroupCounts, bins: _Bins, settings: dict[str, int], seed: int, alpha: float) -> HazardSteps:
    """Too few events for even one segment: report the constant hazard, untested."""
    last = len(bins.cumulative_events) - 1
    segments = _segments(bins, [0, last], alpha)
    events, exposure = segments[0].events, segments[0].exposure
    loglik = events * np.log(events / exposure) - events if events > 0 and exposure > 0 else 0.0
    return HazardSteps(group.name, [], segments, float(loglik), float(loglik), 0.0, None, 0, seed, settings)


def hazard_steps_by_group(
    table: CountTable,
    max_steps: int = 3,
    min_events: int = 10,
    simulations: int = 999,
    seed: int = 0,
    max_candidates: int = 200,
) -> dict[str, HazardSteps]:
    """`hazard_steps` for every group of `table`, each with the same seed."""
    return {
        group.name: hazard_steps(group, max_steps, min_events, simulations, seed, max_candidates)
        for group in table.groups
    }
