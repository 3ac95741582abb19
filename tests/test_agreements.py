"""Agreements: import of the simulator's agreements file, checks by row and field, all or nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.agreements import services
from awda.errors import Conflict, PermissionDenied, ValidationFailed
from awda.simulate.scenario import write_scenario
from tests.cards_support import AGREEMENT, agreement
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("gazetteer")


@pytest.fixture(scope="module")
def agreements_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenario")
    write_scenario(folder, 20, 3)
    return folder / "truth" / "agreements.csv"


def test_import_is_idempotent(session: Session, agreements_file: Path) -> None:
    first = services.import_agreements(session, SYSTEM, agreements_file)
    assert first["created"] == first["rows"] >= 4
    again = services.import_agreements(session, SYSTEM, agreements_file)
    assert again == {"rows": first["rows"], "created": 0, "skipped": first["rows"]}
    listed = {row["code"]: row for row in services.list_agreements(session)}
    assert listed["AG-2018-NHOMS"]["area"] == "SY0403"
    assert {term["kind"] for term in listed["AG-2018-NHOMS"]["terms"]} >= {"no_arrest", "no_conscription"}


def _broken_copy(source: Path, target: Path, row: int, column: str, value: str) -> Path:
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[row - 2][column] = value
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[row - 2]), restval="")
        writer.writeheader()
        writer.writerows(rows)
    return target


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("signed_on", "2018-13-40", "YYYY-MM-DD"),
        ("terms", "[{", "not valid JSON"),
        ("terms", '[{"term_id": "X1", "kind": "be_nice", "duration_days": 3}]', "unknown term kind"),
        ("area_pcode", "SY9999", "no place"),
        ("followup_days", "7,thirty", "whole numbers of days"),
        ("followup_days", "0,30", "between 1 and 3650"),
    ],
)
def test_bad_row_names_row_and_field_and_writes_nothing(
    session: Session, agreements_file: Path, tmp_path: Path, column: str, value: str, message: str
) -> None:
    broken = _broken_copy(agreements_file, tmp_path / "agreements.csv", 3, column, value)
    with pytest.raises(ValidationFailed, match=message) as raised:
        services.import_agreements(session, SYSTEM, broken)
    if column != "area_pcode":  # a P-code is checked when written; the row is not known there
        assert (raised.value.row, raised.value.field.split("[")[0].split(".")[0]) == (3, column)
    assert services.list_agreements(session) == []


def test_a_follow_up_schedule_can_be_set_per_agreement(session: Session, agreements_file: Path, tmp_path: Path) -> None:
    changed = _broken_copy(agreements_file, tmp_path / "agreements.csv", 2, "followup_days", "60, 14")
    services.import_agreements(session, SYSTEM, changed)
    schedules = [agreement["followup_days"] for agreement in services.list_agreements(session)]
    assert [14, 60] in schedules and [7, 30, 90, 180, 365] in schedules


def test_create_needs_permission_and_refuses_duplicates(session: Session) -> None:
    registrar = make_user(session, "reg", "registrar", ("RUKBAN",))
    agreement(session)
    with pytest.raises(Conflict, match="exists already"):
        agreement(session)
    with pytest.raises(PermissionDenied, match="manage_agreements"):
        services.import_agreements(session, registrar, Path("unused.csv"))
    assert services.agreement_by_code(session, AGREEMENT.lower()).code == AGREEMENT
