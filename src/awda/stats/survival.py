"""Kaplan-Meier with Greenwood variance and Nelson-Aalen, computed from counts (docs/survival.md).

Conventions (those of the reference results in the tests): S(t) is right-continuous, the value
just after t; events at t are removed before the censorings at t; `at_risk` counts time >= t.
Where a quantity is undefined (the variance once S reaches 0) it is NaN, rendered as null.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

from awda.errors import ValidationFailed
from awda.stats.counts import Counts, CountTable, GroupCounts, Times

Floats = NDArray[np.float64]
Interval = Literal["loglog", "log"]
HazardTies = Literal["nelson-aalen", "fleming-harrington"]
INTERVALS: tuple[Interval, ...] = ("loglog", "log")


@dataclass(frozen=True, slots=True)
class SurvivalCurve:
    """A Kaplan-Meier curve at every distinct time of its group, with pointwise intervals."""

    name: str
    time: Times
    at_risk: Counts
    events: Counts
    censored: Counts
    survival: Floats
    variance: Floats  # Greenwood variance of log S: sum d / (n (n - d)); NaN once S = 0
    se: Floats  # S * sqrt(variance), the standard error of S
    ci_lower: Floats
    ci_upper: Floats
    interval: Interval
    alpha: float

    def at(self, when: float) -> tuple[float, float, float]:
        """(S, lower, upper) at time `when`: the values of the last time <= when (1 before the first)."""
        index = int(np.searchsorted(self.time, when, side="right")) - 1
        if index < 0:
            return 1.0, 1.0, 1.0
        return float(self.survival[index]), float(self.ci_lower[index]), float(self.ci_upper[index])

    def median(self) -> float | None:
        """The first time S(t) <= 0.5 (lifelines' convention), None if the curve stays above."""
        below = np.flatnonzero(self.survival <= 0.5)
        return self.time[below[0]].item() if len(below) else None


@dataclass(frozen=True, slots=True)
class CumulativeHazard:
    """A Nelson-Aalen cumulative hazard with its variance and a log-transformed interval."""

    name: str
    time: Times
    hazard: Floats
    variance: Floats
    ci_lower: Floats
    ci_upper: Floats
    ties: HazardTies


def z_value(alpha: float) -> float:
    """The two-sided normal quantile for a 1 - alpha interval (1.959963984540054 for 0.05)."""
    if not 0.0 < alpha < 1.0:
        raise ValidationFailed("alpha", "must be between 0 and 1 (0.05 gives 95% intervals)")
    return float(norm.ppf(1.0 - alpha / 2.0))


def check_interval(interval: str) -> Interval:
    for known in INTERVALS:
        if interval == known:
            return known
    raise ValidationFailed("ci", f"must be one of {', '.join(INTERVALS)}")


def survival_curve(group: GroupCounts, interval: str = "loglog", alpha: float = 0.05) -> SurvivalCurve:
    """Kaplan-Meier S(t) = prod (1 - d/n) with Greenwood variance and a pointwise 1 - alpha interval.

    `interval`: "loglog" (default, as lifelines, Stata, SAS) or "log" (R survfit's default, upper capped at 1).
    """
    kind = check_interval(interval)
    z = z_value(alpha)
    events = group.events
    at_risk = group.at_risk.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.asarray(np.cumprod(1.0 - events / at_risk), dtype=np.float64)
        variance = np.asarray(np.cumsum(events / (at_risk * (at_risk - events))), dtype=np.float64)  # inf once S = 0
        lower, upper = (_loglog_interval if kind == "loglog" else _log_interval)(survival, variance, z)
        variance[np.isinf(variance)] = np.nan
        se = survival * np.sqrt(variance)
    return SurvivalCurve(
        group.name, group.time, group.at_risk, events, group.censored, survival, variance, se, lower, upper, kind, alpha
    )


def _loglog_interval(survival: Floats, variance: Floats, z: float) -> tuple[Floats, Floats]:
    """exp(-exp(log(-log S) -/+ z sqrt(V) / log S)); [1, 1] while S = 1 (no event yet), NaN at S = 0."""
    log_s = np.log(survival)
    spread = z * np.sqrt(variance) / log_s
    lower = np.exp(-np.exp(np.log(-log_s) - spread))
    upper = np.exp(-np.exp(np.log(-log_s) + spread))
    none_yet = survival == 1.0
    lower[none_yet] = 1.0
    upper[none_yet] = 1.0
    return lower, upper


def _log_interval(survival: Floats, variance: Floats, z: float) -> tuple[Floats, Floats]:
    """exp(log S -/+ z sqrt(V)), the upper limit capped at 1 (at S = 0, V infinite: lower 0, upper NaN)."""
    spread = z * np.sqrt(variance)
    log_s = np.log(survival)
    return np.exp(log_s - spread), np.minimum(np.exp(log_s + spread), 1.0)


def kaplan_meier(table: CountTable, interval: str = "loglog", alpha: float = 0.05) -> dict[str, SurvivalCurve]:
    """The Kaplan-Meier curve of every group of `table` (an event of any cause is an event)."""
    return {group.name: survival_curve(group, interval, alpha) for group in table.groups}


def cumulative_hazard(group: GroupCounts, ties: str = "nelson-aalen", alpha: float = 0.05) -> CumulativeHazard:
    """Nelson-Aalen H(t) with its variance and the interval H exp(-/+ z sqrt(var) / H).

    "nelson-aalen": H = sum d/n, var = sum d/n^2 (R survfit ctype=1). "fleming-harrington": tied
    events counted one after the other, H = sum_i sum_{j<d_i} 1/(n_i - j), var = sum 1/(n_i - j)^2
    (R ctype=2, lifelines' default), computed with digamma and trigamma differences.
    """
    z = z_value(alpha)
    events = group.events.astype(np.float64)
    at_risk = group.at_risk.astype(np.float64)
    if ties == "nelson-aalen":
        steps, step_variance = events / at_risk, events / at_risk**2
    elif ties == "fleming-harrington":
        from scipy.special import polygamma, psi

        after = at_risk - events + 1.0
        steps = psi(at_risk + 1.0) - psi(after)
        step_variance = polygamma(1, after) - polygamma(1, at_risk + 1.0)
    else:
        raise ValidationFailed("ties", "must be nelson-aalen or fleming-harrington")
    method: HazardTies = "nelson-aalen" if ties == "nelson-aalen" else "fleming-harrington"
    hazard, variance = np.cumsum(steps), np.cumsum(step_variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.exp(z * np.sqrt(variance) / hazard)
    factor[hazard == 0.0] = 1.0
    return CumulativeHazard(group.name, group.time, hazard, variance, hazard / factor, hazard * factor, method)


def nelson_aalen(table: CountTable, ties: str = "nelson-aalen", alpha: float = 0.05) -> dict[str, CumulativeHazard]:
    """The cumulative hazard of every group of `table`."""
    return {group.name: cumulative_hazard(group, ties, alpha) for group in table.groups}
