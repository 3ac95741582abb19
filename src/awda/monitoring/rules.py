"""Pure rules of post-return monitoring: vocabularies, follow-up schedules, breached terms, profiles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from awda.errors import ValidationFailed

DEFAULT_FOLLOWUP_DAYS = (7, 30, 90, 180, 365)


class IncidentType(StrEnum):
    ARREST = "arrest"
    DETENTION = "detention"
    ENFORCED_DISAPPEARANCE = "enforced_disappearance"
    CONSCRIPTION = "conscription"
    KILLING = "killing"
    INJURY = "injury"
    PROPERTY_SEIZURE = "property_seizure"
    EXTORTION = "extortion"
    DENIAL_OF_ENTRY = "denial_of_entry"
    CHECKPOINT_HARASSMENT = "checkpoint_harassment"


class Verification(StrEnum):
    """How far an incident report has been checked; ordered from weakest to strongest."""

    REPORTED = "reported"
    CREDIBLE = "credible"
    VERIFIED = "verified"


VERIFICATION_RANK = {Verification.REPORTED: 0, Verification.CREDIBLE: 1, Verification.VERIFIED: 2}


class Outcome(StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"
    MOVED = "moved"
    REFUSED = "refused"
    CANCELLED = "cancelled"  # set by the system after `moved`: no more follow-ups are due


RECORDABLE_OUTCOMES = frozenset({Outcome.REACHED, Outcome.NOT_REACHED, Outcome.MOVED, Outcome.REFUSED})

DATE_PRECISIONS = frozenset({"day", "month", "year"})
SOURCES = frozenset({"household", "community", "monitor", "partner_organisation", "media", "authorities", "other"})
# Categories of unit or force; a closed list, because a free text field invites names.
PERPETRATOR_CATEGORIES = frozenset(
    {
        "military_security",
        "state_security",
        "political_security",
        "air_force_intelligence",
        "general_intelligence",
        "military_police",
        "regular_army",
        "checkpoint_forces",
        "pro_government_militia",
        "local_authorities",
        "armed_group",
        "foreign_forces",
        "aerial_bombardment",
        "explosive_remnants_of_war",
        "criminal_group",
        "unknown",
        "other",
    }
)

# The "serious violation" that ends survival: loss of liberty or life, or forced recruitment.
SERIOUS_TYPES = frozenset(
    {
        IncidentType.ARREST,
        IncidentType.DETENTION,
        IncidentType.ENFORCED_DISAPPEARANCE,
        IncidentType.CONSCRIPTION,
        IncidentType.KILLING,
    }
)
# Competing causes of the first serious violation (Aalen-Johansen): code 1..3, 0 = censored.
CAUSES: dict[IncidentType, int] = {
    IncidentType.ARREST: 1,
    IncidentType.DETENTION: 1,
    IncidentType.CONSCRIPTION: 2,
    IncidentType.ENFORCED_DISAPPEARANCE: 3,
    IncidentType.KILLING: 3,
}
CAUSE_NAMES = {1: "arrest_detention", 2: "conscription", 3: "death_disappearance"}

# Which incident types break a promise of each kind of term.
TERM_COVERS: dict[str, frozenset[IncidentType]] = {
    "no_arrest": frozenset({IncidentType.ARREST, IncidentType.DETENTION, IncidentType.ENFORCED_DISAPPEARANCE}),
    "no_detention": frozenset({IncidentType.DETENTION, IncidentType.ENFORCED_DISAPPEARANCE}),
    "no_conscription": frozenset({IncidentType.CONSCRIPTION}),
    "no_property_seizure": frozenset({IncidentType.PROPERTY_SEIZURE}),
    "free_passage": frozenset(
        {
            IncidentType.DENIAL_OF_ENTRY,
            IncidentType.CHECKPOINT_HARASSMENT,
            IncidentType.EXTORTION,
            IncidentType.ARREST,
            IncidentType.DETENTION,
            IncidentType.ENFORCED_DISAPPEARANCE,
        }
    ),
    "free_movement": frozenset(
        {IncidentType.DENIAL_OF_ENTRY, IncidentType.CHECKPOINT_HARASSMENT, IncidentType.EXTORTION}
    ),
    "amnesty": frozenset({IncidentType.ARREST, IncidentType.DETENTION, IncidentType.ENFORCED_DISAPPEARANCE}),
}

MILITARY_AGE = (18, 42)
AGE_BANDS = ((0, 17, "0-17"), (18, 42, "18-42"), (43, 59, "43-59"), (60, 200, "60+"))


@dataclass(frozen=True)
class TermFacts:
    """What the breach rule needs of one term."""

    code: str
    kind: str
    applies_to: str
    duration_days: int


def check_choice(field: str, value: str, allowed: Iterable[str]) -> str:
    cleaned = value.strip().lower()
    options = sorted(str(option) for option in allowed)
    if cleaned not in options:
        raise ValidationFailed(field, f"{value!r} is not one of {', '.join(options)}")
    return cleaned


def check_incident_type(value: str) -> IncidentType:
    return IncidentType(check_choice("type", value, (t.value for t in IncidentType)))


def check_verification(value: str) -> Verification:
    return Verification(check_choice("verification", value, (v.value for v in Verification)))


def check_outcome(value: str) -> Outcome:
    return Outcome(check_choice("outcome", value, (o.value for o in RECORDABLE_OUTCOMES)))


def check_perpetrator(value: str) -> str:
    """A category of unit or force from the closed list, never a person's name (so names cannot slip in)."""
    cleaned = value.strip().lower().replace(" ", "_").replace("-", "_") or "unknown"
    if cleaned not in PERPETRATOR_CATEGORIES:
        raise ValidationFailed(
            "perpetrator_category",
            f"use a category ({', '.join(sorted(PERPETRATOR_CATEGORIES))}), never a person's name",
        )
    return cleaned


MAX_FOLLOWUPS = 20  # the schedule is stored as text of at most 100 characters ("3650," 20 times)


def check_schedule(days: Sequence[int]) -> tuple[int, ...]:
    cleaned = tuple(sorted(set(days)))
    if not cleaned or cleaned[0] < 1 or cleaned[-1] > 3650:
        raise ValidationFailed("followup_days", "one or more whole numbers of days between 1 and 3650")
    if len(cleaned) > MAX_FOLLOWUPS:
        raise ValidationFailed("followup_days", f"at most {MAX_FOLLOWUPS} follow-ups")
    return cleaned


def parse_schedule(text: str) -> tuple[int, ...]:
    """`"7,30,90"` -> (7, 30, 90); an empty text is the default schedule."""
    if not text.strip():
        return DEFAULT_FOLLOWUP_DAYS
    try:
        return check_schedule([int(part) for part in text.split(",") if part.strip()])
    except ValueError as error:
        raise ValidationFailed("followup_days", "whole numbers of days separated by commas") from error


def arrival_day_problem(arrived_on: date, today: date) -> str | None:
    """Why a day cannot be an arrival: it has not come yet (after tomorrow: a day of slack for time zones
    east of UTC). An arrival before registration is possible: people who returned on their own are
    registered when monitors meet them."""
    return "is in the future" if arrived_on > today + timedelta(days=1) else None


def followup_dates(arrived_on: date, days: Sequence[int]) -> list[tuple[int, date]]:
    return [(day, arrived_on + timedelta(days=day)) for day in days]


def age_on(birth_year: int | None, on: date) -> int | None:
    """Age in whole years, at worst one year too high when only the birth year is known."""
    return None if birth_year is None else on.year - birth_year


def age_band(age: int | None) -> str:
    if age is None:
        return "unknown"
    return next(label for low, high, label in AGE_BANDS if low <= age <= high)


def profile(sex: str, age: int | None) -> str:
    """The profile of the statistics: sex and age band on arrival, for example `male 18-42`."""
    return f"{sex} {age_band(age)}"


def is_military_age_man(sex: str, age: int | None) -> bool:
    return sex == "male" and age is not None and MILITARY_AGE[0] <= age <= MILITARY_AGE[1]


def term_applies(term: TermFacts, intention: str, sex: str, age: int | None) -> bool:
    subject = term.applies_to
    return (
        subject == "all"
        or (subject == "returnees" and intention == "return")
        or (subject == "evacuees" and intention == "evacuate")
        or (subject == "men_18_42" and is_military_age_man(sex, age))
    )


def breached_terms(
    terms: Sequence[TermFacts], incident: IncidentType, day: int, intention: str, sex: str, age: int | None
) -> list[str]:
    """Codes of the terms that an incident `day` days after arrival breaks, for this person."""
    return [
        term.code
        for term in terms
        if 0 <= day < term.duration_days
        and incident in TERM_COVERS.get(term.kind, frozenset())
        and term_applies(term, intention, sex, age)
    ]


def overdue(due_on: date, today: date, grace_days: int) -> bool:
    return due_on + timedelta(days=grace_days) < today


def needs_escalation(last_contact: date, today: date, escalate_after_days: int) -> bool:
    """A household not reached for longer than the limit (counted from its last contact or arrival)."""
    return (today - last_contact).days > escalate_after_days
