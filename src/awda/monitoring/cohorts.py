"""Cohort counts pushed down into SQL: (cohort, day, cause, people), never a row per person.

Survival time is measured from a person's latest arrival to the first serious violation after it
(`rules.SERIOUS_TYPES`, at the chosen verification level or above), right-censored at the
household's last successful follow-up of that arrival (day 0 when it was never reached). A person
is observed only up to that contact: a violation after it is not counted (the person is censored at
the contact), since counting late events while everyone else's time stops at their last contact
would inflate the hazard after the follow-up schedule ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Integer, and_, case, cast, extract, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from awda.agreements.models import Agreement
from awda.households.models import Household, Person
from awda.monitoring.models import Arrival, FollowUp, Incident, IncidentPerson
from awda.monitoring.rules import (
    AGE_BANDS,
    CAUSES,
    SERIOUS_TYPES,
    VERIFICATION_RANK,
    Outcome,
    Verification,
)
from awda.places.models import Place

COHORT_KINDS = ("agreement", "area", "guarantor", "profile")
NO_AGREEMENT = "none"


class days_between(FunctionElement[int]):
    """Whole days from the second date to the first, on SQLite and PostgreSQL."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"CAST(julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)}) AS INTEGER)"


@compiles(days_between)
def _days_default(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


@dataclass(frozen=True)
class CohortQuery:
    by: str = "agreement"
    min_verification: str = Verification.REPORTED.value
    agreement: str | None = None  # only this agreement's returnees
    as_of: date | None = None  # ignore what happened after this date


def _levels(minimum: str) -> list[str]:
    floor = VERIFICATION_RANK[Verification(minimum)]
    return [level.value for level, rank in VERIFICATION_RANK.items() if rank >= floor]


def _cause_expression() -> ColumnElement[int]:
    return case(*((Incident.type == kind.value, code) for kind, code in CAUSES.items()), else_=0)


def _age_band(age: ColumnElement[int]) -> ColumnElement[str]:
    return case((age.is_(None), "unknown"), *((and_(age >= low, age <= high), label) for low, high, label in AGE_BANDS))


def cohort_label(by: str) -> ColumnElement[str]:
    if by == "agreement":
        return func.coalesce(Agreement.code, NO_AGREEMENT)
    if by == "guarantor":
        return func.coalesce(Agreement.guarantor, NO_AGREEMENT)
    if by == "area":
        return func.coalesce(Place.pcode, "unknown")
    age = cast(extract("year", Arrival.arrived_on), Integer) - Person.birth_year
    return Person.sex + literal(" ") + _age_band(age)


def latest_arrivals(query: CohortQuery) -> Any:
    """Each person's latest arrival (up to `as_of`), with the cohort label."""
    last = select(Arrival.person_id, func.max(Arrival.arrived_on).label("arrived_on")).group_by(Arrival.person_id)
    if query.as_of is not None:
        last = last.where(Arrival.arrived_on <= query.as_of)
    last_sub = last.subquery()
    chosen = (
        select(
            Arrival.person_id,
            Arrival.household_id,
            Arrival.arrived_on,
            cohort_label(query.by).label("cohort"),
        )
        .join(last_sub, and_(last_sub.c.person_id == Arrival.person_id, last_sub.c.arrived_on == Arrival.arrived_on))
        .join(Person, Person.id == Arrival.person_id)
        .join(Household, Household.id == Arrival.household_id)
        .join(Place, Place.id == Arrival.place_id)
        .outerjoin(Agreement, Agreement.id == Arrival.agreement_id)
        .where(Household.erased_at.is_(None))
    )
    if query.agreement is not None:
        chosen = chosen.where(Agreement.code == query.agreement.strip().upper())
    return chosen.subquery()


def _first_events(query: CohortQuery, arrivals: Any) -> Any:
    """Per person: the day and cause of the first serious violation after the arrival."""
    day = days_between(Incident.occurred_on, arrivals.c.arrived_on)
    ranked = (
        select(
            IncidentPerson.person_id,
            day.label("day"),
            _cause_expression().label("cause"),
            func.row_number()
            .over(partition_by=IncidentPerson.person_id, order_by=(day, _cause_expression().desc()))
            .label("rank"),
        )
        .join(Incident, Incident.id == IncidentPerson.incident_id)
        .join(arrivals, arrivals.c.person_id == IncidentPerson.person_id)
        .where(
            Incident.type.in_([kind.value for kind in SERIOUS_TYPES]),
            Incident.verification.in_(_levels(query.min_verification)),
            Incident.occurred_on >= arrivals.c.arrived_on,
        )
    )
    if query.as_of is not None:
        ranked = ranked.where(Incident.occurred_on <= query.as_of)
    ranked_sub = ranked.subquery()
    return select(ranked_sub.c.person_id, ranked_sub.c.day, ranked_sub.c.cause).where(ranked_sub.c.rank == 1).subquery()


def _last_contacts(query: CohortQuery, arrivals: Any) -> Any:
    """Per household and arrival: the day of the last successful follow-up."""
    contacts = (
        select(
            FollowUp.household_id,
            FollowUp.arrived_on,
            func.max(days_between(FollowUp.contacted_on, FollowUp.arrived_on)).label("day"),
        )
        .where(FollowUp.outcome == Outcome.REACHED.value)
        .group_by(FollowUp.household_id, FollowUp.arrived_on)
    )
    if query.as_of is not None:
        contacts = contacts.where(FollowUp.contacted_on <= query.as_of)
    return contacts.subquery()


def survival_counts(session: Session, query: CohortQuery) -> list[tuple[str, int, int, int]]:
    """(cohort, day, cause, people): cause 0 = censored at the last contact, 1.. = first serious violation."""
    arrivals = latest_arrivals(query)
    events = _first_events(query, arrivals)
    contacts = _last_contacts(query, arrivals)
    censored_day = func.coalesce(contacts.c.day, 0)
    seen = events.c.day <= censored_day  # an event after the last contact is beyond the observed window
    day = case((seen, events.c.day), else_=censored_day).label("day")
    cause = case((seen, events.c.cause), else_=0).label("cause")
    per_person = (
        select(arrivals.c.cohort, day, cause)
        .outerjoin(events, events.c.person_id == arrivals.c.person_id)
        .outerjoin(
            contacts,
            and_(contacts.c.household_id == arrivals.c.household_id, contacts.c.arrived_on == arrivals.c.arrived_on),
        )
        .subquery()
    )
    grouped = (
        select(per_person.c.cohort, per_person.c.day, per_person.c.cause, func.count())
        .group_by(per_person.c.cohort, per_person.c.day, per_person.c.cause)
        .order_by(per_person.c.cohort, per_person.c.day, per_person.c.cause)
    )
    return [(str(c), int(d), int(k), int(n)) for c, d, k, n in session.execute(grouped).tuples()]
