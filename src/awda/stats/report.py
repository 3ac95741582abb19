"""What a scorecard is made of: plain values gathered from the registry, before disclosure control.

`awda.monitoring.cohorts` fills these from the database (counts only, never personal fields);
`awda.stats.scorecard` applies disclosure control and writes the HTML, plots and CSV.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Curve:
    """A Kaplan-Meier curve of one cohort: one entry per distinct day with an event or a censoring."""

    time: tuple[int, ...]  # days since arrival
    at_risk: tuple[int, ...]
    events: tuple[int, ...]
    censored: tuple[int, ...]
    survival: tuple[float, ...]
    ci_lower: tuple[float, ...]
    ci_upper: tuple[float, ...]


@dataclass(frozen=True)
class Incidence:
    """Aalen-Johansen cumulative incidence of one cause (same time grid conventions as `Curve`)."""

    cause: str  # for example "arrest_detention", "conscription", "death_disappearance"
    time: tuple[int, ...]
    estimate: tuple[float, ...]
    ci_lower: tuple[float, ...]
    ci_upper: tuple[float, ...]


@dataclass(frozen=True)
class FollowUpCoverage:
    """Follow-ups of the cohort's households that were due by the report date."""

    due: int
    reached: int
    not_reached: int
    moved: int
    refused: int
    overdue: int  # due, no outcome recorded yet


@dataclass(frozen=True)
class HazardStep:
    """A change in the hazard of the first serious violation (from `stats` hazard-step detection)."""

    day: int
    hazard_before: float  # per person-year
    hazard_after: float


@dataclass(frozen=True)
class CohortFacts:
    """Everything published about one cohort (an agreement or a guarantor), before suppression."""

    kind: str  # "agreement" or "guarantor"
    key: str  # the agreement code or the guarantor's name
    title_en: str
    title_ar: str
    people: int  # persons who arrived
    households: int
    arrivals_by_month: dict[str, int]  # "YYYY-MM" -> persons arrived
    # (incident type, "YYYY-MM") -> distinct persons affected by incidents of that type that month
    incidents_by_type_month: dict[tuple[str, str], int]
    followups: FollowUpCoverage
    survival: Curve | None  # free of the first serious violation
    incidence: tuple[Incidence, ...] = ()
    hazard_steps: tuple[HazardStep, ...] = ()
    hazard_step_p_value: float | None = None
    terms: tuple[str, ...] = ()  # human-readable terms, for example "no_arrest for returnees, 180 days"
    # For a guarantor: the keys of the agreement cohorts whose people make up this cohort. A reader can
    # subtract those agreements' figures from the guarantor's, so disclosure control must know them.
    agreements: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScorecardInput:
    """All cohorts, the report date and the smallest count that may be published."""

    generated_on: str  # ISO date
    cohorts: tuple[CohortFacts, ...]
    k: int = 10
    serious_types: tuple[str, ...] = field(default=())
    min_verification: str = "reported"
