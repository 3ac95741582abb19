"""The log-rank test for k groups, from counts (Mantel-Haenszel; R survdiff rho=0, lifelines, Stata)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2 as chi2_distribution

from awda.stats.counts import CountTable

# Directions of the variance matrix smaller than this (relative to its largest) carry no information.
RANK_TOLERANCE = 1e-10


@dataclass(frozen=True, slots=True)
class LogRank:
    """Observed and expected events per group, their variance matrix, and the chi-square test."""

    groups: list[str]
    observed: NDArray[np.float64]
    expected: NDArray[np.float64]
    variance: NDArray[np.float64]  # k x k, hypergeometric with the (n - d) / (n - 1) factor
    chi2: float
    df: int
    p: float

    def as_dict(self) -> dict[str, float | int]:
        return {"chi2": self.chi2, "df": self.df, "p": self.p}


def at_risk_matrix(table: CountTable) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(event times, at risk n[t, g], events d[t, g]) at every time where any group has an event."""
    all_times = np.concatenate([group.time[group.events > 0] for group in table.groups])
    times = np.unique(all_times)
    at_risk = np.zeros((len(times), len(table.groups)))
    events = np.zeros_like(at_risk)
    for column, group in enumerate(table.groups):
        position = np.searchsorted(group.time, times, side="left")
        inside = position < len(group.time)
        at_risk[inside, column] = group.at_risk[position[inside]]
        exact = inside & (group.time[np.minimum(position, len(group.time) - 1)] == times)
        events[exact, column] = group.events[position[exact]]
    return times.astype(np.float64), at_risk, events


def logrank(table: CountTable) -> LogRank | None:
    """Test that every group of `table` has the same hazard; None with fewer than two groups to compare.

    chi2 = U' V^- U on df = rank(V) (k - 1 unless some group is never at risk at an event time),
    U = observed - expected events; V^- is the generalised inverse, taken on V's eigenvectors.
    """
    if len(table.groups) < 2:
        return None
    _times, at_risk, events = at_risk_matrix(table)
    total_at_risk = at_risk.sum(axis=1)
    total_events = events.sum(axis=1)
    share = at_risk / total_at_risk[:, None]
    observed = events.sum(axis=0)
    expected = (share * total_events[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = total_events * (total_at_risk - total_events) / (total_at_risk - 1.0)
    weight[total_at_risk <= 1.0] = 0.0  # one at risk: no spread to share
    weighted = share * weight[:, None]
    variance = np.diag(weighted.sum(axis=0)) - weighted.T @ share
    chi2, df = _quadratic_form(observed - expected, variance)
    if df == 0:  # no event time with two groups at risk: nothing to compare
        return None
    return LogRank(table.names, observed, expected, variance, chi2, df, float(chi2_distribution.sf(chi2, df)))


def _quadratic_form(deviation: NDArray[np.float64], variance: NDArray[np.float64]) -> tuple[float, int]:
    values, vectors = np.linalg.eigh(variance)
    largest = float(values.max(initial=0.0))
    if largest <= 0.0:
        return 0.0, 0
    kept = values > RANK_TOLERANCE * largest
    projected = vectors[:, kept].T @ deviation
    return float(np.sum(projected**2 / values[kept])), int(kept.sum())
