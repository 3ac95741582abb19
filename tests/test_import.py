"""Importing registration files on both engines: errors by row and column, idempotence, no half-writes."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.households.importer import import_registrations
from awda.households.models import Household, Intention, IntentionMember, Person
from awda.households.rows import HOUSEHOLD_COLUMNS, PERSON_COLUMNS
from awda.runtime import Runtime
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("gazetteer")
COLUMNS = ["_uuid", "_submission_time", *[c for c in HOUSEHOLD_COLUMNS if c != "_uuid"], *PERSON_COLUMNS]


def household_rows(ref: str, size: int = 3, **changes: Any) -> list[dict[str, str]]:
    shared = {
        "_uuid": ref,
        "_submission_time": "2024-02-01T09:00:00Z",
        "today": "2024-02-01",
        "site": "RUKBAN",
        "registrar": "officer1",
        "consent_purposes": "registration movement",
        "consent_date": "2024-02-01",
        "intention": "return",
        "origin_pcode": "C4402",
        "destination_pcode": "C4401",
        "window_start": "2024-04-01",
        "window_end": "2024-06-30",
        "intention_members": "all",
    }
    rows = []
    for index in range(1, size + 1):
        head = index == 1
        rows.append(
            shared
            | {
                "member_index": str(index),
                "relationship": "head" if head else "son",
                "sex": "male",
                "given_name_ar": "أحمد" if head else "يوسف",
                "given_name_lat": "Ahmad" if head else "Yousef",
                "father_name_ar": "" if head else "أحمد",
                "family_name_ar": "العلي",
                "family_name_lat": "al-Ali",
                "birth_year": "1975" if head else str(2005 + index),
                "phone": f"+9639{ref[-1]}1234567" if head else "",
            }
        )
    for key, value in changes.items():
        row_index, column = key.split("__")
        rows[int(row_index)][column] = value
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_import_is_idempotent(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "reg.csv", household_rows("h1") + household_rows("h2", 2))
    first = import_registrations(session, runtime.vault, SYSTEM, path)
    assert first.as_dict() | {"errors": []} == {
        "rows": 5,
        "households": 2,
        "persons": 5,
        "skipped": 0,
        "errors": [],
        "error_count": 0,
    }
    second = import_registrations(session, runtime.vault, SYSTEM, path)
    assert (second.households, second.persons, second.skipped) == (0, 0, 2)
    assert (count(session, Household), count(session, Person)) == (2, 5)
    assert count(session, Intention) == 2 and count(session, IntentionMember) == 5


def test_invalid_household_is_not_written_at_all(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    rows = household_rows("h1") + household_rows("h2", **{"2__birth_year": "2090"}) + household_rows("h3")
    report = import_registrations(session, runtime.vault, SYSTEM, write_csv(tmp_path / "reg.csv", rows))
    assert report.errors == [
        {"row": 7, "field": "birth_year", "message": report.errors[0]["message"], "household_rows": 3}
    ]
    assert (report.households, report.persons) == (2, 6)
    assert count(session, Person) == 6


@pytest.mark.parametrize(
    ("changes", "row", "field"),
    [
        ({"1__sex": "x"}, 3, "sex"),
        ({"0__site": "NOWHERE"}, 2, "site"),
        ({"1__today": "2024-02-02"}, 3, "today"),
        ({"0__destination_pcode": "ZZ99"}, 2, "destination_pcode"),
        ({"1__relationship": "head"}, 2, "relationship"),
        ({"0__given_name_ar": "Ahmad"}, 2, "given_name_ar"),
        ({"2__phone": "not a phone"}, 4, "phone"),
        ({"0__consent_purposes": "movement"}, 2, "consent_purposes"),
        ({"0__intention_members": "1 7"}, 2, "intention_members"),
        ({"1__birth_date": "1999-13-01"}, 3, "birth_date"),
        ({"1__document_number": "123"}, 3, "document_type"),
    ],
)
def test_errors_name_row_and_column(
    session: Session, runtime: Runtime, tmp_path: Path, changes: dict[str, str], row: int, field: str
) -> None:
    rows = household_rows("h1", **changes)
    for index in range(1, len(rows)):  # household columns change on every row of the household
        for key, value in changes.items():
            if key.startswith("0__") and key[3:] in HOUSEHOLD_COLUMNS:
                rows[index][key[3:]] = value
    report = import_registrations(session, runtime.vault, SYSTEM, write_csv(tmp_path / "reg.csv", rows))
    assert [(e["row"], e["field"]) for e in report.errors] == [(row, field)]
    assert count(session, Household) == 0


def test_changed_content_is_a_conflict_not_an_overwrite(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    import_registrations(session, runtime.vault, SYSTEM, write_csv(tmp_path / "a.csv", household_rows("h1")))
    changed = household_rows("h1", **{"1__given_name_lat": "Youssef"})
    report = import_registrations(session, runtime.vault, SYSTEM, write_csv(tmp_path / "b.csv", changed))
    assert report.error_count == 1 and "different content" in report.errors[0]["message"]
    assert count(session, Person) == 3


def test_registrar_outside_scope_cannot_import(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    officer = make_user(session, "officer-atmeh", "registrar", ("ATMEH",))
    report = import_registrations(session, runtime.vault, officer, write_csv(tmp_path / "a.csv", household_rows("h1")))
    assert report.errors[0]["field"] == "site" and count(session, Household) == 0


def test_xlsx_import_matches_csv(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(COLUMNS)
    for row in household_rows("h1") + household_rows("h2", 1):
        sheet.append([row.get(column, "") for column in COLUMNS])
    workbook.save(tmp_path / "reg.xlsx")
    report = import_registrations(session, runtime.vault, SYSTEM, tmp_path / "reg.xlsx")
    assert (report.households, report.persons, report.error_count) == (2, 4, 0)


def test_missing_column_is_one_clear_error(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    from awda.errors import ValidationFailed

    (tmp_path / "bad.csv").write_text("_uuid,today\nx,2024-01-01\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="row 1, site: column is missing"):
        import_registrations(session, runtime.vault, SYSTEM, tmp_path / "bad.csv")
