"""Named actions on households. Each checks permission, applies rules, writes rows and one event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission, covers_site
from awda.access.services import require
from awda.audit.services import record_event
from awda.db import action, utcnow
from awda.errors import Conflict, NotFound, StaleVersion
from awda.households.commands import ConsentIn, HouseholdIn, IntentionIn, PersonIn
from awda.households.models import (
    Consent,
    Household,
    Intention,
    IntentionMember,
    IntentionTransition,
    Person,
    PersonIdentifier,
)
from awda.households.records import from_command
from awda.households.rules import OPEN_STATUSES, IntentionStatus, check_transition
from awda.households.writer import (
    Preparation,
    RowBatch,
    person_identifiers,
    person_row,
    prepare_household,
    sealed_person,
    write_households,
)
from awda.ids import new_uid
from awda.places.models import Place
from awda.places.services import site_by_code
from awda.vault import Vault


@dataclass(frozen=True)
class Registered:
    household_uid: str
    person_uids: list[str]
    intention_uid: str | None


def check_version(current: int, expected: int | None) -> None:
    """Optimistic concurrency: a write based on an older version is refused (HTTP 412)."""
    if expected is not None and expected != current:
        raise StaleVersion(f"the record is at version {current}, not {expected}; read it again", current)


def load_household(session: Session, actor: Actor, uid: str, permission: Permission, lock: bool = True) -> Household:
    """The household for a write; out-of-scope households look absent.

    `lock`: the row is locked until the action ends (PostgreSQL; an SQLite action holds the write
    lock anyway), so concurrent writes to one household queue and each sees its predecessor's
    version. Every write to a household or its members locks the household first.
    """
    query = select(Household).where(Household.uid == uid)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    household = session.scalar(query)
    if household is None or household.erased_at is not None:
        raise NotFound(f"no household {uid}")
    require(actor, permission)
    if not covers_site(actor, household.site_id):
        raise NotFound(f"no household {uid}")
    return household


def place_ids_for(session: Session, *pcodes: str) -> dict[str, int]:
    wanted = {pcode.upper() for pcode in pcodes}
    rows = session.execute(select(Place.pcode, Place.id).where(Place.pcode.in_(wanted)))
    return {str(pcode): int(place_id) for pcode, place_id in rows.tuples()}


def register_household(session: Session, vault: Vault, actor: Actor, command: HouseholdIn) -> Registered:
    """Register a household with its members, consent and (optionally) its intention."""
    site = site_by_code(session, command.site_code)
    require(actor, Permission.REGISTER, site.id)
    intention = command.intention
    pcodes = (intention.origin_pcode, intention.destination_pcode) if intention else ()
    with action(session):
        if command.source_ref and session.scalar(
            select(Household.id).where(Household.source_ref == command.source_ref)
        ):
            raise Conflict(f"a household with source reference {command.source_ref!r} is already registered")
        preparation = Preparation.for_session(session, vault, actor, place_ids_for(session, *pcodes))
        batch = RowBatch()
        prepared = prepare_household(preparation, from_command(command), site.id, batch)
        write_households(session, batch)
    return Registered(prepared.uid, prepared.person_uids, prepared.intention_uid)


def add_member(
    session: Session, vault: Vault, actor: Actor, household_uid: str, person: PersonIn, expected_version: int | None
) -> str:
    """Add a member (a birth, a relative joining); returns the new person's uid."""
    with action(session):
        household = load_household(session, actor, household_uid, Permission.REGISTER)
        check_version(household.version, expected_version)
        indexes = set(session.scalars(select(Person.member_index).where(Person.household_id == household.id)))
        if person.member_index in indexes:
            raise Conflict(f"member_index {person.member_index} is already used in this household")
        if person.relationship == "head":
            raise Conflict("the household already has a head")
        data_key = vault.unwrap(household.wrapped_key, household.uid)
        person_uid = new_uid()
        row = person_row(vault, vault.sealer(data_key), person_uid, person) | {"household_id": household.id}
        person_id = session.execute(insert(Person).returning(Person.id), [row]).scalar_one()
        _write_identifiers(session, vault, person_id, person)
        household.updated_at = utcnow()
        record_event(
            session,
            actor,
            "add_member",
            "household",
            household.uid,
            {"person": person_uid, "member_index": person.member_index},
            household.site_id,
        )
    return person_uid


def correct_person(
    session: Session, vault: Vault, actor: Actor, person_uid: str, person: PersonIn, expected_version: int | None
) -> int:
    """Replace a person's recorded fields (a correction); returns the new version."""
    with action(session):
        row = session.scalar(select(Person).where(Person.uid == person_uid))
        if row is None:
            raise NotFound(f"no person {person_uid}")
        household = load_household(session, actor, _household_uid(session, row.household_id), Permission.REGISTER)
        session.refresh(row)  # read again now that the household is locked: its current version
        check_version(row.version, expected_version)
        if person.member_index != row.member_index or (person.relationship == "head") != (row.relationship == "head"):
            raise Conflict("member_index and headship cannot be changed by a correction")
        data_key = vault.unwrap(household.wrapped_key, household.uid)
        row.sex, row.relationship = person.sex, person.relationship
        row.birth_year, row.vulnerabilities = person.effective_birth_year, " ".join(person.vulnerabilities)
        row.sealed = sealed_person(vault, vault.sealer(data_key), row.uid, person)
        session.execute(delete(PersonIdentifier).where(PersonIdentifier.person_id == row.id))
        _write_identifiers(session, vault, row.id, person)
        household.updated_at = utcnow()
        session.flush()
        record_event(
            session, actor, "correct_person", "person", row.uid, {"household": household.uid}, household.site_id
        )
    return row.version


def _write_identifiers(session: Session, vault: Vault, person_id: int, person: PersonIn) -> None:
    rows = [
        {"person_id": person_id, "kind": kind, "digest": digest} for kind, digest in person_identifiers(vault, person)
    ]
    if rows:
        session.execute(insert(PersonIdentifier), rows)


def _household_uid(session: Session, household_id: int) -> str:
    return str(session.scalar(select(Household.uid).where(Household.id == household_id)))


def record_consent(
    session: Session, actor: Actor, household_uid: str, consent: ConsentIn, expected_version: int | None = None
) -> None:
    """Record a new consent; it supersedes earlier ones (which stay in the history)."""
    with action(session):
        household = load_household(session, actor, household_uid, Permission.REGISTER)
        check_version(household.version, expected_version)
        session.add(
            Consent(
                household_id=household.id,
                purposes=" ".join(consent.purposes),
                given_on=consent.given_on,
                recorded_by=actor.user_id,
            )
        )
        household.updated_at = utcnow()
        record_event(
            session,
            actor,
            "record_consent",
            "household",
            household.uid,
            {"purposes": consent.purposes},
            household.site_id,
        )


def withdraw_consent(session: Session, actor: Actor, household_uid: str, expected_version: int | None = None) -> None:
    """Withdraw all consent; open intentions are withdrawn too, without penalty."""
    with action(session):
        household = load_household(session, actor, household_uid, Permission.REGISTER)
        check_version(household.version, expected_version)
        now = utcnow()
        session.execute(
            update(Consent)
            .where(Consent.household_id == household.id, Consent.withdrawn_at.is_(None))
            .values(withdrawn_at=now, withdrawn_by=actor.user_id)
        )
        open_intentions = session.scalars(
            select(Intention).where(
                Intention.household_id == household.id, Intention.status.in_([s.value for s in OPEN_STATUSES])
            )
        ).all()
        for intention in open_intentions:
            move_intention(session, actor, intention, IntentionStatus.WITHDRAWN, "changed_mind")
        household.updated_at = now
        record_event(
            session,
            actor,
            "withdraw_consent",
            "household",
            household.uid,
            {"intentions_withdrawn": [i.uid for i in open_intentions]},
            household.site_id,
        )


def current_consent(session: Session, household_id: int) -> Consent | None:
    query = (
        select(Consent)
        .where(Consent.household_id == household_id, Consent.withdrawn_at.is_(None))
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def declare_intention(
    session: Session, actor: Actor, household_uid: str, intention: IntentionIn, expected_version: int | None = None
) -> str:
    """Declare a new wish to move; a household has at most one active intention at a time."""
    with action(session):
        household = load_household(session, actor, household_uid, Permission.DECLARE_INTENTION)
        check_version(household.version, expected_version)
        _check_may_declare(session, household)
        ids = _intention_place_ids(session, intention)
        members = _intention_member_ids(session, household.id, intention.members)
        row = Intention(
            uid=new_uid(),
            household_id=household.id,
            kind=intention.kind.value,
            origin_id=ids[intention.origin_pcode.upper()],
            destination_id=ids[intention.destination_pcode.upper()],
            window_start=intention.window_start,
            window_end=intention.window_end,
            status=IntentionStatus.REGISTERED.value,
            declared_on=date.today(),
        )
        session.add(row)
        session.flush()
        session.execute(insert(IntentionMember), [{"intention_id": row.id, "person_id": pid} for pid in members])
        session.add(
            IntentionTransition(
                intention_id=row.id,
                from_status=None,
                to_status=row.status,
                reason="",
                at=utcnow(),
                actor_id=actor.user_id,
                actor_name=actor.username,
            )
        )
        household.updated_at = utcnow()
        record_event(
            session,
            actor,
            "declare_intention",
            "intention",
            row.uid,
            {"household": household.uid, "kind": row.kind, "members": len(members)},
            household.site_id,
        )
    return row.uid


def _check_may_declare(session: Session, household: Household) -> None:
    """Movement needs consent to 'movement' and no other active intention."""
    consent = current_consent(session, household.id)
    if consent is None or "movement" not in consent.purposes.split():
        raise Conflict("the household has not consented to 'movement'; record consent first")
    active_statuses = [status.value for status in OPEN_STATUSES | {IntentionStatus.DEPARTED}]
    active = session.scalar(
        select(func.count())
        .select_from(Intention)
        .where(Intention.household_id == household.id, Intention.status.in_(active_statuses))
    )
    if active:
        raise Conflict("the household already has an active intention; withdraw it first")


def _intention_place_ids(session: Session, intention: IntentionIn) -> dict[str, int]:
    ids = place_ids_for(session, intention.origin_pcode, intention.destination_pcode)
    for field, pcode in (("origin_pcode", intention.origin_pcode), ("destination_pcode", intention.destination_pcode)):
        if pcode.upper() not in ids:
            raise NotFound(f"{field}: no place with P-code {pcode!r}")
    return ids


def _intention_member_ids(session: Session, household_id: int, indexes: list[int] | None) -> list[int]:
    query = select(Person.member_index, Person.id).where(Person.household_id == household_id)
    by_index: dict[int, int] = dict(session.execute(query).tuples().all())
    if indexes is None:
        return sorted(by_index.values())
    missing = sorted(set(indexes) - set(by_index))
    if missing:
        raise NotFound(f"members: no member with member_index {missing[0]}")
    return [by_index[index] for index in sorted(set(indexes))]


def move_intention(session: Session, actor: Actor, intention: Intention, target: IntentionStatus, reason: str) -> None:
    check_transition(intention.status, target)
    previous = intention.status
    intention.status = target.value
    intention.status_changed_at = utcnow()
    session.add(
        IntentionTransition(
            intention_id=intention.id,
            from_status=previous,
            to_status=target.value,
            reason=reason,
            at=intention.status_changed_at,
            actor_id=actor.user_id,
            actor_name=actor.username,
        )
    )
