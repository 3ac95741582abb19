"""`apply_retention`: delete or shred what the retention rules say is due (docs/backup.md)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from awda.access.models import ApiToken
from awda.access.rules import Actor, Permission
from awda.audit.services import record_event
from awda.backup.rules import FILE_SUFFIX, MAGIC
from awda.convoys.messages import FileSender, sender_from_setting
from awda.db import action, utcnow
from awda.households.erasure import erase_household
from awda.households.models import Household, Intention
from awda.households.rules import ACTIVE_STATUSES
from awda.monitoring.models import Arrival, FollowUp
from awda.retention import rules
from awda.settings import Settings

ID_BATCH = 500


def retention_table(settings: Settings) -> list[dict[str, Any]]:
    """Every rule with the period this installation has set (None: kept for good, 0: off)."""
    return [
        {
            "record_type": rule.record_type,
            "setting": f"AWDA_{rule.setting.upper()}" if rule.setting else None,
            "days": getattr(settings, rule.setting) if rule.setting else None,
            "action": rule.action,
            "counted_from": rule.counted_from,
            "why": rule.why,
        }
        for rule in rules.RULES
    ]


def apply_retention(
    session: Session, actor: Actor, settings: Settings, now: datetime | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """Apply every rule that is on; with `dry_run`, only count what is due.

    Households are shredded through `erase_household` (an event and a ledger line each); the rest
    is one `apply_retention` event with the counts. Events themselves are never deleted.
    """
    from awda.access.services import require  # imported here: access.services needs the audit services

    require(actor, Permission.ERASE)
    require(actor, Permission.MANAGE_USERS)
    now = now or utcnow()
    days = {rule.record_type: getattr(settings, rule.setting) for rule in rules.RULES if rule.setting}
    cuts = {record_type: rules.cutoff(now, period) for record_type, period in days.items()}
    tokens = _tokens_due(session, cuts["api_tokens"])
    pins = _pins_due(session, cuts["household_pins"])
    households = _households_due(session, cuts["inactive_households"])
    outbox = _outbox_path(settings)
    outbox_due = _outbox_lines_due(outbox, cuts["outbox_messages"])
    backups = _backups_due(settings.backup_dir or settings.data_dir / "backups", cuts["backup_files"])
    counts = {
        "api_tokens": len(tokens),
        "household_pins": len(pins),
        "inactive_households": len(households),
        "outbox_messages": len(outbox_due),
        "backup_files": len(backups),
    }
    report = {"dry_run": dry_run, "rules": {key: {"days": days[key], "due": counts[key]} for key in days}}
    if dry_run:
        return report
    for uid in households:
        erase_household(session, actor, uid)
    _remove_outbox_lines(outbox, outbox_due)
    for path in backups:
        path.unlink(missing_ok=True)
    with action(session):
        _delete_ids(session, tokens)
        _clear_pins(session, pins)
        record_event(session, actor, "apply_retention", "retention", now.date().isoformat(), counts)
    return report


def _tokens_due(session: Session, cut: datetime | None) -> list[int]:
    if cut is None:
        return []
    rows = session.execute(select(ApiToken.id, ApiToken.expires_at, ApiToken.revoked_at)).all()
    return [token_id for token_id, expires_at, revoked_at in rows if rules.token_due(expires_at, revoked_at, cut)]


def _pins_due(session: Session, cut: datetime | None) -> list[int]:
    if cut is None:
        return []
    has_pin_state = or_(
        Household.pin_digest.is_not(None), Household.pin_failures > 0, Household.pin_locked_until.is_not(None)
    )
    query = (
        select(Household.id, Intention.status, Intention.status_changed_at)
        .join(Intention, Intention.household_id == Household.id)
        .where(has_pin_state)
        .order_by(Household.id)
        .execution_options(yield_per=5_000)
    )
    due = []
    for household_id, group in groupby(session.execute(query), key=lambda row: row[0]):
        rows = list(group)
        last_change = max(row[2] for row in rows)
        if rules.pin_due([row[1] for row in rows], last_change, cut):
            due.append(household_id)
    return due


def _households_due(session: Session, cut: datetime | None) -> list[str]:
    """Uids of households inactive since before the cut (no household changed since is a candidate)."""
    if cut is None:
        return []
    latest = [
        select(func.max(column)).where(owner == Household.id).scalar_subquery()
        for column, owner in (
            (Intention.status_changed_at, Intention.household_id),
            (Intention.reconfirmed_at, Intention.household_id),
            (Arrival.recorded_at, Arrival.household_id),
            (FollowUp.recorded_at, FollowUp.household_id),
        )
    ]
    active = (
        select(func.count())
        .where(Intention.household_id == Household.id, Intention.status.in_(ACTIVE_STATUSES))
        .scalar_subquery()
    )
    query = select(Household.uid, active, Household.updated_at, *latest).where(
        Household.erased_at.is_(None), Household.updated_at < cut
    )
    due = []
    for uid, active_intentions, updated_at, *times in session.execute(query):
        last_activity = max(_aware(time) for time in (updated_at, *times) if time is not None)
        if rules.household_due(int(active_intentions), last_activity, cut):
            due.append(uid)
    return due


def _aware(moment: datetime) -> datetime:
    # Aggregates bypass the UtcDateTime column type: SQLite gives naive UTC (or text) back.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _delete_ids(session: Session, token_ids: list[int]) -> None:
    for start in range(0, len(token_ids), ID_BATCH):
        session.execute(delete(ApiToken).where(ApiToken.id.in_(token_ids[start : start + ID_BATCH])))


def _clear_pins(session: Session, household_ids: list[int]) -> None:
    for start in range(0, len(household_ids), ID_BATCH):
        session.execute(
            update(Household)
            .where(Household.id.in_(household_ids[start : start + ID_BATCH]))
            .values(pin_digest=None, pin_failures=0, pin_locked_until=None, version=Household.version + 1)
            .execution_options(synchronize_session=False)
        )


def _outbox_path(settings: Settings) -> Path | None:
    sender = sender_from_setting(settings.message_sender, settings.data_dir)
    return sender.path if isinstance(sender, FileSender) else None


def _changed_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _outbox_lines(path: Path) -> Iterator[tuple[int, datetime | None]]:
    """(line number, queued at or None) of every line of the outbox."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            try:
                queued = json.loads(line).get("queued_at")
                yield number, _aware(datetime.fromisoformat(queued)) if isinstance(queued, str) else None
            except (ValueError, AttributeError):
                yield number, None


def _outbox_lines_due(path: Path | None, cut: datetime | None) -> set[int]:
    if path is None or cut is None or not path.exists():
        return set()
    changed = _changed_at(path)
    return {number for number, queued in _outbox_lines(path) if rules.outbox_line_due(queued, changed, cut)}


def _remove_outbox_lines(path: Path | None, due: set[int]) -> None:
    """Rewrite the outbox without the due lines (atomically, mode 0600), unless it changed meanwhile."""
    if path is None or not due:
        return
    before = path.stat()
    with path.open(encoding="utf-8") as handle:
        kept = [line for number, line in enumerate(handle) if number not in due]
    after = path.stat()
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
        return  # a message was queued meanwhile: leave it all for the next run
    if not kept:
        path.unlink()
        return
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".outbox-", suffix=".tmp")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.writelines(kept)
    os.replace(temporary, path)


def _backups_due(folder: Path, cut: datetime | None) -> list[Path]:
    """Backup files (checked by their first bytes, never anything else) older than the cut."""
    if cut is None or not folder.is_dir():
        return []
    files = {path.name: path for path in folder.glob(f"*{FILE_SUFFIX}") if path.is_file() and _is_backup(path)}
    listed = [(name, _changed_at(path)) for name, path in files.items()]
    return [files[name] for name in rules.backups_due(listed, cut)]


def _is_backup(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC
