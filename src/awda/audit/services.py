"""Writing events. Every action calls `record_event` exactly once, inside its own transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from awda.access.rules import Actor
from awda.audit.models import Event
from awda.audit.rules import canonical_payload
from awda.db import utcnow


def event_row(
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str,
    payload: Mapping[str, Any],
    site_id: int | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The column values of one event (for bulk inserts)."""
    return {
        "at": at or utcnow(),
        "actor_id": actor.user_id,
        "actor_name": actor.username,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "site_id": site_id,
        "payload": canonical_payload(payload),
    }


def record_event(
    session: Session,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str,
    payload: Mapping[str, Any],
    site_id: int | None = None,
) -> None:
    """Add one event to the current transaction."""
    session.execute(insert(Event), [event_row(actor, action, subject_type, subject_id, payload, site_id)])


def record_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(Event), list(rows))


def count_events(session: Session, action: str | None = None) -> int:
    query = select(func.count()).select_from(Event)
    if action is not None:
        query = query.where(Event.action == action)
    return int(session.scalar(query) or 0)
