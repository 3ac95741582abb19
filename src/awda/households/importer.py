"""The `import_registrations` action: a Kobo/ODK-style file in, households out, idempotently.

Worker processes check and seal chunks of households (`pipeline.py`) while this process writes
them, in transactions of about COMMIT_ROWS rows; a household with any invalid row is not written
at all. Re-importing a file creates nothing; a changed household is a conflict.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.access.services import require
from awda.audit.services import record_event
from awda.db import action
from awda.households.models import Household
from awda.households.pipeline import (
    CHUNK_HOUSEHOLDS,
    Candidate,
    ChunkResult,
    ChunkSetup,
    RowError,
    prepared_chunks,
)
from awda.households.reading import Record, cells, file_records, raw_chunks
from awda.households.rows import Layout, header_columns
from awda.households.writer import RowBatch, write_households
from awda.places.models import Place, Site
from awda.vault import Vault

MAX_REPORTED_ERRORS = 1000
COMMIT_ROWS = 25_000  # rows per transaction: fewer, larger commits write each index page less often


@dataclass
class ImportReport:
    rows: int = 0
    households: int = 0
    persons: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(
                {
                    "row": error.row,
                    "field": error.field,
                    "message": error.message,
                    "household_rows": error.household_rows,
                }
            )

    def merge(self, other: ImportReport) -> None:
        self.rows += other.rows
        self.households += other.households
        self.persons += other.persons
        self.skipped += other.skipped
        self.error_count += other.error_count
        self.errors.extend(other.errors[: max(MAX_REPORTED_ERRORS - len(self.errors), 0)])

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "households": self.households,
            "persons": self.persons,
            "skipped": self.skipped,
            "errors": self.errors,
            "error_count": self.error_count,
        }


def import_registrations(
    session: Session,
    vault: Vault,
    actor: Actor,
    path: Path,
    on_progress: Callable[[int], None] | None = None,
    *,
    workers: int | None = None,
    chunk_households: int = CHUNK_HOUSEHOLDS,
    commit_rows: int = COMMIT_ROWS,
) -> ImportReport:
    """Import a registrations file (docs/import.md); returns what was created, skipped, refused.

    `workers` processes check and seal while this one writes (None: one per core, none for a
    file of one chunk; 0: everything in this process). Each transaction holds whole chunks, of at
    least `commit_rows` rows unless the file ends first: a crash loses the open one, never part of one.
    """
    require(actor, Permission.REGISTER)
    records = file_records(path)
    header = cells(next(records, []))
    return _import_records(
        session, vault, actor, header, records, path.name, on_progress, workers, chunk_households, commit_rows
    )


def import_registration_rows(
    session: Session,
    vault: Vault,
    actor: Actor,
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    source_name: str,
    on_progress: Callable[[int], None] | None = None,
    *,
    workers: int | None = None,
    chunk_households: int = CHUNK_HOUSEHOLDS,
    commit_rows: int = COMMIT_ROWS,
) -> ImportReport:
    """`import_registrations` for rows held in memory (a field export's submissions, flattened by
    `awda.field`): the same layout, checks, transactions and idempotency; nothing touches the disk.
    Row numbers in the report count the header as row 1, then the rows in the order given."""
    require(actor, Permission.REGISTER)
    records: Iterator[Record] = (list(row) for row in rows)
    return _import_records(
        session, vault, actor, list(header), records, source_name, on_progress, workers, chunk_households, commit_rows
    )


def _import_records(
    session: Session,
    vault: Vault,
    actor: Actor,
    header: list[str],
    records: Iterator[Record],
    source_name: str,
    on_progress: Callable[[int], None] | None,
    workers: int | None,
    chunk_households: int,
    commit_rows: int,
) -> ImportReport:
    columns = header_columns(header)
    setup = ChunkSetup(
        vault.master_key_for_worker(),
        actor,
        dict(session.execute(select(Site.code, Site.id)).tuples().all()),
        dict(session.execute(select(Place.pcode, Place.id)).tuples().all()),
        columns,
        session.get_bind().dialect.name,
    )
    writer = _Writer(session, commit_rows)
    chunks = prepared_chunks(setup, vault, raw_chunks(records, Layout(columns), chunk_households), workers)
    try:
        with _collecting_per_transaction(), closing(chunks):  # closing stops the workers on any error
            for result in chunks:
                writer.write(result)
                if on_progress is not None:
                    on_progress(result.rows)
            writer.commit()
    except BaseException:
        session.rollback()
        raise
    report = writer.report
    with action(session):
        payload = report.as_dict() | {"errors": len(report.errors)}
        record_event(session, actor, "import_registrations", "file", source_name[:64], payload)
    return report


@contextmanager
def _collecting_per_transaction() -> Iterator[None]:
    """The import allocates many short-lived objects and almost no cycles: the garbage collector
    runs once per transaction (`_Writer.commit`), over what the import created, not every few
    hundred allocations over the whole process."""
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


class _Writer:
    """Writes chunks in transactions of at least `commit_rows` rows; what they did counts once committed."""

    def __init__(self, session: Session, commit_rows: int = COMMIT_ROWS) -> None:
        self.session, self.commit_rows = session, commit_rows
        self.report = ImportReport()
        self.pending: list[ChunkResult] = []  # written in the open transaction
        self.outcome = ImportReport()  # what the pending chunks did

    def write(self, result: ChunkResult) -> None:
        self.pending.append(result)
        try:
            _write_chunk(self.session, result, self.outcome)
        except IntegrityError:
            self._redo_alone()
            return
        if sum(chunk.rows for chunk in self.pending) >= self.commit_rows:
            self.commit()

    def commit(self) -> None:
        try:
            self.session.commit()
        except IntegrityError:
            self._redo_alone()
            return
        self.report.merge(self.outcome)
        self.pending, self.outcome = [], ImportReport()
        gc.collect()

    def _redo_alone(self) -> None:
        """Someone else imported some of these meanwhile: redo each chunk in its own transaction."""
        self.session.rollback()
        for result in self.pending:
            self.report.merge(_write_alone(self.session, result))
        self.pending, self.outcome = [], ImportReport()


def _new_households(session: Session, candidates: Sequence[Candidate], report: ImportReport) -> list[Candidate]:
    """Drop households already imported (same content); report changed ones as conflicts."""
    known = _known_households(session, [candidate.source_ref for candidate in candidates])
    fresh: list[Candidate] = []
    seen: set[str] = set()
    for candidate in candidates:
        ref, row = candidate.source_ref, candidate.first_row
        if ref in seen:
            report.add_error(RowError("_uuid", f"{ref} appears again; rows of a household must be adjacent", row, 0))
            continue
        seen.add(ref)
        if ref not in known:
            fresh.append(candidate)
            continue
        fingerprint, erased = known[ref]
        if erased or fingerprint == candidate.fingerprint:
            report.skipped += 1
        else:
            message = f"{ref} was imported before with different content; not overwritten"
            report.add_error(RowError("_uuid", message, row, candidate.members))
    return fresh


def _known_households(session: Session, refs: Sequence[str]) -> dict[str, tuple[bytes | None, bool]]:
    """Fingerprint and erasure of the households already imported under these refs.

    Straight through the driver: once per chunk, its cost shows in the import rate.
    """
    if not refs:
        return {}
    connection = session.connection()
    marks = ", ".join(["?" if connection.dialect.name == "sqlite" else "%s"] * len(refs))
    query = (  # only the table name and placeholders are rendered into the SQL
        f"SELECT source_ref, fingerprint, erased_at IS NOT NULL FROM {Household.__tablename__} "  # noqa: S608
        f"WHERE source_ref IN ({marks})"
    )
    rows = connection.exec_driver_sql(query, tuple(refs)).tuples()
    return {
        str(ref): (None if fingerprint is None else bytes(fingerprint), bool(erased))
        for ref, fingerprint, erased in rows
    }


def _to_write(session: Session, result: ChunkResult, report: ImportReport) -> RowBatch:
    """Report the chunk's invalid households, drop the known ones; the rows left to write."""
    report.rows += result.rows
    for error in result.errors:
        report.add_error(error)
    kept: set[int] = set()
    for candidate in _new_households(session, result.candidates, report) if result.candidates else []:
        if candidate.error is not None:
            report.add_error(candidate.error)
        elif candidate.position is not None:
            kept.add(candidate.position)
    return result.batch if len(kept) == len(result.batch.footprints) else result.batch.only(kept)


def _write_chunk(session: Session, result: ChunkResult, report: ImportReport) -> None:
    batch = _to_write(session, result, report)
    write_households(session, batch)
    _count(report, batch)


def _write_alone(session: Session, result: ChunkResult) -> ImportReport:
    """The chunk in its own transaction; if that fails, household by household."""
    report = ImportReport()
    batch = _to_write(session, result, report)
    try:
        with action(session):
            write_households(session, batch)
    except IntegrityError:
        for footprint in batch.footprints:
            single = batch.only({footprint.household})
            try:
                with action(session):
                    write_households(session, single)
            except IntegrityError:
                report.skipped += 1
                continue
            _count(report, single)
        return report
    _count(report, batch)
    return report


def _count(report: ImportReport, written: RowBatch) -> None:
    report.households += len(written.footprints)
    report.persons += sum(footprint.end_person - footprint.first_person for footprint in written.footprints)
