"""Aggregate counts for the summary; computed in the database, never from personal fields."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.access.services import require
from awda.errors import ValidationFailed
from awda.households.models import Household, Intention, Person
from awda.places.models import Place, Site
from awda.stats.counts import CountTable


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


def registry_counts(
    session: Session, actor: Actor, by: str, min_verification: str = "reported", as_of: date | None = None
) -> CountTable:
    """Survival counts of the registry's returnees by cohort (docs/monitoring.md), from SQL aggregates."""
    from awda.monitoring.cohorts import COHORT_KINDS, CohortQuery, survival_counts
    from awda.monitoring.rules import Verification

    require(actor, Permission.READ_STATS)
    if by not in COHORT_KINDS:
        raise ValidationFailed("by", f"use one of {', '.join(COHORT_KINDS)}")
    if min_verification not in {level.value for level in Verification}:
        raise ValidationFailed("min_verification", "use reported, credible or verified")
    rows = survival_counts(session, CohortQuery(by=by, min_verification=min_verification, as_of=as_of))
    if not rows:
        raise ValidationFailed("arrivals", "no arrival is recorded yet (or none by that date): nothing to count")
    groups, times, causes, counts = (list(column) for column in zip(*rows, strict=True))
    return CountTable.from_aggregates(groups, times, causes, counts)


def disclosed(report: dict[str, Any], k: int) -> dict[str, Any]:
    """A survival report fit to leave the registry: curves cut where fewer than `k` people remain at risk,
    per-day counts of 1..k-1 people replaced by null, and cohorts of fewer than `k` people left out."""
    groups: dict[str, Any] = {}
    for name, curve in report["groups"].items():
        if not curve["at_risk"] or curve["at_risk"][0] < k:
            continue
        keep = next((i for i, n in enumerate(curve["at_risk"]) if n < k), len(curve["at_risk"]))
        cut = {key: value[:keep] if isinstance(value, list) else value for key, value in curve.items() if key != "cif"}
        for key in ("events", "censored"):
            cut[key] = [None if 0 < n < k else n for n in cut[key]]
        groups[name] = cut
    return {
        "groups": groups,
        "logrank": report["logrank"],
        "k": k,
        "suppressed_groups": len(report["groups"]) - len(groups),
    }


def disclosed_incidence(table: CountTable, interval: str, alpha: float, k: int) -> dict[str, Any]:
    """Cumulative incidence per cohort and cause (named as in docs/monitoring.md), cut where fewer than `k`
    remain at risk; cohorts of fewer than `k` people left out."""
    from awda.monitoring.rules import CAUSE_NAMES
    from awda.stats.incidence import incidence_curves

    result: dict[str, Any] = {}
    for group in table.groups:
        if group.size < k:
            continue
        keep = int(np.argmax(group.at_risk < k)) if (group.at_risk < k).any() else len(group.at_risk)
        curves = incidence_curves(group, table.causes, interval, alpha)
        result[group.name] = {
            CAUSE_NAMES.get(cause, str(cause)): {
                "time": [int(t) for t in curve.time[:keep]],
                "estimate": [float(v) for v in curve.estimate[:keep]],
                "ci_lower": [float(v) for v in curve.ci_lower[:keep]],
                "ci_upper": [float(v) for v in curve.ci_upper[:keep]],
            }
            for cause, curve in curves.items()
        }
    return result
