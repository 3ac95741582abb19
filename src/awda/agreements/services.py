"""Actions on agreements: create one, import the agreements file, list and look up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.access.services import require
from awda.agreements.models import Agreement, AgreementTerm
from awda.agreements.rules import (
    AgreementRecord,
    check_code,
    check_signed_on,
    check_terms,
    parse_terms_json,
)
from awda.audit.services import record_event
from awda.db import action
from awda.errors import Conflict, NotFound, ValidationFailed
from awda.monitoring.rules import parse_schedule
from awda.places.models import Place
from awda.tables import read_rows

FILE_COLUMNS = ("agreement_id", "name_en", "name_ar", "area_pcode", "guarantor", "signed_on", "terms")
TEXT_LIMITS = {"name_en": 200, "name_ar": 200, "guarantor": 200, "parties": 400}


def _area_id(session: Session, pcode: str | None) -> int | None:
    if not pcode:
        return None
    area = session.scalar(select(Place.id).where(Place.pcode == pcode))
    if area is None:
        raise ValidationFailed("area_pcode", f"no place with P-code {pcode!r} in the gazetteer")
    return area


def _insert(session: Session, actor: Actor, record: AgreementRecord) -> Agreement:
    if session.scalar(select(Agreement.id).where(Agreement.code == record.code)) is not None:
        raise Conflict(f"agreement {record.code} exists already")
    agreement = Agreement(
        code=record.code,
        name_en=record.name_en,
        name_ar=record.name_ar,
        area_id=_area_id(session, record.area_pcode),
        guarantor=record.guarantor,
        parties=record.parties,
        signed_on=record.signed_on,
        followup_days=",".join(str(day) for day in record.followup_days),
    )
    session.add(agreement)
    session.flush()
    session.add_all(
        AgreementTerm(
            agreement_id=agreement.id,
            code=term.code,
            kind=term.kind,
            applies_to=term.applies_to,
            duration_days=term.duration_days,
        )
        for term in record.terms
    )
    payload = {"code": record.code, "terms": [term.code for term in record.terms]}
    record_event(session, actor, "create_agreement", "agreement", record.code, payload)
    return agreement


def create_agreement(session: Session, actor: Actor, record: AgreementRecord) -> Agreement:
    """Record an agreement and its terms."""
    require(actor, Permission.MANAGE_AGREEMENTS)
    with action(session):
        return _insert(session, actor, record)


def record_from_row(cells: dict[str, str]) -> AgreementRecord:
    """An agreement from one row of an agreements file (the simulator's truth/agreements.csv)."""
    name_en, name_ar, guarantor = (cells.get(key, "").strip() for key in ("name_en", "name_ar", "guarantor"))
    for field, value in (("name_en", name_en), ("name_ar", name_ar), ("guarantor", guarantor)):
        if not value:
            raise ValidationFailed(field, "required")
    for field, limit in TEXT_LIMITS.items():  # the column sizes: PostgreSQL refuses longer text
        if len(cells.get(field, "").strip()) > limit:
            raise ValidationFailed(field, f"is longer than {limit} characters")
    return AgreementRecord(
        code=check_code(cells.get("agreement_id", ""), "agreement_id"),
        name_en=name_en,
        name_ar=name_ar,
        area_pcode=cells.get("area_pcode", "").strip() or None,
        guarantor=guarantor,
        parties=cells.get("parties", "").strip(),
        signed_on=check_signed_on(cells.get("signed_on", "")),
        terms=check_terms(parse_terms_json(cells.get("terms", ""))),
        followup_days=parse_schedule(cells.get("followup_days", "")),
    )


def _file_records(path: Path) -> list[tuple[int, AgreementRecord]]:
    """(file row, record) for each row; the first bad cell raises, naming its row."""
    rows = read_rows(path)
    header = [cell.strip() for cell in next(rows, [])]
    missing = [column for column in FILE_COLUMNS if column not in header]
    if missing:
        raise ValidationFailed(missing[0], "column missing from the file's header", row=1)
    records = []
    for number, cells in enumerate(rows, start=2):
        with _naming_row(number):
            records.append((number, record_from_row(dict(zip(header, cells, strict=False)))))
    return records


@contextmanager
def _naming_row(number: int) -> Iterator[None]:
    try:
        yield
    except ValidationFailed as error:
        raise ValidationFailed(error.field, error.message, row=number) from None


def import_agreements(session: Session, actor: Actor, path: Path) -> dict[str, int]:
    """Import an agreements file; all or nothing; agreements already present are skipped."""
    require(actor, Permission.MANAGE_AGREEMENTS)
    records = _file_records(path)
    existing = set(session.scalars(select(Agreement.code)))
    created = 0
    with action(session):
        for number, record in records:
            if record.code not in existing:
                with _naming_row(number):  # an area P-code the gazetteer lacks
                    _insert(session, actor, record)
                existing.add(record.code)
                created += 1
    return {"rows": len(records), "created": created, "skipped": len(records) - created}


def agreement_by_code(session: Session, code: str) -> Agreement:
    agreement = session.scalar(select(Agreement).where(Agreement.code == code.strip().upper()))
    if agreement is None:
        raise NotFound(f"no agreement {code}")
    return agreement


def agreement_view(session: Session, agreement: Agreement) -> dict[str, Any]:
    terms = session.scalars(
        select(AgreementTerm).where(AgreementTerm.agreement_id == agreement.id).order_by(AgreementTerm.code)
    )
    area = session.get(Place, agreement.area_id) if agreement.area_id else None
    return {
        "code": agreement.code,
        "name_en": agreement.name_en,
        "name_ar": agreement.name_ar,
        "area": area.pcode if area else None,
        "guarantor": agreement.guarantor,
        "parties": agreement.parties,
        "signed_on": agreement.signed_on.isoformat(),
        "followup_days": [int(day) for day in agreement.followup_days.split(",")],
        "terms": [
            {"code": t.code, "kind": t.kind, "applies_to": t.applies_to, "duration_days": t.duration_days}
            for t in terms
        ],
    }


def list_agreements(session: Session) -> list[dict[str, Any]]:
    return [agreement_view(session, a) for a in session.scalars(select(Agreement).order_by(Agreement.code))]
