"""Follow-ups: outcomes of contacts, who makes them, what is overdue, who must be escalated."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from awda.access.models import User, UserSite
from awda.access.rules import Actor, Permission, Role, covers_site, may
from awda.access.services import actor_for_user, require
from awda.audit.services import record_event
from awda.db import action, utcnow
from awda.errors import Conflict, NotFound, ValidationFailed
from awda.households.models import Household
from awda.households.services import check_version, load_household
from awda.monitoring.commands import FollowUpOutcomeIn
from awda.monitoring.models import FollowUp
from awda.monitoring.rules import Outcome, needs_escalation
from awda.places.models import Site


def _load(session: Session, actor: Actor, uid: str, permission: Permission) -> tuple[FollowUp, Household]:
    row = session.execute(
        select(FollowUp, Household).join(Household, Household.id == FollowUp.household_id).where(FollowUp.uid == uid)
    ).first()
    if row is None or row[1].erased_at is not None:
        raise NotFound(f"no follow-up {uid}")
    require(actor, permission)
    if not covers_site(actor, row[1].site_id):
        raise NotFound(f"no follow-up {uid}")
    # Lock the household first (as every write to its records does), then read the follow-up again.
    session.refresh(row[1], with_for_update={"key_share": True})
    session.refresh(row[0])
    return row[0], row[1]


def record_outcome(
    session: Session, actor: Actor, uid: str, command: FollowUpOutcomeIn, expected_version: int | None = None
) -> int:
    """The outcome of one follow-up. After `moved`, the household's later follow-ups are cancelled."""
    with action(session):
        followup, household = _load(session, actor, uid, Permission.FOLLOW_UP)
        check_version(followup.version, expected_version)
        if followup.outcome is not None:
            raise Conflict(f"this follow-up's outcome is recorded already ({followup.outcome})")
        if command.contacted_on < followup.arrived_on:
            raise ValidationFailed("contacted_on", "before the household's arrival")
        followup.outcome, followup.contacted_on, followup.recorded_at = command.outcome, command.contacted_on, utcnow()
        cancelled = cancel_later(session, followup) if command.outcome == "moved" else 0
        session.flush()
        payload = {
            "outcome": command.outcome,
            "days_after_arrival": followup.days_after_arrival,
            "cancelled": cancelled,
        }
        record_event(session, actor, "record_followup", "followup", followup.uid, payload, household.site_id)
    return followup.version


def cancel_later(session: Session, followup: FollowUp) -> int:
    later = list(
        session.scalars(
            select(FollowUp).where(
                FollowUp.household_id == followup.household_id,
                FollowUp.arrived_on == followup.arrived_on,
                FollowUp.days_after_arrival > followup.days_after_arrival,
                FollowUp.outcome.is_(None),
            )
        )
    )
    for item in later:
        item.outcome, item.recorded_at = Outcome.CANCELLED.value, utcnow()
    return len(later)


def _monitor(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or user.role not in {Role.MONITOR.value, Role.ADMIN.value}:
        raise ValidationFailed("monitor", f"{username!r} is not an active monitor")
    return user


def assign_followups(session: Session, actor: Actor, household_uid: str, monitor: str) -> int:
    """Give a household's open follow-ups to a monitor who covers its site."""
    with action(session):
        household = load_household(session, actor, household_uid, Permission.ASSIGN_FOLLOWUPS)
        user = _monitor(session, monitor)
        if not covers_site(actor_for_user(session, user), household.site_id):
            raise ValidationFailed("monitor", f"{monitor!r} does not cover this household's site")
        open_items = list(
            session.scalars(select(FollowUp).where(FollowUp.household_id == household.id, FollowUp.outcome.is_(None)))
        )
        for item in open_items:
            item.monitor_id = user.id
        record_event(
            session,
            actor,
            "assign_followups",
            "household",
            household.uid,
            {"monitor": monitor, "followups": len(open_items)},
            household.site_id,
        )
    return len(open_items)


def monitors_for_household(session: Session, actor: Actor, household_uid: str) -> list[str]:
    """The active monitors who cover the household's site, by username: whom its follow-ups may go to."""
    household = load_household(session, actor, household_uid, Permission.ASSIGN_FOLLOWUPS, lock=False)
    at_site = select(UserSite.user_id).where(UserSite.site_id == household.site_id)
    query = select(User.username).where(
        User.active.is_(True), User.role == Role.MONITOR.value, or_(User.all_sites.is_(True), User.id.in_(at_site))
    )
    return list(session.scalars(query.order_by(User.username)))


def _scoped(query: Select[Any], actor: Actor) -> Select[Any]:
    query = query.where(Household.erased_at.is_(None))
    if actor.role == Role.ADMIN or actor.all_sites:
        return query
    return query.where(Household.site_id.in_(sorted(actor.site_ids)))


def overdue_followups(
    session: Session,
    actor: Actor,
    today: date,
    grace_days: int,
    monitor: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Follow-ups past their due date (plus the grace days) with no outcome, oldest first."""
    require(actor, Permission.FOLLOW_UP)
    cutoff = today - timedelta(days=grace_days)
    query = _scoped(
        select(FollowUp, Household.uid, Site.code, User.username)
        .join(Household, Household.id == FollowUp.household_id)
        .join(Site, Site.id == Household.site_id)
        .outerjoin(User, User.id == FollowUp.monitor_id)
        .where(FollowUp.outcome.is_(None), FollowUp.due_on < cutoff),
        actor,
    )
    if monitor is not None:
        query = query.where(User.username == monitor)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.execute(query.order_by(FollowUp.due_on, FollowUp.id).limit(limit).offset(offset)).tuples()
    items = [_overdue_view(followup, household, site, user, today) for followup, household, site, user in rows]
    return {"total": total, "limit": limit, "offset": offset, "items": items}


def _overdue_view(followup: FollowUp, household: str, site: str, monitor: str | None, today: date) -> dict[str, Any]:
    return {
        "followup_id": followup.uid,
        "household_id": household,
        "site": site,
        "days_after_arrival": followup.days_after_arrival,
        "due_on": followup.due_on.isoformat(),
        "days_overdue": (today - followup.due_on).days,
        "monitor": monitor,
        "version": followup.version,
    }


def _unreached(session: Session, actor: Actor, today: date, after_days: int) -> list[tuple[Household, dict[str, Any]]]:
    """Households in scope with a follow-up due and no successful contact (or arrival) for over `after_days`."""
    reached = (
        select(FollowUp.household_id, func.max(FollowUp.contacted_on).label("last"))
        .where(FollowUp.outcome == Outcome.REACHED.value)
        .group_by(FollowUp.household_id)
        .subquery()
    )
    due = (
        select(FollowUp.household_id, func.max(FollowUp.arrived_on).label("arrived"))
        .where(FollowUp.outcome.is_(None), FollowUp.due_on <= today)
        .group_by(FollowUp.household_id)
        .subquery()
    )
    query = _scoped(
        select(Household, func.coalesce(reached.c.last, due.c.arrived))
        .join(due, due.c.household_id == Household.id)
        .outerjoin(reached, reached.c.household_id == Household.id),
        actor,
    )
    found = [
        (household, {"household_id": household.uid, "last_contact": last.isoformat(), "days": (today - last).days})
        for household, last in session.execute(query).tuples()
        if needs_escalation(last, today, after_days)
    ]
    return sorted(found, key=lambda pair: (-int(pair[1]["days"]), pair[0].uid))


def unreached_households(session: Session, actor: Actor, today: date, after_days: int) -> list[dict[str, Any]]:
    """Households with a follow-up due and no successful contact for more than `after_days` days.

    Monitors (who make the contacts) and those who escalate (coordinators) may read it.
    """
    if not may(actor, Permission.FOLLOW_UP):
        require(actor, Permission.ASSIGN_FOLLOWUPS)
    return [item for _household, item in _unreached(session, actor, today, after_days)]


def escalate_unreached(session: Session, actor: Actor, today: date, after_days: int) -> list[dict[str, Any]]:
    """Mark every household not reached for too long as escalated (one event each), once per open follow-up."""
    require(actor, Permission.ASSIGN_FOLLOWUPS)
    escalated = []
    with action(session):
        for household, item in _unreached(session, actor, today, after_days):
            fresh = list(
                session.scalars(
                    select(FollowUp).where(
                        FollowUp.household_id == household.id,
                        FollowUp.outcome.is_(None),
                        FollowUp.due_on <= today,
                        FollowUp.escalated_at.is_(None),
                    )
                )
            )
            if not fresh:
                continue
            for followup in fresh:
                followup.escalated_at = utcnow()
            record_event(session, actor, "escalate_followup", "household", household.uid, item, household.site_id)
            escalated.append(item)
    return escalated


def followups_of_household(session: Session, actor: Actor, household_uid: str) -> list[dict[str, Any]]:
    """A household's follow-ups, due date first, with the monitor each one is given to (None: nobody yet)."""
    household = load_household(session, actor, household_uid, Permission.READ_RECORDS, lock=False)
    rows = session.execute(
        select(FollowUp, User.username)
        .outerjoin(User, User.id == FollowUp.monitor_id)
        .where(FollowUp.household_id == household.id)
        .order_by(FollowUp.due_on, FollowUp.id)
    ).tuples()
    return [
        {
            "followup_id": item.uid,
            "arrived_on": item.arrived_on.isoformat(),
            "days_after_arrival": item.days_after_arrival,
            "due_on": item.due_on.isoformat(),
            "outcome": item.outcome,
            "contacted_on": item.contacted_on.isoformat() if item.contacted_on else None,
            "escalated": item.escalated_at is not None,
            "monitor": monitor,
            "version": item.version,
        }
        for item, monitor in rows
    ]
