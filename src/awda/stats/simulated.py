"""Validation on simulated scenarios: the simulator's truth reduced to survival records, and true curves.

`awda.simulate` writes who arrived when under which agreement (`truth/movements.csv`), the
incidents drawn from its hazard model (`truth/incidents.csv`) and the exact rates
(`truth/manifest.json`, `hazard_model.hazards`). From them: one survival record per arrival
(days from arrival to the first *serious* violation, else censored when observation ends), and the
true survival curve of any cohort and profile, to check the estimators against (docs/survival.md).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypedDict

import numpy as np
from numpy.typing import ArrayLike

from awda.stats.counts import Counts
from awda.stats.survival import Floats

# Violations that end "survival": loss of liberty or life (injury, extortion, harassment, property
# seizure and denial of entry are recorded but do not count).
SERIOUS_TYPES = frozenset({"arrest", "detention", "enforced_disappearance", "conscription", "killing"})


class HazardPeriod(TypedDict):
    """One entry of the manifest's `hazard_model.hazards`."""

    agreement_id: str
    intention: str
    profile: str
    from_day: int
    to_day: int | None
    rates_per_person_year: dict[str, float]


@dataclass(frozen=True, slots=True)
class Arrivals:
    """One record per arrival under a cohort: days to the first serious violation, or to the end of observation."""

    days: Counts
    violated: Counts  # 1 = a serious violation on that day, 0 = censored
    cohort: list[str]  # "agreement_id/intention"
    profile: list[str]

    def select(self, cohort: str, profile: str | None = None) -> tuple[Counts, Counts]:
        """(days, violated) of one cohort, optionally of one profile."""
        keep = np.array(
            [c == cohort and (profile is None or p == profile) for c, p in zip(self.cohort, self.profile, strict=True)],
            dtype=bool,
        )
        return self.days[keep], self.violated[keep]


def first_serious_violations(truth: Path, serious: Iterable[str] = SERIOUS_TYPES) -> Arrivals:
    """Reduce a scenario's `truth/` folder to one record per arrival under an agreement (not relocations)."""
    kinds = frozenset(serious)
    first: dict[str, list[date]] = {}
    with (truth / "incidents.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["process"] == "hazard" and row["type"] in kinds:
                first.setdefault(row["person_id"], []).append(date.fromisoformat(row["date"]))
    days: list[int] = []
    violated: list[int] = []
    cohorts: list[str] = []
    profiles: list[str] = []
    with (truth / "movements.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["outcome"] != "arrived" or not row["agreement_id"]:
                continue
            arrived, until = date.fromisoformat(row["arrived_on"]), date.fromisoformat(row["observed_until"])
            dates = [day for day in first.get(row["person_id"], []) if arrived <= day <= until]
            end = min(dates) if dates else until
            days.append((end - arrived).days)
            violated.append(1 if dates else 0)
            cohorts.append(f"{row['agreement_id']}/{row['intention']}")
            profiles.append(row["profile"])
    return Arrivals(np.array(days, dtype=np.int64), np.array(violated, dtype=np.int64), cohorts, profiles)


def hazard_periods(manifest: Path) -> list[HazardPeriod]:
    """The exact hazards of a scenario (`hazard_model.hazards` of its manifest.json)."""
    with manifest.open(encoding="utf-8") as handle:
        periods: list[HazardPeriod] = json.load(handle)["hazard_model"]["hazards"]
    return periods


def true_survival(
    periods: list[HazardPeriod],
    cohort: str,
    profile: str,
    days: ArrayLike,
    serious: Iterable[str] = SERIOUS_TYPES,
    days_per_year: float = 365.25,
) -> Floats:
    """P(no serious violation by the end of day t) = exp(-Lambda(t + 1)) for whole days t since arrival.

    The simulator draws continuous times and records the day they fall in (day 0 = the arrival
    day), so a violation is recorded on day <= t exactly when it happened before t + 1.
    """
    agreement, intention = cohort.split("/")
    kinds = frozenset(serious)
    ends = np.asarray(days, dtype=np.float64) + 1.0
    cumulative = np.zeros_like(ends)
    for period in periods:
        if (period["agreement_id"], period["intention"], period["profile"]) != (agreement, intention, profile):
            continue
        rate = sum(value for kind, value in period["rates_per_person_year"].items() if kind in kinds) / days_per_year
        stop = np.inf if period["to_day"] is None else period["to_day"]
        cumulative += rate * np.clip(np.minimum(ends, stop) - period["from_day"], 0.0, None)
    survival: Floats = np.exp(-cumulative)
    return survival
