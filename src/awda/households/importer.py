"""The `import_registrations` action: a Kobo/ODK-style file in, households out, idempotently.

Valid households are written in chunks (one transaction each); a household with any invalid row
is not written at all. Re-importing a file creates nothing; a changed household is a conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission, may
from awda.access.services import require
from awda.audit.services import record_event
from awda.db import action
from awda.errors import ValidationFailed
from awda.households.models import Household
from awda.households.rows import ParsedHousehold, group_households, header_columns, parse_household
from awda.households.writer import PreparedHousehold, prepare_household, write_households
from awda.places.models import Place, Site
from awda.tables import read_rows
from awda.vault import Vault

CHUNK_HOUSEHOLDS = 500
MAX_REPORTED_ERRORS = 1000


@dataclass
class ImportReport:
    rows: int = 0
    households: int = 0
    persons: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0

    def add_error(self, error: ValidationFailed, households_rows: int) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(
                {"row": error.row, "field": error.field, "message": error.message, "household_rows": households_rows}
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "households": self.households,
            "persons": self.persons,
            "skipped": self.skipped,
            "errors": self.errors,
            "error_count": self.error_count,
        }


@dataclass
class _Context:
    session: Session
    vault: Vault
    actor: Actor
    sites: dict[str, int]
    places: dict[str, int]
    report: ImportReport


def import_registrations(
    session: Session, vault: Vault, actor: Actor, path: Path, on_progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Import a registrations file (docs/import.md); returns what was created, skipped, refused."""
    require(actor, Permission.REGISTER)
    rows = read_rows(path)
    columns = header_columns(next(rows, []))
    context = _Context(
        session,
        vault,
        actor,
        dict(session.execute(select(Site.code, Site.id)).tuples().all()),
        dict(session.execute(select(Place.pcode, Place.id)).tuples().all()),
        ImportReport(),
    )
    chunk: list[ParsedHousehold] = []
    for group in group_households(rows, columns):
        context.report.rows += len(group.rows)
        try:
            chunk.append(parse_household(group))
        except ValidationFailed as error:
            context.report.add_error(error, len(group.rows))
        if len(chunk) >= CHUNK_HOUSEHOLDS:
            _write_chunk(context, chunk)
            chunk = []
        if on_progress is not None:
            on_progress(len(group.rows))
    _write_chunk(context, chunk)
    with action(session):
        record_event(
            session,
            actor,
            "import_registrations",
            "file",
            path.name[:64],
            context.report.as_dict() | {"errors": len(context.report.errors)},
        )
    return context.report


def _prepare(context: _Context, parsed: ParsedHousehold) -> PreparedHousehold:
    command = parsed.command
    site_id = context.sites.get(command.site_code.upper())
    if site_id is None:
        raise ValidationFailed("site", f"no site with code {command.site_code!r}", parsed.first_row)
    if not may(context.actor, Permission.REGISTER, site_id):
        raise ValidationFailed("site", f"you may not register households at {command.site_code}", parsed.first_row)
    fingerprint = context.vault.fingerprint(parsed.content)
    try:
        return prepare_household(context.vault, context.actor, command, site_id, context.places, fingerprint, "import")
    except ValidationFailed as error:
        raise ValidationFailed(error.field, error.message, parsed.first_row) from None


def _new_households(context: _Context, chunk: Sequence[ParsedHousehold]) -> list[ParsedHousehold]:
    """Drop households already imported (same content); report changed ones as conflicts."""
    refs = [parsed.command.source_ref for parsed in chunk]
    known = {
        ref: (fingerprint, erased)
        for ref, fingerprint, erased in context.session.execute(
            select(Household.source_ref, Household.fingerprint, Household.erased_at).where(
                Household.source_ref.in_(refs)
            )
        )
    }
    fresh: list[ParsedHousehold] = []
    seen: set[str | None] = set()
    for parsed in chunk:
        ref = parsed.command.source_ref
        if ref in seen:
            context.report.add_error(
                ValidationFailed(
                    "_uuid", f"{ref} appears again; rows of a household must be adjacent", parsed.first_row
                ),
                0,
            )
            continue
        seen.add(ref)
        if ref not in known:
            fresh.append(parsed)
            continue
        fingerprint, erased = known[ref]
        if erased is not None or fingerprint == context.vault.fingerprint(parsed.content):
            context.report.skipped += 1
        else:
            context.report.add_error(
                ValidationFailed(
                    "_uuid", f"{ref} was imported before with different content; not overwritten", parsed.first_row
                ),
                len(parsed.command.members),
            )
    return fresh


def _write_chunk(context: _Context, chunk: Sequence[ParsedHousehold]) -> None:
    if not chunk:
        return
    prepared: list[PreparedHousehold] = []
    for parsed in _new_households(context, chunk):
        try:
            prepared.append(_prepare(context, parsed))
        except ValidationFailed as error:
            context.report.add_error(error, len(parsed.command.members))
    try:
        with action(context.session):
            write_households(context.session, prepared, context.actor)
    except IntegrityError:
        # Someone else imported some of these meanwhile: retry one by one to isolate them.
        for item in prepared:
            try:
                with action(context.session):
                    write_households(context.session, [item], context.actor)
            except IntegrityError:
                context.report.skipped += 1
                continue
            _count(context.report, [item])
        return
    _count(context.report, prepared)


def _count(report: ImportReport, written: Sequence[PreparedHousehold]) -> None:
    report.households += len(written)
    report.persons += sum(len(item.persons) for item in written)
