"""The only functions that open personal fields. Each checks role and site and logs the read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission, covers_site, may
from awda.access.services import require
from awda.audit.services import record_event
from awda.errors import NotFound, ValidationFailed
from awda.households.models import (
    Consent,
    Household,
    Intention,
    IntentionMember,
    IntentionTransition,
    Person,
    PersonIdentifier,
)
from awda.households.reference import normalise_reference
from awda.households.rules import DOCUMENT_TYPES, normalise_phone, unpack_personal
from awda.places.models import Place, Site
from awda.vault import Vault


def _household(session: Session, actor: Actor, uid: str) -> Household:
    household = session.scalar(select(Household).where(Household.uid == uid))
    if household is None or not covers_site(actor, household.site_id) or not may(actor, Permission.READ_RECORDS):
        raise NotFound(f"no household {uid}")
    return household


def _opened_person(vault: Vault, data_key: bytes | None, person: Person, personal: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "uid": person.uid,
        "member_index": person.member_index,
        "relationship": person.relationship,
        "sex": person.sex,
        "birth_year": person.birth_year,
        "vulnerabilities": person.vulnerabilities.split(),
        "version": person.version,
    }
    if personal and data_key is not None and person.sealed is not None:
        view |= unpack_personal(vault.open(data_key, person.sealed, f"person:{person.uid}"))
    return view


def household_for(session: Session, vault: Vault, actor: Actor, uid: str) -> dict[str, Any]:
    """A household with its members, consent and intentions; personal fields if the role allows.

    A read that opens personal fields is itself an event (principle: every read is logged).
    """
    household = _household(session, actor, uid)
    personal = may(actor, Permission.READ_PERSONAL, household.site_id) and household.erased_at is None
    data_key = vault.unwrap(household.wrapped_key, household.uid) if personal else None
    persons = session.scalars(select(Person).where(Person.household_id == household.id).order_by(Person.member_index))
    site = session.get(Site, household.site_id)
    view = {
        "uid": household.uid,
        "site": site.code if site else None,
        "registered_on": household.registered_on.isoformat(),
        "travel_group": household.travel_group,
        "erased": household.erased_at is not None,
        "version": household.version,
        "members": [_opened_person(vault, data_key, p, personal) for p in persons],
        "consent": _consent(session, household.id),
        "intentions": intentions_of(session, household.id),
    }
    if personal:
        record_event(
            session, actor, "read_household", "household", household.uid, {"personal": True}, household.site_id
        )
        session.commit()
    return view


def person_for(session: Session, vault: Vault, actor: Actor, uid: str) -> dict[str, Any]:
    """One person, with personal fields if the role allows; the read is logged."""
    row = session.execute(
        select(Person, Household.uid).join(Household, Household.id == Person.household_id).where(Person.uid == uid)
    ).first()
    if row is None:
        raise NotFound(f"no person {uid}")
    household = _household(session, actor, row[1])
    personal = may(actor, Permission.READ_PERSONAL, household.site_id) and household.erased_at is None
    data_key = vault.unwrap(household.wrapped_key, household.uid) if personal else None
    view = _opened_person(vault, data_key, row[0], personal) | {"household": household.uid}
    if personal:
        record_event(session, actor, "read_person", "person", uid, {"personal": True}, household.site_id)
        session.commit()
    return view


def _consent(session: Session, household_id: int) -> dict[str, Any] | None:
    consent = session.scalar(
        select(Consent)
        .where(Consent.household_id == household_id)
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        .limit(1)
    )
    if consent is None:
        return None
    return {
        "purposes": consent.purposes.split(),
        "given_on": consent.given_on.isoformat(),
        "withdrawn": consent.withdrawn_at is not None,
    }


def intentions_of(session: Session, household_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(Intention).where(Intention.household_id == household_id).order_by(Intention.id))
    return [intention_view(session, row) for row in rows]


def intention_view(session: Session, intention: Intention) -> dict[str, Any]:
    pcodes = [
        session.scalar(select(Place.pcode).where(Place.id == place_id))
        for place_id in (intention.origin_id, intention.destination_id)
    ]
    members = session.scalars(
        select(Person.uid)
        .join(IntentionMember, IntentionMember.person_id == Person.id)
        .where(IntentionMember.intention_id == intention.id)
        .order_by(Person.member_index)
    )
    history = session.scalars(
        select(IntentionTransition)
        .where(IntentionTransition.intention_id == intention.id)
        .order_by(IntentionTransition.id)
    )
    return {
        "uid": intention.uid,
        "kind": intention.kind,
        "origin": pcodes[0],
        "destination": pcodes[1],
        "window_start": _iso(intention.window_start),
        "window_end": _iso(intention.window_end),
        "status": intention.status,
        "declared_on": intention.declared_on.isoformat(),
        "reconfirmed_at": intention.reconfirmed_at.isoformat() if intention.reconfirmed_at else None,
        "version": intention.version,
        "members": list(members),
        "history": [
            {"from": t.from_status, "to": t.to_status, "reason": t.reason, "at": t.at.isoformat(), "by": t.actor_name}
            for t in history
        ],
    }


def intention_for(session: Session, actor: Actor, uid: str) -> dict[str, Any]:
    """An intention (no personal fields) if the actor's scope covers its household."""
    row = session.execute(
        select(Intention, Household).join(Household, Household.id == Intention.household_id).where(Intention.uid == uid)
    ).first()
    if row is None or not covers_site(actor, row[1].site_id) or not may(actor, Permission.READ_RECORDS):
        raise NotFound(f"no intention {uid}")
    return intention_view(session, row[0]) | {"household": row[1].uid}


def list_households(session: Session, actor: Actor, site_code: str | None, limit: int, offset: int) -> dict[str, Any]:
    """A page of households in the actor's scope: structure only, no personal fields.

    The count and the skipping run over household ids alone (the site joined only to narrow by its
    code), and only the page's households are read and their members counted.
    """
    require(actor, Permission.READ_RECORDS)
    scope = select(Household.id)
    if site_code:
        scope = scope.join(Site, Site.id == Household.site_id).where(Site.code == site_code.upper())
    if not covers_site(actor, -1):
        scope = scope.where(Household.site_id.in_(actor.site_ids))
    total = session.scalar(select(func.count()).select_from(scope.subquery()))
    page = list(session.scalars(scope.order_by(Household.id).limit(limit).offset(offset)))
    sizes = dict(
        session.execute(
            select(Person.household_id, func.count()).where(Person.household_id.in_(page)).group_by(Person.household_id)
        )
        .tuples()
        .all()
    )
    rows = session.execute(
        select(Household, Site.code)
        .join(Site, Site.id == Household.site_id)
        .where(Household.id.in_(page))
        .order_by(Household.id)
    ).all()
    items = [
        {
            "uid": h.uid,
            "site": code,
            "registered_on": h.registered_on.isoformat(),
            "members": sizes.get(h.id, 0),
            "erased": h.erased_at is not None,
            "version": h.version,
        }
        for h, code in rows
    ]
    return {"total": int(total or 0), "limit": limit, "offset": offset, "items": items}


def find_by_identifier(session: Session, vault: Vault, actor: Actor, kind: str, value: str) -> list[str]:
    """Uids of persons in scope whose phone, document or name matches exactly (via blind index)."""
    require(actor, Permission.READ_PERSONAL)
    digest = vault.blind_index(kind, value)
    query = (
        select(Person.uid, Household.site_id)
        .join(PersonIdentifier, PersonIdentifier.person_id == Person.id)
        .join(Household, Household.id == Person.household_id)
        .where(PersonIdentifier.kind == kind, PersonIdentifier.digest == digest)
    )
    found = [uid for uid, site_id in session.execute(query) if covers_site(actor, site_id)]
    record_event(session, actor, "search_persons", "identifier", kind, {"matches": len(found)})
    session.commit()
    return found


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def persons_for_linkage(
    session: Session, vault: Vault, actor: Actor, site_ids: Iterable[int], run_uid: str
) -> Iterator[dict[str, Any]]:
    """Every person of the sites, opened, for one linkage run; streamed household by household.

    The caller keeps the values in memory only. The read is one `read_persons_for_linkage` event
    per run, naming the run and the count (an event per household would bury the log), recorded
    after the last person so its count is exact.
    """
    sites = sorted(set(site_ids))
    for site_id in sites:
        require(actor, Permission.READ_PERSONAL, site_id)
    query = (
        select(Person, Household.uid, Household.wrapped_key)
        .join(Household, Household.id == Person.household_id)
        .where(Household.site_id.in_(sites), Household.erased_at.is_(None))
        .order_by(Person.household_id, Person.member_index)
        .execution_options(yield_per=5_000)
    )
    opened = 0
    household_uid, data_key = "", b""
    for person, uid, wrapped in session.execute(query).tuples():
        if uid != household_uid:
            household_uid, data_key = uid, vault.unwrap(wrapped, uid)
        view = _opened_person(vault, data_key, person, True)
        yield view | {"person_id": person.id, "household_id": person.household_id, "household": uid}
        opened += 1
    payload = {"run": run_uid, "persons": opened, "sites": len(sites)}
    record_event(session, actor, "read_persons_for_linkage", "linkage_run", run_uid, payload)


# ---- Finding a household: by its reference code, or by a member's phone or document.
# Phones and documents go through `find_by_identifier` (the blind index: an exact match, and the search
# is logged); there is no free-text search over names, which are sealed. These return household uids
# only, never a personal value.

SEARCH_KINDS = ("reference", "phone", "document")


def household_by_reference(session: Session, actor: Actor, text: str) -> list[str]:
    """The household with this reference code in the actor's scope (none when the check symbol is wrong)."""
    require(actor, Permission.READ_RECORDS)
    code = normalise_reference(text)
    if code is None:
        return []
    row = session.execute(select(Household.uid, Household.site_id).where(Household.reference == code)).first()
    return [row[0]] if row is not None and covers_site(actor, row[1]) else []


def households_of_persons(session: Session, actor: Actor, person_uids: list[str]) -> list[str]:
    """The households of these persons that are in the actor's scope, each once."""
    if not person_uids:
        return []
    query = (
        select(Household.uid, Household.site_id)
        .join(Person, Person.household_id == Household.id)
        .where(Person.uid.in_(person_uids[:100]))
        .order_by(Household.id)
    )
    found = [uid for uid, site_id in session.execute(query) if covers_site(actor, site_id)]
    return list(dict.fromkeys(found))


def find_households(
    session: Session, vault: Vault, actor: Actor, kind: str, value: str, document_type: str = ""
) -> list[str]:
    """Household uids for an exact reference code, phone number or document (type and number).

    Raises `ValidationFailed` naming the field when the value cannot be one (a phone with letters).
    """
    value = value.strip()
    if not value or kind not in SEARCH_KINDS:
        raise ValidationFailed("search", "nothing to search for")
    if kind == "reference":
        return household_by_reference(session, actor, value)
    if kind == "phone":
        persons = find_by_identifier(session, vault, actor, "phone", normalise_phone(value))
    elif document_type not in DOCUMENT_TYPES:
        raise ValidationFailed("document_type", "choose the document type")
    else:
        persons = find_by_identifier(session, vault, actor, "document", f"{document_type}:{value}")
    return households_of_persons(session, actor, persons)
