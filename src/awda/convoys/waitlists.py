"""Waiting lists from the registry: open intentions, their needs, and the convoys ahead of them.

Households leave from the site where they are registered; a list is (site, destination P-code).
Nothing here opens a personal field: the list is structure, counts and dates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission, Role
from awda.access.services import require
from awda.convoys.models import Booking, Convoy, ConvoyDestination
from awda.convoys.rules import ScheduledConvoy
from awda.convoys.waitlist_rules import (
    DEFAULT_PRIORITY_DAYS,
    VULNERABILITY_WEIGHTS,
    Placed,
    Waiting,
    household_needs,
    place_all,
    vulnerability,
)
from awda.errors import NotFound
from awda.households.models import Household, Intention, IntentionMember, Person
from awda.households.rules import IntentionStatus
from awda.monitoring.models import Arrival
from awda.places.models import Place, Site

WAITING = (IntentionStatus.REGISTERED.value, IntentionStatus.WAITLISTED.value)
LIVE_BOOKING = ("booked", "boarded")
# A booking holds its seats while its intention is on it; a withdrawn household frees them at once.
HOLDING_SEAT = (IntentionStatus.ASSIGNED.value, IntentionStatus.DEPARTED.value, IntentionStatus.ARRIVED.value)


def not_arrived() -> ColumnElement[bool]:
    """An intention whose household is recorded as arrived at its destination since declaring it no longer waits.

    (Arrivals reach the registry from field files as well as from check-in; an intention that
    nobody moved to `arrived` must not be booked on a convoy for a journey already made.)
    """
    return ~exists().where(
        Arrival.household_id == Intention.household_id,
        Arrival.place_id == Intention.destination_id,
        Arrival.arrived_on >= Intention.declared_on,
    )


def scope_of(actor: Actor) -> frozenset[int] | None:
    """The site ids an actor's lists are limited to (None: every site)."""
    return None if actor.role == Role.ADMIN or actor.all_sites else actor.site_ids


def _open_intentions(
    scope: frozenset[int] | None, origin: str | None, destination: str | None, statuses: Sequence[str]
) -> Select[Any]:
    query = (
        select(
            Intention.id,
            Intention.uid,
            Household.uid,
            Site.code,
            Place.pcode,
            Intention.declared_on,
            Intention.window_start,
            Household.travel_group,
        )
        .join(Household, Household.id == Intention.household_id)
        .join(Site, Site.id == Household.site_id)
        .join(Place, Place.id == Intention.destination_id)
        .where(Intention.status.in_(statuses), Household.erased_at.is_(None), not_arrived())
    )
    if scope is not None:
        query = query.where(Household.site_id.in_(scope))
    if origin is not None:
        query = query.where(Site.code == origin.upper())
    if destination is not None:
        query = query.where(Place.pcode == destination.upper())
    return query


def waiting_entries(
    session: Session,
    scope: frozenset[int] | None,
    year: int,
    origin: str | None = None,
    destination: str | None = None,
    statuses: Sequence[str] = WAITING,
    priority_days: int = DEFAULT_PRIORITY_DAYS,
) -> list[Waiting]:
    """Every open intention on the lists in scope, with its travelling members' needs scored.

    One query, one row per intention: its members summed up in SQL (how many; a flag is present when
    any member has it, as a whole word of `vulnerabilities`; age needs from the oldest and the
    youngest birth year), then scored by the written rule (`waitlist_rules`).
    """
    rows = session.execute(_with_members(_open_intentions(scope, origin, destination, statuses))).tuples()
    return [_waiting(row, year, priority_days) for row in rows]


def _with_members(query: Select[Any]) -> Select[Any]:
    """`query` (open intentions) grouped with its members: how many, the oldest and youngest birth
    years, and for each flag of `VULNERABILITY_WEIGHTS` whether a member has it (a whole word)."""
    padded = literal(" ").concat(Person.vulnerabilities).concat(" ")
    flags = [
        func.max(case((padded.like(f"% {flag.replace('_', '/_')} %", escape="/"), 1), else_=0))
        for flag in VULNERABILITY_WEIGHTS
    ]
    return (
        query.add_columns(func.count(), func.min(Person.birth_year), func.max(Person.birth_year), *flags)
        .join(IntentionMember, IntentionMember.intention_id == Intention.id)
        .join(Person, Person.id == IntentionMember.person_id)
        .group_by(*query.selected_columns)
    )


def _waiting(row: tuple[Any, ...], year: int, priority_days: int) -> Waiting:
    """One grouped row as the list and the planner see it, scored by the written rule."""
    _intention_id, uid, household_uid, site_code, pcode, declared_on, window_start, group, people, *rest = row
    oldest, youngest, *present = rest
    return Waiting(
        intention_uid=uid,
        household_uid=household_uid,
        origin=site_code,
        destination=pcode,
        people=people,
        score=vulnerability(household_needs(present, oldest, youngest, year)),
        declared_on=declared_on,
        earliest_date=max(declared_on, window_start or declared_on),
        travel_group=group or None,
        priority_days=priority_days,
    )


def upcoming_convoys(
    session: Session, scope: frozenset[int] | None, start: date, end: date | None = None
) -> list[ScheduledConvoy]:
    """Scheduled convoys from `start` (to `end`), with the seats their live bookings leave free."""
    booked = (
        select(Booking.convoy_id, func.sum(Booking.people).label("people"))
        .join(Intention, Intention.id == Booking.intention_id)
        .where(Booking.status.in_(LIVE_BOOKING), Intention.status.in_(HOLDING_SEAT))
        .group_by(Booking.convoy_id)
        .subquery()
    )
    query = (
        select(Convoy.id, Convoy.code, Convoy.departs_on, Site.code, Convoy.seats, booked.c.people)
        .join(Site, Site.id == Convoy.site_id)
        .outerjoin(booked, booked.c.convoy_id == Convoy.id)
        .where(Convoy.status == "scheduled", Convoy.departs_on >= start)
        .order_by(Convoy.departs_on, Convoy.code)
    )
    if end is not None:
        query = query.where(Convoy.departs_on <= end)
    if scope is not None:
        query = query.where(Convoy.site_id.in_(scope))
    rows = session.execute(query).tuples().all()
    destinations: dict[int, list[str]] = defaultdict(list)
    for convoy_id, pcode in session.execute(
        select(ConvoyDestination.convoy_id, Place.pcode)
        .join(Place, Place.id == ConvoyDestination.place_id)
        .where(ConvoyDestination.convoy_id.in_([row[0] for row in rows]))
        .order_by(Place.pcode)
    ).tuples():
        destinations[convoy_id].append(pcode)
    return [
        ScheduledConvoy(code, departs_on, site_code, tuple(destinations[convoy_id]), seats - int(people or 0))
        for convoy_id, code, departs_on, site_code, seats, people in rows
    ]


def placements(
    session: Session,
    scope: frozenset[int] | None,
    today: date,
    origin: str | None = None,
    priority_days: int = DEFAULT_PRIORITY_DAYS,
) -> dict[str, Placed]:
    """Positions and expected convoys of every waiting household in scope (lists share convoys)."""
    entries = waiting_entries(session, scope, today.year, origin, priority_days=priority_days)
    convoys = [convoy for convoy in upcoming_convoys(session, scope, today) if convoy.seats > 0]
    return place_all(entries, convoys)


def placed_view(placed: Placed) -> dict[str, Any]:
    entry = placed.entry
    return {
        "position": placed.position,
        "households_ahead": placed.households_ahead,
        "people_ahead": placed.people_ahead,
        "intention": entry.intention_uid,
        "household": entry.household_uid,
        "origin": entry.origin,
        "destination": entry.destination,
        "people": entry.people,
        "vulnerability": entry.score,
        "declared_on": entry.declared_on.isoformat(),
        "waiting_since": entry.since.isoformat(),
        "travel_group": entry.travel_group,
        "expected_convoy": placed.expected_convoy,
        "expected_week": placed.expected_week,
        "expected_date_estimated": placed.estimated,
    }


def waiting_list(
    session: Session,
    actor: Actor,
    origin: str,
    destination: str,
    today: date,
    limit: int = 50,
    offset: int = 0,
    priority_days: int = DEFAULT_PRIORITY_DAYS,
) -> dict[str, Any]:
    """A page of one list (site, destination) in its documented order; structure only, no names."""
    require(actor, Permission.READ_RECORDS)
    scope = scope_of(actor)
    site = session.scalar(select(Site).where(Site.code == origin.upper()))
    if site is None or (scope is not None and site.id not in scope):
        raise NotFound(f"no site {origin}")
    placed = placements(session, scope, today, origin, priority_days)
    items = sorted((p for p in placed.values() if p.entry.destination == destination.upper()), key=lambda p: p.position)
    return {
        "origin": site.code,
        "destination": destination.upper(),
        "as_of": today.isoformat(),
        "total": len(items),
        "people": sum(p.entry.people for p in items),
        "limit": limit,
        "offset": offset,
        "items": [placed_view(p) for p in items[offset : offset + limit]],
    }


def list_summaries(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every list in scope: origin, destination, households and people waiting."""
    require(actor, Permission.READ_RECORDS)
    scope = scope_of(actor)
    counts = (
        select(IntentionMember.intention_id, func.count().label("people"))
        .group_by(IntentionMember.intention_id)
        .subquery()
    )
    query = (
        select(Site.code, Place.pcode, func.count(Intention.id), func.coalesce(func.sum(counts.c.people), 0))
        .join(Household, and_(Household.id == Intention.household_id, Household.erased_at.is_(None)))
        .join(Site, Site.id == Household.site_id)
        .join(Place, Place.id == Intention.destination_id)
        .outerjoin(counts, counts.c.intention_id == Intention.id)
        .where(Intention.status.in_(WAITING), not_arrived())
        .group_by(Site.code, Place.pcode)
        .order_by(Site.code, Place.pcode)
    )
    if scope is not None:
        query = query.where(Household.site_id.in_(scope))
    return [
        {"origin": site, "destination": pcode, "households": int(n), "people": int(people)}
        for site, pcode, n, people in session.execute(query).tuples()
    ]
