"""Checked household data as plain values: what the writer turns into rows.

Forms and the API build these from a validated pydantic command (`from_command`); the importer's
file checker builds them straight from file cells (`households/filecheck.py`), which is several
times cheaper than a pydantic model per person and produces the same values.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from awda.households.commands import HouseholdIn, PersonIn

# Positions in PlainPerson.personal (the order of rules.PERSONAL_FIELDS).
GIVEN_AR, FATHER_AR, FAMILY_AR = 0, 2, 6
BIRTH_DATE, DOCUMENT_TYPE, DOCUMENT_NUMBER, PHONE = 10, 11, 12, 13


class PlainPerson(NamedTuple):
    member_index: int
    relationship: str
    sex: str
    birth_year: int
    vulnerabilities: str  # sorted codes, space-separated
    personal: tuple[str, ...]  # the sealed fields in rules.PERSONAL_FIELDS order, '' when not given


class PlainIntention(NamedTuple):
    kind: str
    origin_pcode: str
    destination_pcode: str
    window_start: date | None
    window_end: date | None
    members: tuple[int, ...] | None  # member indexes; None means the whole household


class PlainHousehold(NamedTuple):
    site_code: str
    registered_on: date
    registrar: str
    travel_group: str | None
    purposes: tuple[str, ...]  # sorted
    consent_given_on: date
    members: tuple[PlainPerson, ...]
    intention: PlainIntention | None
    source_ref: str | None


def person_from_command(person: PersonIn) -> PlainPerson:
    return PlainPerson(
        person.member_index,
        person.relationship,
        person.sex,
        person.effective_birth_year,
        " ".join(person.vulnerabilities),
        tuple(person.personal_values()),
    )


def from_command(command: HouseholdIn) -> PlainHousehold:
    intention = command.intention
    return PlainHousehold(
        site_code=command.site_code,
        registered_on=command.registered_on,
        registrar=command.registrar,
        travel_group=command.travel_group,
        purposes=tuple(command.consent.purposes),
        consent_given_on=command.consent.given_on,
        members=tuple(person_from_command(member) for member in command.members),
        intention=None
        if intention is None
        else PlainIntention(
            intention.kind.value,
            intention.origin_pcode,
            intention.destination_pcode,
            intention.window_start,
            intention.window_end,
            None if intention.members is None else tuple(intention.members),
        ),
        source_ref=command.source_ref,
    )
