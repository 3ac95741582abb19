"""Arrivals: people reached their destination under an agreement; their follow-ups are scheduled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.agreements.models import Agreement
from awda.audit.services import record_event
from awda.db import action
from awda.errors import Conflict, ValidationFailed
from awda.households.models import Household, Person
from awda.households.services import load_household, place_ids_for
from awda.ids import new_uid
from awda.monitoring.commands import ArrivalIn
from awda.monitoring.models import Arrival, FollowUp
from awda.monitoring.rules import arrival_day_problem, followup_dates, parse_schedule


@dataclass(frozen=True)
class Recorded:
    arrival_uids: list[str]
    followups_scheduled: int


def agreement_for(session: Session, code: str | None) -> Agreement | None:
    if code is None:
        return None
    agreement = session.scalar(select(Agreement).where(Agreement.code == code.strip().upper()))
    if agreement is None:
        raise ValidationFailed("agreement", f"no agreement {code}")
    return agreement


def _members(session: Session, household: Household, indexes: list[int] | None) -> list[Person]:
    persons = list(
        session.scalars(select(Person).where(Person.household_id == household.id).order_by(Person.member_index))
    )
    if indexes is None:
        return persons
    by_index = {person.member_index: person for person in persons}
    missing = sorted(set(indexes) - set(by_index))
    if missing:
        raise ValidationFailed("member_indexes", f"the household has no member {missing[0]}")
    return [by_index[index] for index in sorted(set(indexes))]


def schedule_followups(session: Session, household: Household, agreement: Agreement | None, arrived_on: date) -> int:
    """Add the follow-ups of one arrival (the agreement's schedule, or the default) that are not there yet."""
    days = parse_schedule(agreement.followup_days if agreement else "")
    present = set(
        session.scalars(
            select(FollowUp.days_after_arrival).where(
                FollowUp.household_id == household.id, FollowUp.arrived_on == arrived_on
            )
        )
    )
    new = [
        FollowUp(
            uid=new_uid(),
            household_id=household.id,
            agreement_id=agreement.id if agreement else None,
            arrived_on=arrived_on,
            days_after_arrival=day,
            due_on=due_on,
        )
        for day, due_on in followup_dates(arrived_on, days)
        if day not in present
    ]
    session.add_all(new)
    return len(new)


def _place_id(session: Session, pcode: str) -> int:
    found = place_ids_for(session, pcode)
    if pcode.upper() not in found:
        raise ValidationFailed("place", f"no place with P-code {pcode!r} in the gazetteer")
    return found[pcode.upper()]


def record_arrival(session: Session, actor: Actor, command: ArrivalIn) -> Recorded:
    """Record that members of a household arrived; schedules the household's follow-ups. One event."""
    with action(session):
        household = load_household(session, actor, command.household_uid, Permission.RECORD_ARRIVALS)
        return arrive(session, actor, household, command)


def arrive(session: Session, actor: Actor, household: Household, command: ArrivalIn) -> Recorded:
    """The body of `record_arrival`, inside the caller's transaction (imports add many)."""
    problem = arrival_day_problem(command.arrived_on, date.today())
    if problem is not None:
        raise ValidationFailed("arrived_on", problem)
    agreement = agreement_for(session, command.agreement)
    place_id = _place_id(session, command.place)
    persons = _members(session, household, command.member_indexes)
    already = set(
        session.scalars(
            select(Arrival.person_id).where(
                Arrival.household_id == household.id, Arrival.arrived_on == command.arrived_on
            )
        )
    )
    if already.issuperset(person.id for person in persons):
        raise Conflict(f"the arrival of these members on {command.arrived_on} is recorded already")
    arrivals = [
        Arrival(
            uid=new_uid(),
            person_id=person.id,
            household_id=household.id,
            agreement_id=agreement.id if agreement else None,
            place_id=place_id,
            intention=command.intention,
            arrived_on=command.arrived_on,
            convoy_ref=command.convoy_ref,
            recorded_by=actor.user_id,
        )
        for person in persons
        if person.id not in already
    ]
    session.add_all(arrivals)
    scheduled = schedule_followups(session, household, agreement, command.arrived_on)
    payload: dict[str, Any] = {
        "arrived_on": command.arrived_on.isoformat(),
        "persons": len(arrivals),
        "agreement": agreement.code if agreement else None,
        "place": command.place.upper(),
        "followups": scheduled,
    }
    record_event(session, actor, "record_arrival", "household", household.uid, payload, household.site_id)
    return Recorded([arrival.uid for arrival in arrivals], scheduled)


def arrivals_of_household(session: Session, actor: Actor, household_uid: str) -> list[dict[str, Any]]:
    household = load_household(session, actor, household_uid, Permission.READ_RECORDS, lock=False)
    rows = session.execute(
        select(Arrival, Person.uid, Agreement.code)
        .join(Person, Person.id == Arrival.person_id)
        .outerjoin(Agreement, Agreement.id == Arrival.agreement_id)
        .where(Arrival.household_id == household.id)
        .order_by(Arrival.arrived_on, Person.member_index)
    )
    return [
        {
            "arrival_id": arrival.uid,
            "person_id": person_uid,
            "arrived_on": arrival.arrived_on.isoformat(),
            "agreement": code,
            "intention": arrival.intention,
            "convoy_ref": arrival.convoy_ref,
        }
        for arrival, person_uid, code in rows.tuples()
    ]


def household_by_source(session: Session, source_ref: str, row: int) -> Household:
    """The household registered from a field form submission (`registration_uuid` in import files)."""
    household = session.scalar(select(Household).where(Household.source_ref == source_ref.strip()))
    if household is None or household.erased_at is not None:
        raise ValidationFailed("registration_uuid", f"no registered household {source_ref!r}", row=row)
    return household
