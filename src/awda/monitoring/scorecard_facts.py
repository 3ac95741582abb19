"""The scorecard's facts about each agreement and guarantor, gathered as counts from the registry.

Every figure here is a count grouped in SQL or an estimate from such counts; disclosure control is
applied afterwards by `awda.stats.scorecard` (docs/scorecard.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String

from awda.access.rules import Actor, Permission
from awda.access.services import require
from awda.agreements.models import Agreement, AgreementTerm
from awda.households.models import Household
from awda.monitoring.cohorts import NO_AGREEMENT
from awda.monitoring.models import Arrival, FollowUp, Incident, IncidentPerson
from awda.monitoring.rules import CAUSE_NAMES, SERIOUS_TYPES, VERIFICATION_RANK, Outcome, Verification
from awda.stats.counts import CountTable, GroupCounts
from awda.stats.hazard_steps import hazard_steps
from awda.stats.incidence import incidence_curves
from awda.stats.report import CohortFacts, Curve, FollowUpCoverage, HazardStep, Incidence, ScorecardInput
from awda.stats.survival import survival_curve

DAYS_PER_YEAR = 365.25
Key = Callable[[Agreement], str]


class year_month(FunctionElement[str]):
    """`YYYY-MM` of a date, on SQLite and PostgreSQL."""

    type = String()
    inherit_cache = True


@compiles(year_month, "sqlite")
def _month_sqlite(element: year_month, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(next(iter(element.clauses)), **kw)})"


@compiles(year_month)
def _month_default(element: year_month, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(next(iter(element.clauses)), **kw)}, 'YYYY-MM')"


def _by_agreement(session: Session, query: Any) -> dict[int | None, list[Any]]:
    found: dict[int | None, list[Any]] = {}
    for agreement_id, *rest in session.execute(query).tuples():
        found.setdefault(agreement_id, []).append(tuple(rest))
    return found


def _arrivals(session: Session, as_of: date) -> dict[int | None, list[Any]]:
    """Persons by agreement and month of their latest arrival (as the survival counts start there)."""
    last = (
        select(Arrival.person_id, func.max(Arrival.arrived_on).label("arrived_on"))
        .where(Arrival.arrived_on <= as_of)
        .group_by(Arrival.person_id)
        .subquery()
    )
    month = year_month(Arrival.arrived_on)
    query = (
        select(Arrival.agreement_id, month, func.count(), func.count(func.distinct(Arrival.household_id)))
        .join(last, (last.c.person_id == Arrival.person_id) & (last.c.arrived_on == Arrival.arrived_on))
        .join(Household, Household.id == Arrival.household_id)
        .where(Household.erased_at.is_(None))
        .group_by(Arrival.agreement_id, month)
    )
    return _by_agreement(session, query)


def _incidents(session: Session, as_of: date, min_verification: str) -> dict[int | None, list[Any]]:
    floor = VERIFICATION_RANK[Verification(min_verification)]
    levels = [level.value for level, rank in VERIFICATION_RANK.items() if rank >= floor]
    month = year_month(Incident.occurred_on)
    query = (
        select(Incident.agreement_id, Incident.type, month, func.count(func.distinct(IncidentPerson.person_id)))
        .join(IncidentPerson, IncidentPerson.incident_id == Incident.id)
        .where(Incident.occurred_on <= as_of, Incident.verification.in_(levels))
        .group_by(Incident.agreement_id, Incident.type, month)
    )
    return _by_agreement(session, query)


def _followups(session: Session, as_of: date) -> dict[int | None, list[Any]]:
    query = (
        select(FollowUp.agreement_id, FollowUp.outcome, func.count())
        .where(FollowUp.due_on <= as_of)
        .group_by(FollowUp.agreement_id, FollowUp.outcome)
    )
    return _by_agreement(session, query)


def _coverage(rows: list[Any]) -> FollowUpCoverage:
    counts: dict[str | None, int] = {}
    for outcome, count in rows:
        counts[outcome] = counts.get(outcome, 0) + int(count)
    due = sum(count for outcome, count in counts.items() if outcome != Outcome.CANCELLED.value)
    return FollowUpCoverage(
        due=due,
        reached=counts.get(Outcome.REACHED.value, 0),
        not_reached=counts.get(Outcome.NOT_REACHED.value, 0),
        moved=counts.get(Outcome.MOVED.value, 0),
        refused=counts.get(Outcome.REFUSED.value, 0),
        overdue=counts.get(None, 0),
    )


def _curve(group: GroupCounts) -> Curve:
    curve = survival_curve(group)
    lower = np.nan_to_num(curve.ci_lower, nan=0.0)
    upper = np.where(np.isnan(curve.ci_upper), curve.survival, curve.ci_upper)
    return Curve(
        time=tuple(int(t) for t in curve.time),
        at_risk=tuple(int(n) for n in curve.at_risk),
        events=tuple(int(d) for d in curve.events),
        censored=tuple(int(c) for c in curve.censored),
        survival=tuple(float(s) for s in curve.survival),
        ci_lower=tuple(float(v) for v in lower),
        ci_upper=tuple(float(v) for v in upper),
    )


def _incidence(group: GroupCounts, causes: tuple[int, ...]) -> tuple[Incidence, ...]:
    curves = incidence_curves(group, causes)
    return tuple(
        Incidence(
            cause=CAUSE_NAMES.get(cause, str(cause)),
            time=tuple(int(t) for t in curve.time),
            estimate=tuple(float(v) for v in curve.estimate),
            ci_lower=tuple(float(v) for v in np.nan_to_num(curve.ci_lower, nan=0.0)),
            ci_upper=tuple(float(v) for v in np.nan_to_num(curve.ci_upper, nan=1.0)),
        )
        for cause, curve in curves.items()
    )


def _steps(group: GroupCounts, seed: int) -> tuple[tuple[HazardStep, ...], float | None]:
    found = hazard_steps(group, max_steps=2, min_events=10, simulations=199, seed=seed)
    steps = tuple(
        HazardStep(int(point), before.hazard * DAYS_PER_YEAR, after.hazard * DAYS_PER_YEAR)
        for point, before, after in zip(found.change_points, found.segments, found.segments[1:], strict=False)
    )
    return steps, found.p_value


def _households(session: Session, as_of: date) -> dict[int | None, int]:
    query = (
        select(Arrival.agreement_id, func.count(func.distinct(Arrival.household_id)))
        .where(Arrival.arrived_on <= as_of)
        .group_by(Arrival.agreement_id)
    )
    return {agreement_id: int(count) for agreement_id, count in session.execute(query).tuples()}


def _terms(session: Session, agreement: Agreement) -> tuple[str, ...]:
    terms = session.scalars(
        select(AgreementTerm).where(AgreementTerm.agreement_id == agreement.id).order_by(AgreementTerm.code)
    )
    return tuple(f"{t.kind} · {t.applies_to} · {t.duration_days} days" for t in terms)


class _Gathered:
    """The grouped counts of every agreement, read once, merged per cohort."""

    def __init__(self, session: Session, as_of: date, min_verification: str) -> None:
        self.arrivals = _arrivals(session, as_of)
        self.incidents = _incidents(session, as_of, min_verification)
        self.followups = _followups(session, as_of)
        self.households = _households(session, as_of)

    def facts(self, kind: str, key: str, titles: tuple[str, str], members: list[Agreement]) -> dict[str, Any]:
        ids = [agreement.id for agreement in members]
        by_month: dict[str, int] = {}
        for month, persons, _households in (row for i in ids for row in self.arrivals.get(i, [])):
            by_month[str(month)] = by_month.get(str(month), 0) + int(persons)
        incidents: dict[tuple[str, str], int] = {}
        for kind_, month, persons in (row for i in ids for row in self.incidents.get(i, [])):
            cell = (str(kind_), str(month))
            incidents[cell] = incidents.get(cell, 0) + int(persons)
        return {
            "kind": kind,
            "key": key,
            "title_en": titles[0],
            "title_ar": titles[1],
            "households": sum(self.households.get(i, 0) for i in ids),
            "arrivals_by_month": dict(sorted(by_month.items())),
            "incidents_by_type_month": dict(sorted(incidents.items())),
            "followups": _coverage([row for i in ids for row in self.followups.get(i, [])]),
        }


def _with_curves(values: dict[str, Any], table: CountTable, seed: int) -> CohortFacts:
    name = values["key"]
    if name not in table.names:
        return CohortFacts(people=0, survival=None, **values)
    group = table.group(name)
    steps, p_value = _steps(group, seed)
    return CohortFacts(
        people=group.size,
        survival=_curve(group),
        incidence=_incidence(group, table.causes),
        hazard_steps=steps,
        hazard_step_p_value=p_value,
        **values,
    )


def scorecard_input(
    session: Session, actor: Actor, as_of: date, min_verification: str = "reported", k: int = 10
) -> ScorecardInput:
    """The facts of every agreement and every guarantor as of a date, before disclosure control."""
    from awda.stats.services import registry_counts

    require(actor, Permission.READ_STATS)
    agreements = list(session.scalars(select(Agreement).order_by(Agreement.code)))
    gathered = _Gathered(session, as_of, min_verification)
    by_agreement = registry_counts(session, actor, "agreement", min_verification, as_of)
    by_guarantor = registry_counts(session, actor, "guarantor", min_verification, as_of)
    cohorts = []
    for seed, agreement in enumerate(agreements):
        values = gathered.facts("agreement", agreement.code, (agreement.name_en, agreement.name_ar), [agreement])
        cohorts.append(_with_curves(values | {"terms": _terms(session, agreement)}, by_agreement, seed))
    for seed, guarantor in enumerate(sorted({a.guarantor for a in agreements} - {NO_AGREEMENT})):
        members = [a for a in agreements if a.guarantor == guarantor]
        values = gathered.facts("guarantor", guarantor, (guarantor, guarantor), members)
        values["agreements"] = tuple(a.code for a in members)
        cohorts.append(_with_curves(values, by_guarantor, 1000 + seed))
    serious = tuple(sorted(kind.value for kind in SERIOUS_TYPES))
    return ScorecardInput(
        generated_on=as_of.isoformat(),
        cohorts=tuple(cohorts),
        k=k,
        serious_types=serious,
        min_verification=min_verification,
    )
