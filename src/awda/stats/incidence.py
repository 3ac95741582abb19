"""Aalen-Johansen cumulative incidence of competing causes, with delta-method variance (docs/survival.md).

Ties are handled exactly, with no jitter: all events of all causes at a time share the risk set
of that time, censorings at t count as at risk at t, and events at time 0 are kept. With one
cause the estimate is exactly 1 - Kaplan-Meier and the variance is exactly Greenwood's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from awda.stats.counts import CountTable, GroupCounts, Times
from awda.stats.survival import Floats, Interval, check_interval, z_value


@dataclass(frozen=True, slots=True)
class CumulativeIncidence:
    """F_k(t) = P(T <= t, cause k) of one cause at every distinct time of its group, with an interval."""

    name: str
    cause: int
    time: Times
    estimate: Floats
    variance: Floats
    se: Floats
    ci_lower: Floats
    ci_upper: Floats
    interval: Interval
    alpha: float


def incidence_curves(
    group: GroupCounts, causes: tuple[int, ...], interval: str = "loglog", alpha: float = 0.05
) -> dict[int, CumulativeIncidence]:
    """Aalen-Johansen F_k(t) = sum_{t_j <= t} S(t_j-) d_kj / n_j for every cause k of one group.

    Variance: the delta method applied to the multinomial hazard increments at each time
    (Marubini and Valsecchi 1995; the "Greenwood-type" estimator), at t = t_m:
    sum_{j<=m} (F(t) - F(t_j))^2 d_j / (n_j (n_j - d_j)) + S(t_j-)^2 d_kj (n_j - d_kj) / n_j^3
    - 2 (F(t) - F(t_j)) S(t_j-) d_kj / n_j^2.
    """
    kind = check_interval(interval)
    z = z_value(alpha)
    at_risk = group.at_risk.astype(np.float64)
    events = group.events.astype(np.float64)
    survival = np.cumprod(1.0 - events / at_risk)
    before = np.concatenate(([1.0], survival[:-1]))  # S(t_j-)
    with np.errstate(divide="ignore"):
        all_cause = events / (at_risk * (at_risk - events))
    # Where everybody left fails (the last time), F(t) - F(t_j) is 0 for every t >= t_j.
    all_cause[~np.isfinite(all_cause)] = 0.0
    curves = {}
    for column, cause in enumerate(causes):
        cause_events = group.events_by_cause[:, column].astype(np.float64)
        estimate = np.cumsum(before * cause_events / at_risk)
        variance = _delta_variance(estimate, before, cause_events, at_risk, all_cause)
        se = np.sqrt(variance)
        lower, upper = _interval(estimate, se, kind, z)
        curves[cause] = CumulativeIncidence(
            group.name, cause, group.time, estimate, variance, se, lower, upper, kind, alpha
        )
    return curves


def _delta_variance(
    estimate: Floats, before: Floats, cause_events: Floats, at_risk: Floats, all_cause: Floats
) -> Floats:
    """The three sums of the delta-method variance, expanded so that each is one cumulative sum."""
    squares = estimate**2 * np.cumsum(all_cause) - 2.0 * estimate * np.cumsum(estimate * all_cause)
    squares += np.cumsum(estimate**2 * all_cause)
    own = np.cumsum(before**2 * cause_events * (at_risk - cause_events) / at_risk**3)
    cross_weight = before * cause_events / at_risk**2
    cross = estimate * np.cumsum(cross_weight) - np.cumsum(estimate * cross_weight)
    variance: Floats = np.maximum(squares + own - 2.0 * cross, 0.0)  # rounding can dip below 0
    return variance


def _interval(estimate: Floats, se: Floats, kind: Interval, z: float) -> tuple[Floats, Floats]:
    """loglog: F^exp(+/- z se / (F log F)); log: F exp(-/+ z se / F), capped at 1. [0, 0] while F = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "loglog":
            spread = z * se / (estimate * np.log(estimate))
            lower, upper = estimate ** np.exp(-spread), estimate ** np.exp(spread)
        else:
            spread = np.exp(z * se / estimate)
            lower, upper = estimate / spread, np.minimum(estimate * spread, 1.0)
    none_yet = estimate == 0.0
    lower[none_yet] = 0.0
    upper[none_yet] = 0.0
    everyone = estimate >= 1.0  # every record failed of this cause: no spread left
    lower[everyone] = 1.0
    upper[everyone] = 1.0
    return lower, upper


def cumulative_incidence(
    table: CountTable, interval: str = "loglog", alpha: float = 0.05
) -> dict[str, dict[int, CumulativeIncidence]]:
    """Cumulative incidence of every cause (`table.causes`) in every group: {group: {cause: curve}}."""
    return {group.name: incidence_curves(group, table.causes, interval, alpha) for group in table.groups}
