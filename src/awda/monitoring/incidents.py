"""Incidents: record, verify, list; the terms they breach; the reporter sealed like personal data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission, Role, covers_site
from awda.access.services import require
from awda.agreements.models import Agreement, AgreementTerm
from awda.audit.services import record_event
from awda.db import action
from awda.errors import Conflict, NotFound, ValidationFailed
from awda.households.models import Household, Person
from awda.households.services import check_version, load_household
from awda.ids import new_uid
from awda.monitoring.arrivals import agreement_for
from awda.monitoring.commands import IncidentIn, ReporterIn
from awda.monitoring.models import Arrival, Incident, IncidentBreach, IncidentPerson
from awda.monitoring.rules import IncidentType, TermFacts, age_on, breached_terms
from awda.places.models import Place, Site
from awda.vault import Vault


def _persons(session: Session, actor: Actor, command: IncidentIn) -> tuple[list[Person], Household]:
    """The people affected (each household in the actor's scope); the first one's household."""
    persons: list[Person] = []
    first: Household | None = None
    for ref in command.persons:
        household = load_household(session, actor, ref.household_uid, Permission.RECORD_INCIDENTS, lock=False)
        person = session.scalar(
            select(Person).where(Person.household_id == household.id, Person.member_index == ref.member_index)
        )
        if person is None:
            raise ValidationFailed("persons", f"household {ref.household_uid} has no member {ref.member_index}")
        if person.id not in {p.id for p in persons}:
            persons.append(person)
        first = first or household
    assert first is not None
    return persons, first


def _latest_arrival(session: Session, person_id: int, on: date) -> Arrival | None:
    return session.scalar(
        select(Arrival)
        .where(Arrival.person_id == person_id, Arrival.arrived_on <= on)
        .order_by(Arrival.arrived_on.desc())
        .limit(1)
    )


def _agreement(session: Session, command: IncidentIn, persons: list[Person]) -> Agreement | None:
    if command.agreement is not None:
        return agreement_for(session, command.agreement)
    for person in persons:
        arrival = _latest_arrival(session, person.id, command.occurred_on)
        if arrival is not None and arrival.agreement_id is not None:
            return session.get(Agreement, arrival.agreement_id)
    return None


def _terms(session: Session, agreement: Agreement) -> list[AgreementTerm]:
    return list(session.scalars(select(AgreementTerm).where(AgreementTerm.agreement_id == agreement.id)))


def breaches(
    session: Session, agreement: Agreement | None, command: IncidentIn, persons: list[Person]
) -> list[AgreementTerm]:
    """The terms the incident breaks: as given, or worked out for each affected person's arrival."""
    if agreement is None:
        if command.breached_terms:
            raise ValidationFailed("breached_terms", "name the agreement whose terms are breached")
        return []
    terms = _terms(session, agreement)
    if command.breached_terms is not None:
        by_code = {term.code: term for term in terms}
        unknown = [code for code in command.breached_terms if code.upper() not in by_code]
        if unknown:
            raise ValidationFailed("breached_terms", f"agreement {agreement.code} has no term {unknown[0]}")
        return [by_code[code.upper()] for code in dict.fromkeys(command.breached_terms)]
    facts = [TermFacts(t.code, t.kind, t.applies_to, t.duration_days) for t in terms]
    found: set[str] = set()
    for person in persons:
        arrival = _latest_arrival(session, person.id, command.occurred_on)
        if arrival is None or arrival.agreement_id != agreement.id:
            continue
        day = (command.occurred_on - arrival.arrived_on).days
        age = age_on(person.birth_year, arrival.arrived_on)
        found.update(breached_terms(facts, IncidentType(command.type), day, arrival.intention, person.sex, age))
    return [term for term in terms if term.code in found]


def _seal_reporter(vault: Vault, uid: str, reporter: ReporterIn | None) -> tuple[bytes | None, bytes | None]:
    if reporter is None or not (reporter.name or reporter.contact or reporter.relation):
        return None, None
    data_key, wrapped = vault.new_data_key(f"incident:{uid}")
    plain = json.dumps(reporter.model_dump(), ensure_ascii=False, sort_keys=True).encode()
    return wrapped, vault.seal(data_key, plain, f"incident:{uid}:reporter")


def record_incident(session: Session, vault: Vault, actor: Actor, command: IncidentIn) -> str:
    """Record one incident, whom it affected and the terms it breaches. One event, no personal data in it."""
    with action(session):
        return insert_incident(session, vault, actor, command)


def insert_incident(session: Session, vault: Vault, actor: Actor, command: IncidentIn) -> str:
    """The body of `record_incident`, inside the caller's transaction (imports add many)."""
    if command.source_ref and session.scalar(select(Incident.id).where(Incident.source_ref == command.source_ref)):
        raise Conflict(f"incident {command.source_ref} is recorded already")
    persons, household = _persons(session, actor, command)
    agreement = _agreement(session, command, persons)
    breached = breaches(session, agreement, command, persons)
    uid = new_uid()
    wrapped, sealed = _seal_reporter(vault, uid, command.reporter)
    incident = Incident(
        uid=uid,
        source_ref=command.source_ref,
        type=command.type,
        occurred_on=command.occurred_on,
        date_precision=command.date_precision,
        place_id=_place_id(session, command.place),
        site_id=household.site_id,
        perpetrator_category=command.perpetrator_category,
        source=command.source,
        verification=command.verification,
        agreement_id=agreement.id if agreement else None,
        wrapped_key=wrapped,
        sealed_reporter=sealed,
        recorded_by=actor.user_id,
    )
    session.add(incident)
    session.flush()
    session.add_all(IncidentPerson(incident_id=incident.id, person_id=person.id) for person in persons)
    session.add_all(IncidentBreach(incident_id=incident.id, term_id=term.id) for term in breached)
    payload = {
        "type": command.type,
        "persons": len(persons),
        "verification": command.verification,
        "agreement": agreement.code if agreement else None,
        "breached_terms": [term.code for term in breached],
    }
    record_event(session, actor, "record_incident", "incident", uid, payload, household.site_id)
    return uid


def _place_id(session: Session, pcode: str | None) -> int | None:
    if pcode is None:
        return None
    place_id = session.scalar(select(Place.id).where(Place.pcode == pcode.strip().upper()))
    if place_id is None:
        raise ValidationFailed("place", f"no place with P-code {pcode!r} in the gazetteer")
    return place_id


def _load(session: Session, actor: Actor, uid: str, permission: Permission, lock: bool = False) -> Incident:
    """The incident; `lock` (for a write) holds its row until the action ends, so its version is current."""
    query = select(Incident).where(Incident.uid == uid)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    incident = session.scalar(query)
    require(actor, permission)
    if incident is None or not covers_site(actor, incident.site_id):
        raise NotFound(f"no incident {uid}")
    return incident


def set_verification(session: Session, actor: Actor, uid: str, level: str, expected_version: int | None = None) -> int:
    """Raise (or lower) how far an incident is verified; the change is an event of its own."""
    with action(session):
        incident = _load(session, actor, uid, Permission.VERIFY_INCIDENTS, lock=True)
        check_version(incident.version, expected_version)
        if incident.verification == level:
            raise Conflict(f"the incident is {level} already")
        previous, incident.verification = incident.verification, level
        session.flush()
        payload = {"from": previous, "to": level}
        record_event(session, actor, "verify_incident", "incident", uid, payload, incident.site_id)
    return incident.version


def incident_view(session: Session, actor: Actor, uid: str) -> dict[str, Any]:
    """An incident without its reporter: type, date, place, people (by uid), perpetrator, terms."""
    incident = _load(session, actor, uid, Permission.READ_RECORDS)
    persons = session.scalars(
        select(Person.uid)
        .join(IncidentPerson, IncidentPerson.person_id == Person.id)
        .where(IncidentPerson.incident_id == incident.id)
        .order_by(Person.uid)
    )
    terms = session.scalars(
        select(AgreementTerm.code)
        .join(IncidentBreach, IncidentBreach.term_id == AgreementTerm.id)
        .where(IncidentBreach.incident_id == incident.id)
        .order_by(AgreementTerm.code)
    )
    return _summary(session, incident) | {"persons": list(persons), "breached_terms": list(terms)}


def _summary(session: Session, incident: Incident) -> dict[str, Any]:
    agreement = session.get(Agreement, incident.agreement_id) if incident.agreement_id else None
    place = session.get(Place, incident.place_id) if incident.place_id else None
    return {
        "incident_id": incident.uid,
        "type": incident.type,
        "occurred_on": incident.occurred_on.isoformat(),
        "date_precision": incident.date_precision,
        "place": place.pcode if place else None,
        "perpetrator_category": incident.perpetrator_category,
        "source": incident.source,
        "verification": incident.verification,
        "agreement": agreement.code if agreement else None,
        "has_reporter": incident.sealed_reporter is not None,
        "version": incident.version,
    }


def read_reporter(session: Session, vault: Vault, actor: Actor, uid: str) -> dict[str, Any]:
    """Who reported the incident; only for roles that read personal data, and the read is an event."""
    incident = _load(session, actor, uid, Permission.READ_PERSONAL)
    if incident.sealed_reporter is None:
        return {"incident_id": uid, "reporter": None}
    owner = f"incident:{uid}"
    data_key = vault.unwrap(incident.wrapped_key, owner)
    reporter = json.loads(vault.open(data_key, incident.sealed_reporter, f"{owner}:reporter"))
    with action(session):
        record_event(session, actor, "read_incident_reporter", "incident", uid, {"personal": True}, incident.site_id)
    return {"incident_id": uid, "reporter": reporter}


def erase_reporter(session: Session, actor: Actor, uid: str) -> None:
    """Crypto-shred the reporter's identity (for example when the reporter is at risk)."""
    with action(session):
        incident = _load(session, actor, uid, Permission.ERASE, lock=True)
        incident.wrapped_key, incident.sealed_reporter = None, None
        record_event(session, actor, "erase_incident_reporter", "incident", uid, {}, incident.site_id)


@dataclass(frozen=True)
class IncidentFilter:
    """What a list of incidents is narrowed to; every part optional. Dates bound `occurred_on`, both included."""

    kind: str | None = None
    agreement: str | None = None
    verification: str | None = None
    site: str | None = None  # a site code
    since: date | None = None
    until: date | None = None


def _filtered(actor: Actor, wanted: IncidentFilter) -> Select[Any]:
    query = select(Incident)
    if not (actor.role == Role.ADMIN or actor.all_sites):
        query = query.where(Incident.site_id.in_(sorted(actor.site_ids)))
    if wanted.kind:
        query = query.where(Incident.type == wanted.kind)
    if wanted.verification:
        query = query.where(Incident.verification == wanted.verification)
    if wanted.agreement:
        query = query.join(Agreement, Agreement.id == Incident.agreement_id).where(
            Agreement.code == wanted.agreement.strip().upper()
        )
    if wanted.site:
        query = query.join(Site, Site.id == Incident.site_id).where(Site.code == wanted.site.strip().upper())
    if wanted.since:
        query = query.where(Incident.occurred_on >= wanted.since)
    if wanted.until:
        query = query.where(Incident.occurred_on <= wanted.until)
    return query


def list_incidents(
    session: Session,
    actor: Actor,
    kind: str | None = None,
    agreement: str | None = None,
    verification: str | None = None,
    limit: int = 100,
    offset: int = 0,
    *,
    narrowed: IncidentFilter | None = None,
) -> dict[str, Any]:
    """Incidents in the actor's sites, newest first, each with its site and the households it affected.

    `narrowed` (the pages' filter) replaces `kind`, `agreement` and `verification` when given.
    """
    require(actor, Permission.READ_RECORDS)
    query = _filtered(actor, narrowed or IncidentFilter(kind, agreement, verification))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    page = list(
        session.scalars(query.order_by(Incident.occurred_on.desc(), Incident.id.desc()).limit(limit).offset(offset))
    )
    households = _households_of(session, [incident.id for incident in page])
    items = [
        _summary(session, incident) | {"site": _site_code(session, incident), "households": households[incident.id]}
        for incident in page
    ]
    return {"total": total, "limit": limit, "offset": offset, "items": items}


def _site_code(session: Session, incident: Incident) -> str | None:
    site = session.get(Site, incident.site_id) if incident.site_id else None
    return site.code if site else None


def _households_of(session: Session, incident_ids: list[int]) -> dict[int, list[str]]:
    """The households (by uid) whose members each incident affected, in one query for the page."""
    found: dict[int, list[str]] = {incident_id: [] for incident_id in incident_ids}
    rows = session.execute(
        select(IncidentPerson.incident_id, Household.uid)
        .join(Person, Person.id == IncidentPerson.person_id)
        .join(Household, Household.id == Person.household_id)
        .where(IncidentPerson.incident_id.in_(incident_ids))
        .distinct()
        .order_by(IncidentPerson.incident_id, Household.uid)
    ).tuples()
    for incident_id, household in rows:
        found[incident_id].append(household)
    return found
