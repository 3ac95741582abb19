"""One site's flows from the registry, grouped in SQL into daily counts (the maths is in `stats/flows.py`).

- registered: members of households registered at the site, on their registration day;
- departed: people checked in at departure on the site's convoys, by destination;
- moved_out: people of the site's households who arrived elsewhere with no departure on record
  (they left on their own, or before awda tracked convoys), on their first such arrival;
- arrived: people of other sites' households who arrived at the site's place;
- reached: the site's people who arrived at their destination (checked in from its convoys, or
  moved out), which the population does not count again.
Every query returns one row per (day, place) or (days waited, destination): never one per person.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.access.services import require
from awda.convoys.models import Booking, Convoy, Movement
from awda.errors import NotFound
from awda.households.models import Household, Intention, Person
from awda.monitoring.cohorts import days_between
from awda.monitoring.models import Arrival
from awda.places.models import Place, Site
from awda.stats.flows import DailyCount, FlowsInput, WaitCount


def _day(value: Any) -> date:
    """SQLite returns `date(...)` as text, PostgreSQL as a date."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _registered(session: Session, site: Site) -> list[DailyCount]:
    rows = session.execute(
        select(Household.registered_on, func.count(Person.id))
        .join(Person, Person.household_id == Household.id)
        .where(Household.site_id == site.id)
        .group_by(Household.registered_on)
    ).tuples()
    return [DailyCount(day, "registered", "", int(n)) for day, n in rows]


def _reached(session: Session, site: Site) -> list[DailyCount]:
    """People checked in at arrival from the site's convoys, by day and destination."""
    day = func.date(Movement.at)
    rows = session.execute(
        select(day, Place.pcode, func.count())
        .join(Convoy, Convoy.id == Movement.convoy_id)
        .join(Booking, and_(Booking.convoy_id == Movement.convoy_id, Booking.household_id == Movement.household_id))
        .join(Intention, Intention.id == Booking.intention_id)
        .join(Place, Place.id == Intention.destination_id)
        .where(Convoy.site_id == site.id, Movement.kind == "arrived", Booking.status == "boarded")
        .group_by(day, Place.pcode)
    ).tuples()
    return [DailyCount(_day(d), "reached", pcode, int(n)) for d, pcode, n in rows]


def _departed(session: Session, site: Site) -> tuple[list[DailyCount], list[WaitCount]]:
    day = func.date(Movement.at)
    base = (
        select(day.label("day"), Place.pcode.label("pcode"), Intention.declared_on.label("declared_on"))
        .join(Convoy, Convoy.id == Movement.convoy_id)
        .join(Booking, and_(Booking.convoy_id == Movement.convoy_id, Booking.household_id == Movement.household_id))
        .join(Intention, Intention.id == Booking.intention_id)
        .join(Place, Place.id == Intention.destination_id)
        .where(Convoy.site_id == site.id, Movement.kind == "departed", Booking.status == "boarded")
        .subquery()
    )
    daily = session.execute(select(base.c.day, base.c.pcode, func.count()).group_by(base.c.day, base.c.pcode))
    waited = days_between(base.c.day, base.c.declared_on)
    waits = session.execute(select(waited, base.c.pcode, func.count()).group_by(waited, base.c.pcode))
    return (
        [DailyCount(_day(d), "departed", pcode, int(n)) for d, pcode, n in daily.tuples()],
        [WaitCount(max(int(days), 0), pcode, int(n)) for days, pcode, n in waits.tuples()],
    )


def _moved_out(session: Session, site: Site) -> tuple[list[DailyCount], list[WaitCount]]:
    departed_on_record = select(Movement.person_id).join(Convoy, Convoy.id == Movement.convoy_id)
    departed_on_record = departed_on_record.where(Convoy.site_id == site.id, Movement.kind == "departed")
    ranked = (
        select(
            Arrival.person_id,
            Arrival.household_id,
            Arrival.arrived_on,
            Arrival.place_id,
            func.row_number().over(partition_by=Arrival.person_id, order_by=Arrival.arrived_on).label("rank"),
        )
        .join(Household, Household.id == Arrival.household_id)
        .where(
            Household.site_id == site.id,
            Arrival.place_id != site.place_id,
            Arrival.person_id.not_in(departed_on_record),
        )
        .subquery()
    )
    first = select(ranked).where(ranked.c.rank == 1).subquery()
    daily = session.execute(
        select(first.c.arrived_on, Place.pcode, func.count())
        .join(Place, Place.id == first.c.place_id)
        .group_by(first.c.arrived_on, Place.pcode)
    )
    declared = (
        select(Intention.household_id, Intention.destination_id, func.min(Intention.declared_on).label("declared_on"))
        .group_by(Intention.household_id, Intention.destination_id)
        .subquery()
    )
    waited = days_between(first.c.arrived_on, declared.c.declared_on)
    waits = session.execute(
        select(waited, Place.pcode, func.count())
        .join(
            declared,
            and_(declared.c.household_id == first.c.household_id, declared.c.destination_id == first.c.place_id),
        )
        .join(Place, Place.id == first.c.place_id)
        .group_by(waited, Place.pcode)
    )
    return (
        [DailyCount(d, "moved_out", pcode, int(n)) for d, pcode, n in daily.tuples()],
        [WaitCount(int(days), pcode, int(n)) for days, pcode, n in waits.tuples() if int(days) >= 0],
    )


def _arrived(session: Session, site: Site) -> list[DailyCount]:
    rows = session.execute(
        select(Arrival.arrived_on, Site.code, func.count())
        .join(Household, Household.id == Arrival.household_id)
        .join(Site, Site.id == Household.site_id)
        .where(Arrival.place_id == site.place_id, Household.site_id != site.id)
        .group_by(Arrival.arrived_on, Site.code)
    ).tuples()
    return [DailyCount(day, "arrived", code, int(n)) for day, code, n in rows]


def site_flows_input(session: Session, actor: Actor, site_code: str, as_of: date, k: int) -> FlowsInput:
    """The counts of one site's flows up to `as_of`; aggregates only, so READ_STATS suffices."""
    require(actor, Permission.READ_STATS)
    site = session.scalar(select(Site).where(Site.code == site_code.strip().upper()))
    if site is None:
        raise NotFound(f"no site {site_code}")
    departed, departed_waits = _departed(session, site)
    moved_out, moved_waits = _moved_out(session, site)
    reached = [*_reached(session, site), *(DailyCount(r.day, "reached", r.place, r.n) for r in moved_out)]
    daily = [*_registered(session, site), *departed, *moved_out, *_arrived(session, site), *reached]
    return FlowsInput(site.code, site.name_en, site.name_ar, as_of, daily, [*departed_waits, *moved_waits], k)
