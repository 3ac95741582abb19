"""Turning checked households into rows, and writing many of them in a few bulk statements.

Both the single-household action and the importer go through here, so one code path seals
personal fields, computes blind indexes and writes the registration event. Rows are plain tuples,
already bound for the database's driver, that refer to each other by position in their batch
(`RowBatch.reserve`); `write_households` reserves the ids and lets `BulkInserter` put them in. So the
importer's workers can prepare everything, and the process that writes only executes.
"""

from __future__ import annotations

import json
import marshal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from typing import Any, NamedTuple, cast

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Table
from sqlalchemy.orm import Session

from awda.access.rules import Actor
from awda.audit.models import Event
from awda.audit.rules import canonical_payload
from awda.bulk import BulkInserter, temporal_binder
from awda.db import utcnow
from awda.errors import ValidationFailed
from awda.households.commands import PersonIn
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
from awda.households.records import (
    DOCUMENT_NUMBER,
    DOCUMENT_TYPE,
    FAMILY_AR,
    FATHER_AR,
    GIVEN_AR,
    PHONE,
    PlainHousehold,
    PlainPerson,
    person_from_command,
)
from awda.households.rules import IntentionStatus, pack_personal
from awda.ids import new_uid
from awda.vault import Vault

Bind = Callable[[date | datetime | None], Any]
Tables = dict[str, list[tuple[Any, ...]]]  # rows by SHAPES name


class Shape(NamedTuple):
    """A table's columns in tuple order, and which of them hold batch positions of which ids."""

    model: Any
    columns: tuple[str, ...]
    links: tuple[tuple[str, str], ...]
    owner: tuple[str, str] | None = None  # the link that says which household a row belongs to


# Insertion order: events first (on SQLite that takes the write lock that makes reserve_ids safe),
# then parents before children.
SHAPES: dict[str, Shape] = {
    "events": Shape(
        Event, ("at", "actor_id", "actor_name", "action", "subject_type", "subject_id", "site_id", "payload"), ()
    ),
    "households": Shape(
        Household,
        (
            *("id", "uid", "site_id", "source_ref", "fingerprint", "wrapped_key", "travel_group", "registered_on"),
            *("created_at", "updated_at", "version"),
        ),
        (("id", "households"),),
        ("id", "households"),
    ),
    "persons": Shape(
        Person,
        (
            *("id", "household_id", "uid", "member_index", "relationship", "sex", "birth_year", "vulnerabilities"),
            *("sealed", "created_at", "version"),
        ),
        (("id", "persons"), ("household_id", "households")),
        ("household_id", "households"),
    ),
    "intentions": Shape(
        Intention,
        (
            *("id", "household_id", "uid", "kind", "origin_id", "destination_id", "window_start", "window_end"),
            *("status", "declared_on", "status_changed_at", "version"),
        ),
        (("id", "intentions"), ("household_id", "households")),
        ("household_id", "households"),
    ),
    "registrations": Shape(
        Registration,
        ("household_id", "site_id", "registered_on", "registrar", "recorded_by"),
        (("household_id", "households"),),
        ("household_id", "households"),
    ),
    "consents": Shape(
        Consent,
        ("household_id", "purposes", "given_on", "recorded_by", "recorded_at"),
        (("household_id", "households"),),
        ("household_id", "households"),
    ),
    "identifiers": Shape(
        PersonIdentifier, ("person_id", "kind", "digest"), (("person_id", "persons"),), ("person_id", "persons")
    ),
    "members": Shape(
        IntentionMember,
        ("intention_id", "person_id"),
        (("intention_id", "intentions"), ("person_id", "persons")),
        ("intention_id", "intentions"),
    ),
    "transitions": Shape(
        IntentionTransition,
        ("intention_id", "from_status", "to_status", "reason", "at", "actor_id", "actor_name"),
        (("intention_id", "intentions"),),
        ("intention_id", "intentions"),
    ),
}


class Footprint(NamedTuple):
    """The batch positions one household's rows use."""

    household: int
    first_person: int
    end_person: int
    intention: int | None


class PreparedHousehold(NamedTuple):
    """A new household's uids, and where its rows sit in the batch they were added to."""

    uid: str
    person_uids: list[str]
    intention_uid: str | None
    footprint: Footprint


def identifiers_of(vault: Vault, personal: Sequence[str]) -> list[tuple[str, bytes]]:
    """Blind indexes for exact lookup: the Arabic full name, phone, document.

    Latin spellings of one Arabic name vary too much for an exact index to find anyone
    (docs/data-protection.md); linkage matches them with fuzzy keys instead.
    """
    found: list[tuple[str, bytes]] = []
    if personal[GIVEN_AR]:
        name = " ".join([part for part in (personal[GIVEN_AR], personal[FATHER_AR], personal[FAMILY_AR]) if part])
        found.append(("name_ar", vault.blind_index("name_ar", name)))
    if personal[PHONE]:
        found.append(("phone", vault.blind_index("phone", personal[PHONE])))
    if personal[DOCUMENT_NUMBER] and personal[DOCUMENT_TYPE]:
        document = f"{personal[DOCUMENT_TYPE]}:{personal[DOCUMENT_NUMBER]}"
        found.append(("document", vault.blind_index("document", document)))
    return found


def person_identifiers(vault: Vault, person: PersonIn) -> list[tuple[str, bytes]]:
    return identifiers_of(vault, person.personal_values())


def sealed_person(vault: Vault, cipher: AESGCM, person_uid: str, person: PersonIn | PlainPerson) -> bytes:
    """The person's personal fields sealed under the household's data key (see `Vault.sealer`)."""
    personal = person.personal if isinstance(person, PlainPerson) else person.personal_values()
    return vault.seal_with(cipher, pack_personal(personal), f"person:{person_uid}")


def person_row(vault: Vault, cipher: AESGCM, person_uid: str, person: PersonIn) -> dict[str, Any]:
    """One person's column values, for an ORM insert (a member added to a registered household)."""
    plain = person_from_command(person)
    return {
        "uid": person_uid,
        "member_index": plain.member_index,
        "relationship": plain.relationship,
        "sex": plain.sex,
        "birth_year": plain.birth_year,
        "vulnerabilities": plain.vulnerabilities,
        "sealed": sealed_person(vault, cipher, person_uid, plain),
        "created_at": utcnow(),
        "version": 1,
    }


@dataclass(frozen=True)
class Preparation:
    """What stays the same for every household of a batch."""

    vault: Vault
    actor: Actor
    place_ids: Mapping[str, int]
    bind: Bind
    source: str = "form"

    @classmethod
    def for_session(cls, session: Session, vault: Vault, actor: Actor, place_ids: Mapping[str, int]) -> Preparation:
        return cls(vault, actor, place_ids, temporal_binder(session.get_bind().dialect.name))


def prepare_household(
    preparation: Preparation,
    household: PlainHousehold,
    site_id: int,
    batch: RowBatch,
    fingerprint: bytes | None = None,
) -> PreparedHousehold:
    """Add the rows of one new household to `batch`: a fresh data key, sealed persons, blind indexes,
    one event."""
    intention_places = _intention_places(household, preparation.place_ids)
    uid = new_uid()
    prepared = PreparedHousehold(
        uid=uid,
        person_uids=[new_uid() for _ in household.members],
        intention_uid=new_uid() if intention_places else None,
        footprint=batch.reserve(len(household.members), intention_places is not None),
    )
    at = preparation.bind(utcnow())
    data_key, wrapped = preparation.vault.new_data_key(uid)
    _add_household_rows(preparation, batch.tables, prepared, household, (site_id, fingerprint, wrapped), at)
    _add_person_rows(preparation, batch.tables, prepared, household, preparation.vault.sealer(data_key), at)
    _add_intention_rows(preparation, batch.tables, prepared, household, intention_places, at)
    return prepared


def _intention_places(household: PlainHousehold, place_ids: Mapping[str, int]) -> tuple[int, int] | None:
    intention = household.intention
    if intention is None:
        return None
    found = []
    for column, pcode in (("origin_pcode", intention.origin_pcode), ("destination_pcode", intention.destination_pcode)):
        place_id = place_ids.get(pcode.upper())
        if place_id is None:
            raise ValidationFailed(column, f"no place with P-code {pcode!r} in the gazetteer")
        found.append(place_id)
    return found[0], found[1]


def _add_household_rows(
    preparation: Preparation,
    tables: Tables,
    prepared: PreparedHousehold,
    household: PlainHousehold,
    stored: tuple[int, bytes | None, bytes],
    at: Any,
) -> None:
    """The event, household, registration and consent rows of a new household."""
    actor, bind, position = preparation.actor, preparation.bind, prepared.footprint.household
    site_id, fingerprint, wrapped = stored  # the site, the import fingerprint, the wrapped data key
    payload = {
        "site": household.site_code.upper(),
        "members": len(household.members),
        "source": preparation.source,
        "consent": list(household.purposes),
        "intention": prepared.intention_uid,
    }
    event = (at, actor.user_id, actor.username, "register_household", "household", prepared.uid, site_id)
    tables["events"].append((*event, _registration_payload(payload)))
    registered_on = bind(household.registered_on)
    tables["households"].append(
        (
            *(position, prepared.uid, site_id, household.source_ref, fingerprint, wrapped, household.travel_group),
            *(registered_on, at, at, 1),
        )
    )
    tables["registrations"].append((position, site_id, registered_on, household.registrar, actor.user_id))
    purposes = " ".join(household.purposes)
    tables["consents"].append((position, purposes, bind(household.consent_given_on), actor.user_id, at))


def _registration_payload(payload: dict[str, Any]) -> str:
    """The event payload as `audit.rules.canonical_payload` writes it; its keys are checked once, below."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# The registration event's keys are fixed: checked against the personal keys once, not per household.
_PAYLOAD_SAMPLE = {"site": "", "members": 0, "source": "", "consent": [""], "intention": None}
if canonical_payload(_PAYLOAD_SAMPLE) != _registration_payload(_PAYLOAD_SAMPLE):  # pragma: no cover
    raise RuntimeError("registration event payloads no longer match audit.rules.canonical_payload")


def _add_person_rows(
    preparation: Preparation,
    tables: Tables,
    prepared: PreparedHousehold,
    household: PlainHousehold,
    cipher: AESGCM,
    at: Any,
) -> None:
    """Sealed persons and their blind indexes."""
    vault = preparation.vault
    members = list(zip(prepared.person_uids, household.members, strict=True))
    sealed = vault.seal_all(cipher, [(pack_personal(person.personal), f"person:{uid}") for uid, person in members])
    persons, identifiers, footprint = tables["persons"], tables["identifiers"], prepared.footprint
    positions = range(footprint.first_person, footprint.end_person)
    for position, uid, person, person_sealed in zip(
        positions, prepared.person_uids, household.members, sealed, strict=True
    ):
        persons.append(
            (
                *(position, footprint.household, uid, person.member_index, person.relationship, person.sex),
                *(person.birth_year, person.vulnerabilities, person_sealed, at, 1),
            )
        )
        for kind, digest in identifiers_of(vault, person.personal):
            identifiers.append((position, kind, digest))


def _add_intention_rows(
    preparation: Preparation,
    tables: Tables,
    prepared: PreparedHousehold,
    household: PlainHousehold,
    places: tuple[int, int] | None,
    at: Any,
) -> None:
    """The intention, its members and its first transition, if the household declared one."""
    intention, footprint = household.intention, prepared.footprint
    position = footprint.intention
    if intention is None or places is None or position is None or prepared.intention_uid is None:
        return
    bind, actor = preparation.bind, preparation.actor
    registered = IntentionStatus.REGISTERED.value
    tables["intentions"].append(
        (
            *(position, footprint.household, prepared.intention_uid, intention.kind, places[0], places[1]),
            *(bind(intention.window_start), bind(intention.window_end), registered),
            *(bind(household.registered_on), at, 1),
        )
    )
    wanted = None if intention.members is None else set(intention.members)
    persons = range(footprint.first_person, footprint.end_person)
    tables["members"].extend(
        (position, person_position)
        for person_position, person in zip(persons, household.members, strict=True)
        if wanted is None or person.member_index in wanted
    )
    tables["transitions"].append((position, None, registered, "", at, actor.user_id, actor.username))


@dataclass
class RowBatch:
    """The rows of several prepared households, table by table, ready for `write_households`."""

    tables: Tables = field(default_factory=lambda: {name: [] for name in SHAPES})
    footprints: list[Footprint] = field(default_factory=list)

    persons: int = 0  # positions handed out so far (households: len(footprints))
    intentions: int = 0

    def reserve(self, members: int, with_intention: bool) -> Footprint:
        """Positions for one more household, its members and (if any) its intention."""
        footprint = Footprint(
            len(self.footprints), self.persons, self.persons + members, self.intentions if with_intention else None
        )
        self.footprints.append(footprint)
        self.persons += members
        self.intentions += with_intention
        return footprint

    def __reduce__(self) -> tuple[Any, ...]:
        # Workers send batches to the writing process: marshal packs plain row tuples faster than pickle.
        try:
            return (_unpacked_batch, (marshal.dumps(self.tables), self.footprints))
        except ValueError:  # dates bound for PostgreSQL's driver stay date objects
            return (RowBatch, (self.tables, self.footprints))

    def sort_identifiers(self) -> None:
        """Blind indexes in digest order: their inserts then walk the index b-tree in one direction."""
        self.tables["identifiers"].sort(key=itemgetter(2))

    def only(self, households: set[int]) -> RowBatch:
        """The rows of the households at these positions (re-imports and conflicts drop the others)."""
        footprints = [footprint for footprint in self.footprints if footprint.household in households]
        kept = {
            "households": households,
            "persons": {p for f in footprints for p in range(f.first_person, f.end_person)},
            "intentions": {f.intention for f in footprints if f.intention is not None},
        }
        tables: dict[str, list[tuple[Any, ...]]] = {}
        for name, shape in SHAPES.items():
            if shape.owner is None:  # events: one per household, in the order of the household rows
                pairs = zip(self.tables[name], self.tables["households"], strict=True)
                tables[name] = [row for row, household in pairs if household[0] in households]
                continue
            column, kind = shape.owner
            at = shape.columns.index(column)
            tables[name] = [row for row in self.tables[name] if row[at] in kept[kind]]
        return RowBatch(tables, footprints)


def _unpacked_batch(tables: bytes, footprints: list[Footprint]) -> RowBatch:
    return RowBatch(marshal.loads(tables), footprints)  # noqa: S302  (bytes from our own worker)


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def _by_position(ids: Sequence[int], first: int) -> Sequence[int]:
    """Reserved ids indexed by batch position, where the batch's positions start at `first`."""
    if isinstance(ids, range):
        return range(ids.start - first, ids.stop)
    return [0] * first + list(ids)


def _reserve(bulk: BulkInserter, footprints: Sequence[Footprint]) -> dict[str, Sequence[int]]:
    """Ids for every position the batch uses, by kind."""
    intentions = [footprint.intention for footprint in footprints if footprint.intention is not None]
    spans = {
        "households": (footprints[0].household, footprints[-1].household + 1),
        "persons": (footprints[0].first_person, footprints[-1].end_person),
        "intentions": (intentions[0], intentions[-1] + 1) if intentions else (0, 0),
    }
    models = {"households": Household, "persons": Person, "intentions": Intention}
    return {
        kind: _by_position(bulk.reserve_ids(_table(models[kind]), stop - start), start)
        for kind, (start, stop) in spans.items()
    }


def write_households(session: Session, batch: RowBatch) -> None:
    """Insert every row of the batch with one executemany per table."""
    if not batch.footprints:
        return
    bulk = BulkInserter(session.connection())
    ids: dict[str, Sequence[int]] = {}
    for name, shape in SHAPES.items():
        links = {column: ids[kind] for column, kind in shape.links}
        bulk.insert(_table(shape.model), shape.columns, batch.tables[name], links)
        if name == "events":
            ids = _reserve(bulk, batch.footprints)
