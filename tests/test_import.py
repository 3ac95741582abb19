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


def several_households() -> list[dict[str, str]]:
    """Five households, one invalid (row 10) and one repeated further down (rows 16-17)."""
    return (
        household_rows("h1")
        + household_rows("h2", 2)
        + household_rows("h3", 2)
        + household_rows("h4", **{"1__sex": "x"})
        + household_rows("h5", 4)
        + household_rows("h2", 2)
    )


@pytest.mark.parametrize("workers", [0, 2])
def test_worker_processes_give_the_same_result(
    session: Session, runtime: Runtime, tmp_path: Path, workers: int
) -> None:
    path = write_csv(tmp_path / "reg.csv", several_households())
    report = import_registrations(session, runtime.vault, SYSTEM, path, workers=workers, chunk_households=2)
    assert report.as_dict() | {"errors": []} == {
        "rows": 16,
        "households": 4,
        "persons": 11,
        "skipped": 1,  # h2 again, identical: a repeat, not a conflict
        "errors": [],
        "error_count": 1,
    }
    assert [(e["row"], e["field"]) for e in report.errors] == [(10, "sex")]
    assert (count(session, Household), count(session, Person), count(session, IntentionMember)) == (4, 11, 11)
    again = import_registrations(session, runtime.vault, SYSTEM, path, workers=workers, chunk_households=2)
    assert (again.households, again.persons, again.skipped, again.error_count) == (0, 0, 5, 1)
    assert count(session, Person) == 11


def test_a_changed_repeat_in_another_chunk_is_a_conflict(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    rows = household_rows("h1") + household_rows("h2") + household_rows("h1", **{"1__given_name_lat": "Youssef"})
    path = write_csv(tmp_path / "reg.csv", rows)
    report = import_registrations(session, runtime.vault, SYSTEM, path, workers=2, chunk_households=1)
    assert [(e["row"], e["field"]) for e in report.errors] == [(8, "_uuid")]
    assert "different content" in report.errors[0]["message"]
    assert (report.households, count(session, Household)) == (2, 2)


def test_a_repeat_in_the_same_chunk_is_reported(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    rows = household_rows("h1") + household_rows("h2") + household_rows("h1")
    report = import_registrations(session, runtime.vault, SYSTEM, write_csv(tmp_path / "reg.csv", rows))
    assert [(e["row"], e["field"]) for e in report.errors] == [(8, "_uuid")]
    assert count(session, Household) == 2


def test_imported_fields_open_as_registered(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    from awda.access.readers import household_for

    path = write_csv(tmp_path / "reg.csv", household_rows("h1") + household_rows("h2", 2))
    import_registrations(session, runtime.vault, SYSTEM, path, workers=2, chunk_households=1)
    uid = session.scalar(select(Household.uid).where(Household.source_ref == "h2"))
    view = household_for(session, runtime.vault, SYSTEM, str(uid))
    assert [(m["given_name_lat"], m["birth_year"], m.get("phone")) for m in view["members"]] == [
        ("Ahmad", 1975, "+963921234567"),
        ("Yousef", 2007, None),
    ]
    assert view["intentions"][0]["origin"] == "C4402" and len(view["intentions"][0]["members"]) == 2


# Cell values the fast checker must either judge exactly as the pydantic commands do, or leave to them.
TRICKY = {
    "member_index": ["1", "2", "01", "0", "99", "100", "1.0", "x", "-1", "+2"],
    "relationship": ["head", "son", "daughter", "Head", "cousin", ""],
    "sex": ["female", "male", "Male", "x", ""],
    "given_name_ar": ["أحمد", "عبد الله", "Ahmad", "أحمد1", "", "ـ", "أ" * 100, "أ" * 101, "أحمد\x07", "١٢٣"],
    "given_name_lat": ["Ahmad", "Abd al-Sattar", "أحمد", "123", "", "É", "a" * 101, "Ahmad\x1fX", "Ahmad أحمد"],
    "family_name_ar": ["العلي", "", "al-Ali", "العلي\u200f"],
    "mother_name_lat": ["Maryam Fares", "", "-", "Maryam\u00a0Fares"],
    "birth_date": ["2000-01-01", "2000-02-29", "2001-02-29", "2999-01-01", "0999-01-01", "20000101", "2000-1-1", ""],
    "birth_year": ["1975", "2000", "1899", "3000", "01975", "1975.0", "abc", ""],
    "document_type": ["national_id", "passport", "card", ""],
    "document_number": ["01234567890", "", "A" * 41, "12\x0734", "12 34"],
    "phone": ["+963944555777", "00963944555777", "0944 555 777", "(0944) 555-777", "12345", "+0123456", "abc", ""],
    "vulnerabilities": ["medical", "medical medical", "elderly  disability", "bad", "", "Medical"],
    "today": ["2024-02-01", "2999-01-01", "2024-13-01", ""],
    "site": ["RUKBAN", "", "R" * 65],
    "consent_purposes": ["registration movement", "registration", "movement", "registration card_name", ""],
    "consent_date": ["2024-02-01", "", "2024-02-30"],
    "intention": ["return", "evacuate", "", "go"],
    "origin_pcode": ["C4402", "c4401", "", "C4401"],
    "intention_members": ["all", "1", "1 2", "2 1 2", "7", "0", "01", ""],
    "window_end": ["2024-06-30", "2024-03-01", "", "2024-06-31"],
    "travel_group": ["", "g1", "g" * 65],
}


def test_fast_checker_agrees_with_the_commands() -> None:
    """Whatever the fast path accepts, the pydantic commands accept with the same values."""
    import random
    from datetime import date

    from awda.errors import ValidationFailed
    from awda.households.filecheck import FileChecker
    from awda.households.records import from_command
    from awda.households.rows import HouseholdRows, Layout, command_from_rows

    layout, chance, today = Layout(COLUMNS), random.Random(2026), date.today()
    checker = FileChecker(layout)
    verdicts = {"both": 0, "neither": 0, "commands only": 0}
    for case in range(3000):
        rows = household_rows(f"h{case}", chance.randint(1, 4))
        for _ in range(chance.randint(0, 3)):
            column = chance.choice(list(TRICKY))
            value = chance.choice(TRICKY[column])
            targets = rows if column in HOUSEHOLD_COLUMNS and chance.random() < 0.8 else [chance.choice(rows)]
            for row in targets:
                row[column] = value
        group = HouseholdRows(
            rows[0]["_uuid"], 2, [(2 + i, layout.cells([r.get(c, "") for c in COLUMNS])) for i, r in enumerate(rows)]
        )
        fast = checker.check(group, today)
        try:
            slow = from_command(command_from_rows(group, layout))
        except ValidationFailed:
            slow = None
        assert fast is None or fast == slow, (rows, fast, slow)
        verdicts["both" if fast else "commands only" if slow else "neither"] += 1
    assert verdicts["both"] > 500 and verdicts["neither"] > 500 and verdicts["commands only"] > 10, verdicts


def test_name_folding_word_by_word_matches_the_whole_string() -> None:
    import unicodedata

    from awda.vault import _FOLD, normalise_for_index

    def whole(value: str) -> str:
        value = unicodedata.normalize("NFKC", value).translate(_FOLD)
        value = unicodedata.normalize("NFKD", value).translate(_FOLD)
        return " ".join(value.casefold().split())

    for value in ["أحمد  محمد", "إبراهيم ـ العلي", "ﷺ محمد", "José  Müller", "\u0301a b", "ـ أحمد", "Straße", "ﻻ"]:
        assert normalise_for_index(value) == whole(value), value


@pytest.mark.parametrize("workers", [0, 2])
def test_quoted_cells_read_as_the_csv_module_reads_them(
    session: Session, runtime: Runtime, tmp_path: Path, workers: int
) -> None:
    from awda.access.readers import household_for

    quoted = {"0__family_name_lat": "al-Ali, Jr", "1__mother_name_lat": 'Maryam "Umm Ali"'}
    rows = household_rows("h1") + household_rows("h2", **quoted) + household_rows("h3", **{"1__sex": "x"})
    path = write_csv(tmp_path / "reg.csv", rows)
    assert '"al-Ali, Jr"' in path.read_text(encoding="utf-8")  # the writer quoted it
    report = import_registrations(session, runtime.vault, SYSTEM, path, workers=workers, chunk_households=1)
    assert (report.rows, report.households, [(e["row"], e["field"]) for e in report.errors]) == (9, 2, [(9, "sex")])
    uid = session.scalar(select(Household.uid).where(Household.source_ref == "h2"))
    members = household_for(session, runtime.vault, SYSTEM, str(uid))["members"]
    assert (members[0]["family_name_lat"], members[1]["mother_name_lat"]) == ("al-Ali, Jr", 'Maryam "Umm Ali"')


def test_a_file_that_is_not_utf8_is_one_clear_error(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    from awda.errors import ValidationFailed

    path = write_csv(tmp_path / "reg.csv", household_rows("h1") + household_rows("h2"))
    path.write_bytes(path.read_bytes().replace(b"Yousef", b"Yous\xe9f"))
    with pytest.raises(ValidationFailed, match="file: is not UTF-8 text"):
        import_registrations(session, runtime.vault, SYSTEM, path)
    assert count(session, Household) == 0


def test_a_new_household_after_a_known_one_is_linked_right(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    from awda.access.readers import household_for

    import_registrations(session, runtime.vault, SYSTEM, write_csv(tmp_path / "a.csv", household_rows("h1")))
    both = write_csv(tmp_path / "b.csv", household_rows("h1") + household_rows("h2", 2))
    report = import_registrations(session, runtime.vault, SYSTEM, both)
    assert (report.households, report.persons, report.skipped) == (1, 2, 1)
    for ref, size in (("h1", 3), ("h2", 2)):
        uid = session.scalar(select(Household.uid).where(Household.source_ref == ref))
        view = household_for(session, runtime.vault, SYSTEM, str(uid))
        assert [m["member_index"] for m in view["members"]] == list(range(1, size + 1))
        assert len(view["intentions"][0]["members"]) == size and view["consent"] is not None


def test_rows_can_link_to_ids_that_are_not_contiguous(session: Session) -> None:
    from awda.bulk import BulkInserter
    from awda.places.models import Place

    table = Place.__table__
    columns = ("id", "pcode", "admin_level", "name_en", "name_ar", "is_demo", "source")
    rows = [(0, "ZZ01", 1, "One", "واحد", False, "test"), (1, "ZZ02", 1, "Two", "اثنان", False, "test")]
    BulkInserter(session.connection()).insert(table, columns, rows, {"id": [901, 955]})
    session.commit()
    assert dict(session.execute(select(Place.pcode, Place.id).where(Place.pcode.like("ZZ%"))).tuples().all()) == {
        "ZZ01": 901,
        "ZZ02": 955,
    }
