"""Crypto-shredding: erasing a household destroys its data key and its blind indexes.

What stays is anonymous: member count, sex, birth year, relationships, intentions and their
history, so aggregate statistics do not change when a household exercises its right to erasure.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.audit.services import record_event
from awda.backup.ledger import ledger_of
from awda.db import action, utcnow
from awda.households.models import Household, Person, PersonIdentifier
from awda.households.services import check_version, load_household


def erase_household(session: Session, actor: Actor, uid: str, expected_version: int | None = None) -> None:
    """Make the household's personal fields unrecoverable; counts it contributed stay.

    The uid is also appended to the erasure ledger outside the database (when the session's
    factory has one, see `backup/ledger.py`), before the commit, so a restored backup made before
    this erasure is shredded again.
    """
    with action(session):
        household = load_household(session, actor, uid, Permission.ERASE)
        check_version(household.version, expected_version)
        erased_at = utcnow()
        shred(session, household, erased_at)
        ledger = ledger_of(session)
        payload = {} if ledger is None else {"ledger_line": ledger.append(household.uid, erased_at)}
        record_event(session, actor, "erase_household", "household", household.uid, payload, household.site_id)
    _checkpoint_sqlite(session)


def shred(session: Session, household: Household, erased_at: datetime) -> None:
    """Delete the data key, ciphertexts, blind indexes and fingerprint (inside the caller's transaction)."""
    person_ids = select(Person.id).where(Person.household_id == household.id)
    session.execute(delete(PersonIdentifier).where(PersonIdentifier.person_id.in_(person_ids)))
    session.execute(update(Person).where(Person.household_id == household.id).values(sealed=None))
    household.wrapped_key = None
    household.fingerprint = None
    household.erased_at = erased_at


def _checkpoint_sqlite(session: Session) -> None:
    """Fold the write-ahead log into the database so the old key pages are overwritten."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        session.commit()


def is_erased(session: Session, uid: str) -> bool:
    return session.scalar(select(Household.erased_at).where(Household.uid == uid)) is not None
