"""`make_backup` and `restore_backup`: encrypted, engine-neutral snapshots (docs/backup.md)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from awda.access.models import User
from awda.access.rules import Actor, Permission
from awda.audit import log
from awda.audit.services import count_events, record_event
from awda.backup import tables as db
from awda.backup.ledger import Erasure, ErasureLedger
from awda.backup.rules import (
    FILE_SUFFIX,
    FORMAT_VERSION,
    PREFIX_BYTES,
    BackupRejected,
    ChunkSealer,
    check_manifest,
    decoder,
    encoder,
    json_line,
    lines,
    new_prefix,
    open_chunks,
    parse_line,
    parse_prefix,
)
from awda.db import action, utcnow
from awda.errors import ConfigurationError, Conflict, ValidationFailed
from awda.households.erasure import shred
from awda.households.models import Household
from awda.settings import Settings

Progress = Callable[[int], None]


def _no_progress(_done: int) -> None:
    return None


def require_everything(actor: Actor) -> None:
    """A backup holds, and a restore replaces, everything each permission guards: it needs them all."""
    # Imported here: access.services imports the audit services, which this module also needs.
    from awda.access.services import require

    for permission in Permission:
        require(actor, permission)


def default_backup_path(settings: Settings, now: datetime) -> Path:
    folder = settings.backup_dir or settings.data_dir / "backups"
    return folder / f"awda-{now:%Y%m%dT%H%M%SZ}{FILE_SUFFIX}"


def make_backup(
    session: Session, actor: Actor, master_key: bytes, out: Path, on_progress: Progress = _no_progress
) -> dict[str, Any]:
    """Write every table, read in one snapshot, to `out` (compressed, encrypted, mode 0600, atomically).

    Records a `make_backup` event (counts and the file's SHA-256, no personal data) once the file is
    in place; that event is therefore not inside the backup itself.
    """
    require_everything(actor)
    if out.exists():
        raise ValidationFailed("out", f"{out} exists already; backups are never overwritten")
    tables = db.all_tables()
    with db.snapshot(session):
        unknown = db.unknown_tables(session, tables)
        if unknown:
            raise ConfigurationError(f"tables unknown to this awda, not backed up: {', '.join(unknown)}")
        manifest = _manifest(session, tables)
        digest, size = _write_atomically(out, master_key, _plaintext(session, tables, manifest, on_progress))
    report = {
        "file": str(out),
        "bytes": size,
        "sha256": digest,
        "revision": manifest["revision"],
        "created_at": manifest["created_at"],
        "tables": len(tables),
        "rows": sum(entry["rows"] for entry in manifest["tables"]),
        "events": manifest["events"],
    }
    payload = {key: report[key] for key in ("bytes", "revision", "tables", "rows", "events")}
    with action(session):
        record_event(session, actor, "make_backup", "backup", digest, payload)
    return report


def _manifest(session: Session, tables: list[Table]) -> dict[str, Any]:
    specs = db.table_specs(tables)
    head = log.latest_head(session)
    return {
        "format": FORMAT_VERSION,
        "revision": db.current_revision(session),
        "created_at": utcnow().isoformat(),
        "engine": session.get_bind().dialect.name,
        "tables": [{"name": t.name, "columns": specs[t.name], "rows": db.row_count(session, t)} for t in tables],
        "events": count_events(session),
        "latest_head": None if head is None else {"tree_size": head.tree_size, "root": head.root_hash.hex()},
    }


def _plaintext(
    session: Session, tables: list[Table], manifest: dict[str, Any], on_progress: Progress
) -> Iterator[bytes]:
    """The manifest line, then for each table a marker line and its rows as JSON arrays."""
    yield json_line(manifest)
    for table, entry in zip(tables, manifest["tables"], strict=True):
        yield json_line({"table": table.name})
        encode = encoder([kind for _name, kind in entry["columns"]])
        batch: list[bytes] = []
        written = 0
        for row in db.table_rows(session, table):
            batch.append(json_line(encode(row)))
            if len(batch) >= db.BATCH:
                written += len(batch)
                yield b"".join(batch)
                on_progress(len(batch))
                batch.clear()
        written += len(batch)
        yield b"".join(batch)
        on_progress(len(batch))
        if written != entry["rows"]:  # cannot happen inside one snapshot; a check that it did not
            raise Conflict(f"table {table.name} changed during the backup; try again")


def _write_atomically(out: Path, master_key: bytes, plaintext: Iterator[bytes]) -> tuple[str, int]:
    """Seal the stream into a temporary file next to `out` (mode 0600), sync it, rename it into place.

    One part at a time: the database is never held in memory. Returns the file's SHA-256 and size.
    """
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=out.parent, prefix=".awda-backup-", suffix=".tmp")
    hasher = hashlib.sha256()
    try:
        with os.fdopen(descriptor, "wb") as handle:

            def write(data: bytes) -> None:
                handle.write(data)
                hasher.update(data)

            prefix = new_prefix(master_key)
            sealer = ChunkSealer(master_key, prefix)
            write(prefix.to_bytes())
            for part in plaintext:
                write(sealer.write(part))
            write(sealer.finish())
            handle.flush()
            os.fsync(handle.fileno())
            size = handle.tell()
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(out.parent)
    return hasher.hexdigest(), size


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class _Reader:
    """A backup file opened for reading: its manifest, then its lines; hashes what it reads."""

    def __init__(self, handle: IO[bytes], master_key: bytes) -> None:
        self._handle = handle
        self.hasher = hashlib.sha256()
        prefix = parse_prefix(self._read(PREFIX_BYTES))
        self.lines = lines(open_chunks(master_key, prefix, self._read))
        self.manifest = parse_line(self.next_line("the manifest"), "the manifest")

    def _read(self, size: int) -> bytes:
        data = self._handle.read(size)
        self.hasher.update(data)
        return data

    def next_line(self, what: str) -> bytes:
        line = next(self.lines, None)
        if line is None:
            raise BackupRejected(f"the backup's content is damaged (it ends before {what})")
        return line

    def rows(self, entry: dict[str, Any]) -> Iterator[list[Any]]:
        """The rows of the manifest entry's table, decoded; its marker line first."""
        if parse_line(self.next_line("a table"), "a table marker") != {"table": entry["name"]}:
            raise BackupRejected(f"the backup's content is damaged (table {entry['name']} is not where expected)")
        decode = decoder([kind for _name, kind in entry["columns"]])
        for _ in range(entry["rows"]):
            yield decode(parse_line(self.next_line(f"the end of table {entry['name']}"), "a row"))

    def finish(self) -> str:
        """Read to the end (the last chunk authenticates only there); the file's SHA-256."""
        if next(self.lines, None) is not None:
            raise BackupRejected("the backup's content is damaged (rows after the last table)")
        return self.hasher.hexdigest()


def check_backup(master_key: bytes, path: Path, on_progress: Progress = _no_progress) -> dict[str, Any]:
    """Read and authenticate a whole backup without writing anything; what it holds, in counts."""
    with _open(path) as handle:
        reader = _Reader(handle, master_key)
        for entry in reader.manifest.get("tables", []):
            for _row in reader.rows(entry):
                pass
            on_progress(entry["rows"])
        digest = reader.finish()
    return _summary(reader.manifest, digest)


def _open(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as error:
        raise ValidationFailed("file", f"{path} cannot be read ({error.strerror})") from None


def _summary(manifest: dict[str, Any], digest: str) -> dict[str, Any]:
    return {
        "sha256": digest,
        "revision": manifest.get("revision"),
        "created_at": manifest.get("created_at"),
        "engine": manifest.get("engine"),
        "tables": len(manifest.get("tables", [])),
        "rows": sum(entry["rows"] for entry in manifest.get("tables", [])),
        "events": manifest.get("events"),
        "latest_head": manifest.get("latest_head"),
    }


def restore_backup(
    session: Session,
    actor: Actor,
    master_key: bytes,
    path: Path,
    ledger: ErasureLedger | None,
    *,
    replace: bool = False,
    on_progress: Progress = _no_progress,
) -> dict[str, Any]:
    """Load a backup in one transaction: all of it, or nothing if anything is wrong.

    Refuses a non-empty database unless `replace`, another master key, another schema revision,
    and any damage. Before committing, every household in the erasure ledger is shredded again
    (an `erase_household` event each), then a `restore_backup` event is recorded.
    """
    require_everything(actor)
    tables = db.all_tables()
    with _open(path) as handle:
        reader = _Reader(handle, master_key)
        erasures = ledger.erasures() if ledger is not None else []  # a damaged ledger stops the restore here
        with action(session):
            db.begin_writing(session)
            check_manifest(
                reader.manifest, db.current_revision(session), db.known_revisions(session), db.table_specs(tables)
            )
            replaced = _replaced_log(session, tables, replace)
            by_name = {table.name: table for table in tables}
            rows = 0
            for entry in reader.manifest["tables"]:
                rows += db.insert_rows(session, by_name[entry["name"]], reader.rows(entry), on_progress)
            digest = reader.finish()
            db.reset_sequences(session, tables)
            restorer = _event_actor(session, actor)
            reapplied = reapply_erasures(session, restorer, erasures)
            summary = _summary(reader.manifest, digest)
            payload = {**replaced, "rows": rows, "tables": len(tables), "reapplied_erasures": reapplied}
            payload |= {"backup_created_at": summary["created_at"], "restored_events": summary["events"]}
            record_event(session, restorer, "restore_backup", "backup", digest, payload)
    _checkpoint_sqlite(session)
    return {**summary, "file": str(path), "reapplied_erasures": reapplied, **replaced}


def _replaced_log(session: Session, tables: list[Table], replace: bool) -> dict[str, Any]:
    """What the restore replaces (the log it drops, in counts), after clearing every table."""
    if db.is_empty(session, tables):
        return {"replaced_events": 0}
    if not replace:
        raise Conflict("the database is not empty; add --replace to replace everything in it with the backup")
    head = log.latest_head(session)
    replaced: dict[str, Any] = {"replaced_events": count_events(session)}
    if head is not None:
        replaced |= {"replaced_head_size": head.tree_size, "replaced_head_root": head.root_hash.hex()}
    db.clear_tables(session, tables)
    session.expunge_all()
    return replaced


def _event_actor(session: Session, actor: Actor) -> Actor:
    """The restoring account as the restored data knows it (its id may belong to nobody now)."""
    if actor.user_id is None:
        return actor
    found = session.scalar(select(User.id).where(User.id == actor.user_id, User.username == actor.username))
    return actor if found is not None else Actor(None, actor.username, actor.role, actor.all_sites)


def reapply_erasures(session: Session, actor: Actor, erasures: list[Erasure]) -> int:
    """Shred again every household of the ledger that the restored data still holds unerased."""
    done = 0
    for erasure in erasures:
        household = session.scalar(select(Household).where(Household.uid == erasure.uid))
        if household is None or household.erased_at is not None:
            continue
        shred(session, household, erasure.erased_at)
        payload = {"source": "erasure_ledger"}
        record_event(session, actor, "erase_household", "household", household.uid, payload, household.site_id)
        done += 1
    return done


def _checkpoint_sqlite(session: Session) -> None:
    """Fold the write-ahead log into the file, so replaced and shredded pages are overwritten."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        session.commit()
