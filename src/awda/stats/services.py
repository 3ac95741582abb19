"""Aggregate counts for the summary; computed in the database, never from personal fields."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.access.services import require
from awda.households.models import Household, Intention, Person
from awda.places.models import Place, Site


def summary(session: Session, actor: Actor) -> dict[str, Any]:
    """Counts of households, persons, sites and intentions (by status and by kind)."""
    require(actor, Permission.READ_STATS)

    def count(model: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    by_status = dict(session.execute(select(Intention.status, func.count()).group_by(Intention.status)).tuples().all())
    by_kind = dict(session.execute(select(Intention.kind, func.count()).group_by(Intention.kind)).tuples().all())
    erased = int(
        session.scalar(select(func.count()).select_from(Household).where(Household.erased_at.is_not(None))) or 0
    )
    return {
        "households": count(Household),
        "persons": count(Person),
        "sites": count(Site),
        "places": count(Place),
        "erased_households": erased,
        "intentions": {"total": count(Intention), "by_status": by_status, "by_kind": by_kind},
    }


def households_by_site(session: Session, actor: Actor) -> list[dict[str, Any]]:
    require(actor, Permission.READ_STATS)
    query = (
        select(Site.code, func.count(func.distinct(Household.id)), func.count(Person.id))
        .select_from(Site)
        .outerjoin(Household, Household.site_id == Site.id)
        .outerjoin(Person, Person.household_id == Household.id)
        .group_by(Site.code)
        .order_by(Site.code)
    )
    return [
        {"site": code, "households": households, "persons": persons}
        for code, households, persons in session.execute(query)
    ]
