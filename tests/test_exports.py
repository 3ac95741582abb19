"""Every CSV awda writes for people goes through the one formula-injection guard (`awda.exports`).

`EXPORTERS` lists them; a guard fails when a CSV (or XLSX) writer appears in `src/` outside the
shared writer and the simulator's machine files, or when a module starts using the shared writer
without being listed here. Each listed export is fed cells that start with = + - @ TAB CR and is
read back: no cell may start a formula, and the HXL hashtag row stays as it is.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from awda.convoys.manifest import CSV_COLUMNS as MANIFEST_COLUMNS
from awda.convoys.manifest import Manifest, ManifestHousehold, ManifestPerson, manifest_csv
from awda.convoys.plancsv import plan_and_write
from awda.convoys.rules import ScheduledConvoy, WaitingHousehold
from awda.exports import FORMULA_PREFIXES, csv_writer, safe_cell, safe_row
from awda.linkage.dedupe import DedupeRequest, dedupe_file
from awda.linkage.names_pairs import compare_pairs_file
from awda.places.models import Place
from awda.places.services import export_gazetteer
from awda.stats.disclosure import Protection
from awda.stats.scorecard_export import CSV_COLUMNS as SCORECARD_COLUMNS
from awda.stats.scorecard_export import csv_text
from awda.stats.scorecard_model import Publication, PublishedCohort

SRC = Path(__file__).resolve().parents[1] / "src" / "awda"
HOSTILE = (
    '=HYPERLINK("http://evil.example","x")',
    "+963944000000",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
)

# Files that may create a csv/xlsx writer themselves, and why.
OWN_WRITERS = {
    "exports.py": "the guarded writer itself",
    "simulate/writer.py": "synthetic import input (registrations, truth): must reach the importers unchanged",
    "simulate/field.py": "synthetic field files for the importers: phones start with '+', and must stay so",
}
# Modules that write CSV for people through `awda.exports.csv_writer`, and the shells that serve it.
EXPORTERS = {
    "convoys/manifest.py": "`awda convoys manifest --out`, GET /api/v1/convoys/{code}/manifest.csv, `awda demo`",
    "convoys/plancsv.py": "`awda convoys plan --waitlist W --convoys C --out PLAN.csv`",
    "stats/scorecard_export.py": "scorecard.csv of `awda stats scorecard --out` and `awda demo`",
    "places/services.py": "`awda places export --out` (the gazetteer as HXL-tagged COD CSV)",
    "linkage/names_pairs.py": "`awda names compare --pairs FILE.csv --out OUT.csv` (the rows, score,match appended)",
    "linkage/dedupe.py": "`awda dedupe FILE.csv --fields F --id-column C --out OUT.csv` (rows, cluster_id appended)",
}
WRITER = re.compile(r"\bcsv\.(writer|DictWriter)\(|\bDictWriter\(|\bWorkbook\(|\bxlsxwriter\b|\.to_csv\(|\.to_excel\(")


def _modules_matching(pattern: re.Pattern[str]) -> set[str]:
    return {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts and pattern.search(path.read_text(encoding="utf-8"))
    }


def test_no_csv_writer_outside_the_guard() -> None:
    unguarded = _modules_matching(WRITER) - set(OWN_WRITERS)
    assert not unguarded, (
        f"write CSV for people with awda.exports.csv_writer (or list the file with a reason): {unguarded}"
    )


def test_every_exporter_is_listed_and_tested() -> None:
    assert _modules_matching(re.compile(r"\bcsv_writer\(")) - {"exports.py"} == set(EXPORTERS)


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_PREFIXES), (cell, row)


def test_the_manifest_csv_neutralises_every_text_cell() -> None:
    persons = tuple(
        ManifestPerson(value, index + 1, value, value, "female", None, departed=False, arrived=False)
        for index, value in enumerate(HOSTILE)
    )
    household = ManifestHousehold("=uid", "+REF", "@C4401", "Dest", "وجهة", True, persons)
    sheet = Manifest(
        "-CV-1", date(2030, 1, 5), "RUKBAN", "Rukban", "الركبان", 40, "=g", None, datetime.now(UTC), (household,)
    )
    out = io.StringIO(newline="")
    manifest_csv(sheet, out)
    rows = rows_of(out.getvalue())
    assert rows[:2] == [[heading for heading, _ in MANIFEST_COLUMNS], [tag for _, tag in MANIFEST_COLUMNS]]
    assert_no_formula(rows)
    names = [row[[heading for heading, _ in MANIFEST_COLUMNS].index("name_lat")] for row in rows[2:]]
    assert names == ["'" + value for value in HOSTILE]
    assert {row[0] for row in rows[2:]} == {"'-CV-1"} and rows[2][4] == "1"


def test_the_plan_csv_neutralises_ids_from_the_input_files(tmp_path: Path) -> None:
    convoy = ScheduledConvoy("=CV", date(2030, 1, 5), "RUKBAN", ("C4401",), 40)
    households = [
        WaitingHousehold(value, 1, "RUKBAN", "C4401", date(2030, 1, 1), 0.0, date(2024, 1, 1), None)
        for value in HOSTILE
    ]
    plan = plan_and_write(households, [convoy], tmp_path / "plan.csv")
    assert plan.assigned_households == len(HOSTILE)
    rows = rows_of((tmp_path / "plan.csv").read_bytes().decode("utf-8"))
    assert rows[:2] == [["household_id", "convoy_id"], ["#x_household+id", "#x_convoy+code"]]
    assert_no_formula(rows)
    assert rows[2:] == [["'" + value, "'=CV"] for value in HOSTILE]


def test_the_scorecard_csv_neutralises_names_and_keeps_its_hashtags() -> None:
    cohorts = tuple(
        PublishedCohort("agreement", value, f"c{index}", value, value, (), (), False, people=12, households=4)
        for index, value in enumerate(HOSTILE)
    )
    publication = Publication("2030-01-05", 10, ("arrest",), "reported", cohorts, Protection(frozenset(), 0, 0))
    rows = rows_of(csv_text(publication))
    assert rows[1] == [tag for _, tag in SCORECARD_COLUMNS] and rows[1][0].startswith("#")
    assert_no_formula(rows)
    column = [heading for heading, _ in SCORECARD_COLUMNS].index("name_en")
    assert {row[column] for row in rows[2:]} == {"'" + value for value in HOSTILE}


def test_the_name_pairs_csv_neutralises_the_users_cells(tmp_path: Path) -> None:
    source = tmp_path / "pairs.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["name_a", "name_b", "note"], *([value, value, value] for value in HOSTILE)])
    compare_pairs_file(source, tmp_path / "out.csv")
    rows = rows_of((tmp_path / "out.csv").read_bytes().decode("utf-8"))
    assert rows[0] == ["name_a", "name_b", "note", "score", "match"]
    assert_no_formula(rows)
    assert [row[:3] for row in rows[1:]] == [["'" + value] * 3 for value in HOSTILE]


def test_the_dedupe_csv_neutralises_the_users_cells(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    people = [["id", "given", "family", "born", "note"]]
    people += [[str(n), f"Given{n}x", f"Family{n % 37}q", f"19{40 + n % 60}-01-0{1 + n % 9}", "x"] for n in range(300)]
    for n, value in enumerate(HOSTILE):
        people[1 + n][4] = value
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(people)
    fields = [("given_name", "given"), ("family_name", "family"), ("birth_date", "born")]
    dedupe_file(DedupeRequest(source, fields, "id", tmp_path / "out.csv"))
    rows = rows_of((tmp_path / "out.csv").read_bytes().decode("utf-8"))
    assert rows[0] == ["id", "given", "family", "born", "note", "cluster_id"]
    assert_no_formula(rows)
    assert [row[4] for row in rows[1 : 1 + len(HOSTILE)]] == ["'" + value.strip() for value in HOSTILE]  # stripped


def test_the_gazetteer_csv_neutralises_place_names(session: Session) -> None:
    session.add(Place(pcode="SY09", admin_level=1, name_en=HOSTILE[0], name_ar=HOSTILE[3], latitude=33.5))
    session.commit()
    out = io.StringIO(newline="")
    assert export_gazetteer(session, out) == 1
    rows = rows_of(out.getvalue())
    assert rows[1][:3] == ["#adm1+code", "#adm1+name+i_en", "#adm1+name+i_ar"]
    assert_no_formula(rows)
    assert rows[2][:3] == ["SY09", "'" + HOSTILE[0], "'" + HOSTILE[3]] and rows[2][-2] == "33.5"


@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(st.one_of(st.text(max_size=12), st.integers(), st.floats(allow_nan=False), st.none())),
    line_end=st.sampled_from(["\r\n", "\n"]),
)
@example(cells=["a\r=1", "\n@x"], line_end="\n")
def test_a_guarded_row_is_one_row_that_starts_no_formula(cells: list[str | int | float | None], line_end: str) -> None:
    out = io.StringIO(newline="")
    csv_writer(out, line_end).writerows([cells, ["end"]])
    assert rows_of(out.getvalue()) == [safe_row(cells), ["end"]]
    for original, written in zip(cells, safe_row(cells), strict=True):
        if isinstance(original, str):
            assert not written.startswith(FORMULA_PREFIXES)
            assert written in {original, "'" + original}


def test_cells_that_are_no_formula_are_left_alone() -> None:
    for value in ["#adm1+code", "عبد الله", "Abd al-Sattar", "", " =1", "'=1", "R-0001", "1980"]:
        assert safe_cell(value) == value
    assert safe_row([-1, 2.5, None, "-1"]) == ["-1", "2.5", "", "'-1"]
