"""Headcounts: each person checked in at departure and at arrival, and the alarm for who did not arrive.

A departure needs a booking on the convoy and a re-confirmation within the window before the
convoy's day. An arrival needs a departure on the same convoy; it also records the monitoring
arrival (which schedules the household's follow-ups), so nobody types it twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from awda.access.rules import Actor, Permission
from awda.access.services import require
from awda.agreements.models import Agreement
from awda.audit.services import record_event
from awda.convoys.commands import CheckInIn
from awda.convoys.models import Booking, Convoy, Movement
from awda.convoys.services import load_convoy
from awda.convoys.waitlist_rules import reconfirmed_in_window
from awda.convoys.waitlists import scope_of
from awda.db import action, utcnow
from awda.errors import Conflict, ValidationFailed
from awda.households.models import Household, Intention, IntentionMember, Person
from awda.households.rules import IntentionStatus
from awda.households.services import move_intention
from awda.monitoring.arrivals import arrive
from awda.monitoring.commands import ArrivalIn
from awda.places.models import Place

Boarding = tuple[Person, Household, Booking, Intention]


def _boarding(session: Session, convoy: Convoy, uids: list[str]) -> list[Boarding]:
    """Each named person with the live booking that carries them, in the order given."""
    rows = session.execute(
        select(Person, Household, Booking, Intention)
        .join(Household, Household.id == Person.household_id)
        .join(IntentionMember, IntentionMember.person_id == Person.id)
        .join(Intention, Intention.id == IntentionMember.intention_id)
        .join(Booking, and_(Booking.intention_id == Intention.id, Booking.convoy_id == convoy.id))
        .where(Person.uid.in_(uids), Booking.status.in_(("booked", "boarded")))
    ).tuples()
    found = {row[0].uid: row for row in rows}
    for index, uid in enumerate(uids):
        if uid not in found:
            raise ValidationFailed(f"persons[{index}]", f"person {uid} has no booking on convoy {convoy.code}")
    return [found[uid] for uid in dict.fromkeys(uids)]


def _already(session: Session, convoy: Convoy, kind: str, person_ids: list[int]) -> set[int]:
    return set(
        session.scalars(
            select(Movement.person_id).where(
                Movement.convoy_id == convoy.id, Movement.kind == kind, Movement.person_id.in_(person_ids)
            )
        )
    )


def check_in_departure(
    session: Session, actor: Actor, code: str, command: CheckInIn, window_days: int
) -> dict[str, Any]:
    """People boarded: one movement each, bookings boarded, intentions departed. One event per household."""
    at = command.at or utcnow()
    with action(session):
        convoy = load_convoy(session, actor, code, Permission.MOVE_INTENTION, lock=True)
        if convoy.status != "scheduled":
            raise Conflict(f"convoy {convoy.code} has left; boarding is closed")
        boarding = _boarding(session, convoy, command.persons)
        for person, household, _, intention in boarding:
            if not reconfirmed_in_window(intention.reconfirmed_at, convoy.departs_on, window_days):
                raise Conflict(
                    f"household {household.reference or household.uid} has not re-confirmed in the "
                    f"{window_days} days before {convoy.departs_on.isoformat()}; person {person.uid} cannot board"
                )
        done = _already(session, convoy, "departed", [row[0].id for row in boarding])
        households = _record(session, actor, convoy, "departed", at, [row for row in boarding if row[0].id not in done])
        for _, household, booking, intention in boarding:
            booking.status = "boarded"
            if intention.status == IntentionStatus.ASSIGNED:
                move_intention(session, actor, intention, IntentionStatus.DEPARTED, "")
                household.updated_at = utcnow()
        for household, persons in households.items():
            payload = {"convoy": convoy.code, "persons": len(persons), "at": at.isoformat()}
            record_event(session, actor, "check_in_departure", "household", household.uid, payload, household.site_id)
    return {"convoy": convoy.code, "checked_in": sum(map(len, households.values())), "already": len(done)}


def _record(
    session: Session, actor: Actor, convoy: Convoy, kind: str, at: datetime, rows: list[Boarding]
) -> dict[Household, list[Person]]:
    by_household: dict[Household, list[Person]] = defaultdict(list)
    for person, household, _, _ in rows:
        session.add(
            Movement(
                person_id=person.id,
                household_id=household.id,
                convoy_id=convoy.id,
                kind=kind,
                at=at,
                recorded_by=actor.user_id,
            )
        )
        by_household[household].append(person)
    session.flush()
    return by_household


def check_in_arrival(session: Session, actor: Actor, code: str, command: CheckInIn) -> dict[str, Any]:
    """People arrived: one movement each, and the monitoring arrival with its follow-ups."""
    at = command.at or utcnow()
    with action(session):
        convoy = load_convoy(session, actor, code, Permission.RECORD_ARRIVALS, lock=True)
        boarding = _boarding(session, convoy, command.persons)
        departed = _already(session, convoy, "departed", [row[0].id for row in boarding])
        for index, (person, *_) in enumerate(boarding):
            if person.id not in departed:
                raise ValidationFailed(f"persons[{index}]", f"person {person.uid} did not depart on {convoy.code}")
        done = _already(session, convoy, "arrived", [row[0].id for row in boarding])
        fresh = [row for row in boarding if row[0].id not in done]
        households = _record(session, actor, convoy, "arrived", at, fresh)
        agreement = _agreement_code(session, convoy)
        for household, persons in households.items():
            intention = next(row[3] for row in fresh if row[1] is household)
            destination = session.get(Place, intention.destination_id)
            assert destination is not None  # a foreign key
            arrival = ArrivalIn.model_validate(
                {
                    "household_uid": household.uid,
                    "member_indexes": [person.member_index for person in persons],
                    "arrived_on": at.date(),
                    "place": destination.pcode,
                    "agreement": agreement,
                    "intention": intention.kind,
                    "convoy_ref": convoy.code,
                }
            )
            arrive(session, actor, household, arrival)
            _finish_if_all_arrived(session, actor, convoy, intention)
    return {"convoy": convoy.code, "checked_in": sum(map(len, households.values())), "already": len(done)}


def _agreement_code(session: Session, convoy: Convoy) -> str | None:
    if convoy.agreement_id is None:
        return None
    agreement = session.get(Agreement, convoy.agreement_id)
    return agreement.code if agreement else None


def _finish_if_all_arrived(session: Session, actor: Actor, convoy: Convoy, intention: Intention) -> None:
    """The intention is fulfilled when every member who departed on the convoy has arrived."""
    members = select(IntentionMember.person_id).where(IntentionMember.intention_id == intention.id)
    kinds: dict[str, set[int]] = defaultdict(set)
    for person_id, kind in session.execute(
        select(Movement.person_id, Movement.kind).where(
            Movement.convoy_id == convoy.id, Movement.person_id.in_(members)
        )
    ).tuples():
        kinds[kind].add(person_id)
    if intention.status == IntentionStatus.DEPARTED and kinds["departed"] <= kinds["arrived"]:
        move_intention(session, actor, intention, IntentionStatus.ARRIVED, "")


def missed_arrivals(
    session: Session, actor: Actor, hours: int, now: datetime | None = None, raise_alarm: bool = False
) -> dict[str, Any]:
    """People who departed more than `hours` ago and were not confirmed at arrival, per convoy.

    With `raise_alarm`, each convoy's first alarm is an event (so an auditor sees who was told, when).
    """
    require(actor, Permission.READ_RECORDS)
    if raise_alarm:
        require(actor, Permission.MOVE_INTENTION)
    now = now or utcnow()
    arrived = aliased(Movement)
    query = (
        select(Convoy, Movement.at, Person.uid, Household.uid)
        .join(Movement, and_(Movement.convoy_id == Convoy.id, Movement.kind == "departed"))
        .join(Person, Person.id == Movement.person_id)
        .join(Household, Household.id == Movement.household_id)
        .outerjoin(
            arrived,
            and_(arrived.convoy_id == Convoy.id, arrived.person_id == Movement.person_id, arrived.kind == "arrived"),
        )
        .where(arrived.id.is_(None), Movement.at < now - timedelta(hours=hours))
        .order_by(Convoy.departs_on, Convoy.code, Household.uid, Person.member_index)
    )
    scope = scope_of(actor)
    if scope is not None:
        query = query.where(Convoy.site_id.in_(scope))
    convoys: dict[str, dict[str, Any]] = {}
    with action(session):
        for convoy, departed_at, person_uid, household_uid in session.execute(query).tuples():
            entry = convoys.setdefault(
                convoy.code, {"convoy": convoy.code, "departs_on": convoy.departs_on.isoformat(), "persons": []}
            )
            entry["persons"].append(
                {"person": person_uid, "household": household_uid, "departed_at": departed_at.isoformat()}
            )
            if raise_alarm and convoy.alarm_raised_at is None:
                convoy.alarm_raised_at = now
                payload = {"hours": hours}
                record_event(session, actor, "missed_arrival_alarm", "convoy", convoy.code, payload, convoy.site_id)
            entry["alarm_raised_at"] = convoy.alarm_raised_at.isoformat() if convoy.alarm_raised_at else None
    items = list(convoys.values())
    return {
        "hours": hours,
        "as_of": now.isoformat(),
        "total": sum(len(c["persons"]) for c in items),
        "convoys": items,
    }
