"""Retention, pure: how long each record type is kept, what happens then, and what is due now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from awda.households.rules import ACTIVE_STATUSES


@dataclass(frozen=True)
class RetentionRule:
    record_type: str
    setting: str | None  # the Settings field holding the period in days (0 = off); None: kept for good
    action: str
    counted_from: str
    why: str


RULES: tuple[RetentionRule, ...] = (
    RetentionRule(
        "api_tokens",
        "retention_token_days",
        "delete",
        "the token's expiry or revocation",
        "a dead token serves nobody; only its digest was stored",
    ),
    RetentionRule(
        "household_pins",
        "retention_pin_days",
        "clear the PIN digest and lock counters",
        "the last status change, once every intention is closed (arrived, withdrawn or cancelled)",
        "the household's own status lookup is no longer needed; a PIN is a guessable secret",
    ),
    RetentionRule(
        "outbox_messages",
        "retention_outbox_days",
        "remove the line from the file outbox",
        "when it was queued (a line without a time: the outbox file's last write)",
        "lines carry phone numbers; a gateway should have sent them long before",
    ),
    RetentionRule(
        "inactive_households",
        "retention_household_days",
        "crypto-shred (the erasure action, ledger included)",
        "the last activity: change, status change, re-confirmation, arrival, follow-up; never with an open intention",
        "off by default: erasure cannot be undone, and a family waiting years in a camp is still waiting",
    ),
    RetentionRule(
        "backup_files",
        "retention_backup_days",
        "delete the file (never the newest backup)",
        "the file's last change",
        "an old backup holds wrapped keys of households erased since (a restore shreds them again)",
    ),
    RetentionRule(
        "events",
        None,
        "keep",
        "",
        "events hold no personal values (their payloads are checked) and the transparency log needs every leaf",
    ),
)


def cutoff(now: datetime, days: int) -> datetime | None:
    """Records older than this are due; None when the period is 0 (the rule is off)."""
    return None if days <= 0 else now - timedelta(days=days)


def token_due(expires_at: datetime, revoked_at: datetime | None, cut: datetime) -> bool:
    ended = expires_at if revoked_at is None else min(expires_at, revoked_at)
    return ended < cut


def pin_due(statuses: Sequence[str], last_change: datetime | None, cut: datetime) -> bool:
    """PIN state goes once the household has intentions, none still open or under way, long enough."""
    closed = bool(statuses) and not ACTIVE_STATUSES.intersection(statuses)
    return closed and last_change is not None and last_change < cut


def household_due(active_intentions: int, last_activity: datetime, cut: datetime) -> bool:
    """An inactive household is due only with no open or under-way intention (ACTIVE_STATUSES)."""
    return active_intentions == 0 and last_activity < cut


def outbox_line_due(queued_at: datetime | None, file_changed_at: datetime, cut: datetime) -> bool:
    """A line is at least as old as the file's last write, so that bounds a line with no time."""
    return (queued_at if queued_at is not None else file_changed_at) < cut


def backups_due(files: Sequence[tuple[str, datetime]], cut: datetime) -> list[str]:
    """The backup files (name, changed at) older than the cut, keeping the newest in any case."""
    if not files:
        return []
    newest = max(files, key=lambda item: item[1])[0]
    return sorted(name for name, changed in files if changed < cut and name != newest)
