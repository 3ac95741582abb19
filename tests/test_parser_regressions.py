"""Regression tests of the bugs `tests/test_properties.py` found in the readers of outside files.

Each was a traceback (or a PostgreSQL error) instead of one error naming the row and the column.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.agreements.models import Agreement
from awda.agreements.services import import_agreements, record_from_row
from awda.convoys.plancsv import CONVOY_COLUMNS, PlanFileError, read_convoys
from awda.errors import ValidationFailed
from awda.households.importer import import_registrations
from awda.monitoring import importing as field_files
from awda.monitoring.models import Arrival
from awda.places.rules import parse_gazetteer, parse_sites
from awda.runtime import Runtime
from awda.stats.survival_csv import read_counts
from awda.tables import read_rows
from tests.test_import import household_rows
from tests.test_properties import count_rows, write_csv_rows, write_table


def test_a_cell_larger_than_the_csv_limit_names_its_row(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("a,b\n1,2\n3," + "x" * (csv.field_size_limit() + 1) + "\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as raised:
        list(read_rows(path))
    assert (raised.value.field, raised.value.row) == ("file", 3)


def test_a_damaged_workbook_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "fake.xlsx").write_bytes(b"PK\x03\x04 this is no zip")
    with pytest.raises(ValidationFailed, match=r"file: fake\.xlsx is not a readable XLSX workbook"):
        list(read_rows(tmp_path / "fake.xlsx"))


def test_a_nul_names_its_row_and_column(tmp_path: Path) -> None:
    path = write_table(tmp_path / "nul.csv", [["site", "name"], ["RUKBAN", "Ah\x00mad"]])
    with pytest.raises(ValidationFailed, match=r"row 2, name: contains a NUL character"):
        list(read_rows(path))


def test_a_huge_whole_duration_or_event_code_names_its_cell(tmp_path: Path) -> None:
    for body, field in [("t,e\n99999999999999999999,1\n", "t"), ("t,e\n1," + "9" * 5000 + "\n", "e")]:
        path = tmp_path / "s.csv"
        path.write_text(body, encoding="utf-8")
        with pytest.raises(ValidationFailed) as raised:
            read_counts(path, "t", "e", competing=True)
        assert (raised.value.row, raised.value.field) == (2, field)
    (tmp_path / "s.csv").write_text("t,e\n1,1000\n", encoding="utf-8")  # would allocate a column per code
    with pytest.raises(ValidationFailed, match=r"row 2, e: '1000' is not an event code"):
        read_counts(tmp_path / "s.csv", "t", "e", competing=True)


def test_a_planning_file_that_cannot_be_read_names_the_row(tmp_path: Path) -> None:
    path = write_table(
        tmp_path / "convoys.csv", [list(CONVOY_COLUMNS), ["CV-1", "2030-01-05", "RUKBAN", "C4401", "4\x00"]]
    )
    with pytest.raises(PlanFileError, match=r"convoys.csv, row 2, seats: contains a NUL"):
        read_convoys(path)


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ("[" * 100_000, "terms"),  # RecursionError in json
        ("[" + "1" * 5000 + "]", "terms"),  # ValueError: too many digits
        ('[{"code": "T-1", "kind": "no_arrest", "duration_days": "²"}]', "terms[0].duration_days"),
    ],
)
def test_agreement_terms_json_that_python_cannot_read_is_one_error(terms: str, field: str) -> None:
    row = {"agreement_id": "AG-1", "name_en": "A", "name_ar": "ا", "guarantor": "G", "signed_on": "2020-01-01"}
    with pytest.raises(ValidationFailed) as raised:
        record_from_row(row | {"terms": terms})
    assert raised.value.field == field


def test_agreement_texts_and_schedules_longer_than_their_columns_are_refused() -> None:
    row = {"agreement_id": "AG-1", "name_en": "A", "name_ar": "ا", "guarantor": "G", "signed_on": "2020-01-01"}
    with pytest.raises(ValidationFailed, match="name_en: is longer than 200 characters"):
        record_from_row(row | {"name_en": "x" * 201})
    with pytest.raises(ValidationFailed, match="followup_days: at most 20 follow-ups"):
        record_from_row(row | {"followup_days": ",".join(str(day) for day in range(1, 40))})


def test_place_and_site_names_longer_than_their_columns_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="row 2, admin1Name_en: is longer than 200"):
        list(parse_gazetteer([["admin1Pcode", "admin1Name_en"], ["SY01", "x" * 201]]))
    with pytest.raises(ValidationFailed, match="row 2, name_ar: is longer than 200"):
        list(
            parse_sites([["code", "kind", "name_en", "name_ar", "place_pcode"], ["C1", "camp", "A", "ب" * 201, "SY01"]])
        )


@pytest.mark.usefixtures("gazetteer")
def test_field_file_numbers_and_short_rows_are_named(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    import_registrations(session, runtime.vault, SYSTEM, write_csv_rows(tmp_path / "people.csv", household_rows("f1")))
    header = list(field_files.ARRIVAL_COLUMNS)
    for row, field in [
        (["f1", "²", "2024-03-01", "C4401", "", "return"], "member_index"),
        (["f1", "9" * 5000, "2024-03-01", "C4401", "", "return"], "member_index"),
        (["f1", "1", "2024-03-01"], "place"),  # a short row: its missing cells are empty
    ]:
        path = write_table(tmp_path / "arrivals.csv", [header, row])
        with pytest.raises(ValidationFailed) as raised:
            field_files.import_arrivals(session, SYSTEM, path)
        assert (raised.value.row, raised.value.field) == (2, field)
    assert count_rows(session, Arrival) == 0


@pytest.mark.usefixtures("gazetteer")
def test_an_agreement_with_an_unknown_area_names_its_row(session: Session, tmp_path: Path) -> None:
    rows = [
        ["agreement_id", "name_en", "name_ar", "area_pcode", "guarantor", "signed_on", "terms"],
        ["AG-1", "One", "واحد", "C4401", "G", "2020-01-01", "[]"],
        ["AG-2", "Two", "اثنان", "NOWHERE", "G", "2020-01-01", "[]"],
    ]
    with pytest.raises(ValidationFailed, match="row 3, area_pcode: no place"):
        import_agreements(session, SYSTEM, write_table(tmp_path / "agreements.csv", rows))
    assert count_rows(session, Agreement) == 0
