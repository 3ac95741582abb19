"""Planning a week of convoys from the registry, telling households, and closing boarding.

`plan_week` books the planner's answer (intentions become `assigned`); `notify_bookings` sends
each booked household its date and asks it to re-confirm; `depart_convoy` closes boarding and
puts every booked household that did not board back on its list, in the place it had (the list
orders by the declaration date, which a missed convoy does not change).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.access.services import require
from awda.audit.services import record_event
from awda.convoys.commands import PlanWeekIn
from awda.convoys.messages import MessageSender, OutgoingMessage, convoy_date_text
from awda.convoys.models import Booking, Convoy
from awda.convoys.planner import plan_convoys
from awda.convoys.rules import Plan, WaitingHousehold
from awda.convoys.services import load_convoy
from awda.convoys.waitlist_rules import Waiting, iso_week_bounds, reconfirm_window_start, reconfirmed_in_window
from awda.convoys.waitlists import HOLDING_SEAT, LIVE_BOOKING, scope_of, upcoming_convoys, waiting_entries
from awda.db import action, utcnow
from awda.errors import Conflict, ValidationFailed
from awda.households.models import Household, Intention, Person
from awda.households.rules import IntentionStatus, unpack_personal
from awda.households.services import move_intention
from awda.vault import Vault


@dataclass(frozen=True)
class WeekPlan:
    week: str
    convoys: tuple[str, ...]
    plan: Plan
    booked: tuple[int, ...]  # booking ids, for the messages

    def summary(self) -> dict[str, Any]:
        return {"week": self.week, "convoys": list(self.convoys), **self.plan.summary()}


def _for_planner(entry: Waiting) -> WaitingHousehold:
    """A travel group rides together on its own list: its key carries the list, so lists never mix."""
    household = entry.for_planner()
    if entry.travel_group is None:
        return household
    group = f"{entry.travel_group}|{entry.origin}|{entry.destination}"
    return WaitingHousehold(**{**household.__dict__, "group_id": group})


def plan_week(
    session: Session,
    actor: Actor,
    command: PlanWeekIn,
    on_progress: Callable[[int], None] | None = None,
) -> WeekPlan:
    """Fill the week's scheduled convoys from the waiting lists in scope; one event per booking."""
    require(actor, Permission.MOVE_INTENTION)
    try:
        monday, sunday = iso_week_bounds(command.week)
    except ValueError as error:
        raise ValidationFailed("week", str(error)) from None
    scope = scope_of(actor)
    convoys = [convoy for convoy in upcoming_convoys(session, scope, monday, sunday) if convoy.seats > 0]
    if not convoys:
        raise Conflict(f"no scheduled convoy with free seats in {command.week.upper()}")
    origins = {convoy.origin for convoy in convoys}
    entries = [entry for entry in waiting_entries(session, scope, monday.year) if entry.origin in origins]
    plan = plan_convoys([_for_planner(entry) for entry in entries], convoys, command.time_limit, on_progress)
    with action(session):
        booked = _book(session, actor, plan, {entry.intention_uid: entry for entry in entries})
        payload = {"week": command.week.upper(), "convoys": [c.convoy_id for c in convoys], **plan.summary()}
        record_event(session, actor, "plan_convoys", "week", command.week.upper(), payload)
    return WeekPlan(command.week.upper(), tuple(c.convoy_id for c in convoys), plan, tuple(booked))


def _book(session: Session, actor: Actor, plan: Plan, entries: dict[str, Waiting]) -> list[int]:
    codes = set(plan.assignments.values())
    # The plan was made from seats counted before this transaction: lock the convoys (in id order,
    # so two plans cannot deadlock) and count again once the bookings are written.
    locked = select(Convoy).where(Convoy.code.in_(codes)).order_by(Convoy.id).with_for_update(key_share=True)
    convoys = {c.code: c for c in session.scalars(locked.execution_options(populate_existing=True))}
    rows = session.execute(
        select(Intention, Household).join(Household).where(Intention.uid.in_(list(plan.assignments)))
    ).tuples()
    bookings: list[Booking] = []
    for intention, household in rows:
        convoy = convoys[plan.assignments[intention.uid]]
        if intention.status == IntentionStatus.REGISTERED:
            move_intention(session, actor, intention, IntentionStatus.WAITLISTED, "")
        move_intention(session, actor, intention, IntentionStatus.ASSIGNED, "")
        household.updated_at = utcnow()
        people = entries[intention.uid].people
        bookings.append(
            Booking(convoy_id=convoy.id, intention_id=intention.id, household_id=household.id, people=people)
        )
        payload = {"from": IntentionStatus.WAITLISTED.value, "to": "assigned", "convoy": convoy.code}
        record_event(session, actor, "assign_intention", "intention", intention.uid, payload, household.site_id)
    session.add_all(bookings)
    session.flush()
    _check_seats(session, list(convoys.values()))
    return [booking.id for booking in bookings]


def _check_seats(session: Session, convoys: list[Convoy]) -> None:
    """Refuse the plan if another plan filled a convoy meanwhile (its seats were counted before)."""
    taken = dict(
        session.execute(
            select(Booking.convoy_id, func.sum(Booking.people))
            .join(Intention, Intention.id == Booking.intention_id)
            .where(Booking.convoy_id.in_([c.id for c in convoys]), Booking.status.in_(LIVE_BOOKING))
            .where(Intention.status.in_(HOLDING_SEAT))
            .group_by(Booking.convoy_id)
        )
        .tuples()
        .all()
    )
    for convoy in convoys:
        if convoy.status != "scheduled" or int(taken.get(convoy.id) or 0) > convoy.seats:
            raise Conflict(f"convoy {convoy.code} changed while the week was planned; plan the week again")


def _head_phone(vault: Vault, household: Household, persons: Sequence[Person]) -> str | None:
    """The first phone among the members (head first); None when nobody gave one or keys are erased."""
    if household.wrapped_key is None:
        return None
    key = vault.unwrap(household.wrapped_key, household.uid)
    for person in sorted(persons, key=lambda p: (p.relationship != "head", p.member_index)):
        if person.sealed is not None:
            phone = unpack_personal(vault.open(key, person.sealed, f"person:{person.uid}")).get("phone")
            if phone:
                return phone
    return None


def notify_bookings(
    session: Session,
    vault: Vault,
    actor: Actor,
    booking_ids: Sequence[int],
    sender: MessageSender,
    window_days: int,
) -> dict[str, int]:
    """Send each booked household its date; the phone is opened for this only, and that is logged."""
    require(actor, Permission.READ_PERSONAL)
    sent = unreachable = 0
    for booking_id in booking_ids:
        with action(session):
            booking, convoy, household = session.execute(
                select(Booking, Convoy, Household)
                .join(Convoy, Convoy.id == Booking.convoy_id)
                .join(Household, Household.id == Booking.household_id)
                .where(Booking.id == booking_id)
            ).one()
            persons = list(session.scalars(select(Person).where(Person.household_id == household.id)))
            phone = _head_phone(vault, household, persons)
            if phone is None:
                unreachable += 1
                continue
            text = convoy_date_text(
                convoy.departs_on, reconfirm_window_start(convoy.departs_on, window_days), household.reference
            )
            sender.send(OutgoingMessage(to=phone, text=text, purpose="convoy_date"))
            booking.notified_at = utcnow()
            payload = {"convoy": convoy.code, "channel": sender.channel, "purpose": "convoy_date"}
            record_event(session, actor, "notify_household", "household", household.uid, payload, household.site_id)
            sent += 1
    return {"sent": sent, "unreachable": unreachable}


def depart_convoy(session: Session, actor: Actor, code: str, window_days: int) -> dict[str, Any]:
    """Close boarding: the convoy has left. Booked households that did not board go back to their list."""
    with action(session):
        convoy = load_convoy(session, actor, code, Permission.MOVE_INTENTION, lock=True)
        if convoy.status != "scheduled":
            raise Conflict(f"convoy {convoy.code} is {convoy.status}, not waiting to leave")
        released = _release_unboarded(session, actor, convoy, window_days)
        convoy.status, convoy.departed_at = "departed", utcnow()
        boarded = session.scalars(select(Booking).where(Booking.convoy_id == convoy.id, Booking.status == "boarded"))
        payload = {"boarded_households": len(list(boarded)), "released": released}
        record_event(session, actor, "depart_convoy", "convoy", convoy.code, payload, convoy.site_id)
    return {"convoy": convoy.code, "status": convoy.status, **payload}


def _release_unboarded(session: Session, actor: Actor, convoy: Convoy, window_days: int) -> dict[str, int]:
    released = {"not_reconfirmed": 0, "missed_convoy": 0, "withdrawn": 0}
    rows = session.execute(
        select(Booking, Intention, Household)
        .join(Intention, Intention.id == Booking.intention_id)
        .join(Household, Household.id == Booking.household_id)
        .where(Booking.convoy_id == convoy.id, Booking.status == "booked")
    ).tuples()
    for booking, intention, household in rows:
        if intention.status != IntentionStatus.ASSIGNED:
            reason = "withdrawn"
        elif reconfirmed_in_window(intention.reconfirmed_at, convoy.departs_on, window_days):
            reason = "missed_convoy"
        else:
            reason = "not_reconfirmed"
        booking.status, booking.released_at, booking.release_reason = "released", utcnow(), reason
        released[reason] += 1
        if reason != "withdrawn":
            move_intention(session, actor, intention, IntentionStatus.WAITLISTED, reason)
            payload = {"from": "assigned", "to": "waitlisted", "reason": reason, "convoy": convoy.code}
            record_event(session, actor, "waitlist_intention", "intention", intention.uid, payload, household.site_id)
    return released
