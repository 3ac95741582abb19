"""Property tests (hypothesis) of every parser and importer of outside input.

Arbitrary text (NUL, RTL marks, BOMs, CRLF, huge cells, other digits) goes into each CSV/XLSX reader
and each importer, on both engines: only `awda.errors` types may come out, naming the field (and the
row), and an all-or-nothing import that refuses a file writes nothing. Codes and card texts survive
a render and a parse unchanged. Example counts are bounded so the file runs in seconds per engine.
"""

from __future__ import annotations

import csv
import itertools
import json
import string
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE as ILLEGAL_IN_XLSX
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.readers import household_for
from awda.access.services import SYSTEM
from awda.agreements.models import Agreement
from awda.agreements.rules import parse_terms_json
from awda.agreements.services import import_agreements, record_from_row
from awda.cards.claims import CARD_PREFIX, CardClaims, Holder, decode_claims, encode_card, encode_claims
from awda.cards.cose import decode_sign1, verify_sign1
from awda.cards.qrtext import b45decode, b45encode, deflate, encode_qr_text, inflate, unprefix
from awda.cards.verify import Verification, decode_qr_text
from awda.convoys.importing import import_convoys
from awda.convoys.models import Convoy
from awda.convoys.plancsv import CONVOY_COLUMNS, WAITLIST_COLUMNS, PlanFileError, read_convoys, read_waitlist
from awda.convoys.rules import WaitingHousehold
from awda.errors import ValidationFailed
from awda.households import reference
from awda.households.importer import import_registrations
from awda.households.models import Household, Person
from awda.households.reading import cells, file_records
from awda.households.rows import Layout, group_households
from awda.monitoring import importing as field_files
from awda.monitoring.models import Arrival, FollowUp, Incident
from awda.places.models import Place, Site
from awda.places.rules import parse_gazetteer, parse_sites
from awda.places.services import import_gazetteer
from awda.runtime import Runtime
from awda.stats.survival_csv import read_counts
from awda.tables import read_rows
from tests.test_import import COLUMNS, household_rows

BOUNDED = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ON_DATABASE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Cells people and tools really produce, and the ones that break naive parsers.
SPECIAL_CELLS = [
    *("", " ", "\u200f", "\u200e\u202e", "\ufeff", "\r\n", "\r", "\n", '"', '""', ",", ";", "'"),
    *("=1+1", "+963944555777", "-", "-1", "@SUM(A1)", "\tx", "#adm1+code", "all", "true", "nan", "inf", "1e400"),
    *("١٢٣", "۴", "²", "9" * 25, "9" * 5000, "ß" * 40, "ﬃ" * 30, "x" * 300, "\x07", "\x00", "a\x00b"),
    *("2024-02-30", "0001-01-01", "2024-02-01T25:00", "20240201", "2024-W05-4", "C4401", "RUKBAN", "head"),
]
CELL = st.one_of(
    st.sampled_from(SPECIAL_CELLS),
    st.text(st.characters(codec="utf-8"), max_size=20),
    st.text(alphabet="0123456789-.:T ", max_size=12),
)
ARABIC_LETTERS = [chr(code) for code in (*range(0x0621, 0x063B), *range(0x0641, 0x064B))]
ARABIC_NAME = st.lists(st.text(st.sampled_from(ARABIC_LETTERS), min_size=2, max_size=8), min_size=1, max_size=3)
LATIN_NAME = st.lists(st.text(st.sampled_from(string.ascii_letters), min_size=2, max_size=10), min_size=1, max_size=3)


def write_table(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    """The rows as a CSV (the csv module quotes what needs quoting) or as an XLSX workbook."""
    if path.suffix == ".xlsx":
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        for row in rows:
            sheet.append(list(row))
        workbook.save(path)
        return path
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def damaged(rows: list[list[str]], damage: tuple[int, int, str] | None) -> tuple[list[list[str]], int | None]:
    """The rows with one data cell (row and column chosen modulo their numbers) replaced, and its row index."""
    if damage is None or len(rows) < 2:
        return rows, None
    row, column, text = damage
    changed = [list(cells) for cells in rows]
    target = 1 + row % (len(rows) - 1)
    changed[target][column % len(changed[target])] = text
    return changed, target


def refusal(call: Callable[[], object]) -> ValidationFailed | None:
    """None if `call` succeeds; its ValidationFailed otherwise, which must name a field and a row."""
    error: ValidationFailed | None = None
    try:
        call()
    except ValidationFailed as caught:
        error = caught
    if error is not None:
        assert error.field, error
        assert error.row is not None or error.field == "file", error
    return error


# --- readers of any file ---------------------------------------------------------------------


@BOUNDED
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".xlsx"]))
@example(data=b"PK\x03\x04 not really a workbook", suffix=".xlsx")
@example(data=b"\xef\xbb\xbfa,b\r\n1,\x00\r\n", suffix=".csv")
def test_any_bytes_read_as_rows_or_one_clear_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str
) -> None:
    path = tmp_path_factory.mktemp("bytes") / f"file{suffix}"
    path.write_bytes(data)
    rows: list[list[str]] = []
    refusal(lambda: rows.extend(read_rows(path)))
    assert all(isinstance(cell, str) and "\x00" not in cell for row in rows for cell in row)


TEXT_OF_LINES = st.text(st.sampled_from(list('ab,"\r\n \ufeff\u200f\u2028\x85\x0b=1-')) | st.characters(codec="utf-8"))


@BOUNDED
@given(text=TEXT_OF_LINES)
@example(text='a,b\r\n"x\r\ny",2\rz,\n')
def test_plain_lines_split_as_the_csv_module_reads_them(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    """The importer's own line splitter (`households/reading.py`) reads what the csv module reads."""
    path = tmp_path_factory.mktemp("lines") / "file.csv"
    path.write_bytes(text.encode("utf-8"))
    expected: list[list[str]] = []
    error = refusal(lambda: expected.extend(read_rows(path)))
    found: list[list[str]] = []
    again = refusal(lambda: found.extend(cells(record) for record in file_records(path)))
    assert str(again) == str(error)
    assert [row or [""] for row in found] == [row or [""] for row in expected]


# --- parsers of one kind of file, pure --------------------------------------------------------

TABLE = st.lists(st.lists(CELL, min_size=0, max_size=6), min_size=0, max_size=5)


def _with_header(header: Sequence[str], body: list[list[str]]) -> list[list[str]]:
    return [list(header), *body]


@BOUNDED
@given(body=TABLE, competing=st.booleans(), header=st.booleans())
@example(body=[["9" * 30, "1"]], competing=False, header=True)
@example(body=[["1", "9" * 5000]], competing=True, header=True)
@example(body=[["1", "99999999999"]], competing=True, header=True)
def test_survival_files_give_counts_or_name_the_cell(
    tmp_path_factory: pytest.TempPathFactory, body: list[list[str]], competing: bool, header: bool
) -> None:
    path = write_table(
        tmp_path_factory.mktemp("survival") / "s.csv", _with_header(["t", "e", "g"], body) if header else body
    )
    refusal(lambda: read_counts(path, "t", "e", "g", competing=competing))


@BOUNDED
@given(records=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 3)), min_size=1, max_size=30))
def test_survival_records_are_all_counted(
    tmp_path_factory: pytest.TempPathFactory, records: list[tuple[int, int]]
) -> None:
    rows = [["days", "cause"], *[[str(days), str(cause)] for days, cause in records]]
    table = read_counts(
        write_table(tmp_path_factory.mktemp("survival") / "s.csv", rows), "days", "cause", competing=True
    )
    pooled = table.pooled()
    assert int(pooled.events.sum() + pooled.censored.sum()) == len(records)
    assert int(pooled.events.sum()) == sum(1 for _, cause in records if cause)


@BOUNDED
@given(body=TABLE, which=st.sampled_from(["waitlist", "convoys"]))
def test_planning_files_give_records_or_name_the_cell(
    tmp_path_factory: pytest.TempPathFactory, body: list[list[str]], which: str
) -> None:
    columns, read = (WAITLIST_COLUMNS, read_waitlist) if which == "waitlist" else (CONVOY_COLUMNS, read_convoys)
    padded = [[*row, *[""] * len(columns)][: len(columns) + 1] if row else row for row in body]
    path = write_table(tmp_path_factory.mktemp("plan") / f"{which}.csv", _with_header(columns, padded))
    error = refusal(lambda: read(path))
    assert error is None or isinstance(error, PlanFileError)


WAITING = st.builds(
    WaitingHousehold,
    household_id=st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=12),
    size=st.integers(1, 20),
    origin=st.sampled_from(["RUKBAN", "ALWAER"]),
    destination=st.sampled_from(["C4401", "C4301"]),
    earliest_date=st.dates(date(2020, 1, 1), date(2030, 1, 1)),
    vulnerability=st.floats(0, 1).map(lambda value: round(value, 3)),
    registered_at=st.dates(date(2015, 1, 1), date(2024, 1, 1)),
    group_id=st.none() | st.sampled_from(["g1", "g2"]),
)


@BOUNDED
@given(households=st.lists(WAITING, max_size=8, unique_by=lambda household: household.household_id))
def test_a_rendered_waitlist_reads_back_the_same(
    tmp_path_factory: pytest.TempPathFactory, households: list[WaitingHousehold]
) -> None:
    rows = [[str(getattr(household, column) or "") for column in WAITLIST_COLUMNS] for household in households]
    path = write_table(tmp_path_factory.mktemp("plan") / "w.csv", [list(WAITLIST_COLUMNS), *rows])
    found: list[WaitingHousehold] = []
    error = refusal(lambda: found.extend(read_waitlist(path)))
    if error is None:
        assert found == households
    else:  # a group whose members disagree is refused as a group
        assert error.field in {"group_id", "origin", "destination", "earliest_date"}, error


@BOUNDED
@given(body=TABLE, hxl=st.booleans())
@example(body=[["SY01", "x" * 300, ""]], hxl=False)
def test_gazetteer_tables_give_places_or_name_the_cell(body: list[list[str]], hxl: bool) -> None:
    header = ["admin1Pcode", "admin1Name_en", "admin1Name_ar", "latitude", "longitude"]
    rows = [
        header,
        *([["#adm1+code", "#adm1+name+i_en", "#adm1+name+i_ar", "#geo+lat", "#geo+lon"]] if hxl else []),
        *body,
    ]
    refusal(lambda: list(parse_gazetteer(rows)))
    refusal(lambda: list(parse_sites([["code", "kind", "name_en", "name_ar", "place_pcode"], *body])))


@BOUNDED
@given(
    row=st.fixed_dictionaries(
        {},
        optional=dict.fromkeys(
            ("agreement_id", "name_en", "name_ar", "area_pcode", "guarantor", "signed_on", "terms", "followup_days"),
            CELL,
        ),
    ),
    terms=st.recursive(
        st.none() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=8,
    ),
)
@example(row={"terms": "[" * 100_000}, terms=None)
@example(row={"terms": "[" + "1" * 5000 + "]"}, terms=None)
@example(row={"terms": '[{"code": "T-1", "kind": "no_arrest", "duration_days": "²"}]'}, terms=None)
def test_agreement_rows_give_records_or_name_the_field(row: dict[str, str], terms: Any) -> None:
    refusal_without_row(lambda: record_from_row(row))
    refusal_without_row(lambda: record_from_row(row | {"terms": json.dumps(terms)}))
    refusal_without_row(lambda: parse_terms_json(row.get("terms", "")))


def refusal_without_row(call: Callable[[], object]) -> None:
    """A pure check of one row: it may refuse, naming the field (the importer adds the row)."""
    error: ValidationFailed | None = None
    try:
        call()
    except ValidationFailed as caught:
        error = caught
    assert error is None or error.field, error


# --- codes that people read, type and scan -------------------------------------------------

PAYLOAD = st.text(
    st.sampled_from(reference.ALPHABET), min_size=reference.PAYLOAD_LENGTH, max_size=reference.PAYLOAD_LENGTH
)
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@BOUNDED
@given(payload=PAYLOAD, lower=st.booleans(), arabic_digits=st.booleans())
def test_a_displayed_reference_reads_back_as_typed(payload: str, lower: bool, arabic_digits: bool) -> None:
    code = payload + reference._check_symbol(payload)
    typed = reference.display_reference(code)
    typed = typed.lower() if lower else typed
    typed = typed.translate(ARABIC_INDIC) if arabic_digits else typed
    assert reference.normalise_reference(typed) == code


@BOUNDED
@given(payload=PAYLOAD, position=st.integers(0, reference.PAYLOAD_LENGTH), symbol=st.sampled_from(reference.ALPHABET))
def test_one_wrong_symbol_is_never_a_reference(payload: str, position: int, symbol: str) -> None:
    code = payload + reference._check_symbol(payload)
    wrong = code[:position] + symbol + code[position + 1 :]
    assert reference.normalise_reference(wrong) == (code if wrong == code else None)


@BOUNDED
@given(text=st.text(max_size=30))
def test_any_typed_text_is_a_reference_and_pin_or_none(text: str) -> None:
    found = reference.normalise_reference(text)
    assert found is None or reference.normalise_reference(found) == found
    pin = reference.normalise_pin(text)
    assert pin is None or (len(pin) == reference.PIN_LENGTH and pin.isascii() and pin.isdigit())


@BOUNDED
@given(data=st.binary(max_size=200))
def test_base45_and_qr_text_round_trip(data: bytes) -> None:
    assert b45decode(b45encode(data)) == data
    text = encode_qr_text("AW1:", data)
    assert inflate(b45decode(unprefix(text, "AW1:"))) == data
    assert set(text[4:]) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert inflate(deflate(data)) == data


SECONDS = st.integers(0, 4_000_000_000).map(lambda seconds: datetime.fromtimestamp(seconds, UTC))
CLAIMS = st.builds(
    CardClaims,
    issuer=st.text(max_size=30),
    card_id=st.uuids(),
    agreement_code=st.text(max_size=30),
    issued_at=SECONDS,
    expires_at=SECONDS,
    status_index=st.integers(0, 2**40),
    status_uri=st.text(max_size=40),
    holder=st.none()
    | st.builds(
        Holder,
        name_ar=st.none() | st.text(max_size=40),
        name_lat=st.none() | st.text(max_size=40),
        birth_year=st.none() | st.integers(1900, 2030),
    ),
)


SIGNING_KEY = ed25519.Ed25519PrivateKey.generate()


@BOUNDED
@given(claims=CLAIMS)
def test_a_card_text_decodes_to_the_claims_it_was_made_of(claims: CardClaims) -> None:
    assert decode_claims(encode_claims(claims)) == claims
    text = encode_card(claims, SIGNING_KEY)
    checks = Verification.start()
    message = decode_sign1(decode_qr_text(text, CARD_PREFIX, checks) or b"")
    assert decode_claims(message.payload) == claims and verify_sign1(message, SIGNING_KEY.public_key())
    assert checks.checks["decompress"] is True and not checks.errors


# --- importers, on both engines ------------------------------------------------------------

_refs = itertools.count()
RELATIVES = ["spouse", "son", "daughter", "father", "mother", "brother", "sister", "grandchild", "other_relative"]


@st.composite
def households(draw: st.DrawFn) -> list[list[dict[str, str]]]:
    """One to three valid households: names in their scripts, birth years or dates, some phones."""
    found = []
    for _ in range(draw(st.integers(1, 3))):
        rows = household_rows(f"prop-{next(_refs)}", draw(st.integers(1, 4)))
        for index, row in enumerate(rows):
            born = draw(st.dates(date(1930, 1, 1), date(2020, 12, 31)))
            with_date = draw(st.booleans())
            row.update(
                relationship="head" if index == 0 else draw(st.sampled_from(RELATIVES)),
                sex=draw(st.sampled_from(["female", "male"])),
                given_name_ar=" ".join(draw(ARABIC_NAME)),
                given_name_lat=" ".join(draw(LATIN_NAME)),
                family_name_ar=" ".join(draw(ARABIC_NAME)),
                family_name_lat=draw(st.sampled_from(["", "al-Ali", "Haddad"])),
                birth_date=born.isoformat() if with_date else "",
                birth_year="" if with_date else str(born.year),
                phone=draw(st.sampled_from(["", "+963944555777", "0944 555 777"])),
            )
        found.append(rows)
    return found


def count_rows(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _persons_of(session: Session, ref: str) -> int:
    query = select(func.count()).select_from(Person).join(Household).where(Household.source_ref == ref)
    return int(session.scalar(query) or 0)


def _names(session: Session, runtime: Runtime, ref: str) -> list[tuple[str, str]]:
    uid = session.scalar(select(Household.uid).where(Household.source_ref == ref))
    members = household_for(session, runtime.vault, SYSTEM, str(uid))["members"]
    return [(member["given_name_ar"], member["given_name_lat"]) for member in members]


@pytest.mark.usefixtures("gazetteer")
def test_registrations_import_whole_households_or_name_the_cell(
    session: Session, runtime: Runtime, tmp_path: Path
) -> None:
    column_count = len(COLUMNS)

    @ON_DATABASE
    @given(
        drawn=households(),
        damage=st.none() | st.tuples(st.integers(0, 20), st.integers(0, column_count - 1), CELL),
    )
    def check(drawn: list[list[dict[str, str]]], damage: tuple[int, int, str] | None) -> None:
        clean = [COLUMNS, *[[row.get(column, "") for column in COLUMNS] for rows in drawn for row in rows]]
        table, target = damaged(clean, damage)
        path = write_table(tmp_path / "registrations.csv", table)
        before = (count_rows(session, Household), count_rows(session, Person))
        reports = []
        error = refusal(lambda: reports.append(import_registrations(session, runtime.vault, SYSTEM, path)))
        written = (count_rows(session, Household) - before[0], count_rows(session, Person) - before[1])
        if error is not None:  # the reader stopped: nothing of this small file was committed
            assert written == (0, 0)
            return
        report = reports[0]
        assert (report.households, report.persons) == written
        groups = list(group_households(table[1:], Layout(COLUMNS)))
        assert report.households + report.error_count + report.skipped == len(groups)
        assert all(error["row"] is not None and error["field"] for error in report.errors)
        # The damaged row's household (and any it now claims to be) may be refused; every other one is whole.
        touched = set() if target is None else {clean[target][0], table[target][0].strip()}
        for rows in drawn:
            ref = rows[0]["_uuid"]
            if ref not in touched:
                assert _persons_of(session, ref) == len(rows), (ref, report.errors)
            if damage is None:
                assert _names(session, runtime, ref) == [(row["given_name_ar"], row["given_name_lat"]) for row in rows]
        again = import_registrations(session, runtime.vault, SYSTEM, path)
        assert (again.households, again.persons, again.error_count) == (0, 0, report.error_count)

    check()


def all_or_nothing(session: Session, models: Sequence[Any], call: Callable[[], object]) -> ValidationFailed | None:
    """Run an all-or-nothing import: if it refuses the file (naming row and field), no table changed."""
    before = [count_rows(session, model) for model in models]
    error = refusal(call)
    if error is not None:
        assert [count_rows(session, model) for model in models] == before, error
    return error


DAMAGE = st.none() | st.tuples(st.integers(0, 20), st.integers(0, 20), CELL)
FIELD_FILES: dict[str, tuple[Sequence[str], Callable[[int], list[list[str]]]]] = {
    "arrivals": (
        field_files.ARRIVAL_COLUMNS,
        lambda n: [
            [f"mon-{n % 3}", str(index), f"2024-05-{1 + n % 28:02d}", "C4401", "", "return"] for index in (1, 2)
        ],
    ),
    "followups": (
        field_files.FOLLOWUP_COLUMNS,
        lambda n: [[f"mon-{n % 3}", "2024-03-01", str(days), "reached", "2024-04-01"] for days in (7, 30)],
    ),
    "incidents": (
        field_files.INCIDENT_COLUMNS,
        lambda n: [[f"INC-{n}", f"mon-{n % 3}", "1", "arrest", "2024-04-01", "C4401", "unknown", "reported"]],
    ),
}


@pytest.mark.usefixtures("gazetteer")
def test_field_files_are_imported_whole_or_not_at_all(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    people = [row for index in range(3) for row in household_rows(f"mon-{index}", 2)]
    import_registrations(session, runtime.vault, SYSTEM, write_csv_rows(tmp_path / "people.csv", people))
    arrived = [[f"mon-{index}", "1", "2024-03-01", "C4401", "", "return"] for index in range(3)]
    arrivals_file = write_table(tmp_path / "first.csv", [list(field_files.ARRIVAL_COLUMNS), *arrived])
    field_files.import_arrivals(session, SYSTEM, arrivals_file)
    importers = {
        "arrivals": lambda path: field_files.import_arrivals(session, SYSTEM, path),
        "followups": lambda path: field_files.import_followups(session, SYSTEM, path),
        "incidents": lambda path: field_files.import_incidents(session, runtime.vault, SYSTEM, path),
    }
    serial = itertools.count()

    @ON_DATABASE
    @given(kind=st.sampled_from(sorted(FIELD_FILES)), damage=DAMAGE)
    def check(kind: str, damage: tuple[int, int, str] | None) -> None:
        columns, rows_of = FIELD_FILES[kind]
        table, _ = damaged([list(columns), *rows_of(next(serial))], damage)
        path = write_table(tmp_path / f"{kind}.csv", table)
        error = all_or_nothing(session, [Arrival, FollowUp, Incident], lambda: importers[kind](path))
        assert damage is not None or error is None, error

    check()


def write_csv_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    return write_table(path, [COLUMNS, *[[row.get(column, "") for column in COLUMNS] for row in rows]])


@pytest.mark.usefixtures("gazetteer")
def test_schedules_gazetteers_and_agreements_are_imported_whole_or_not_at_all(session: Session, tmp_path: Path) -> None:
    serial = itertools.count()
    places_header = ["admin1Pcode", "admin1Name_en", "admin1Name_ar", "admin2Pcode", "admin2Name_en", "latitude"]
    files: dict[str, tuple[list[Any], Callable[[int], list[list[str]]], Callable[[Path], object]]] = {
        "convoys": (
            [Convoy],
            lambda n: [
                ["convoy_id", "date", "origin", "destinations", "seats", "agreement", "guarantor"],
                [f"CV-P{n}", "2030-01-05", "RUKBAN", "C4401;C4301", "40", "", "Guarantor"],
                [f"CV-Q{n}", "2030-01-06", "ALWAER", "C4301", "20", "", ""],
            ],
            lambda path: import_convoys(session, SYSTEM, path),
        ),
        "places": (
            [Place, Site],
            lambda n: [places_header, ["ZZ01", "Zed", "زد", f"ZZ01{n:02d}", f"Zed {n}", "33.5"]],
            lambda path: import_gazetteer(session, SYSTEM, path),
        ),
        "sites": (
            [Place, Site],
            lambda n: [
                ["code", "kind", "name_en", "name_ar", "place_pcode"],
                [f"CAMP-{n}", "camp", "A camp", "مخيم", "C4401"],
            ],
            lambda path: import_gazetteer(session, SYSTEM, None, path),
        ),
        "agreements": (
            [Agreement],
            lambda n: [
                ["agreement_id", "name_en", "name_ar", "area_pcode", "guarantor", "signed_on", "terms"],
                [
                    f"AG-P-{n}",
                    "An agreement",
                    "اتفاق",
                    "C4401",
                    "Guarantor",
                    "2020-01-01",
                    '[{"term_id": "T-1", "kind": "no_arrest", "duration_days": 180}]',
                ],
            ],
            lambda path: import_agreements(session, SYSTEM, path),
        ),
    }

    @ON_DATABASE
    @given(kind=st.sampled_from(sorted(files)), damage=DAMAGE, suffix=st.sampled_from([".csv", ".csv", ".xlsx"]))
    def check(kind: str, damage: tuple[int, int, str] | None, suffix: str) -> None:
        models, rows_of, run = files[kind]
        table, _ = damaged(rows_of(next(serial)), damage)
        if suffix == ".xlsx":  # a workbook cannot hold control characters: the CSV cases cover them
            table = [[ILLEGAL_IN_XLSX.sub("", cell) for cell in row] for row in table]
        path = write_table(tmp_path / f"{kind}{suffix}", table)
        error = all_or_nothing(session, models, lambda: run(path))
        assert damage is not None or error is None, error

    check()
