"""Field files in: arrivals, follow-up outcomes and incidents (CSV or XLSX), all or nothing, idempotent.

People are named as field forms name them: the registration's submission id (`registration_uuid`,
the `_uuid` of the registration file) and the member's index in it. Formats: docs/monitoring.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from itertools import groupby
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.access.services import require
from awda.audit.services import record_event
from awda.db import action, utcnow
from awda.errors import Conflict, ValidationFailed
from awda.households.models import Household
from awda.monitoring import arrivals as arrival_actions
from awda.monitoring import incidents as incident_actions
from awda.monitoring.commands import ArrivalIn, IncidentIn, PersonRef, ReporterIn
from awda.monitoring.followups import cancel_later
from awda.monitoring.models import FollowUp, Incident
from awda.monitoring.rules import Outcome, check_outcome
from awda.tables import read_rows
from awda.vault import Vault

ARRIVAL_COLUMNS = ("registration_uuid", "member_index", "arrived_on", "place_pcode", "agreement_id", "intention")
FOLLOWUP_COLUMNS = ("registration_uuid", "arrived_on", "days_after_arrival", "outcome", "contacted_on")
INCIDENT_COLUMNS = (
    "incident_id",
    "registration_uuid",
    "member_index",
    "type",
    "date",
    "place_pcode",
    "perpetrator_category",
    "verification",
)

Row = tuple[int, dict[str, str]]
Progress = Callable[[int], None] | None


def file_rows(path: Path, required: tuple[str, ...]) -> Iterator[Row]:
    """(row number, cells by column) for each data row; checks the header first."""
    rows = read_rows(path)
    header = [cell.strip() for cell in next(rows, [])]
    missing = [column for column in required if column not in header]
    if missing:
        raise ValidationFailed(missing[0], "column missing from the file's header", row=1)
    for number, cells in enumerate(rows, start=2):
        if cells and cells[0].startswith("#"):
            continue  # an HXL hashtag row
        # A row shorter than the header reads its missing cells as empty.
        yield number, {key: (cells[index].strip() if index < len(cells) else "") for index, key in enumerate(header)}


@contextmanager
def row_errors(number: int) -> Iterator[None]:
    """Any validation problem inside names the file row."""
    try:
        yield
    except ValidationFailed as error:
        raise ValidationFailed(error.field, error.message, row=number) from None
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "row"
        raise ValidationFailed(field, first["msg"], row=number) from None


def _optional_date(cells: dict[str, str], column: str) -> date | None:
    return _date(cells, column) if cells.get(column, "") else None


def _date(cells: dict[str, str], column: str) -> date:
    text = cells.get(column, "")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(column, "a date as YYYY-MM-DD") from None


def _int(cells: dict[str, str], column: str) -> int:
    text = cells.get(column, "")
    # str.isdigit also accepts '²', which int() refuses; nine digits keep it a 32-bit SQL integer
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise ValidationFailed(column, "a whole number")
    return int(text)


def _household(session: Session, cells: dict[str, str], number: int) -> Household:
    return arrival_actions.household_by_source(session, cells["registration_uuid"], number)


def import_arrivals(session: Session, actor: Actor, path: Path, on_progress: Progress = None) -> dict[str, int]:
    """One arrival per household and date; people whose arrival is recorded already are skipped."""
    require(actor, Permission.RECORD_ARRIVALS)
    rows = list(file_rows(path, ARRIVAL_COLUMNS))
    recorded = skipped = 0

    def key(row: Row) -> tuple[str, str]:
        return row[1]["registration_uuid"], row[1]["arrived_on"]

    with action(session):
        for _key, group in groupby(rows, key=key):
            items = list(group)
            with row_errors(items[0][0]):
                result = _arrive(session, actor, items)
            recorded, skipped = recorded + result, skipped + len(items) - result
            if on_progress:
                on_progress(len(items))
    return {"rows": len(rows), "arrivals": recorded, "skipped": skipped}


def _arrive(session: Session, actor: Actor, items: list[Row]) -> int:
    number, first = items[0]
    household = _household(session, first, number)
    command = ArrivalIn(
        household_uid=household.uid,
        member_indexes=[_int(cells, "member_index") for _n, cells in items],
        arrived_on=_date(first, "arrived_on"),
        place=first["place_pcode"],
        agreement=first.get("agreement_id") or None,
        intention=first.get("intention") or "return",
        convoy_ref=first.get("convoy_id") or None,
    )
    try:
        return len(arrival_actions.arrive(session, actor, household, command).arrival_uids)
    except Conflict:
        return 0


def import_followups(session: Session, actor: Actor, path: Path, on_progress: Progress = None) -> dict[str, int]:
    """Outcomes of scheduled follow-ups. A follow-up whose outcome is recorded already is skipped when the
    row says the same, and refused (naming the row) when it says another: nothing of the file is written."""
    require(actor, Permission.FOLLOW_UP)
    return import_followup_rows(session, actor, list(file_rows(path, FOLLOWUP_COLUMNS)), on_progress)


def import_followup_rows(
    session: Session, actor: Actor, rows: Sequence[Row], on_progress: Progress = None
) -> dict[str, int]:
    """`import_followups` for rows already read (a field export's submissions); one transaction."""
    require(actor, Permission.FOLLOW_UP)
    recorded = 0
    with action(session):
        for number, cells in rows:
            with row_errors(number):
                recorded += _followup(session, actor, cells, number)
            if on_progress:
                on_progress(1)
    return {"rows": len(rows), "recorded": recorded, "skipped": len(rows) - recorded}


def _followup(session: Session, actor: Actor, cells: dict[str, str], number: int) -> int:
    household = _household(session, cells, number)
    arrived_on, day = _date(cells, "arrived_on"), _int(cells, "days_after_arrival")
    outcome = check_outcome(cells["outcome"])
    followup = session.scalar(
        select(FollowUp).where(
            FollowUp.household_id == household.id,
            FollowUp.arrived_on == arrived_on,
            FollowUp.days_after_arrival == day,
        )
    )
    if followup is None:
        raise ValidationFailed("days_after_arrival", f"no follow-up at day {day} of the arrival on {arrived_on}")
    contacted = _optional_date(cells, "contacted_on") or followup.due_on
    if followup.outcome is not None:  # the same outcome again is skipped; another one is a conflict
        if followup.outcome != outcome.value:
            raise ValidationFailed(
                "outcome", f"{outcome.value} here, but {followup.outcome} is recorded already for day {day}"
            )
        return 0
    followup.outcome, followup.contacted_on, followup.recorded_at = outcome.value, contacted, utcnow()
    payload = {"outcome": outcome.value, "days_after_arrival": day, "imported": True}
    record_event(session, actor, "record_followup", "followup", followup.uid, payload, household.site_id)
    if outcome == Outcome.MOVED:
        cancel_later(session, followup)
    return 1


def import_incidents(
    session: Session, vault: Vault, actor: Actor, path: Path, on_progress: Progress = None
) -> dict[str, int]:
    """Incidents; rows sharing an `incident_id` are one incident affecting several people."""
    require(actor, Permission.RECORD_INCIDENTS)
    return import_incident_rows(session, vault, actor, list(file_rows(path, INCIDENT_COLUMNS)), on_progress)


def import_incident_rows(
    session: Session, vault: Vault, actor: Actor, rows: Sequence[Row], on_progress: Progress = None
) -> dict[str, int]:
    """`import_incidents` for rows already read (a field export's submissions); one transaction."""
    require(actor, Permission.RECORD_INCIDENTS)
    refs = list({cells["incident_id"] for _number, cells in rows if cells.get("incident_id")})
    known: set[str | None] = set()
    for start in range(0, len(refs), 500):  # only the file's own ids, a bounded IN list at a time
        chunk = refs[start : start + 500]
        known.update(session.scalars(select(Incident.source_ref).where(Incident.source_ref.in_(chunk))))
    recorded = skipped = 0
    with action(session):
        for incident_id, group in groupby(rows, key=lambda row: row[1]["incident_id"]):
            items = list(group)
            if incident_id not in known:
                with row_errors(items[0][0]):
                    incident_actions.insert_incident(session, vault, actor, _incident_command(session, items))
                known.add(incident_id)
                recorded += 1
            else:
                skipped += 1
            if on_progress:
                on_progress(len(items))
    return {"rows": len(rows), "incidents": recorded, "skipped": skipped}


def _incident_command(session: Session, items: list[Row]) -> IncidentIn:
    first = items[0][1]
    if not first["incident_id"]:
        raise ValidationFailed("incident_id", "required")
    persons = [
        PersonRef(household_uid=_household(session, cells, n).uid, member_index=_int(cells, "member_index"))
        for n, cells in items
    ]
    reporter = None
    if first.get("reporter_name") or first.get("reporter_contact"):
        reporter = ReporterIn(name=first.get("reporter_name", ""), contact=first.get("reporter_contact", ""))
    terms = first.get("breached_term_id")
    return IncidentIn(
        type=first["type"],
        occurred_on=_date(first, "date"),
        date_precision=first.get("date_precision") or "day",
        place=first["place_pcode"] or None,
        persons=persons,
        perpetrator_category=first["perpetrator_category"],
        source=first.get("source") or "other",
        verification=first["verification"],
        agreement=first.get("agreement_id") or None,
        breached_terms=None if terms is None else [code for code in terms.split(";") if code],
        reporter=reporter,
        source_ref=first["incident_id"],
    )
