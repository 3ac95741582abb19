"""Form instances to the records they stand for, through the same commands as the file imports.

A registration goes through `households/rows.py` (the reference validation of `awda import
registrations`), so a phone's submission and an export's row fail with the same message; the
follow-up and incident forms build the commands of `monitoring`. Errors name the field as the form
names it (`members[2]/birth_year` for the second member). Each `write_*` runs inside the caller's
transaction (`services.receive_submission`) and writes the record's own event.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission, covers_site
from awda.access.services import require
from awda.audit.services import record_event
from awda.db import utcnow
from awda.errors import Conflict, ValidationFailed
from awda.field.forms import FOLLOWUP, INCIDENT, REGISTRATION
from awda.field.openrosa import Instance
from awda.households import rows
from awda.households.commands import HouseholdIn
from awda.households.models import Household
from awda.households.records import from_command
from awda.households.services import place_ids_for
from awda.households.writer import Preparation, RowBatch, prepare_household, write_households
from awda.monitoring import incidents
from awda.monitoring.commands import IncidentIn, PersonRef, ReporterIn
from awda.monitoring.followups import cancel_later
from awda.monitoring.models import FollowUp
from awda.monitoring.rules import Outcome, check_outcome
from awda.places.services import site_by_code
from awda.vault import Vault

_LAYOUT = rows.Layout(rows.HOUSEHOLD_COLUMNS + rows.PERSON_COLUMNS)


@dataclass(frozen=True)
class Written:
    """The record a submission became, and the site it belongs to."""

    record_type: str
    record_uid: str
    site_id: int | None


@contextmanager
def _named(prefix: str = "") -> Iterator[None]:
    """A pydantic error becomes one ValidationFailed naming the form's field (under `prefix`)."""
    try:
        yield
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "instance"
        raise ValidationFailed(prefix + field, str(first["msg"]).removeprefix("Value error, ")) from None


def registration_rows(instance: Instance) -> rows.HouseholdRows:
    """The instance as the rows of a registration file: one per member, household fields repeated."""
    members = instance.repeats.get("members", [])
    if not members:
        raise ValidationFailed("members", "a registration needs at least one member")
    household = {column: instance.fields.get(column, "") for column in rows.HOUSEHOLD_COLUMNS}
    household["_uuid"] = instance.uuid
    group = rows.HouseholdRows(instance.uuid, 1, [])
    for number, member in enumerate(members, start=1):
        record = household | {column: member.get(column, "") for column in rows.PERSON_COLUMNS}
        group.rows.append((number, _LAYOUT.cells([record[column] for column in _LAYOUT.columns])))
    return group


def registration_command(group: rows.HouseholdRows) -> HouseholdIn:
    """The household a registration instance describes, checked exactly as an import row is."""
    try:
        return rows.command_from_rows(group, _LAYOUT)
    except ValidationFailed as error:
        if error.field in rows.PERSON_COLUMNS and error.row is not None:
            raise ValidationFailed(f"members[{error.row}]/{error.field}", error.message) from None
        raise ValidationFailed(error.field, error.message) from None


def check_registration_scope(session: Session, actor: Actor, command: HouseholdIn) -> int:
    """The site's id, once the actor may register there (403 otherwise)."""
    site = site_by_code(session, command.site_code)
    require(actor, Permission.REGISTER, site.id)
    return site.id


def write_registration(session: Session, vault: Vault, actor: Actor, instance: Instance) -> Written:
    """Register the household, with the content fingerprint an import of the same submission would
    give it (the same columns, `rows.content_of`): exporting it from KoboToolbox or ODK Central and
    importing it later finds it already there, and a household imported first is not registered twice."""
    group = registration_rows(instance)
    command = registration_command(group)
    site_id = check_registration_scope(session, actor, command)
    fingerprint = vault.fingerprint(rows.content_of(group, _LAYOUT))
    known = session.scalar(select(Household).where(Household.source_ref == command.source_ref))
    if known is not None:
        if known.fingerprint != fingerprint or known.erased_at is not None:
            raise Conflict(f"a household with source reference {command.source_ref!r} is already registered")
        return Written("household", known.uid, known.site_id)
    intention = command.intention
    pcodes = (intention.origin_pcode, intention.destination_pcode) if intention else ()
    preparation = Preparation.for_session(session, vault, actor, place_ids_for(session, *pcodes))
    batch = RowBatch()
    prepared = prepare_household(preparation, from_command(command), site_id, batch, fingerprint)
    write_households(session, batch)
    return Written("household", prepared.uid, site_id)


def household_in_scope(session: Session, actor: Actor, field: str, registration_uuid: str) -> Household:
    """The household registered from `registration_uuid` (or, for households registered otherwise, the
    household id `awda monitoring overdue` lists); out of the actor's sites it looks absent."""
    reference = registration_uuid.strip()
    household = session.scalar(select(Household).where(Household.source_ref == reference))
    if household is None and reference:
        household = session.scalar(select(Household).where(Household.uid == reference))
    if household is None or household.erased_at is not None or not covers_site(actor, household.site_id):
        raise ValidationFailed(field, "no registered household with this registration id in your sites")
    return household


def _date(instance: Instance, field: str) -> date:
    try:
        return date.fromisoformat(instance.fields.get(field, ""))
    except ValueError:
        raise ValidationFailed(field, "a date as YYYY-MM-DD") from None


def _whole_number(text: str, field: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise ValidationFailed(field, "a whole number")
    return int(text)


def write_followup(session: Session, actor: Actor, instance: Instance) -> Written:
    """The outcome of one scheduled follow-up; one recorded already is a conflict (409)."""
    require(actor, Permission.FOLLOW_UP)
    household = household_in_scope(session, actor, "registration_uuid", instance.fields.get("registration_uuid", ""))
    arrived_on = _date(instance, "arrived_on")
    day = _whole_number(instance.fields.get("days_after_arrival", ""), "days_after_arrival")
    outcome = check_outcome(instance.fields.get("outcome", ""))
    contacted_on = _date(instance, "contacted_on")
    session.refresh(household, with_for_update={"key_share": True})  # every write to a household locks it first
    followup = session.scalar(
        select(FollowUp).where(
            FollowUp.household_id == household.id,
            FollowUp.arrived_on == arrived_on,
            FollowUp.days_after_arrival == day,
        )
    )
    if followup is None:
        raise ValidationFailed("days_after_arrival", f"no follow-up at day {day} of the arrival on {arrived_on}")
    if followup.outcome is not None:
        raise Conflict(f"this follow-up's outcome is recorded already ({followup.outcome})")
    if contacted_on < arrived_on or contacted_on > date.today():
        raise ValidationFailed("contacted_on", "between the arrival and today")
    followup.outcome, followup.contacted_on, followup.recorded_at = outcome.value, contacted_on, utcnow()
    cancelled = cancel_later(session, followup) if outcome == Outcome.MOVED else 0
    session.flush()
    payload = {"outcome": outcome.value, "days_after_arrival": day, "cancelled": cancelled, "field_form": True}
    record_event(session, actor, "record_followup", "followup", followup.uid, payload, household.site_id)
    return Written("followup", followup.uid, household.site_id)


def incident_command(session: Session, actor: Actor, instance: Instance) -> IncidentIn:
    """The incident an instance reports; every affected person's household must be in the actor's sites."""
    persons = []
    for number, person in enumerate(instance.repeats.get("persons", []), start=1):
        prefix = f"persons[{number}]/"
        household = household_in_scope(
            session, actor, prefix + "registration_uuid", person.get("registration_uuid", "")
        )
        index = _whole_number(person.get("member_index", ""), prefix + "member_index")
        with _named(prefix):
            persons.append(PersonRef(household_uid=household.uid, member_index=index))
    if not persons:
        raise ValidationFailed("persons", "name at least one person affected")
    fields = instance.fields
    reporter = None
    if fields.get("reporter_name") or fields.get("reporter_contact"):
        with _named("reporter_"):
            reporter = ReporterIn(name=fields.get("reporter_name", ""), contact=fields.get("reporter_contact", ""))
    with _named():
        return IncidentIn(
            type=fields.get("type", ""),
            occurred_on=_date(instance, "date"),
            date_precision=fields.get("date_precision") or "day",
            place=fields.get("place_pcode") or None,
            persons=persons,
            perpetrator_category=fields.get("perpetrator_category") or "unknown",
            source=fields.get("source") or "other",
            verification=fields.get("verification") or "reported",
            reporter=reporter,
            source_ref=instance.uuid,
        )


def write_incident(session: Session, vault: Vault, actor: Actor, instance: Instance) -> Written:
    require(actor, Permission.RECORD_INCIDENTS)
    command = incident_command(session, actor, instance)
    uid = incidents.insert_incident(session, vault, actor, command)
    site_id = household_in_scope(session, actor, "persons", instance.repeats["persons"][0]["registration_uuid"]).site_id
    return Written("incident", uid, site_id)


def write_record(session: Session, vault: Vault, actor: Actor, instance: Instance) -> Written:
    """Write the record of a form instance (inside the caller's transaction)."""
    if instance.form_id == REGISTRATION:
        return write_registration(session, vault, actor, instance)
    if instance.form_id == FOLLOWUP:
        return write_followup(session, actor, instance)
    if instance.form_id == INCIDENT:
        return write_incident(session, vault, actor, instance)
    raise ValidationFailed("id", f"awda has no form {instance.form_id[:40]!r}")
