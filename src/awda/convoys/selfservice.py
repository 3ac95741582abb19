"""A household's own view of its wait: by reference code and PIN, and nothing about anyone else.

The PIN is stored as a keyed digest (the vault's blind-index key): a stolen database does not let
anyone try PINs offline. Online, a reference is locked for a while after a few wrong PINs, and an
unknown reference and a wrong PIN get the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission, Role
from awda.audit.services import record_event
from awda.convoys.models import Booking, Convoy
from awda.convoys.waitlist_rules import DEFAULT_PRIORITY_DAYS, reconfirm_window_start, reconfirmed_in_window
from awda.convoys.waitlists import placements
from awda.db import action, utcnow
from awda.errors import AuthenticationFailed, Conflict
from awda.households.models import Household, Intention
from awda.households.reference import display_reference, new_pin, new_reference, normalise_pin, normalise_reference
from awda.households.rules import OPEN_STATUSES, IntentionStatus
from awda.households.services import load_household
from awda.places.models import Place, Site
from awda.vault import Vault

# Who is on record for what a household does for itself (no user account; the PIN is the proof).
HOUSEHOLD = Actor(user_id=None, username="household (reference and PIN)", role=Role.ANALYST)
NOT_RECOGNISED = "the reference or the PIN is not right"


@dataclass(frozen=True)
class Limits:
    max_failures: int = 5
    lock_minutes: int = 15
    window_days: int = 7
    priority_days: int = DEFAULT_PRIORITY_DAYS


def pin_digest(vault: Vault, reference: str, pin: str) -> bytes:
    return vault.blind_index("household_pin", f"{reference}:{pin}")


def issue_pin(session: Session, vault: Vault, actor: Actor, household_uid: str) -> dict[str, str]:
    """Give a household its reference (kept if it has one) and a new PIN, shown once, to print on its slip."""
    for _ in range(5):  # a clash of 45-bit references is rare; try again rather than fail
        try:
            with action(session):
                household = load_household(session, actor, household_uid, Permission.REGISTER)
                household.reference = household.reference or new_reference()
                pin = new_pin()
                household.pin_digest = pin_digest(vault, household.reference, pin)
                household.pin_failures, household.pin_locked_until = 0, None
                record_event(session, actor, "issue_household_pin", "household", household.uid, {}, household.site_id)
            return {"household": household.uid, "reference": display_reference(household.reference), "pin": pin}
        except IntegrityError:
            continue
    raise Conflict("could not find a free reference code; try again")


def _authenticate(session: Session, vault: Vault, reference: str, pin: str, limits: Limits) -> Household:
    """The household whose reference and PIN these are; counts failures and locks (committed).

    Each attempt is counted before its PIN is compared, by one atomic UPDATE committed at once:
    parallel guesses cannot all read the same count, so at most `max_failures` PINs are ever
    compared before the reference locks.
    """
    code, digits = normalise_reference(reference), normalise_pin(pin)
    household = None if code is None else session.scalar(select(Household).where(Household.reference == code))
    if code is None or household is None or household.erased_at is not None or household.pin_digest is None:
        raise AuthenticationFailed(NOT_RECOGNISED)
    attempt = _claim_attempt(session, household.id)
    # An attempt past the limit (a parallel guess) is refused without its PIN being compared.
    if attempt <= limits.max_failures and _pin_right(vault, household, code, digits):
        with action(session):
            _set_pin_counter(session, household.id, 0)
        return household
    with action(session):
        locked = attempt >= limits.max_failures
        if locked:
            _set_pin_counter(session, household.id, 0, utcnow() + timedelta(minutes=limits.lock_minutes))
        payload = {"locked": locked}
        record_event(
            session, HOUSEHOLD, "household_lookup_failed", "household", household.uid, payload, household.site_id
        )
    raise AuthenticationFailed(NOT_RECOGNISED)


def _pin_right(vault: Vault, household: Household, code: str, digits: str | None) -> bool:
    return digits is not None and pin_digest(vault, code, digits) == household.pin_digest


def _claim_attempt(session: Session, household_id: int) -> int:
    """Count one more attempt unless the reference is locked; returns the attempt's number."""
    now = utcnow()
    with action(session):
        unlocked = or_(Household.pin_locked_until.is_(None), Household.pin_locked_until <= now)
        claim = (
            update(Household)
            .where(Household.id == household_id, unlocked)
            .values(pin_failures=Household.pin_failures + 1)
            .returning(Household.pin_failures)
            .execution_options(synchronize_session=False)
        )
        attempt = session.execute(claim).scalar()
        locked_until = session.scalar(select(Household.pin_locked_until).where(Household.id == household_id))
    if attempt is None:
        until = f"{locked_until:%H:%M} UTC" if locked_until is not None else "a while"
        raise AuthenticationFailed(f"too many wrong PINs; try again after {until}")
    return int(attempt)


def _set_pin_counter(session: Session, household_id: int, failures: int, locked_until: datetime | None = None) -> None:
    # A plain UPDATE: a household's own lookups do not change the version staff edit against.
    values = {"pin_failures": failures, "pin_locked_until": locked_until}
    session.execute(update(Household).where(Household.id == household_id).values(values))


def _current_intention(session: Session, household: Household) -> Intention | None:
    """The household's live intention, else its latest one."""
    intentions = list(
        session.scalars(select(Intention).where(Intention.household_id == household.id).order_by(Intention.id.desc()))
    )
    live = [i for i in intentions if i.status in OPEN_STATUSES or i.status == IntentionStatus.DEPARTED]
    return live[0] if live else (intentions[0] if intentions else None)


def household_status(
    session: Session, vault: Vault, reference: str, pin: str, today: date, limits: Limits
) -> dict[str, Any]:
    """What a household may know of its own wait; the lookup is an event."""
    household = _authenticate(session, vault, reference, pin, limits)
    view = _status_view(session, household, today, limits)
    with action(session):
        record_event(session, HOUSEHOLD, "household_lookup", "household", household.uid, {}, household.site_id)
    return view


def _status_view(session: Session, household: Household, today: date, limits: Limits) -> dict[str, Any]:
    assert household.reference is not None  # authenticated by it
    view: dict[str, Any] = {"reference": display_reference(household.reference), "as_of": today.isoformat()}
    intention = _current_intention(session, household)
    if intention is None:
        return view | {"status": "no_request"}
    destination = session.get(Place, intention.destination_id)
    assert destination is not None  # a foreign key
    view |= {
        "status": intention.status,
        "destination": {"pcode": destination.pcode, "name_en": destination.name_en, "name_ar": destination.name_ar},
        "reconfirmed_at": intention.reconfirmed_at.isoformat() if intention.reconfirmed_at else None,
    }
    if intention.status in (IntentionStatus.REGISTERED, IntentionStatus.WAITLISTED):
        site = session.get(Site, household.site_id)
        origin = site.code if site else None
        placed = placements(session, None, today, origin, limits.priority_days).get(intention.uid)
        if placed is not None:
            view |= {
                "position": placed.position,
                "expected_week": placed.expected_week,
                "expected_week_estimated": placed.estimated,
            }
    convoy = _booked_convoy(session, intention)
    if convoy is not None:
        view["convoy"] = {
            "departs_on": convoy.departs_on.isoformat(),
            "reconfirm_from": reconfirm_window_start(convoy.departs_on, limits.window_days).isoformat(),
            "reconfirmed": reconfirmed_in_window(intention.reconfirmed_at, convoy.departs_on, limits.window_days),
        }
    return view


def _booked_convoy(session: Session, intention: Intention) -> Convoy | None:
    return session.scalar(
        select(Convoy)
        .join(Booking, Booking.convoy_id == Convoy.id)
        .where(Booking.intention_id == intention.id, Booking.status.in_(("booked", "boarded")))
    )


def reconfirm_by_household(
    session: Session, vault: Vault, reference: str, pin: str, today: date, limits: Limits
) -> dict[str, Any]:
    """The household says, itself, that it still wants to travel. One event."""
    household = _authenticate(session, vault, reference, pin, limits)
    with action(session):
        intention = _current_intention(session, household)
        if intention is None or intention.status not in OPEN_STATUSES:
            raise Conflict("there is no request to travel to re-confirm")
        intention.reconfirmed_at = household.updated_at = utcnow()
        record_event(session, HOUSEHOLD, "reconfirm_intention", "intention", intention.uid, {}, household.site_id)
    return _status_view(session, household, today, limits)
