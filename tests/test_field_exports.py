"""ODK Central and KoboToolbox exports of awda's forms in, on both engines.

The exports are written here in each tool's documented layout (docs/field.md): Central's CSV zip
(`<form>.csv`, `<form>-<repeat>.csv` joined by KEY / PARENT_KEY), the same files loose, Kobo's
XLSX (one sheet per repeat group joined by `_index` / `_parent_index`) and Kobo's CSV.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.errors import ValidationFailed
from awda.field.exports_import import ExportReport, import_export
from awda.households.models import Household, Person
from awda.households.rows import HOUSEHOLD_COLUMNS, PERSON_COLUMNS
from awda.monitoring import importing
from awda.monitoring.models import FollowUp, Incident, IncidentPerson
from awda.runtime import Runtime
from tests.conftest import Done

pytestmark = pytest.mark.usefixtures("gazetteer")
Item = dict[str, str]
HOUSEHOLD_FIELDS = [name for name in HOUSEHOLD_COLUMNS if name != "_uuid"]
CENTRAL_META = ["SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status"]
CENTRAL_META += ["ReviewState", "DeviceID", "Edits", "FormVersion"]
KOBO_META = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by"]
KOBO_META += ["__version__", "_tags", "_index"]
VULNERABILITIES = ["medical", "disability", "elderly", "pregnant", "unaccompanied_child", "female_headed"]


def uuid_of(number: int) -> str:
    return f"1b9f0c2e-5d6a-4e7b-8c9d-{number:012d}"


def household(number: int, **changes: str) -> Item:
    return {
        "today": "2024-02-01",
        "registrar": "officer1",
        "site": "RUKBAN",
        "travel_group": "",
        "consent_purposes": "registration movement follow_up",
        "consent_date": "2024-02-01",
        "intention": "return",
        "origin_pcode": "C4402",
        "destination_pcode": "C4401",
        "window_start": "2024-04-01",
        "window_end": "2024-06-30",
        "intention_members": "all",
    } | changes


def members(size: int, **changes: str) -> list[Item]:
    people = []
    for index in range(1, size + 1):
        head = index == 1
        person = dict.fromkeys(PERSON_COLUMNS, "") | {
            "member_index": str(index),
            "relationship": "head" if head else "daughter",
            "given_name_ar": "أحمد" if head else "سلمى",
            "given_name_lat": "Ahmad" if head else "Salma",
            "family_name_ar": "العلي",
            "family_name_lat": "al-Ali",
            "sex": "male" if head else "female",
            "birth_year": "1975" if head else str(2004 + index),
            "vulnerabilities": "medical elderly" if head else "",
            "phone": "+963944123456" if head else "",
        }
        people.append(person)
    for key, value in changes.items():
        position, column = key.split("__")
        people[int(position)][column] = value
    return people


Submission = tuple[str, Item, dict[str, list[Item]]]  # uuid, main fields, repeat rows by group


def registration(number: int, size: int = 3, main: Item | None = None, **person_changes: str) -> Submission:
    return uuid_of(number), household(number, **(main or {})), {"members": members(size, **person_changes)}


# --- ODK Central -----------------------------------------------------------------------------


def _csv_bytes(rows: list[list[str]], delimiter: str = ",", quote_all: bool = False) -> bytes:
    out = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def central_files(
    form: str, fields: list[str], submissions: list[Submission], group: str = "", split: bool = False
) -> dict[str, bytes]:
    """Central's CSV export: group paths joined by '-', KEY/PARENT_KEY, optional split select columns."""
    prefix = f"{group}-" if group else ""
    header = ["SubmissionDate", *[prefix + name for name in fields], "meta-instanceID", "KEY", *CENTRAL_META]
    main = [header]
    repeats: dict[str, list[list[str]]] = {}
    for uuid, values, groups in submissions:
        key = f"uuid:{uuid}"
        main.append(["2024-02-01T09:00:00.000Z", *[values.get(n, "") for n in fields], key, key, "5", "officer1"])
        for name, items in groups.items():
            columns = list(items[0]) if items else []
            extra = [f"vulnerabilities/{choice}" for choice in VULNERABILITIES] if split else []
            table = repeats.setdefault(name, [[*columns, *extra, "PARENT_KEY", "KEY"]])
            for position, item in enumerate(items, start=1):
                ticks = ["1" if c in item.get("vulnerabilities", "").split() else "0" for c in VULNERABILITIES]
                table.append([*item.values(), *(ticks if split else []), key, f"{key}/{name}[{position}]"])
    files = {f"{form}.csv": _csv_bytes(main)}
    files |= {f"{form}-{name}.csv": _csv_bytes(rows) for name, rows in repeats.items()}
    return files


def central_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def loose_files(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder / min(files, key=len)


# --- KoboToolbox -----------------------------------------------------------------------------


def kobo_xlsx(path: Path, fields: list[str], submissions: list[Submission], details: bool = False) -> Path:
    """Kobo's XLSX: group paths joined by '/', `_index` / `_parent_index`; `details`: split selects only."""
    workbook = Workbook()
    main = workbook.active
    assert main is not None
    main.title = "awda form"
    main.append([*fields, *KOBO_META])
    sheets: dict[str, Any] = {}
    child_index: dict[str, int] = {}
    for index, (uuid, values, groups) in enumerate(submissions, start=1):
        main.append([*[values.get(n, "") for n in fields], str(index), uuid, "2024-02-01T09:00:00", *[""] * 6, index])
        for name, items in groups.items():
            sheet = sheets.get(name)
            if sheet is None:
                sheet = sheets[name] = workbook.create_sheet(name)
                columns = [c for c in items[0] if not (details and c == "vulnerabilities")]
                extra = [f"{name}/vulnerabilities/{choice}" for choice in VULNERABILITIES] if details else []
                sheet.append([*[f"{name}/{c}" for c in columns], *extra, "_index", "_parent_table_name"])
                sheet.cell(1, sheet.max_column + 1, "_parent_index")
                sheet.cell(1, sheet.max_column + 1, "_submission__uuid")
            for item in items:
                child_index[name] = child_index.get(name, 0) + 1
                cells: list[Any] = [v for c, v in item.items() if not (details and c == "vulnerabilities")]
                if details:
                    cells += [1 if c in item["vulnerabilities"].split() else 0 for c in VULNERABILITIES]
                cells = [int(v) if isinstance(v, str) and v.isdigit() and len(v) < 5 else v for v in cells]
                sheet.append([*cells, child_index[name], "awda form", index, uuid])
    workbook.save(path)
    return path


def kobo_csv(path: Path, fields: list[str], submissions: list[Submission], headers: list[str] | None = None) -> Path:
    rows = [[*(headers or fields), *KOBO_META]]
    for index, (uuid, values, _groups) in enumerate(submissions, start=1):
        rows.append([*[values.get(n, "") for n in fields], str(index), uuid, "2024-02-01T09:00:00", *[""] * 7])
    path.write_bytes(_csv_bytes(rows, ";", quote_all=True))
    return path


# --- helpers ---------------------------------------------------------------------------------


def run(runtime: Runtime, session: Session, path: Path, form: str | None = None) -> ExportReport:
    return import_export(session, runtime.vault, SYSTEM, path, form)


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def summary(report: ExportReport) -> tuple[int, int, int, int]:
    return report.submissions, report.imported, report.skipped, report.refused


# --- registrations ---------------------------------------------------------------------------


def test_a_central_zip_registers_each_submission_once(runtime: Runtime, session: Session, tmp_path: Path) -> None:
    submissions = [registration(1), registration(2, size=2)]
    path = central_zip(
        tmp_path / "awda_registration.zip", central_files("awda_registration", HOUSEHOLD_FIELDS, submissions)
    )
    before = sorted(tmp_path.rglob("*"))
    report = run(runtime, session, path)
    assert (report.tool, report.form, summary(report), report.persons) == (
        "ODK Central",
        "awda_registration",
        (2, 2, 0, 0),
        5,
    )
    assert sorted(session.scalars(select(Household.source_ref))) == [uuid_of(1), uuid_of(2)]
    assert sorted(tmp_path.rglob("*")) == before  # nothing written beside the export
    again = run(runtime, session, path)
    assert summary(again) == (2, 0, 2, 0)
    assert (count(session, Household), count(session, Person)) == (2, 5)


def test_loose_central_files_with_group_paths_and_split_selects(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    files = central_files("awda_registration", HOUSEHOLD_FIELDS, [registration(3)], group="household", split=True)
    assert "household-site" in files["awda_registration.csv"].decode()
    report = run(runtime, session, loose_files(tmp_path / "export", files))
    assert summary(report) == (1, 1, 0, 0)
    vulnerabilities = session.scalar(select(Person.vulnerabilities).where(Person.member_index == 1))
    assert set(str(vulnerabilities).split()) == {"medical", "elderly"}


def test_kobo_xlsx_is_the_same_submission_as_central(runtime: Runtime, session: Session, tmp_path: Path) -> None:
    submissions = [registration(4), registration(5, size=1)]
    kobo = kobo_xlsx(tmp_path / "kobo.xlsx", HOUSEHOLD_FIELDS, submissions, details=True)
    report = run(runtime, session, kobo)
    assert (report.tool, report.form, summary(report), report.persons) == (
        "KoboToolbox",
        "awda_registration",
        (2, 2, 0, 0),
        4,
    )
    vulnerabilities = session.scalar(select(Person.vulnerabilities).where(Person.member_index == 1).limit(1))
    assert set(str(vulnerabilities).split()) == {"medical", "elderly"}
    # The same submissions through Central: same UUIDs, same content, so nothing new and no conflict.
    central = central_zip(tmp_path / "c.zip", central_files("awda_registration", HOUSEHOLD_FIELDS, submissions))
    assert summary(run(runtime, session, central)) == (2, 0, 2, 0)


def test_changed_content_is_a_conflict_and_never_overwrites(runtime: Runtime, session: Session, tmp_path: Path) -> None:
    first = central_files("awda_registration", HOUSEHOLD_FIELDS, [registration(6)])
    assert summary(run(runtime, session, central_zip(tmp_path / "a.zip", first))) == (1, 1, 0, 0)
    changed = central_files("awda_registration", HOUSEHOLD_FIELDS, [registration(6, **{"1__given_name_lat": "Sara"})])
    report = run(runtime, session, central_zip(tmp_path / "b.zip", changed))
    assert summary(report) == (1, 0, 0, 1)
    assert report.errors[0]["uuid"] == uuid_of(6)
    assert (report.errors[0]["file"], report.errors[0]["row"], report.errors[0]["column"]) == (
        "awda_registration.csv",
        2,
        "KEY",
    )
    assert "not overwritten" in report.errors[0]["message"]


def test_submissions_a_reviewer_rejected_are_left_out(runtime: Runtime, session: Session, tmp_path: Path) -> None:
    files = central_files("awda_registration", HOUSEHOLD_FIELDS, [registration(60), registration(61)])
    lines = files["awda_registration.csv"].decode().splitlines()
    lines[2] += ",0,0,,rejected"  # AttachmentsPresent, AttachmentsExpected, Status, ReviewState
    files["awda_registration.csv"] = ("\n".join(lines) + "\n").encode()
    report = run(runtime, session, central_zip(tmp_path / "awda_registration.zip", files))
    assert (summary(report), report.rejected, report.errors) == ((2, 1, 0, 0), 1, [])
    assert list(session.scalars(select(Household.source_ref))) == [uuid_of(60)]
    kobo = [
        registration(62),
        (uuid_of(63), household(63) | {"_validation_status": "Not Approved"}, {"members": members(2)}),
    ]
    report = run(runtime, session, kobo_xlsx(tmp_path / "k.xlsx", [*HOUSEHOLD_FIELDS, "_validation_status"], kobo))
    assert (summary(report), report.rejected, report.errors) == ((2, 1, 0, 0), 1, [])


def test_an_edited_submission_is_known_by_its_first_uuid(runtime: Runtime, session: Session, tmp_path: Path) -> None:
    first = registration(50)
    files = central_files("awda_registration", HOUSEHOLD_FIELDS, [first])
    assert summary(run(runtime, session, central_zip(tmp_path / "a.zip", files))) == (1, 1, 0, 0)
    root = {"meta/rootUuid": f"uuid:{uuid_of(50)}"}  # Kobo gives an edit a new _uuid and keeps the first here
    fields = [*HOUSEHOLD_FIELDS, "meta/rootUuid"]
    same = (uuid_of(51), first[1] | root, first[2])
    assert summary(run(runtime, session, kobo_xlsx(tmp_path / "same.xlsx", fields, [same]))) == (1, 0, 1, 0)
    _, values, groups = registration(50, **{"0__given_name_lat": "Ahmed"})
    edited = run(runtime, session, kobo_xlsx(tmp_path / "edited.xlsx", fields, [(uuid_of(52), values | root, groups)]))
    assert summary(edited) == (1, 0, 0, 1) and edited.errors[0]["uuid"] == uuid_of(50)
    assert edited.errors[0]["column"] == "meta/rootUuid" and "not overwritten" in edited.errors[0]["message"]
    assert count(session, Household) == 1


def test_one_bad_submission_is_refused_with_its_place_and_the_others_go_in(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    submissions = [registration(7), registration(8, **{"2__sex": "x"}), registration(9, size=0), registration(10)]
    path = central_zip(
        tmp_path / "awda_registration.zip", central_files("awda_registration", HOUSEHOLD_FIELDS, submissions)
    )
    report = run(runtime, session, path)
    assert summary(report) == (4, 2, 0, 2)
    by_uuid = {error["uuid"]: error for error in report.errors}
    bad_member = by_uuid[uuid_of(8)]
    # Submission 8's third member is row 7 of the members file (the header, #7's three, then #8's).
    assert (bad_member["file"], bad_member["row"], bad_member["column"]) == ("awda_registration-members.csv", 7, "sex")
    assert (by_uuid[uuid_of(9)]["file"], by_uuid[uuid_of(9)]["row"]) == ("awda_registration.csv", 4)
    assert sorted(session.scalars(select(Household.source_ref))) == [uuid_of(7), uuid_of(10)]


def test_kobo_xlsx_errors_name_the_sheet(runtime: Runtime, session: Session, tmp_path: Path) -> None:
    path = kobo_xlsx(tmp_path / "k.xlsx", HOUSEHOLD_FIELDS, [registration(11, **{"0__birth_year": "1850"})])
    report = run(runtime, session, path)
    assert summary(report) == (1, 0, 0, 1)
    error = report.errors[0]
    assert (error["uuid"], error["file"], error["row"], error["column"]) == (
        uuid_of(11),
        "k.xlsx, sheet members",
        2,
        "members/birth_year",
    )


def test_label_headers_are_refused_with_the_way_out(runtime: Runtime, session: Session, tmp_path: Path) -> None:
    labels = ["Registration date", "Registration officer", "Site", "What the household agrees to", "Consent date"]
    fields = ["today", "registrar", "site", "consent_purposes", "consent_date"]
    path = kobo_csv(tmp_path / "labels.csv", fields, [registration(12)], headers=labels)
    with pytest.raises(ValidationFailed, match="XML values and headers"):
        run(runtime, session, path, "awda_registration")
    with pytest.raises(ValidationFailed, match="XML values and headers"):
        run(runtime, session, path)  # no form named: the labels are what stands in the way
    names = kobo_csv(tmp_path / "names.csv", fields, [registration(12)])
    with pytest.raises(ValidationFailed, match="leaves the repeat group 'members' out of CSV exports; export as XLS"):
        run(runtime, session, names)
    assert count(session, Household) == 0


# --- follow-ups and incidents ----------------------------------------------------------------

FOLLOWUP_FIELDS = ["registration_uuid", "arrived_on", "days_after_arrival", "outcome", "contacted_on"]
INCIDENT_FIELDS = ["type", "date", "date_precision", "place_pcode", "perpetrator_category", "source", "verification"]


def _arrived(runtime: Runtime, session: Session, tmp_path: Path, numbers: list[int]) -> None:
    submissions = [registration(number) for number in numbers]
    files = central_files("awda_registration", HOUSEHOLD_FIELDS, submissions)
    assert run(runtime, session, central_zip(tmp_path / "registrations.zip", files)).refused == 0
    lines = ["registration_uuid,member_index,arrived_on,place_pcode,agreement_id,intention"]
    lines += [f"{uuid_of(n)},{index},2024-05-01,C4401,,return" for n in numbers for index in (1, 2, 3)]
    (tmp_path / "arrivals.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    importing.import_arrivals(session, SYSTEM, tmp_path / "arrivals.csv")


def followup(number: int, uuid_number: int, day: str = "7", outcome: str = "reached") -> Submission:
    values = {"registration_uuid": uuid_of(uuid_number), "arrived_on": "2024-05-01", "days_after_arrival": day}
    return uuid_of(100 + number), values | {"outcome": outcome, "contacted_on": "2024-05-09"}, {}


def test_followups_from_kobo_csv_and_central(runtime: Runtime, session: Session, tmp_path: Path) -> None:
    _arrived(runtime, session, tmp_path, [20, 21])
    submissions = [followup(1, 20), followup(2, 21, day="8"), followup(3, 21, day="30", outcome="not_reached")]
    report = run(runtime, session, kobo_csv(tmp_path / "followups.csv", FOLLOWUP_FIELDS, submissions))
    assert (report.form, summary(report)) == ("awda_followup", (3, 2, 0, 1))
    assert report.errors[0]["uuid"] == uuid_of(102)
    assert (report.errors[0]["file"], report.errors[0]["row"], report.errors[0]["column"]) == (
        "followups.csv",
        3,
        "days_after_arrival",
    )
    assert count(session, FollowUp.__table__.select().where(FollowUp.outcome.is_not(None)).subquery()) == 2
    central = central_zip(tmp_path / "f.zip", central_files("awda_followup", FOLLOWUP_FIELDS, [submissions[0]]))
    assert summary(run(runtime, session, central)) == (1, 0, 1, 0)
    changed = central_files("awda_followup", FOLLOWUP_FIELDS, [followup(1, 20, outcome="refused")])
    conflict = run(runtime, session, central_zip(tmp_path / "g.zip", changed))
    assert summary(conflict) == (1, 0, 0, 1)
    assert conflict.errors[0]["column"] == "outcome" and "not overwritten" in conflict.errors[0]["message"]


def incident(number: int, people: list[tuple[int, str]], kind: str = "arrest") -> Submission:
    values = {"type": kind, "date": "2024-06-02", "date_precision": "day", "place_pcode": "C4401"}
    values |= {"perpetrator_category": "checkpoint_forces", "source": "monitor", "verification": "reported"}
    persons = [{"registration_uuid": uuid_of(n), "member_index": index} for n, index in people]
    return uuid_of(200 + number), values, {"persons": persons}


def test_incidents_with_their_people_from_kobo_xlsx_and_central(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    _arrived(runtime, session, tmp_path, [30, 31])
    submissions = [incident(1, [(30, "1"), (30, "2")]), incident(2, [(31, "1"), (99, "1")]), incident(3, [(31, "3")])]
    report = run(runtime, session, kobo_xlsx(tmp_path / "incidents.xlsx", INCIDENT_FIELDS, submissions))
    assert (report.form, summary(report)) == ("awda_incident", (3, 2, 0, 1))
    error = report.errors[0]
    assert (error["uuid"], error["file"], error["column"]) == (
        uuid_of(202),
        "incidents.xlsx, sheet persons",
        "persons/registration_uuid",
    )
    assert sorted(session.scalars(select(Incident.source_ref))) == [uuid_of(201), uuid_of(203)]
    assert count(session, IncidentPerson) == 3
    files = central_files("awda_incident", INCIDENT_FIELDS, submissions[:1])
    assert summary(run(runtime, session, central_zip(tmp_path / "i.zip", files))) == (1, 0, 1, 0)
    changed = central_files("awda_incident", INCIDENT_FIELDS, [incident(1, [(30, "1")], kind="detention")])
    assert summary(run(runtime, session, central_zip(tmp_path / "j.zip", changed))) == (1, 0, 0, 1)
    assert count(session, Incident) == 2


# --- the command -----------------------------------------------------------------------------


def test_the_command_reports_per_submission_and_exits_1_on_a_refusal(awda: Callable[..., Done], tmp_path: Path) -> None:
    awda("init")
    awda("places", "load-demo")
    good = central_files("awda_registration", HOUSEHOLD_FIELDS, [registration(40)])
    done = awda("import", "odk", str(central_zip(tmp_path / "awda_registration.zip", good)), "--json")
    assert json.loads(done.stdout)["imported"] == 1
    again = awda("import", "odk", str(tmp_path / "awda_registration.zip"))
    assert "0 imported, 1 already imported, 0 refused" in again.stdout
    bad = kobo_xlsx(tmp_path / "k.xlsx", HOUSEHOLD_FIELDS, [registration(41), registration(42, **{"1__sex": "?"})])
    refused = awda("import", "odk", str(bad), "--form", "awda_registration", expect=1)
    assert f"{uuid_of(42)}: k.xlsx, sheet members, row 6, members/sex:" in refused.stdout
    labels = kobo_csv(tmp_path / "l.csv", ["site"], [registration(43)], headers=["Site of registration"])
    failed = awda("import", "odk", str(labels), expect=2)
    assert "\n" not in failed.stderr.strip() and "XML values and headers" in failed.stderr


# --- any file ------------------------------------------------------------------------------------


FOLLOWUP_HEADER = b"SubmissionDate,registration_uuid,arrived_on,days_after_arrival,outcome,contacted_on,KEY\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("awda_registration.zip", b"PK\x03\x04 not a zip", "not a readable zip file"),
        ("export.xlsx", b"PK\x03\x04 not a workbook", "not a readable XLSX workbook"),
        ("awda_followup.csv", FOLLOWUP_HEADER + b"2024,\xff\xfe,,,,,k\n", "is not UTF-8 text"),
        ("awda_followup.csv", FOLLOWUP_HEADER + b"2024,a\x00b,,,,,k\n", "holds a NUL character"),
        ("export.json", b"{}", "give an export as .zip, .csv, .xlsx"),
    ],
)
def test_a_damaged_export_is_one_clear_error(
    runtime: Runtime, session: Session, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValidationFailed, match=message):
        run(runtime, session, path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(st.lists(st.text(max_size=8), min_size=1, max_size=6), max_size=4),
    tool=st.sampled_from(["central", "kobo"]),
)
def test_any_cells_give_a_report_or_one_clear_error(
    runtime: Runtime, session: Session, tmp_path: Path, cells: list[list[str]], tool: str
) -> None:
    fields = ["registration_uuid", "arrived_on", "days_after_arrival", "outcome", "contacted_on"]
    header = ["SubmissionDate", *fields, "KEY"] if tool == "central" else [*fields, "_uuid", "_index"]
    body = _csv_bytes([header, *cells], "," if tool == "central" else ";")
    path = tmp_path / ("awda_followup.csv" if tool == "central" else "kobo.csv")
    path.write_bytes(body)
    try:
        report = run(runtime, session, path)
    except ValidationFailed:
        return
    assert report.submissions == report.imported + report.skipped + report.refused + report.rejected
