"""Throttling failed sign-ins and household PIN lookups, per username and per client address.

Counts are kept in the database (so every worker process shares them) under a keyed digest of the
username or address: the table names nobody. Each attempt is counted before the password is
checked (pure rules: `throttling.py`), so parallel guesses are bounded too, and a locked key is
refused before any Argon2 work, which also spares the CPU an attacker would make it do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, case, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from awda.access.models import LoginThrottle
from awda.access.rules import Actor, Role
from awda.access.throttling import Count, Limit, reserve, retry_after
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
    """Count the attempt on every gate before it runs (429 when a gate is locked); an AuthenticationFailed
    inside stays counted, anything else gives the count back. On success the username's count is cleared;
    an address only gets this attempt back (one good PIN must not buy more guesses at others)."""
    reserved: list[Gate] = []
    try:
        for gate in gates:
            reserve_attempt(runtime, gate)
            reserved.append(gate)
    except TooManyAttempts:
        for gate in reserved:
            give_back(runtime, gate)
        raise
    try:
        yield
    except AuthenticationFailed:
        raise
    except BaseException:
        for gate in gates:
            give_back(runtime, gate)
        raise
    for gate in gates:
        if gate.kind == "user":
            clear(runtime, gate)
        else:
            give_back(runtime, gate)


def reserve_attempt(runtime: Runtime, gate: Gate) -> None:
    """Count one attempt in its own transaction (so it stays counted though the request fails)."""
    for attempt in range(2):
        with runtime.sessions() as session:
            try:
                _reserve(session, gate)
                return
            except IntegrityError:
                session.rollback()  # another request created the row first: count again on it
                if attempt:
                    raise


def _reserve(session: Session, gate: Gate) -> None:
    now = utcnow()
    # A write that changes nothing comes first, so it takes the row's lock before the read: no lost counts.
    touch = update(LoginThrottle).where(LoginThrottle.key == gate.key).values(failures=LoginThrottle.failures)
    found = cast(CursorResult[Any], session.execute(touch)).rowcount > 0
    row = session.get(LoginThrottle, gate.key, populate_existing=True) if found else None
    decision = reserve(_count(row), now, gate.limit)
    if row is None:
        row = LoginThrottle(key=gate.key, failures=0, window_start=now)
        session.add(row)
    counted = decision.count
    row.failures, row.window_start, row.locked_until = counted.failures, counted.window_start, counted.locked_until
    if decision.locks:
        minutes = gate.limit.lock // timedelta(minutes=1)
        record_event(session, GATE, "lock_sign_in", gate.kind, gate.subject, {"minutes": minutes})
    session.commit()
    if not decision.allowed:
        raise TooManyAttempts(retry_after(counted, now) or 1)


def give_back(runtime: Runtime, gate: Gate) -> None:
    """Return one counted attempt (it did not fail), atomically."""
    failures = LoginThrottle.failures
    with runtime.sessions() as session:
        lowered = case((failures > 0, failures - 1), else_=0)
        session.execute(update(LoginThrottle).where(LoginThrottle.key == gate.key).values(failures=lowered))
        session.commit()


def clear(runtime: Runtime, gate: Gate) -> None:
    with runtime.sessions() as session:
        session.execute(delete(LoginThrottle).where(LoginThrottle.key == gate.key))
        session.commit()


def _count(row: LoginThrottle | None) -> Count | None:
    return None if row is None else Count(row.failures, row.window_start, row.locked_until)
