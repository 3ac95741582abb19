"""Named actions on an intention's status: each is one transition with who, when and why."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.audit.services import record_event
from awda.db import action, utcnow
from awda.errors import Conflict, NotFound
from awda.households.models import Household, Intention
from awda.households.rules import IntentionStatus, check_reason, reconfirmation_fresh
from awda.households.services import check_version, load_household, move_intention


def load_intention(session: Session, actor: Actor, uid: str, permission: Permission) -> tuple[Intention, Household]:
    """The intention and its household for a write; out-of-scope ones look absent.

    The household is locked first (as every write to a household's records does), then the
    intention is read: its version is then the current one.
    """
    household_uid = session.scalar(select(Household.uid).join(Intention).where(Intention.uid == uid))
    try:
        household = load_household(session, actor, household_uid or "", permission)
    except NotFound:
        raise NotFound(f"no intention {uid}") from None
    query = select(Intention).where(Intention.uid == uid).execution_options(populate_existing=True)
    return session.scalars(query).one(), household


def _change(
    session: Session,
    actor: Actor,
    uid: str,
    target: IntentionStatus,
    permission: Permission,
    reason: str,
    expected_version: int | None,
    max_reconfirm_age_days: int | None = None,
) -> int:
    check_reason(reason)
    with action(session):
        intention, household = load_intention(session, actor, uid, permission)
        check_version(intention.version, expected_version)
        if max_reconfirm_age_days is not None and not reconfirmation_fresh(
            intention.reconfirmed_at, utcnow(), max_reconfirm_age_days
        ):
            raise Conflict(f"departure needs a re-confirmation within the last {max_reconfirm_age_days} days")
        previous = intention.status
        move_intention(session, actor, intention, target, reason)
        household.updated_at = utcnow()
        session.flush()
        record_event(
            session,
            actor,
            f"{target.value}_intention",
            "intention",
            intention.uid,
            {"from": previous, "to": target.value, "reason": reason},
            household.site_id,
        )
    return intention.version


def withdraw_intention(
    session: Session, actor: Actor, uid: str, reason: str = "changed_mind", expected_version: int | None = None
) -> int:
    """The household no longer wants to move: allowed at any time before departure, no penalty."""
    return _change(
        session, actor, uid, IntentionStatus.WITHDRAWN, Permission.DECLARE_INTENTION, reason, expected_version
    )


def reconfirm_intention(session: Session, actor: Actor, uid: str, expected_version: int | None = None) -> int:
    """The household confirms it still wants to travel (needed shortly before departure)."""
    with action(session):
        intention, household = load_intention(session, actor, uid, Permission.DECLARE_INTENTION)
        check_version(intention.version, expected_version)
        if intention.status not in {IntentionStatus.REGISTERED, IntentionStatus.WAITLISTED, IntentionStatus.ASSIGNED}:
            raise Conflict(f"an intention that is {intention.status} cannot be re-confirmed")
        intention.reconfirmed_at = household.updated_at = utcnow()
        session.flush()
        record_event(session, actor, "reconfirm_intention", "intention", intention.uid, {}, household.site_id)
    return intention.version


def waitlist_intention(
    session: Session, actor: Actor, uid: str, reason: str = "", expected_version: int | None = None
) -> int:
    return _change(session, actor, uid, IntentionStatus.WAITLISTED, Permission.MOVE_INTENTION, reason, expected_version)


def assign_intention(session: Session, actor: Actor, uid: str, expected_version: int | None = None) -> int:
    return _change(session, actor, uid, IntentionStatus.ASSIGNED, Permission.MOVE_INTENTION, "", expected_version)


def record_departure(
    session: Session, actor: Actor, uid: str, reconfirm_days: int, expected_version: int | None = None
) -> int:
    """The household left; refused unless it re-confirmed within `reconfirm_days`."""
    return _change(
        session,
        actor,
        uid,
        IntentionStatus.DEPARTED,
        Permission.MOVE_INTENTION,
        "",
        expected_version,
        max_reconfirm_age_days=reconfirm_days,
    )


def record_arrival(session: Session, actor: Actor, uid: str, expected_version: int | None = None) -> int:
    return _change(session, actor, uid, IntentionStatus.ARRIVED, Permission.MOVE_INTENTION, "", expected_version)


def cancel_intention(session: Session, actor: Actor, uid: str, reason: str, expected_version: int | None = None) -> int:
    return _change(session, actor, uid, IntentionStatus.CANCELLED, Permission.MOVE_INTENTION, reason, expected_version)


def change_status(
    session: Session,
    actor: Actor,
    uid: str,
    target: IntentionStatus,
    reason: str = "",
    expected_version: int | None = None,
    reconfirm_days: int = 7,
) -> int:
    """Dispatch to the named action for `target`; returns the intention's new version."""
    if target == IntentionStatus.WITHDRAWN:
        return withdraw_intention(session, actor, uid, reason or "changed_mind", expected_version)
    if target == IntentionStatus.WAITLISTED:
        return waitlist_intention(session, actor, uid, reason, expected_version)
    if target == IntentionStatus.ASSIGNED:
        return assign_intention(session, actor, uid, expected_version)
    if target == IntentionStatus.DEPARTED:
        return record_departure(session, actor, uid, reconfirm_days, expected_version)
    if target == IntentionStatus.ARRIVED:
        return record_arrival(session, actor, uid, expected_version)
    if target == IntentionStatus.CANCELLED:
        return cancel_intention(session, actor, uid, reason, expected_version)
    raise Conflict("an intention cannot go back to 'registered'; declare a new one")
