"""Backups on both engines: round trips (also across engines), damage, keys, schema, the erasure ledger."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, text

from awda.access.readers import household_for
from awda.access.services import SYSTEM, issue_token
from awda.audit.models import Event
from awda.audit.services import issue_tree_head, verify_log
from awda.backup import tables as db
from awda.backup.ledger import ErasureLedger, LedgerDamaged, ledger_key, ledger_of
from awda.backup.rules import (
    PREFIX_BYTES,
    BackupRejected,
    ChunkSealer,
    Prefix,
    encoder,
    json_line,
    lines,
    new_prefix,
    open_chunks,
    parse_prefix,
)
from awda.backup.services import check_backup, make_backup, restore_backup
from awda.db import Base, make_engine
from awda.errors import Conflict, PermissionDenied, ValidationFailed
from awda.households import erasure, intentions, services
from awda.households.models import Household, Person, PersonIdentifier
from awda.places.services import load_demo_gazetteer
from awda.runtime import Runtime, open_runtime
from awda.settings import Settings
from awda.vault import load_master_key, new_master_key_text
from tests import factories
from tests.conftest import Done, make_user

Awda = Callable[..., Done]


@pytest.fixture
def wired(settings: Settings) -> Iterator[Runtime]:
    """The runtime as the shells open it: its sessions know the erasure ledger."""
    runtime = open_runtime(settings)
    yield runtime
    runtime.engine.dispose()


def key_of(runtime: Runtime) -> bytes:
    return load_master_key(runtime.settings)


def populate(runtime: Runtime) -> list[str]:
    """Places (a table referring to itself), users, households, an erasure, a token, a tree head."""
    with runtime.sessions() as session:
        load_demo_gazetteer(session, SYSTEM)
        registrar = make_user(session, "registrar1", "registrar", ("RUKBAN",))
        created = [services.register_household(session, runtime.vault, SYSTEM, factories.household()) for _ in range(3)]
        assert created[0].intention_uid is not None
        intentions.withdraw_intention(session, SYSTEM, created[0].intention_uid)
        erasure.erase_household(session, SYSTEM, created[1].household_uid)
        issue_token(session, registrar, 12)
        issue_tree_head(session, runtime.vault, SYSTEM)
        services.register_household(session, runtime.vault, SYSTEM, factories.household())
    return [item.household_uid for item in created]


def dump(runtime: Runtime) -> dict[str, list[list[Any]]]:
    """Every table's rows in key order, as engine-neutral values."""
    with runtime.sessions() as session, db.snapshot(session):
        specs = db.table_specs(db.all_tables())
        return {
            table.name: [
                encoder([kind for _name, kind in specs[table.name]])(row) for row in db.table_rows(session, table)
            ]
            for table in db.all_tables()
        }


def empty(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        db.clear_tables(session, db.all_tables())
        session.commit()


def is_empty(runtime: Runtime) -> bool:
    with runtime.sessions() as session:
        return db.is_empty(session, db.all_tables())


def backup(runtime: Runtime, path: Path) -> dict[str, Any]:
    with runtime.sessions() as session:
        return make_backup(session, SYSTEM, key_of(runtime), path)


def restore(runtime: Runtime, path: Path, replace: bool = False) -> dict[str, Any]:
    ledger = ErasureLedger.for_settings(runtime.settings, key_of(runtime))
    with runtime.sessions() as session:
        return restore_backup(session, SYSTEM, key_of(runtime), path, ledger, replace=replace)


def log_ok(runtime: Runtime) -> bool:
    with runtime.sessions() as session:
        report = verify_log(session, SYSTEM, runtime.vault)
    return bool(report["ok"]) and not report["problems"]


def assert_restored(before: dict[str, list[list[Any]]], after: dict[str, list[list[Any]]]) -> None:
    """Every table equal; the events the backup held first, then the restore's own."""
    assert set(before) == set(after)
    for name, rows in before.items():
        if name != "events":
            assert after[name] == rows, name
    events = before["events"]
    assert after["events"][: len(events)] == events
    action = next(
        index
        for index, (name, _kind) in enumerate(db.table_specs([Base.metadata.tables["events"]])["events"])
        if name == "action"
    )
    assert [row[action] for row in after["events"][len(events) :]] == ["restore_backup"]


def test_round_trip_replaces_everything_and_keeps_the_log_verifiable(wired: Runtime, tmp_path: Path) -> None:
    populate(wired)
    before = dump(wired)
    assert all(before[name] for name in ("places", "persons", "events", "tree_heads", "api_tokens", "tree_leaves"))
    path = tmp_path / "backups" / "b.awdabak"
    report = backup(wired, path)
    assert report["rows"] == sum(len(rows) for rows in before.values())
    assert path.stat().st_mode & 0o777 == 0o600
    assert [item.name for item in path.parent.iterdir()] == ["b.awdabak"]  # no temporary file left
    with wired.sessions() as session:  # more work after the backup, then the restore drops it
        services.register_household(session, wired.vault, SYSTEM, factories.household())
    restored = restore(wired, path, replace=True)
    assert restored["replaced_events"] > len(before["events"])
    assert_restored(before, dump(wired))
    assert log_ok(wired)
    with wired.sessions() as session:  # the next ids follow the restored ones (PostgreSQL sequences)
        services.register_household(session, wired.vault, SYSTEM, factories.household())
        issue_tree_head(session, wired.vault, SYSTEM)
    assert log_ok(wired)


def test_backup_and_restore_are_events_without_personal_data(wired: Runtime, tmp_path: Path) -> None:
    populate(wired)
    report = backup(wired, tmp_path / "b.awdabak")
    restore(wired, tmp_path / "b.awdabak", replace=True)
    with wired.sessions() as session:
        made = session.scalars(select(Event).where(Event.action == "restore_backup")).one()
    payload = json.loads(made.payload)
    assert made.subject_id == report["sha256"]
    assert payload["rows"] == report["rows"] and payload["reapplied_erasures"] == 0
    assert {"replaced_events", "replaced_head_size", "replaced_head_root", "restored_events"} <= set(payload)
    assert factories.HEAD_NAME_LAT not in made.payload


@pytest.fixture
def other_url(database_url: str, tmp_path: Path, sqlite_template: Path, postgres_schema_url: str | None) -> str:
    """An empty database on the other engine."""
    if database_url.startswith("sqlite"):
        if postgres_schema_url is None:
            pytest.skip("needs PostgreSQL")
        engine = make_engine(postgres_schema_url)
        with engine.begin() as connection:
            names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return postgres_schema_url
    target = tmp_path / "other.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


def test_a_backup_restores_into_the_other_engine(
    wired: Runtime, settings: Settings, other_url: str, tmp_path: Path
) -> None:
    populate(wired)
    before = dump(wired)
    backup(wired, tmp_path / "b.awdabak")
    other = open_runtime(settings.model_copy(update={"database_url": other_url}))
    try:
        restore(other, tmp_path / "b.awdabak")
        assert_restored(before, dump(other))
        assert log_ok(other)
        with other.sessions() as session:
            services.register_household(session, other.vault, SYSTEM, factories.household())
        assert log_ok(other)
    finally:
        other.engine.dispose()


def test_a_non_empty_database_is_refused_without_replace(wired: Runtime, tmp_path: Path) -> None:
    populate(wired)
    backup(wired, tmp_path / "b.awdabak")
    with pytest.raises(Conflict, match="--replace"):
        restore(wired, tmp_path / "b.awdabak")
    with pytest.raises(ValidationFailed, match="never overwritten"):
        backup(wired, tmp_path / "b.awdabak")


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda path: flip(path, PREFIX_BYTES + 40), "altered or damaged: chunk 0"),
        (lambda path: flip(path, path.stat().st_size - 1), "altered or damaged"),
        (lambda path: flip(path, 20), "altered or damaged: chunk 0"),  # the salt in the clear prefix
        (lambda path: flip(path, PREFIX_BYTES - 1), "another master key"),  # the key id
        (lambda path: flip(path, 0), "not an awda backup"),
        (lambda path: path.write_bytes(path.read_bytes()[:-5]), "altered or damaged"),
        (lambda path: path.write_bytes(path.read_bytes()[:PREFIX_BYTES]), "truncated"),
        (lambda path: path.write_bytes(path.read_bytes()[:10]), "not an awda backup"),
    ],
)
def test_a_damaged_file_is_refused_and_nothing_is_written(
    wired: Runtime, tmp_path: Path, damage: Callable[[Path], None], message: str
) -> None:
    populate(wired)
    backup(wired, tmp_path / "b.awdabak")
    empty(wired)
    damage(tmp_path / "b.awdabak")
    with pytest.raises(BackupRejected, match=message):
        restore(wired, tmp_path / "b.awdabak")
    assert is_empty(wired)


def test_another_master_key_cannot_restore(wired: Runtime, settings: Settings, tmp_path: Path) -> None:
    populate(wired)
    backup(wired, tmp_path / "b.awdabak")
    empty(wired)
    other = open_runtime(settings.model_copy(update={"master_key": SecretStr(new_master_key_text())}))
    try:
        with pytest.raises(BackupRejected, match="another master key"):
            restore(other, tmp_path / "b.awdabak")
    finally:
        other.engine.dispose()
    assert is_empty(wired)


def rewrite_manifest(path: Path, master_key: bytes, edit: Callable[[dict[str, Any]], None]) -> None:
    """Re-encrypt a backup with its manifest edited (only the key's holder can do this)."""
    with path.open("rb") as handle:
        prefix = parse_prefix(handle.read(PREFIX_BYTES))
        content = b"".join(open_chunks(master_key, prefix, handle.read))
    first, rest = content.split(b"\n", 1)
    manifest = json.loads(first)
    edit(manifest)
    fresh = new_prefix(master_key)
    sealer = ChunkSealer(master_key, fresh)
    path.write_bytes(fresh.to_bytes() + sealer.write(json_line(manifest) + rest) + sealer.finish())


@pytest.mark.parametrize(
    ("revision", "message"), [("9999", "does not know"), ("0001", "release of revision 0001"), (None, "does not know")]
)
def test_another_schema_revision_is_refused(wired: Runtime, tmp_path: Path, revision: str | None, message: str) -> None:
    populate(wired)
    path = tmp_path / "b.awdabak"
    backup(wired, path)
    rewrite_manifest(path, key_of(wired), lambda manifest: manifest.update(revision=revision))
    with pytest.raises(BackupRejected, match=message):
        restore(wired, path, replace=True)


def test_rows_that_disagree_with_the_manifest_are_refused(wired: Runtime, tmp_path: Path) -> None:
    populate(wired)
    path = tmp_path / "b.awdabak"
    backup(wired, path)

    def fewer_places(manifest: dict[str, Any]) -> None:
        next(entry for entry in manifest["tables"] if entry["name"] == "places")["rows"] -= 1

    rewrite_manifest(path, key_of(wired), fewer_places)
    empty(wired)
    with pytest.raises(BackupRejected, match="damaged"):
        restore(wired, path)
    assert is_empty(wired)


def test_check_reads_the_whole_file_and_writes_nothing(wired: Runtime, tmp_path: Path) -> None:
    populate(wired)
    report = backup(wired, tmp_path / "b.awdabak")
    checked = check_backup(key_of(wired), tmp_path / "b.awdabak")
    assert (checked["sha256"], checked["rows"], checked["revision"]) == (
        report["sha256"],
        report["rows"],
        report["revision"],
    )
    flip(tmp_path / "b.awdabak", PREFIX_BYTES + 100)
    with pytest.raises(BackupRejected):
        check_backup(key_of(wired), tmp_path / "b.awdabak")


def test_only_a_holder_of_every_permission_backs_up_or_restores(wired: Runtime, tmp_path: Path) -> None:
    populate(wired)
    with wired.sessions() as session:
        registrar = make_user(session, "registrar2", "registrar", ("RUKBAN",))
        with pytest.raises(PermissionDenied):
            make_backup(session, registrar, key_of(wired), tmp_path / "b.awdabak")
    backup(wired, tmp_path / "b.awdabak")
    with wired.sessions() as session, pytest.raises(PermissionDenied):
        restore_backup(session, registrar, key_of(wired), tmp_path / "b.awdabak", None, replace=True)


def test_the_snapshot_does_not_see_later_commits(wired: Runtime) -> None:
    with wired.sessions() as reader, wired.sessions() as writer:
        with db.snapshot(reader):
            places = Base.metadata.tables["places"]
            before = db.row_count(reader, places)
            load_demo_gazetteer(writer, SYSTEM)
            assert db.row_count(reader, places) == before
        assert db.row_count(reader, places) > before


def test_an_erasure_after_the_backup_survives_its_restore(wired: Runtime, tmp_path: Path) -> None:
    uids = populate(wired)
    kept, erased = uids[2], uids[0]
    backup(wired, tmp_path / "b.awdabak")
    with wired.sessions() as session:
        ledger = ledger_of(session)
        assert ledger is not None and ledger.path == wired.settings.data_dir / "erasures.ledger"
        erasure.erase_household(session, SYSTEM, erased)
        erased_before = [
            event.payload for event in session.scalars(select(Event).where(Event.action == "erase_household"))
        ]
    assert erased_before[-1] == '{"ledger_line":2}'
    assert [entry.uid for entry in ledger.erasures()] == [uids[1], erased]
    report = restore(wired, tmp_path / "b.awdabak", replace=True)
    assert report["reapplied_erasures"] == 1
    with wired.sessions() as session:
        household = session.scalars(select(Household).where(Household.uid == erased)).one()
        assert household.erased_at is not None and household.wrapped_key is None
        assert all(
            blob is None for blob in session.scalars(select(Person.sealed).where(Person.household_id == household.id))
        )
        identifiers = (
            select(func.count()).select_from(PersonIdentifier).join(Person).where(Person.household_id == household.id)
        )
        assert session.scalar(identifiers) == 0
        view = household_for(session, wired.vault, SYSTEM, erased)
        assert view["erased"] and "given_name_ar" not in view["members"][0]
        assert (
            household_for(session, wired.vault, SYSTEM, kept)["members"][0]["given_name_ar"] == factories.HEAD_NAME_AR
        )
        events = session.scalars(
            select(Event.payload).where(Event.action == "erase_household", Event.subject_id == erased)
        )
        assert '{"source":"erasure_ledger"}' in list(events)
    assert log_ok(wired)
    assert len(ledger.erasures()) == 2  # the restore does not write the ledger again


def test_a_tampered_ledger_stops_the_restore(wired: Runtime, tmp_path: Path) -> None:
    uids = populate(wired)
    backup(wired, tmp_path / "b.awdabak")
    with wired.sessions() as session:
        erasure.erase_household(session, SYSTEM, uids[0])
    path = wired.settings.data_dir / "erasures.ledger"
    path.write_text(path.read_text(encoding="ascii").splitlines(keepends=True)[1], encoding="ascii")  # line 1 removed
    empty(wired)
    with pytest.raises(LedgerDamaged, match="line 1"):
        restore(wired, tmp_path / "b.awdabak")
    assert is_empty(wired)


def test_the_ledger_chain_names_the_first_bad_line(tmp_path: Path) -> None:
    key = ledger_key(os.urandom(32))
    ledger = ErasureLedger(tmp_path / "erasures.ledger", key)
    from datetime import UTC, datetime

    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert [ledger.append(f"uid-{number}", moment) for number in range(4)] == [1, 2, 3, 4]
    assert [entry.uid for entry in ledger.erasures()] == ["uid-0", "uid-1", "uid-2", "uid-3"]
    assert ledger.path.stat().st_mode & 0o777 == 0o600
    original = ledger.path.read_text(encoding="ascii").splitlines(keepends=True)
    cases = {
        "changed": [original[0], original[1].replace("uid-1", "uid-9"), *original[2:]],
        "moved": [original[0], original[2], original[1], original[3]],
        "removed": [original[0], original[2], original[3]],
        "inserted": [original[0], original[0], *original[1:]],
    }
    for lines_now in cases.values():
        ledger.path.write_text("".join(lines_now), encoding="ascii")
        with pytest.raises(LedgerDamaged, match="line 2"):
            ledger.erasures()
    ledger.path.write_text("".join(original), encoding="ascii")
    with pytest.raises(LedgerDamaged, match="line 1"):
        ErasureLedger(ledger.path, ledger_key(os.urandom(32))).erasures()
    ledger.path.write_text("".join(original[:3]), encoding="ascii")
    assert len(ledger.erasures()) == 3  # cutting the newest lines is the chain's known limit (docs/backup.md)
    ledger.path.write_text("".join(original)[:-3], encoding="ascii")
    with pytest.raises(LedgerDamaged, match="cut"):
        ledger.append("uid-5", moment)


def sealed_file(chunk_size: int, payload: bytes, key: bytes) -> tuple[Prefix, list[bytes]]:
    prefix = new_prefix(key, chunk_size)
    sealer = ChunkSealer(key, prefix)
    body = sealer.write(payload) + sealer.finish()
    size = chunk_size + 16
    return prefix, [body[start : start + size] for start in range(0, len(body), size)]


def read_back(key: bytes, prefix: Prefix, chunks: list[bytes]) -> bytes:
    import io

    stream = io.BytesIO(b"".join(chunks))
    return b"".join(open_chunks(key, prefix, stream.read))


def test_chunks_cannot_be_reordered_dropped_or_repeated() -> None:
    key = os.urandom(32)
    payload = os.urandom(3000)  # incompressible: several chunks of 256 bytes
    prefix, chunks = sealed_file(256, payload, key)
    assert len(chunks) > 4
    assert read_back(key, prefix, chunks) == payload
    damaged = {
        "swapped": [chunks[1], chunks[0], *chunks[2:]],
        "dropped": [chunks[0], *chunks[2:]],
        "repeated": [chunks[0], *chunks],
        "appended": [*chunks, chunks[-1]],
    }
    for variant in damaged.values():
        with pytest.raises(BackupRejected, match="altered or damaged"):
            read_back(key, prefix, variant)
    with pytest.raises(BackupRejected, match="truncated"):
        read_back(key, prefix, chunks[:-1])
    other = Prefix(prefix.version, prefix.chunk_size, os.urandom(32), prefix.key_id)
    with pytest.raises(BackupRejected, match="chunk 0"):
        read_back(key, other, chunks)


def test_lines_split_a_stream_at_newlines_only() -> None:
    assert list(lines([b"ab", b"c\nd", b"e\n\nf\n"])) == [b"abc", b"de", b"", b"f"]
    with pytest.raises(BackupRejected, match="cut"):
        list(lines([b"abc\nde"]))


def test_backup_and_restore_from_the_command_line(awda: Awda, tmp_path: Path) -> None:
    awda("init")
    awda("places", "load-demo")
    target = tmp_path / "cli.awdabak"
    made = json.loads(awda("backup", "--out", str(target), "--json").stdout)
    assert made["rows"] > 0 and target.exists()
    default = json.loads(awda("backup", "--json").stdout)
    assert Path(default["file"]).parent == tmp_path / "data" / "backups"
    checked = json.loads(awda("restore", str(target), "--check", "--json").stdout)
    assert checked["sha256"] == made["sha256"]
    assert "--yes" in awda("restore", str(target), expect=2).stderr
    assert "--replace" in awda("restore", str(target), "--yes", expect=1).stderr
    restored = json.loads(awda("restore", str(target), "--yes", "--replace", "--json").stdout)
    assert restored["rows"] == made["rows"]
    assert json.loads(awda("audit", "verify", "--json").stdout)["ok"] is True
    flip(target, PREFIX_BYTES + 5)
    error = awda("restore", str(target), "--yes", "--replace", expect=2).stderr.strip()  # the bar leaves a newline
    assert error.startswith("error: the backup file was altered or damaged") and "\n" not in error
    assert "cannot be read" in awda("restore", str(tmp_path / "missing.awdabak"), "--yes", expect=2).stderr
