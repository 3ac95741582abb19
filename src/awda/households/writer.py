"""Turning validated households into rows, and writing many of them in a few bulk statements.

Both the single-household action and the importer go through here, so one code path seals
personal fields, computes blind indexes and writes the registration event.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, cast

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Table
from sqlalchemy.orm import Session

from awda.access.rules import Actor
from awda.audit.models import Event
from awda.audit.services import event_row
from awda.bulk import BulkInserter
from awda.db import utcnow
from awda.errors import ValidationFailed
from awda.households.commands import HouseholdIn, PersonIn
from awda.households.models import (
    Consent,
    Household,
    Intention,
    IntentionMember,
    IntentionTransition,
    Person,
    PersonIdentifier,
    Registration,
)
from awda.households.rules import IntentionStatus, pack_personal
from awda.ids import new_uid
from awda.vault import Vault


@dataclass
class PreparedHousehold:
    """All rows of one new household, waiting for their database ids."""

    household: dict[str, Any]
    registration: dict[str, Any]
    consent: dict[str, Any]
    persons: list[dict[str, Any]]
    identifiers: list[tuple[int, str, bytes]]  # (position in persons, kind, digest)
    intention: dict[str, Any] | None
    intention_members: list[int]  # positions in persons
    event: dict[str, Any]
    person_uids: list[str] = field(default_factory=list)


def sealed_person(vault: Vault, cipher: AESGCM, person_uid: str, person: PersonIn) -> bytes:
    """The person's personal fields sealed under the household's data key (see `Vault.sealer`)."""
    return vault.seal_with(cipher, pack_personal(person.personal_values()), f"person:{person_uid}")


def person_identifiers(vault: Vault, person: PersonIn) -> list[tuple[str, bytes]]:
    """Blind indexes for exact lookup: full name in each script, phone, document."""
    found: list[tuple[str, bytes]] = []
    for script in ("ar", "lat"):
        parts = [getattr(person, f"{name}_name_{script}") for name in ("given", "father", "family")]
        if parts[0]:
            found.append((f"name_{script}", vault.blind_index(f"name_{script}", " ".join(p for p in parts if p))))
    if person.phone:
        found.append(("phone", vault.blind_index("phone", person.phone)))
    if person.document_number and person.document_type:
        found.append(("document", vault.blind_index("document", f"{person.document_type}:{person.document_number}")))
    return found


def person_row(vault: Vault, cipher: AESGCM, person_uid: str, person: PersonIn) -> dict[str, Any]:
    return {
        "uid": person_uid,
        "member_index": person.member_index,
        "relationship": person.relationship,
        "sex": person.sex,
        "birth_year": person.effective_birth_year,
        "vulnerabilities": " ".join(person.vulnerabilities),
        "sealed": sealed_person(vault, cipher, person_uid, person),
        "created_at": utcnow(),
        "version": 1,
    }


def _intention_rows(
    command: HouseholdIn, place_ids: Mapping[str, int], actor: Actor
) -> tuple[dict[str, Any] | None, list[int]]:
    intention = command.intention
    if intention is None:
        return None, []
    ids = []
    for column, pcode in (("origin_pcode", intention.origin_pcode), ("destination_pcode", intention.destination_pcode)):
        place_id = place_ids.get(pcode.upper())
        if place_id is None:
            raise ValidationFailed(column, f"no place with P-code {pcode!r} in the gazetteer")
        ids.append(place_id)
    wanted = set(intention.members) if intention.members is not None else None
    positions = [i for i, m in enumerate(command.members) if wanted is None or m.member_index in wanted]
    row = {
        "uid": new_uid(),
        "kind": intention.kind.value,
        "origin_id": ids[0],
        "destination_id": ids[1],
        "window_start": intention.window_start,
        "window_end": intention.window_end,
        "status": IntentionStatus.REGISTERED.value,
        "declared_on": command.registered_on,
        "status_changed_at": utcnow(),
        "version": 1,
    }
    return row, positions


def _household_rows(
    command: HouseholdIn, actor: Actor, uid: str, site_id: int, wrapped: bytes, fingerprint: bytes | None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The household, registration and consent rows of a new household."""
    now = utcnow()
    household = {
        "uid": uid,
        "site_id": site_id,
        "source_ref": command.source_ref,
        "fingerprint": fingerprint,
        "wrapped_key": wrapped,
        "travel_group": command.travel_group,
        "registered_on": command.registered_on,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    registration = {
        "site_id": site_id,
        "registered_on": command.registered_on,
        "registrar": command.registrar,
        "recorded_by": actor.user_id,
    }
    consent = {
        "purposes": " ".join(command.consent.purposes),
        "given_on": command.consent.given_on,
        "recorded_by": actor.user_id,
        "recorded_at": now,
    }
    return household, registration, consent


def prepare_household(
    vault: Vault,
    actor: Actor,
    command: HouseholdIn,
    site_id: int,
    place_ids: Mapping[str, int],
    fingerprint: bytes | None = None,
    source: str = "form",
) -> PreparedHousehold:
    """Rows for one new household: a fresh data key, sealed persons, blind indexes, one event."""
    household_uid = new_uid()
    data_key, wrapped = vault.new_data_key(household_uid)
    person_uids = [new_uid() for _ in command.members]
    cipher = vault.sealer(data_key)
    persons = [person_row(vault, cipher, pid, m) for pid, m in zip(person_uids, command.members, strict=True)]
    identifiers = [
        (pos, kind, digest) for pos, m in enumerate(command.members) for kind, digest in person_identifiers(vault, m)
    ]
    intention, members = _intention_rows(command, place_ids, actor)
    payload = {
        "site": command.site_code.upper(),
        "members": len(persons),
        "source": source,
        "consent": command.consent.purposes,
        "intention": intention["uid"] if intention else None,
    }
    household, registration, consent = _household_rows(command, actor, household_uid, site_id, wrapped, fingerprint)
    return PreparedHousehold(
        household=household,
        registration=registration,
        consent=consent,
        persons=persons,
        identifiers=identifiers,
        intention=intention,
        intention_members=members,
        event=event_row(
            actor, "register_household", "household", household_uid, payload, site_id, household["created_at"]
        ),
        person_uids=person_uids,
    )


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def _insert_dicts(bulk: BulkInserter, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        columns = list(rows[0])
        pick = itemgetter(*columns)
        bulk.insert(_table(model), columns, [pick(row) if len(columns) > 1 else (pick(row),) for row in rows])


def _link_ids(
    prepared: Sequence[PreparedHousehold],
    household_ids: Sequence[int],
    person_ids: Iterator[int],
    intention_ids: Iterator[int],
    actor: Actor,
) -> dict[str, list[dict[str, Any]]]:
    """Put the reserved ids into the rows; returns the child rows that refer to them."""
    children: dict[str, list[dict[str, Any]]] = {"persons": [], "identifiers": [], "members": [], "transitions": []}
    for household_id, item in zip(household_ids, prepared, strict=True):
        item.household["id"] = item.registration["household_id"] = item.consent["household_id"] = household_id
        own = []
        for person in item.persons:
            person["id"], person["household_id"] = next(person_ids), household_id
            own.append(person["id"])
        children["persons"].extend(item.persons)
        children["identifiers"].extend(
            {"person_id": own[pos], "kind": kind, "digest": digest} for pos, kind, digest in item.identifiers
        )
        if item.intention is not None:
            intention_id = item.intention["id"] = next(intention_ids)
            item.intention["household_id"] = household_id
            children["members"].extend(
                {"intention_id": intention_id, "person_id": own[pos]} for pos in item.intention_members
            )
            children["transitions"].append(
                {
                    "intention_id": intention_id,
                    "from_status": None,
                    "to_status": IntentionStatus.REGISTERED.value,
                    "reason": "",
                    "at": item.household["created_at"],
                    "actor_id": actor.user_id,
                    "actor_name": actor.username,
                }
            )
    return children


def write_households(session: Session, prepared: Sequence[PreparedHousehold], actor: Actor) -> None:
    """Insert every row of the prepared households with one executemany per table."""
    if not prepared:
        return
    bulk = BulkInserter(session.connection())
    # The events go first: on SQLite that takes the write lock that makes reserve_ids safe.
    _insert_dicts(bulk, Event, [item.event for item in prepared])
    household_ids = bulk.reserve_ids(_table(Household), len(prepared))
    person_ids = iter(bulk.reserve_ids(_table(Person), sum(len(item.persons) for item in prepared)))
    with_intention = [item for item in prepared if item.intention is not None]
    intention_ids = iter(bulk.reserve_ids(_table(Intention), len(with_intention)))
    children = _link_ids(prepared, household_ids, person_ids, intention_ids, actor)
    _insert_dicts(bulk, Household, [item.household for item in prepared])
    _insert_dicts(bulk, Person, children["persons"])
    _insert_dicts(bulk, Intention, [item.intention for item in with_intention if item.intention is not None])
    for model, rows in (
        (Registration, [item.registration for item in prepared]),
        (Consent, [item.consent for item in prepared]),
        (PersonIdentifier, children["identifiers"]),
        (IntentionMember, children["members"]),
        (IntentionTransition, children["transitions"]),
    ):
        _insert_dicts(bulk, model, rows)
