"""Pure registration rules: vocabularies, the intention status machine, member and birth checks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum

from awda.errors import Conflict, ValidationFailed


class IntentionKind(StrEnum):
    RETURN = "return"
    RELOCATE = "relocate"
    EVACUATE = "evacuate"


class IntentionStatus(StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    ASSIGNED = "assigned"
    DEPARTED = "departed"
    ARRIVED = "arrived"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"


S = IntentionStatus
# The status machine; an assigned household that misses its convoy goes back to the waitlist.
TRANSITIONS: dict[IntentionStatus, frozenset[IntentionStatus]] = {
    S.REGISTERED: frozenset({S.WAITLISTED, S.WITHDRAWN, S.CANCELLED}),
    S.WAITLISTED: frozenset({S.ASSIGNED, S.WITHDRAWN, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.DEPARTED, S.WAITLISTED, S.WITHDRAWN, S.CANCELLED}),
    S.DEPARTED: frozenset({S.ARRIVED, S.CANCELLED}),
    S.ARRIVED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.CANCELLED: frozenset(),
}
OPEN_STATUSES = frozenset({S.REGISTERED, S.WAITLISTED, S.ASSIGNED})
ACTIVE_STATUSES = OPEN_STATUSES | {S.DEPARTED}

RELATIONSHIPS = frozenset(
    {
        "head",
        "spouse",
        "son",
        "daughter",
        "father",
        "mother",
        "brother",
        "sister",
        "grandchild",
        "grandparent",
        "other_relative",
        "unrelated",
    }
)
SEXES = frozenset({"female", "male"})
DOCUMENT_TYPES = frozenset({"national_id", "family_booklet", "passport", "unhcr", "other"})
VULNERABILITIES = frozenset({"medical", "disability", "elderly", "pregnant", "unaccompanied_child", "female_headed"})
CONSENT_PURPOSES = frozenset({"registration", "movement", "follow_up", "card", "card_name", "aggregate_sharing"})
# Reasons are codes, never free text, so that no name can slip into the history.
TRANSITION_REASONS = frozenset(
    {
        "",
        "changed_mind",
        "stayed",
        "family_reasons",
        "security",
        "duplicate",
        "missed_convoy",
        "not_reconfirmed",
        "convoy_cancelled",
        "data_error",
        "other",
    }
)
NAME_FIELDS = (
    "given_name_ar",
    "given_name_lat",
    "father_name_ar",
    "father_name_lat",
    "grandfather_name_ar",
    "grandfather_name_lat",
    "family_name_ar",
    "family_name_lat",
    "mother_name_ar",
    "mother_name_lat",
)
# Fields sealed by the vault; everything else about a person is categorical and stored in clear.
PERSONAL_FIELDS = (*NAME_FIELDS, "birth_date", "document_type", "document_number", "phone")
EARLIEST_BIRTH_YEAR = 1900
PHONE_PATTERN = re.compile(r"^\+?[0-9]{6,15}$")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


def check_transition(current: str, target: IntentionStatus) -> None:
    """Raise Conflict unless the status machine allows current -> target."""
    allowed = TRANSITIONS[IntentionStatus(current)]
    if target not in allowed:
        options = ", ".join(sorted(allowed)) or "none (final status)"
        raise Conflict(f"an intention that is {current} cannot become {target.value}; allowed: {options}")


def check_reason(reason: str) -> str:
    if reason not in TRANSITION_REASONS:
        raise ValidationFailed("reason", f"use one of {', '.join(sorted(r for r in TRANSITION_REASONS if r))}")
    return reason


def reconfirmation_fresh(reconfirmed_at: datetime | None, now: datetime, max_age_days: int) -> bool:
    """Departure needs the household to have re-confirmed its wish within `max_age_days`."""
    return reconfirmed_at is not None and now - reconfirmed_at <= timedelta(days=max_age_days)


def check_birth(birth_date: date | None, birth_year: int | None, today: date) -> int | None:
    """The birth year implied by a date and/or year; raises if they disagree or are impossible."""
    if birth_date is not None:
        if birth_date > today:
            raise ValidationFailed("birth_date", "is in the future")
        if birth_year is not None and birth_year != birth_date.year:
            raise ValidationFailed("birth_year", "does not match the year of birth_date")
        birth_year = birth_date.year
    if birth_year is None:
        raise ValidationFailed("birth_year", "give a birth_date or a birth_year")
    if not EARLIEST_BIRTH_YEAR <= birth_year <= today.year:
        raise ValidationFailed("birth_year", f"{birth_year} is not between {EARLIEST_BIRTH_YEAR} and {today.year}")
    return birth_year


def check_name_script(field: str, value: str) -> None:
    """Arabic-script columns hold Arabic letters; Latin columns hold no Arabic letters."""
    check_no_control_characters(field, value)
    if field.endswith("_ar") and value and not _ARABIC_LETTER.search(value):
        raise ValidationFailed(field, "must be written in Arabic script")
    if field.endswith("_lat") and _ARABIC_LETTER.search(value):
        raise ValidationFailed(field, "must be written in Latin letters (use the _ar column for Arabic)")
    if field.endswith("_lat") and value and not _LATIN_LETTER.search(value):
        raise ValidationFailed(field, "contains no letters")


def check_members(member_indexes: Sequence[int], relationships: Sequence[str]) -> None:
    """Member indexes are unique and the household has exactly one head."""
    if len(set(member_indexes)) != len(member_indexes):
        raise ValidationFailed("member_index", "is repeated within the household")
    heads = sum(1 for relationship in relationships if relationship == "head")
    if heads != 1:
        raise ValidationFailed("relationship", f"a household needs exactly one head, not {heads}")


def check_window(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValidationFailed("window_end", "is before window_start")


def check_purposes(purposes: Sequence[str]) -> list[str]:
    unknown = sorted(set(purposes) - CONSENT_PURPOSES)
    if unknown:
        raise ValidationFailed("consent_purposes", f"unknown purpose {unknown[0]!r}")
    if "registration" not in purposes:
        raise ValidationFailed("consent_purposes", "registration requires the 'registration' purpose")
    if "card_name" in purposes and "card" not in purposes:
        raise ValidationFailed("consent_purposes", "'card_name' needs 'card' too")
    return sorted(set(purposes))


# Sealed record layout v1: the PERSONAL_FIELDS in order, joined by U+001F (which validation
# keeps out of every field). Cheaper than JSON per person, and no key names inside the ciphertext.
FIELD_SEPARATOR = "\x1f"


def pack_personal(values: Sequence[str]) -> bytes:
    return FIELD_SEPARATOR.join(values).encode()


def unpack_personal(packed: bytes) -> dict[str, str]:
    values = packed.decode().split(FIELD_SEPARATOR)
    if len(values) != len(PERSONAL_FIELDS):
        raise ValueError("sealed record has an unknown layout")
    return {field: value for field, value in zip(PERSONAL_FIELDS, values, strict=True) if value}


def check_no_control_characters(field: str, value: str) -> None:
    if _CONTROL_CHARACTER.search(value):
        raise ValidationFailed(field, "contains control characters")


def normalise_phone(phone: str) -> str:
    compact = re.sub(r"[\s()./-]", "", phone)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not PHONE_PATTERN.match(compact):
        raise ValidationFailed("phone", "use digits with an optional leading '+' (6 to 15 digits)")
    return compact
