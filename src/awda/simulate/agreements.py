"""Agreements, their terms, and the piecewise-constant incident hazards of each cohort."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STEP_DAY = 180  # "no problem in the first six months, after that arrests"
DAYS_PER_YEAR = 365.25
PROFILES = ("military_age_man", "adult", "child")
MILITARY_AGE = (18, 42)
# After these the person is no longer observable (killed, disappeared, taken into the army).
TERMINAL_TYPES = frozenset({"killing", "enforced_disappearance", "conscription"})
TERM_COVERS: dict[str, frozenset[str]] = {
    "no_arrest": frozenset({"arrest", "detention", "enforced_disappearance"}),
    "no_conscription": frozenset({"conscription"}),
    "no_property_seizure": frozenset({"property_seizure"}),
    "free_passage": frozenset(
        {"denial_of_entry", "checkpoint_harassment", "extortion", "arrest", "detention", "enforced_disappearance"}
    ),
}


@dataclass(frozen=True, slots=True)
class Term:
    """One promise of an agreement, for ``duration_days`` after arrival, to ``applies_to``."""

    term_id: str
    kind: str
    duration_days: int
    applies_to: str  # all | returnees | evacuees | men_18_42

    def as_json(self) -> dict[str, Any]:
        """The term as written in agreements.csv."""
        return {
            "term_id": self.term_id,
            "kind": self.kind,
            "duration_days": self.duration_days,
            "applies_to": self.applies_to,
        }


@dataclass(frozen=True, slots=True)
class Agreement:
    """A settlement or reconciliation agreement (scenario data, not a historical record)."""

    agreement_id: str
    name_en: str
    name_ar: str
    area_pcode: str
    guarantor: str
    signed_on: str
    terms: tuple[Term, ...]


AGREEMENTS: tuple[Agreement, ...] = (
    Agreement(
        "AG-2017-WAER",
        "Al-Waer evacuation agreement",
        "اتفاق حي الوعر",
        "C4001",
        "Russian military police",
        "2017-03-13",
        (
            Term("WAER-T1", "free_passage", 3, "evacuees"),
            Term("WAER-T2", "no_arrest", 180, "returnees"),
            Term("WAER-T3", "no_property_seizure", 365, "returnees"),
        ),
    ),
    Agreement(
        "AG-2018-NHOMS",
        "Northern Homs countryside reconciliation agreement",
        "اتفاق التسوية في ريف حمص الشمالي",
        "SY0403",
        "Russian military police",
        "2018-05-02",
        (
            Term("NHOMS-T1", "no_arrest", 180, "all"),
            Term("NHOMS-T2", "no_conscription", 180, "men_18_42"),
            Term("NHOMS-T3", "free_passage", 2, "all"),
            Term("NHOMS-T4", "no_property_seizure", 365, "all"),
        ),
    ),
    Agreement(
        "AG-2019-RUKBAN",
        "Rukban returns arrangement",
        "ترتيبات العودة من مخيم الركبان",
        "C4402",
        "Russian reconciliation centre",
        "2019-02-19",
        (
            Term("RUKBAN-T1", "free_passage", 2, "all"),
            Term("RUKBAN-T2", "no_arrest", 180, "all"),
            Term("RUKBAN-T3", "no_conscription", 180, "men_18_42"),
        ),
    ),
    Agreement(
        "AG-2019-QUSAYR",
        "Al-Qusayr returns arrangement",
        "ترتيبات العودة إلى القصير",
        "C4201",
        "Local reconciliation committee",
        "2019-07-01",
        (
            Term("QUSAYR-T1", "free_passage", 1, "all"),
            Term("QUSAYR-T2", "no_arrest", 180, "all"),
            Term("QUSAYR-T3", "no_property_seizure", 730, "all"),
        ),
    ),
)

# Events per person-year after the step, for returnees to government-held areas.
RETURN_RATES: dict[str, dict[str, float]] = {
    "military_age_man": {
        "arrest": 0.18,
        "detention": 0.05,
        "conscription": 0.25,
        "enforced_disappearance": 0.015,
        "killing": 0.004,
        "checkpoint_harassment": 0.08,
        "extortion": 0.05,
        "injury": 0.01,
    },
    "adult": {
        "arrest": 0.015,
        "detention": 0.004,
        "enforced_disappearance": 0.001,
        "killing": 0.001,
        "property_seizure": 0.02,
        "checkpoint_harassment": 0.04,
        "extortion": 0.03,
        "injury": 0.006,
    },
    "child": {"injury": 0.004, "detention": 0.0005, "killing": 0.0005},
}
# Events per person-year for evacuees in opposition-held areas: no step, other perpetrators.
EVACUEE_RATES: dict[str, dict[str, float]] = {
    "military_age_man": {
        "arrest": 0.03,
        "detention": 0.02,
        "killing": 0.01,
        "injury": 0.03,
        "extortion": 0.04,
        "checkpoint_harassment": 0.05,
    },
    "adult": {"killing": 0.004, "injury": 0.015, "extortion": 0.02, "checkpoint_harassment": 0.03},
    "child": {"injury": 0.01, "killing": 0.002},
}
# cohort (agreement, intention kind): (multiplier before the step, after it, per-type extras)
COHORTS: dict[tuple[str, str], tuple[float, float, dict[str, float]]] = {
    ("AG-2018-NHOMS", "return"): (0.2, 1.0, {}),
    ("AG-2019-RUKBAN", "return"): (0.2, 1.3, {}),
    ("AG-2019-QUSAYR", "return"): (0.3, 0.9, {"property_seizure": 3.0}),
    ("AG-2017-WAER", "return"): (0.25, 1.1, {}),
    ("AG-2017-WAER", "evacuate"): (1.0, 1.0, {}),
}

GOVERNMENT_SIDE: dict[str, tuple[str, ...]] = {
    "arrest": (
        "military_security",
        "military_security",
        "state_security",
        "air_force_intelligence",
        "political_security",
    ),
    "detention": ("military_security", "air_force_intelligence", "state_security"),
    "enforced_disappearance": ("military_security", "air_force_intelligence", "unknown"),
    "conscription": ("military_police",),
    "checkpoint_harassment": ("checkpoint_forces", "checkpoint_forces", "pro_government_militia"),
    "extortion": ("checkpoint_forces", "pro_government_militia"),
    "property_seizure": ("local_authorities", "pro_government_militia"),
    "killing": ("unknown", "pro_government_militia", "explosive_remnants_of_war"),
    "injury": ("explosive_remnants_of_war", "unknown", "checkpoint_forces"),
    "denial_of_entry": ("checkpoint_forces",),
}
OPPOSITION_SIDE: dict[str, tuple[str, ...]] = {
    "arrest": ("armed_group",),
    "detention": ("armed_group",),
    "enforced_disappearance": ("armed_group", "unknown"),
    "checkpoint_harassment": ("armed_group",),
    "extortion": ("armed_group", "unknown"),
    "killing": ("aerial_bombardment", "aerial_bombardment", "armed_group", "unknown"),
    "injury": ("aerial_bombardment", "explosive_remnants_of_war", "unknown"),
    "denial_of_entry": ("armed_group",),
}


def cohort_rates(agreement_id: str, kind: str, profile: str) -> list[tuple[int, int | None, dict[str, float]]]:
    """Periods ``(from_day, to_day or None, {type: events per person-year})`` of one cohort."""
    before, after, extra = COHORTS[(agreement_id, kind)]
    base = (EVACUEE_RATES if kind == "evacuate" else RETURN_RATES)[profile]

    def scaled(multiplier: float) -> dict[str, float]:
        return {t: round(r * multiplier * extra.get(t, 1.0), 6) for t, r in base.items()}

    return [(0, STEP_DAY, scaled(before)), (STEP_DAY, None, scaled(after))]


def hazard_manifest() -> list[dict[str, Any]]:
    """The exact hazards used, one entry per cohort, profile and period (for manifest.json)."""
    return [
        {
            "agreement_id": agreement_id,
            "intention": kind,
            "profile": profile,
            "from_day": start,
            "to_day": stop,
            "rates_per_person_year": rates,
        }
        for agreement_id, kind in COHORTS
        for profile in PROFILES
        for start, stop, rates in cohort_rates(agreement_id, kind, profile)
    ]


def breached_term(agreement: Agreement, incident_type: str, day: int, kind: str, profile: str) -> str:
    """The first term of ``agreement`` that ``incident_type`` on ``day`` breaches, or ``""``."""
    for term in agreement.terms:
        if day >= term.duration_days or incident_type not in TERM_COVERS[term.kind]:
            continue
        applies = term.applies_to
        if (
            applies == "all"
            or (applies == "returnees" and kind == "return")
            or (applies == "evacuees" and kind == "evacuate")
            or (applies == "men_18_42" and profile == "military_age_man")
        ):
            return term.term_id
    return ""
