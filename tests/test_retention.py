"""Retention on both engines: tokens, PINs, inactive households, the outbox, old backups; events stay."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from awda.access.models import ApiToken
from awda.access.services import SYSTEM, issue_token, revoke_token
from awda.audit.models import Event
from awda.backup.rules import MAGIC
from awda.convoys.messages import FileSender, OutgoingMessage
from awda.convoys.selfservice import issue_pin
from awda.db import utcnow
from awda.errors import PermissionDenied
from awda.households import erasure, intentions, services
from awda.households.models import Household
from awda.places.services import load_demo_gazetteer
from awda.retention import rules
from awda.retention.services import apply_retention, retention_table
from awda.runtime import Runtime, open_runtime
from awda.settings import Settings
from tests import factories
from tests.conftest import Done, make_user

Awda = Callable[..., Done]
LATER = timedelta(days=31)


@pytest.fixture
def wired(settings: Settings) -> Iterator[Runtime]:
    runtime = open_runtime(settings)
    with runtime.sessions() as session:
        load_demo_gazetteer(session, SYSTEM)
    yield runtime
    runtime.engine.dispose()


def apply(runtime: Runtime, now: datetime, dry_run: bool = False, **periods: int) -> dict[str, int]:
    settings = runtime.settings.model_copy(update=periods)
    with runtime.sessions() as session:
        report = apply_retention(session, SYSTEM, settings, now, dry_run)
    return {name: row["due"] for name, row in report["rules"].items()}


def event_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def test_every_rule_names_its_setting_and_events_are_kept() -> None:
    settings = Settings()
    table = {row["record_type"]: row for row in retention_table(settings)}
    assert set(table) == {rule.record_type for rule in rules.RULES}
    assert table["events"]["days"] is None and table["events"]["action"] == "keep"
    assert table["inactive_households"]["days"] == 0  # off by default
    assert all(row["setting"] is None or row["setting"].startswith("AWDA_RETENTION_") for row in table.values())


def test_pure_rules_decide_by_dates_alone() -> None:
    now = utcnow()
    cut = rules.cutoff(now, 30)
    assert cut is not None and rules.cutoff(now, 0) is None
    old, recent = now - timedelta(days=40), now - timedelta(days=1)
    assert rules.token_due(old, None, cut) and not rules.token_due(recent, None, cut)
    assert rules.token_due(now + timedelta(days=9), old, cut)  # revoked long ago, would have lived on
    assert rules.pin_due(["arrived", "withdrawn"], old, cut)
    assert not rules.pin_due(["arrived", "waitlisted"], old, cut) and not rules.pin_due([], old, cut)
    assert not rules.pin_due(["departed"], old, cut) and not rules.pin_due(["cancelled"], recent, cut)
    assert rules.household_due(0, old, cut) and not rules.household_due(1, old, cut)
    assert rules.outbox_line_due(None, old, cut) and not rules.outbox_line_due(recent, old, cut)
    assert rules.backups_due([("a", old), ("b", old - timedelta(days=1))], cut) == ["b"]  # the newest stays
    assert rules.backups_due([("a", old), ("b", recent)], cut) == ["a"]


def test_dead_tokens_are_deleted_and_the_counts_are_one_event(wired: Runtime) -> None:
    with wired.sessions() as session:
        user = make_user(session, "coordinator1", "coordinator", ("RUKBAN",))
        issue_token(session, user, 1)
        revoke_token(session, user, issue_token(session, user, 24 * 400))
        issue_token(session, user, 24 * 40)
    events = event_count(wired)
    assert apply(wired, utcnow() + LATER, dry_run=True)["api_tokens"] == 2
    assert event_count(wired) == events  # a dry run changes nothing and records nothing
    assert apply(wired, utcnow() + LATER)["api_tokens"] == 2
    with wired.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ApiToken)) == 1
        recorded = session.scalars(select(Event).where(Event.action == "apply_retention")).one()
    assert json.loads(recorded.payload)["api_tokens"] == 2
    assert event_count(wired) == events + 1  # events are never deleted
    assert apply(wired, utcnow() + LATER, retention_token_days=0)["api_tokens"] == 0


def test_pins_go_once_every_intention_is_closed(wired: Runtime) -> None:
    with wired.sessions() as session:
        closed = services.register_household(session, wired.vault, SYSTEM, factories.household())
        waiting = services.register_household(session, wired.vault, SYSTEM, factories.household())
        for created in (closed, waiting):
            issue_pin(session, wired.vault, SYSTEM, created.household_uid)
        assert closed.intention_uid is not None
        intentions.withdraw_intention(session, SYSTEM, closed.intention_uid)
    assert apply(wired, utcnow())["household_pins"] == 0
    assert apply(wired, utcnow() + LATER)["household_pins"] == 1
    with wired.sessions() as session:
        pins = {row.uid: row.pin_digest for row in session.execute(select(Household.uid, Household.pin_digest))}
    assert pins[closed.household_uid] is None and pins[waiting.household_uid] is not None


def test_inactive_households_are_shredded_only_when_switched_on(wired: Runtime) -> None:
    with wired.sessions() as session:
        closed = services.register_household(session, wired.vault, SYSTEM, factories.household())
        waiting = services.register_household(session, wired.vault, SYSTEM, factories.household())
        gone = services.register_household(session, wired.vault, SYSTEM, factories.household())
        assert closed.intention_uid is not None
        intentions.withdraw_intention(session, SYSTEM, closed.intention_uid)
        erasure.erase_household(session, SYSTEM, gone.household_uid)
    later = utcnow() + timedelta(days=400)
    assert apply(wired, later)["inactive_households"] == 0
    assert apply(wired, later, dry_run=True, retention_household_days=365)["inactive_households"] == 1
    assert apply(wired, later, retention_household_days=365)["inactive_households"] == 1
    with wired.sessions() as session:
        erased = {row.uid: row.erased_at for row in session.execute(select(Household.uid, Household.erased_at))}
        shredded = session.scalars(select(Event.subject_id).where(Event.action == "erase_household")).all()
    assert erased[closed.household_uid] is not None and erased[waiting.household_uid] is None
    assert sorted(shredded) == sorted([gone.household_uid, closed.household_uid])
    ledger = (wired.settings.data_dir / "erasures.ledger").read_text(encoding="ascii")
    assert closed.household_uid in ledger


def test_old_outbox_lines_are_removed(wired: Runtime) -> None:
    outbox = wired.settings.data_dir / "outbox" / "messages.jsonl"
    FileSender(outbox).send(OutgoingMessage("+963944555777", "a date", "convoy_date"))
    assert "queued_at" in outbox.read_text(encoding="utf-8")  # the sender stamps its lines
    # A line an older awda wrote, without a time: as old as the file's last write.
    outbox.write_text(json.dumps({"to": "+963944555777", "text": "a date", "purpose": "p"}) + "\n")
    now = utcnow()
    with outbox.open("a", encoding="utf-8") as handle:
        for queued in (now - timedelta(days=40), now - timedelta(days=1)):
            handle.write(
                json.dumps({"to": "+963944555000", "text": "t", "purpose": "p", "queued_at": queued.isoformat()}) + "\n"
            )
    assert apply(wired, now)["outbox_messages"] == 1
    assert len(outbox.read_text(encoding="utf-8").splitlines()) == 2
    assert outbox.stat().st_mode & 0o777 == 0o600
    long_ago = (now - timedelta(days=40)).timestamp()
    os.utime(outbox, (long_ago, long_ago))
    assert apply(wired, now)["outbox_messages"] == 1  # the line without a time is as old as the file
    assert [json.loads(line).get("queued_at") for line in outbox.read_text(encoding="utf-8").splitlines()] == [
        (now - timedelta(days=1)).isoformat()
    ]
    assert apply(wired, now + LATER)["outbox_messages"] == 1
    assert not outbox.exists()


def make_file(folder: Path, name: str, days_old: float, content: bytes = MAGIC + b"rest") -> Path:
    path = folder / name
    path.write_bytes(content)
    moment = (utcnow() - timedelta(days=days_old)).timestamp()
    os.utime(path, (moment, moment))
    return path


def test_old_backups_go_but_never_the_newest_or_other_files(wired: Runtime) -> None:
    folder = wired.settings.data_dir / "backups"
    folder.mkdir(parents=True)
    make_file(folder, "a.awdabak", 100)
    make_file(folder, "b.awdabak", 95)
    other = make_file(folder, "c.awdabak", 200, b"not a backup")
    text = make_file(folder, "notes.txt", 200)
    assert apply(wired, utcnow())["backup_files"] == 1
    assert sorted(path.name for path in folder.iterdir()) == ["b.awdabak", "c.awdabak", "notes.txt"]
    make_file(folder, "d.awdabak", 1)
    assert apply(wired, utcnow())["backup_files"] == 1
    assert sorted(path.name for path in folder.iterdir()) == ["c.awdabak", "d.awdabak", "notes.txt"]
    assert other.exists() and text.exists()


def test_retention_needs_the_right_to_erase(wired: Runtime) -> None:
    with wired.sessions() as session:
        registrar = make_user(session, "registrar1", "registrar", ("RUKBAN",))
        with pytest.raises(PermissionDenied):
            apply_retention(session, registrar, wired.settings)


def test_retention_from_the_command_line(awda: Awda) -> None:
    shown = json.loads(awda("retention", "show", "--json").stdout)["rules"]
    assert {row["record_type"] for row in shown} >= {"api_tokens", "events", "inactive_households"}
    assert "kept" in awda("retention", "show").stdout
    awda("init")
    planned = json.loads(awda("retention", "apply", "--dry-run", "--json").stdout)
    assert planned["dry_run"] is True and planned["rules"]["inactive_households"]["days"] == 0
    done = json.loads(awda("retention", "apply", "--json").stdout)
    assert done["dry_run"] is False
    assert json.loads(awda("audit", "verify", "--json").stdout)["ok"] is True
