"""Named actions on convoys: schedule one, read one or a week of them, with its safe-arrival rate."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission, covers_site
from awda.access.services import require
from awda.agreements.models import Agreement
from awda.audit.services import record_event
from awda.convoys.commands import ConvoyIn
from awda.convoys.models import Booking, Convoy, ConvoyDestination, Movement
from awda.convoys.waitlists import HOLDING_SEAT, LIVE_BOOKING, scope_of
from awda.db import action
from awda.errors import Conflict, NotFound, ValidationFailed
from awda.households.models import Intention
from awda.households.services import place_ids_for
from awda.ids import new_uid
from awda.places.models import Place, Site


def load_convoy(session: Session, actor: Actor, code: str, permission: Permission, lock: bool = False) -> Convoy:
    """The convoy for an action; one outside the actor's sites looks absent.

    `lock` (for boarding, departure and booking) holds the convoy's row until the action ends, so
    check-ins, the departure and a week's plan of one convoy take turns (PostgreSQL; an SQLite
    action holds the write lock anyway).
    """
    query = select(Convoy).where(Convoy.code == code.strip().upper())
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    convoy = session.scalar(query)
    require(actor, permission)
    if convoy is None or not covers_site(actor, convoy.site_id):
        raise NotFound(f"no convoy {code}")
    return convoy


def schedule_convoy(session: Session, actor: Actor, command: ConvoyIn) -> str:
    """Schedule a convoy (a bus or a batch of buses); returns its code. One event."""
    with action(session):
        require(actor, Permission.MOVE_INTENTION)
        insert_convoy(session, actor, command)
    return command.code


def insert_convoy(session: Session, actor: Actor, command: ConvoyIn, row: int | None = None) -> Convoy:
    """The body of `schedule_convoy`, inside the caller's transaction (imports add many)."""
    site = session.scalar(select(Site).where(Site.code == command.site))
    if site is None or not covers_site(actor, site.id):
        if row is not None:
            raise ValidationFailed("site", f"no site {command.site}", row=row)
        raise NotFound(f"no site {command.site}")
    if session.scalar(select(Convoy.id).where(Convoy.code == command.code)) is not None:
        raise Conflict(f"a convoy {command.code} is scheduled already")
    places = place_ids_for(session, *command.destinations)
    missing = [pcode for pcode in command.destinations if pcode not in places]
    if missing:
        raise ValidationFailed("destinations", f"no place with P-code {missing[0]!r} in the gazetteer", row=row)
    agreement_id = None
    if command.agreement is not None:
        agreement_id = session.scalar(select(Agreement.id).where(Agreement.code == command.agreement.upper()))
        if agreement_id is None:
            raise ValidationFailed("agreement", f"no agreement {command.agreement}", row=row)
    convoy = Convoy(
        uid=new_uid(),
        code=command.code,
        site_id=site.id,
        departs_on=command.departs_on,
        seats=command.seats,
        guarantor=command.guarantor,
        agreement_id=agreement_id,
    )
    session.add(convoy)
    session.flush()
    session.add_all(ConvoyDestination(convoy_id=convoy.id, place_id=places[pcode]) for pcode in command.destinations)
    payload = {
        "departs_on": command.departs_on.isoformat(),
        "destinations": command.destinations,
        "seats": command.seats,
        "agreement": command.agreement,
    }
    record_event(session, actor, "schedule_convoy", "convoy", convoy.code, payload, site.id)
    return convoy


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (good at rates near 1, where convoys should be)."""
    if trials == 0:
        return None
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def movement_counts(session: Session, convoy_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """convoy id -> persons departed, arrived and reported missing."""
    counts: dict[int, dict[str, int]] = {cid: {"departed": 0, "arrived": 0, "missing": 0} for cid in convoy_ids}
    rows = session.execute(
        select(Movement.convoy_id, Movement.kind, func.count())
        .where(Movement.convoy_id.in_(convoy_ids))
        .group_by(Movement.convoy_id, Movement.kind)
    ).tuples()
    for convoy_id, kind, n in rows:
        counts[convoy_id][kind] = int(n)
    return counts


def safe_arrival(counts: dict[str, int]) -> dict[str, Any]:
    """Arrived among departed, with its 95% interval; None until someone departed."""
    interval = wilson_interval(counts["arrived"], counts["departed"])
    return {
        **counts,
        "rate": counts["arrived"] / counts["departed"] if counts["departed"] else None,
        "interval_95": list(interval) if interval else None,
    }


def convoy_views(session: Session, convoys: Sequence[Convoy]) -> list[dict[str, Any]]:
    ids = [convoy.id for convoy in convoys]
    destinations: dict[int, list[str]] = {cid: [] for cid in ids}
    for convoy_id, pcode in session.execute(
        select(ConvoyDestination.convoy_id, Place.pcode)
        .join(Place, Place.id == ConvoyDestination.place_id)
        .where(ConvoyDestination.convoy_id.in_(ids))
        .order_by(Place.pcode)
    ).tuples():
        destinations[convoy_id].append(pcode)
    booked: dict[int, tuple[int, int]] = {}
    for convoy_id, households, people in session.execute(
        select(Booking.convoy_id, func.count(), func.sum(Booking.people))
        .join(Intention, Intention.id == Booking.intention_id)
        .where(Booking.convoy_id.in_(ids), Booking.status.in_(LIVE_BOOKING), Intention.status.in_(HOLDING_SEAT))
        .group_by(Booking.convoy_id)
    ).tuples():
        booked[convoy_id] = (int(households), int(people or 0))
    moved = movement_counts(session, ids)
    sites = dict(
        session.execute(select(Site.id, Site.code).where(Site.id.in_({c.site_id for c in convoys}))).tuples().all()
    )
    agreements = dict(session.execute(select(Agreement.id, Agreement.code)).tuples().all())
    return [
        {
            "code": convoy.code,
            "origin": sites[convoy.site_id],
            "departs_on": convoy.departs_on.isoformat(),
            "destinations": destinations[convoy.id],
            "seats": convoy.seats,
            "booked_households": booked.get(convoy.id, (0, 0))[0],
            "booked_people": booked.get(convoy.id, (0, 0))[1],
            "guarantor": convoy.guarantor,
            "agreement": agreements.get(convoy.agreement_id) if convoy.agreement_id else None,
            "status": convoy.status,
            "safe_arrival": safe_arrival(moved[convoy.id]),
            "version": convoy.version,
        }
        for convoy in convoys
    ]


def convoy_view(session: Session, actor: Actor, code: str) -> dict[str, Any]:
    convoy = load_convoy(session, actor, code, Permission.READ_RECORDS)
    return convoy_views(session, [convoy])[0]


def list_convoys(
    session: Session,
    actor: Actor,
    start: date | None = None,
    end: date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Convoys in scope departing between `start` and `end`, earliest first."""
    require(actor, Permission.READ_RECORDS)
    query = select(Convoy)
    scope = scope_of(actor)
    if scope is not None:
        query = query.where(Convoy.site_id.in_(scope))
    if start is not None:
        query = query.where(Convoy.departs_on >= start)
    if end is not None:
        query = query.where(Convoy.departs_on <= end)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    page = list(session.scalars(query.order_by(Convoy.departs_on, Convoy.code).limit(limit).offset(offset)))
    return {"total": total, "limit": limit, "offset": offset, "items": convoy_views(session, page)}
