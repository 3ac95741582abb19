"""Throttling failed sign-ins and household PIN lookups, per username and per client address.

Counts are kept in the database (so every worker process shares them) under a keyed digest of the
username or address: the table names nobody. A locked key is refused before the password is even
checked, so a lock also spares the CPU the Argon2 work an attacker would make it do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from awda.access.models import LoginThrottle
from awda.access.rules import Actor, Role
from awda.access.throttling import Count, Limit, after_failure, retry_after, starts_lock
from awda.audit.services import record_event
from awda.db import utcnow
from awda.errors import AuthenticationFailed, TooManyAttempts
from awda.runtime import Runtime

GATE = Actor(user_id=None, username="sign-in throttle", role=Role.AUDITOR)


@dataclass(frozen=True)
class Gate:
    """One throttled key: what it counts (`kind`), its digest, its limit and how it is named in the log."""

    kind: str
    key: bytes
    limit: Limit
    subject: str


def limits(runtime: Runtime) -> tuple[Limit, Limit]:
    """The per-username and per-address limits from the settings."""
    settings = runtime.settings
    window, lock = timedelta(minutes=settings.login_window_minutes), timedelta(minutes=settings.login_lock_minutes)
    return (
        Limit(settings.login_max_failures, window, lock),
        Limit(settings.login_address_max_failures, window, lock),
    )


def login_gates(runtime: Runtime, username: str, address: str) -> list[Gate]:
    """The gates of a sign-in: the username (logged by name: it is a staff account) and the address."""
    per_user, per_address = limits(runtime)
    user_key = runtime.vault.keyed_digest("throttle", b"user\x00" + username.casefold().encode())
    return [Gate("user", user_key, per_user, username[:64]), address_gate(runtime, "address", address, per_address)]


def address_gate(runtime: Runtime, kind: str, address: str, limit: Limit | None = None) -> Gate:
    """The gate of a client address; the log names it only by a digest prefix (an address is personal)."""
    key = runtime.vault.keyed_digest("throttle", kind.encode() + b"\x00" + address.encode())
    return Gate(kind, key, limit or limits(runtime)[1], key[:6].hex())


@contextmanager
def guarded(runtime: Runtime, gates: list[Gate]) -> Iterator[None]:
    """Refuse locked gates (429); count an AuthenticationFailed raised inside; on success clear the username's
    count (an address's count is not cleared: one good PIN must not buy more guesses at others)."""
    check(runtime, gates)
    try:
        yield
    except AuthenticationFailed:
        for gate in gates:
            record_failure(runtime, gate)
        raise
    for gate in gates:
        if gate.kind == "user":
            clear(runtime, gate)


def check(runtime: Runtime, gates: list[Gate]) -> None:
    now = utcnow()
    with runtime.sessions() as session:
        waits = [retry_after(_count(session.get(LoginThrottle, gate.key)), now) for gate in gates]
    locked = [wait for wait in waits if wait is not None]
    if locked:
        raise TooManyAttempts(max(locked))


def record_failure(runtime: Runtime, gate: Gate) -> None:
    """Count one failure in its own transaction (committed though the request fails); log a new lock."""
    for attempt in range(2):
        with runtime.sessions() as session:
            try:
                _count_failure(session, gate)
                return
            except IntegrityError:
                session.rollback()  # another request created the row first: count again on it
                if attempt:
                    raise


def _count_failure(session: Session, gate: Gate) -> None:
    now = utcnow()
    # A write that changes nothing comes first, so it takes the row's lock before the read: no lost counts.
    touch = update(LoginThrottle).where(LoginThrottle.key == gate.key).values(failures=LoginThrottle.failures)
    found = cast(CursorResult[Any], session.execute(touch)).rowcount > 0
    row = session.get(LoginThrottle, gate.key, populate_existing=True) if found else None
    before = _count(row)
    if row is None:
        row = LoginThrottle(key=gate.key, failures=0, window_start=now)
        session.add(row)
        session.flush()
    after = after_failure(before, now, gate.limit)
    row.failures, row.window_start, row.locked_until = after.failures, after.window_start, after.locked_until
    if starts_lock(before, after, now):
        minutes = gate.limit.lock // timedelta(minutes=1)
        record_event(session, GATE, "lock_sign_in", gate.kind, gate.subject, {"minutes": minutes})
    session.commit()


def clear(runtime: Runtime, gate: Gate) -> None:
    with runtime.sessions() as session:
        row = session.get(LoginThrottle, gate.key)
        if row is not None:
            session.delete(row)
            session.commit()


def _count(row: LoginThrottle | None) -> Count | None:
    return None if row is None else Count(row.failures, row.window_start, row.locked_until)
