"""ODK Central and KoboToolbox exports of awda's forms in: each submission mapped onto awda's actions.

The forms' field names are the columns of awda's import files (docs/import.md, docs/monitoring.md),
so an export is read as those files would be: a registration becomes one row per member (the
household's fields repeated), a follow-up one row, an incident one row per person affected. The
rows stay in memory and go to the same actions as the files (`import_registration_rows`,
`import_followup_rows`, `import_incident_rows`); no flattened copy is ever written to disk.

A submission is known by its UUID (its instanceID without the `uuid:` prefix, as Kobo's `_uuid`):
importing it again creates nothing, and one imported before with other content is a conflict,
never overwritten. Each submission is imported whole or not at all; a refused one is reported
with its UUID, the file (or sheet), the row and the column, and the others go on. Formats and
steps: docs/field.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.access.services import require
from awda.errors import AwdaError, ValidationFailed
from awda.field.kobo_exports import looks_like_kobo, read_kobo_csv, read_kobo_xlsx, sniff_csv_header
from awda.field.odk_exports import Columns, Export, Table, columns_of, read_central
from awda.households.importer import import_registration_rows
from awda.households.models import Household
from awda.households.rows import HOUSEHOLD_COLUMNS, PERSON_COLUMNS
from awda.monitoring.importing import import_followup_rows, import_incident_rows
from awda.monitoring.models import FollowUp, Incident
from awda.vault import Vault

Progress = Callable[[int], None] | None
MAX_REPORTED_ERRORS = 1000
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/\-\[\]]*$")  # a field name (or group path) can be no more


@dataclass(frozen=True)
class FormSpec:
    """What awda reads from one of its forms: fields of the submission and of its repeat group."""

    form_id: str
    main_fields: tuple[str, ...]
    repeat: str | None
    repeat_fields: tuple[str, ...]
    required_main: tuple[str, ...]
    required_repeat: tuple[str, ...]
    list_fields: frozenset[str] = frozenset()  # select_multiple: rebuilt from split columns if need be


INCIDENT_FIELDS = (
    "incident_id",
    "type",
    "date",
    "date_precision",
    "place_pcode",
    "perpetrator_category",
    "source",
    "verification",
    "agreement_id",
    "breached_term_id",
    "reporter_name",
    "reporter_contact",
)
FORMS = {
    "awda_registration": FormSpec(
        "awda_registration",
        HOUSEHOLD_COLUMNS[1:],
        "members",
        PERSON_COLUMNS,
        ("today", "site", "consent_purposes", "consent_date"),
        ("relationship", "sex"),
        frozenset({"consent_purposes", "vulnerabilities"}),
    ),
    "awda_followup": FormSpec(
        "awda_followup",
        ("registration_uuid", "arrived_on", "days_after_arrival", "outcome", "contacted_on"),
        None,
        (),
        ("registration_uuid", "arrived_on", "days_after_arrival", "outcome"),
        (),
    ),
    "awda_incident": FormSpec(
        "awda_incident",
        INCIDENT_FIELDS,
        "persons",
        ("registration_uuid", "member_index"),
        ("type", "date", "perpetrator_category", "verification"),
        ("registration_uuid", "member_index"),
    ),
}


@dataclass
class Submission:
    uuid: str
    row: int  # its row in the main table
    cells: list[str]
    items: list[tuple[int, list[str]]] = field(default_factory=list)  # its repeat rows


@dataclass
class ExportReport:
    tool: str
    form: str
    submissions: int = 0
    imported: int = 0
    skipped: int = 0
    refused: int = 0
    rejected: int = 0  # rejected by a reviewer in Central or Kobo: left out
    persons: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, uuid: str, where: Table | str, row: int | None, column: str, message: str) -> None:
        self.refused += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            source = where if isinstance(where, str) else where.source
            self.errors.append({"uuid": uuid, "file": source, "row": row, "column": column, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def read_export(path: Path) -> Export:
    """An ODK Central export (CSV zip, its CSV files or a folder of them) or a Kobo one (XLSX, CSV)."""
    if not path.exists():
        raise ValidationFailed("file", f"{path} does not exist")
    suffix = path.suffix.lower()
    if path.is_dir() or suffix == ".zip":
        return read_central(path)
    if suffix == ".xlsx":
        return read_kobo_xlsx(path)
    if suffix == ".csv":
        return read_kobo_csv(path) if looks_like_kobo(sniff_csv_header(path)) else read_central(path)
    raise ValidationFailed("file", f"{path.name}: give an export as .zip, .csv, .xlsx or a folder of CSV files")


def form_of(export: Export, form_id: str | None) -> FormSpec:
    """The form named, the one the export's file names tell, or the one whose fields it has."""
    if form_id is not None:
        if form_id not in FORMS:
            raise ValidationFailed("form", f"{form_id!r} is not one of {', '.join(FORMS)}")
        return FORMS[form_id]
    if export.form_hint in FORMS:
        return FORMS[export.form_hint]
    for spec in FORMS.values():  # the forms' required fields of the submission tell them apart
        found = columns_of(export.main, set(spec.required_main), spec.list_fields, export.keys.separators)
        if all(found.has(name) for name in spec.required_main):
            return spec
    _refuse_labels(export.main)
    raise ValidationFailed("form", f"{export.main.source} is no export of an awda form; name it with --form", row=1)


def _refuse_labels(table: Table) -> None:
    labels = [heading for heading in table.header if heading and not _XML_NAME.match(heading)]
    if labels:
        raise ValidationFailed(
            labels[0],
            f"{table.source} has question labels as headers; export again with 'XML values and headers' "
            "(KoboToolbox) so the headers are the fields' names",
            row=1,
        )


def table_columns(export: Export, spec: FormSpec) -> tuple[Columns, Columns | None]:
    """The main table's and the repeat table's columns; a missing column refuses the whole export."""
    keys = export.keys
    meta = {*keys.uuid, keys.submitted, keys.join, keys.review}
    main = columns_of(export.main, {*spec.main_fields, *meta}, spec.list_fields, keys.separators)
    repeat_table = export.repeats.get(spec.repeat) if spec.repeat else None
    repeat = None
    if repeat_table is not None:
        wanted = {*spec.repeat_fields, keys.parent}
        repeat = columns_of(repeat_table, wanted, spec.list_fields, keys.separators)
    _require(main, spec.required_main, meta_uuid=keys.uuid)
    if spec.required_repeat and not all(main.has(name) for name in spec.required_repeat):
        if repeat is None:
            raise ValidationFailed(spec.repeat or "repeat", _no_repeat(export, spec), row=1)
        _require(repeat, (*spec.required_repeat, keys.parent))
        if not main.has(keys.join):
            raise ValidationFailed(keys.join, f"column missing from {export.main.source}", row=1)
    return main, repeat


def _require(columns: Columns, names: tuple[str, ...], meta_uuid: tuple[str, ...] = ()) -> None:
    missing = [name for name in names if not columns.has(name)]
    if meta_uuid and not any(columns.has(name) for name in meta_uuid):
        missing.append(meta_uuid[0])
    if missing:
        _refuse_labels(columns.table)
        raise ValidationFailed(missing[0], f"column missing from {columns.table.source}", row=1)


def _no_repeat(export: Export, spec: FormSpec) -> str:
    if export.tool == "KoboToolbox" and not export.repeats:
        return f"KoboToolbox leaves the repeat group {spec.repeat!r} out of CSV exports; export as XLS instead"
    found = ", ".join(sorted(export.repeats)) or "none"
    return f"the export holds no table of the repeat group {spec.repeat!r} (found: {found})"


def submissions(export: Export, main: Columns, repeat: Columns | None, report: ExportReport) -> Iterator[Submission]:
    """The export's submissions with their repeat rows; a submission without a UUID is refused."""
    keys = export.keys
    pending: dict[str, Submission] = {}
    left_out: set[str] = set()  # join keys of submissions a reviewer rejected: their repeat rows go too
    for number, cells in export.main.rows:
        if not any(cell.strip() for cell in cells):
            continue
        if main.value(cells, keys.review).lower() in keys.rejected:
            report.submissions += 1
            report.rejected += 1
            left_out.add(main.value(cells, keys.join))
            continue
        uuid = next((main.value(cells, name) for name in keys.uuid if main.value(cells, name)), "")
        uuid = uuid.removeprefix("uuid:")
        if not uuid:
            report.submissions += 1
            report.refuse("", export.main, number, keys.uuid[0], "the submission has no instanceID")
            continue
        if repeat is None:
            yield Submission(uuid, number, cells)
            continue
        pending[main.value(cells, keys.join)] = Submission(uuid, number, cells)
    if repeat is not None:
        yield from _joined(pending, repeat, keys.parent, report, left_out)


def _joined(
    pending: dict[str, Submission], repeat: Columns, parent: str, report: ExportReport, left_out: set[str]
) -> Iterator[Submission]:
    """Repeat rows come grouped by submission, in the main table's order (as both tools write them)."""
    rows = ((number, cells) for number, cells in repeat.table.rows if any(cell.strip() for cell in cells))
    for key, group in groupby(rows, key=lambda item: repeat.value(item[1], parent)):
        items = list(group)
        if key in left_out:
            continue
        submission = pending.pop(key, None)
        if submission is None:
            report.submissions += 1
            message = f"{parent} {key!r} names no submission of the main table (or its rows are not together)"
            report.refuse(key.removeprefix("uuid:"), repeat.table, items[0][0], repeat.heading(parent), message)
            continue
        submission.items = items
        yield submission
    yield from pending.values()  # submissions without repeat rows


def import_export(
    session: Session, vault: Vault, actor: Actor, path: Path, form_id: str | None = None, on_progress: Progress = None
) -> ExportReport:
    """Import an ODK Central or KoboToolbox export of an awda form (docs/field.md)."""
    export = read_export(path)
    with export.closer:
        spec = form_of(export, form_id)
        require(actor, _PERMISSION[spec.form_id])
        main, repeat = table_columns(export, spec)
        report = ExportReport(export.tool, spec.form_id)
        found = submissions(export, main, repeat, report)
        if spec.form_id == "awda_registration":
            assert repeat is not None  # table_columns refuses a registration export without members
            _registrations(session, vault, actor, found, (main, repeat), report, on_progress, path.name)
        elif spec.form_id == "awda_followup":
            _followups(session, actor, found, main, report, on_progress)
        else:
            _incidents(session, vault, actor, found, (main, repeat), report, on_progress)
    return report


_PERMISSION = {
    "awda_registration": Permission.REGISTER,
    "awda_followup": Permission.FOLLOW_UP,
    "awda_incident": Permission.RECORD_INCIDENTS,
}
# The registration file's layout (docs/import.md) without `_submission_time`: the tools write it
# differently, and the content fingerprint must not differ with the tool a submission came through.
REGISTRATION_HEADER = ["_uuid", *HOUSEHOLD_COLUMNS[1:], *PERSON_COLUMNS]


def _registrations(
    session: Session,
    vault: Vault,
    actor: Actor,
    found: Iterator[Submission],
    tables: tuple[Columns, Columns],
    report: ExportReport,
    on_progress: Progress,
    source_name: str,
) -> None:
    """Every member a row; the registration importer checks, seals and writes them by household."""
    main, repeat = tables
    origins: list[tuple[str, int, int]] = []  # each row's submission UUID, main row and repeat row

    def rows() -> Iterator[list[str]]:
        for submission in found:
            report.submissions += 1
            if not submission.items:
                report.refuse(submission.uuid, main.table, submission.row, "members", "the submission lists no member")
                continue
            household = [submission.uuid, *(main.value(submission.cells, name) for name in HOUSEHOLD_COLUMNS[1:])]
            for position, (number, cells) in enumerate(submission.items, start=1):
                person = [repeat.value(cells, name) for name in PERSON_COLUMNS]
                person[0] = person[0] or str(position)  # member_index: the repeat's position if not calculated
                origins.append((submission.uuid, submission.row, number))
                yield household + person

    result = import_registration_rows(session, vault, actor, REGISTRATION_HEADER, rows(), source_name, on_progress)
    report.imported += result.households
    report.skipped += result.skipped
    report.persons += result.persons
    for error in result.errors:
        uuid, main_row, repeat_row = origins[error["row"] - 2] if error["row"] else ("", None, None)
        if error["field"] in PERSON_COLUMNS:
            report.refuse(uuid, repeat.table, repeat_row, repeat.heading(error["field"]), error["message"])
        else:
            column = _main_heading(main, error["field"])
            report.refuse(uuid, main.table, main_row, column, error["message"])
    report.refused += result.error_count - len(result.errors)  # beyond the importer's reported errors


def _main_heading(main: Columns, name: str) -> str:
    if name == "_uuid":
        return next((main.heading(key) for key in ("KEY", "rootUuid", "_uuid", "instanceID") if main.has(key)), name)
    return main.heading(name)


def _refuse_error(
    report: ExportReport, submission: Submission, tables: tuple[Columns, Columns | None], error: AwdaError
) -> None:
    """Name the file, row and column of an action's refusal: a person's field is in the repeat table."""
    main, repeat = tables
    name = getattr(error, "field", "")
    message = getattr(error, "message", str(error))
    if repeat is not None and name in repeat.at:
        number = getattr(error, "row", None) or (submission.items[0][0] if submission.items else None)
        report.refuse(submission.uuid, repeat.table, number, repeat.heading(name), message)
    else:
        report.refuse(submission.uuid, main.table, submission.row, main.heading(name) if name else "", message)


def _followups(
    session: Session,
    actor: Actor,
    found: Iterator[Submission],
    main: Columns,
    report: ExportReport,
    on_progress: Progress,
) -> None:
    """Each submission the outcome of one scheduled follow-up, in its own transaction."""
    for submission in found:
        report.submissions += 1
        cells = {name: main.value(submission.cells, name) for name in FORMS["awda_followup"].main_fields}
        conflict = _followup_conflict(session, cells)
        session.rollback()  # end the check's read: the action runs in a transaction of its own
        if conflict is not None:
            report.refuse(submission.uuid, main.table, submission.row, main.heading("outcome"), conflict)
        else:
            try:
                outcome = import_followup_rows(session, actor, [(submission.row, cells)])
            except AwdaError as error:
                _refuse_error(report, submission, (main, None), error)
            else:
                report.imported += outcome["recorded"]
                report.skipped += outcome["skipped"]
        if on_progress is not None:
            on_progress(1)


def _followup_conflict(session: Session, cells: dict[str, str]) -> str | None:
    """A different outcome for a follow-up recorded already (anything unreadable is left to the action)."""
    try:
        arrived_on, day = date.fromisoformat(cells["arrived_on"]), int(cells["days_after_arrival"])
    except ValueError:
        return None
    followup = session.scalar(
        select(FollowUp)
        .join(Household, Household.id == FollowUp.household_id)
        .where(
            Household.source_ref == cells["registration_uuid"],
            FollowUp.arrived_on == arrived_on,
            FollowUp.days_after_arrival == day,
        )
    )
    if followup is None or followup.outcome is None:
        return None
    contacted = cells.get("contacted_on", "")
    if followup.outcome != cells["outcome"] or (contacted and contacted != str(followup.contacted_on)):
        return f"this follow-up was recorded before as {followup.outcome!r} on {followup.contacted_on}; not overwritten"
    return None


def _incidents(
    session: Session,
    vault: Vault,
    actor: Actor,
    found: Iterator[Submission],
    tables: tuple[Columns, Columns | None],
    report: ExportReport,
    on_progress: Progress,
) -> None:
    """Each submission one incident (its `incident_id` the submission's UUID unless the form gives one)."""
    main, repeat = tables
    present = [name for name in INCIDENT_FIELDS if main.has(name)]
    for submission in found:
        report.submissions += 1
        base = {name: main.value(submission.cells, name) for name in present}
        base |= {"incident_id": base.get("incident_id") or submission.uuid, "place_pcode": base.get("place_pcode", "")}
        people = [(number, cells, repeat) for number, cells in submission.items] if repeat else []
        people = people or [(submission.row, submission.cells, main)]
        rows = [
            (number, base | {name: where.value(cells, name) for name in ("registration_uuid", "member_index")})
            for number, cells, where in people
        ]
        conflict = _incident_conflict(session, base)
        session.rollback()  # end the check's read: the action runs in a transaction of its own
        if conflict is not None:
            report.refuse(submission.uuid, main.table, submission.row, main.heading("type"), conflict)
        else:
            try:
                outcome = import_incident_rows(session, vault, actor, rows)
            except AwdaError as error:
                _refuse_error(report, submission, tables, error)
            else:
                report.imported += outcome["incidents"]
                report.skipped += outcome["skipped"]
        if on_progress is not None:
            on_progress(1)


def _incident_conflict(session: Session, base: dict[str, str]) -> str | None:
    incident = session.scalar(select(Incident).where(Incident.source_ref == base["incident_id"]))
    if incident is None:
        return None
    stored = (incident.type, str(incident.occurred_on), incident.perpetrator_category)
    if stored != (base.get("type"), base.get("date"), base.get("perpetrator_category")):
        return f"incident {base['incident_id']} was imported before with different content; not overwritten"
    return None


def report_text(report: ExportReport) -> str:
    """The report for a person: counts, then one line per refused submission."""
    lines = [
        f"{report.tool} export of {report.form}: {report.submissions} submissions, {report.imported} imported, "
        f"{report.skipped} already imported, {report.refused} refused"
        + (f", {report.rejected} rejected by a reviewer and left out" if report.rejected else "")
    ]
    for error in report.errors:
        where = f"{error['file']}, row {error['row']}" if error["row"] else error["file"]
        lines.append(f"  {error['uuid'] or '(no UUID)'}: {where}, {error['column']}: {error['message']}")
    return "\n".join(lines)
