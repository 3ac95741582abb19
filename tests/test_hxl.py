"""HXL: gazetteers checked with libhxl on import, every CSV export awda writes read back by libhxl.

`EXPORTS` lists every module that writes CSV for people through `awda.exports.csv_writer`, with a
function that makes its file; a test fails when a module starts calling `csv_writer` without being
listed here, so no CSV export can appear without its HXL hashtag row being read by libhxl.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import hxl  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.convoys.manifest import CSV_COLUMNS as MANIFEST_COLUMNS
from awda.convoys.manifest import Manifest, ManifestHousehold, ManifestPerson, manifest_csv
from awda.convoys.plancsv import PLAN_COLUMNS, PLAN_HASHTAGS, plan_and_write
from awda.convoys.rules import ScheduledConvoy, WaitingHousehold
from awda.db import make_engine, session_factory
from awda.errors import ValidationFailed
from awda.linkage.dedupe import DedupeRequest, dedupe_file
from awda.linkage.names_pairs import compare_pairs_file
from awda.places.hxlcheck import checked_places
from awda.places.models import Place
from awda.places.services import EXPORT_COLUMNS, export_gazetteer, import_gazetteer, load_demo_gazetteer
from awda.runtime import Runtime
from awda.stats.disclosure import Protection
from awda.stats.scorecard_export import CSV_COLUMNS as SCORECARD_COLUMNS
from awda.stats.scorecard_export import csv_text
from awda.stats.scorecard_model import Publication, PublishedCohort
from tests.conftest import Done, _truncate_all

SRC = Path(__file__).resolve().parents[1] / "src" / "awda"
COD_FILE = Path(__file__).resolve().parent / "data" / "field" / "cod_gazetteer_demo.csv"
HEADER = ["admin1Pcode", "admin1Name_en", "admin1Name_ar", "admin2Pcode", "admin2Name_en", "admin2Name_ar"]
TAGS = ["#adm1+code", "#adm1+name+i_en", "#adm1+name+i_ar", "#adm2+code", "#adm2+name+i_en", "#adm2+name+i_ar"]


# --- gazetteers in ---------------------------------------------------------------------------


def test_a_cod_file_is_read_through_its_hashtags(session: Session) -> None:
    result = import_gazetteer(session, SYSTEM, COD_FILE)
    # 2 governorates, 3 districts, 4 sub-districts, 4 communities.
    assert (result.places_created, result.places_updated) == (13, 0)
    parent_of = {
        place.pcode: place.parent_id for place in session.scalars(select(Place))
    }  # the whole chain, as the file nests it
    by_id = {place.id: place.pcode for place in session.scalars(select(Place))}
    assert by_id[parent_of["C1001"]] == "SY010000" and by_id[parent_of["SY010000"]] == "SY0100"
    assert by_id[parent_of["SY020101"]] == "SY0201" and parent_of["SY02"] is None
    c1003 = session.scalar(select(Place).where(Place.pcode == "C1003"))
    assert c1003 is not None and (c1003.admin_level, c1003.name_ar, c1003.latitude) == (4, "مدينة حلب (تجريبي)", 36.202)


@pytest.mark.parametrize(
    ("rows", "row", "column", "message"),
    [
        (
            [HEADER, ["#adm1+code", "#adm1+name+i_en", "#adm1 name!", *TAGS[3:]]],
            2,
            "admin1Name_ar",
            "not a HXL hashtag",
        ),
        ([HEADER[:4], [*TAGS[:2], "#adm1+name+i_ar", "#adm2+code"]], 2, "admin2Pcode", "no name column"),
        ([HEADER, TAGS, ["SY01", "Damascus", "دمشق", "SY0200", "Aleppo", "حلب"]], 3, "admin2Pcode", "does not start"),
        (
            [HEADER, TAGS, ["SY01", "D", "د", "C4001", "W", "و"], ["SY02", "A", "ح", "C4001", "W", "و"]],
            4,
            "admin2Pcode",
            "under SY01 on row 3",
        ),
        ([["name", "lat"], ["#loc+name", "#geo+lat"], ["x", "1"]], 1, "header", "no admin P-code column"),
        ([["code"], ["#adm1+code"], ["SY01"]], 2, "code", "no name column"),
    ],
)
def test_a_bad_gazetteer_is_named_by_row_and_column(rows: list[list[str]], row: int, column: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message) as raised:
        list(checked_places(rows))
    assert (raised.value.row, raised.value.field) == (row, column)


def test_the_hashtag_row_may_sit_below_a_title_and_codes_of_another_scheme_nest() -> None:
    rows = [["Syria gazetteer (demo)"], HEADER, TAGS, ["SY04", "Homs", "حمص", "C4001", "Al-Waer", "الوعر"]]
    records = list(checked_places(rows))
    assert [(r.pcode, r.parent_pcode, r.row) for r in records] == [("SY04", None, 4), ("C4001", "SY04", 4)]


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.one_of(st.text(max_size=12), st.sampled_from([*TAGS, "#geo+lat", "SY01"])), max_size=7), max_size=5
    )
)
def test_any_table_is_places_or_one_clear_error(rows: list[list[str]]) -> None:
    failed: ValidationFailed | None = None
    try:
        list(checked_places([HEADER, *rows]))
    except ValidationFailed as error:  # the only exception a bad table may raise
        failed = error
    assert failed is None or failed.row is None or failed.row >= 1


# --- every CSV export, read by libhxl ---------------------------------------------------------

Made = tuple[str, list[str], int]  # the file's text, the hashtags it must carry, its data rows


def _manifest(session: Session, tmp_path: Path) -> Made:
    persons = tuple(
        ManifestPerson(f"عضو {i}", i, f"عضو {i}", f"Member {i}", "female", 1990 + i, departed=False, arrived=False)
        for i in range(1, 4)
    )
    household = ManifestHousehold("uid-1", "R-0001", "C4401", "Tadmor", "تدمر", True, persons)
    sheet = Manifest(
        "CV-1", date(2030, 1, 5), "RUKBAN", "Rukban", "الركبان", 40, "G", None, datetime.now(UTC), (household,)
    )
    out = io.StringIO(newline="")
    manifest_csv(sheet, out)
    return out.getvalue(), [tag for _, tag in MANIFEST_COLUMNS], 3


def _plan(session: Session, tmp_path: Path) -> Made:
    convoy = ScheduledConvoy("CV-1", date(2030, 1, 5), "RUKBAN", ("C4401",), 40)
    households = [
        WaitingHousehold(f"h{i}", 2, "RUKBAN", "C4401", date(2030, 1, 1), 0.0, date(2024, 1, 1), None) for i in range(3)
    ]
    plan_and_write(households, [convoy], tmp_path / "plan.csv")
    assert len(PLAN_COLUMNS) == len(PLAN_HASHTAGS)
    return (tmp_path / "plan.csv").read_text(encoding="utf-8"), list(PLAN_HASHTAGS), 3


def _scorecard(session: Session, tmp_path: Path) -> Made:
    cohorts = tuple(
        PublishedCohort(
            "agreement", f"AG-{i}", f"c{i}", f"Agreement {i}", f"اتفاق {i}", (), (), False, people=12, households=4
        )
        for i in range(2)
    )
    text = csv_text(Publication("2030-01-05", 10, ("arrest",), "reported", cohorts, Protection(frozenset(), 0, 0)))
    rows = len(list(csv.reader(io.StringIO(text)))) - 2
    assert rows > 0
    return text, [tag for _, tag in SCORECARD_COLUMNS], rows


def _places(session: Session, tmp_path: Path) -> Made:
    load_demo_gazetteer(session, SYSTEM)
    out = io.StringIO(newline="")
    count = export_gazetteer(session, out)
    assert count == len(list(session.scalars(select(Place.id))))
    return out.getvalue(), [tag for _, tag in EXPORT_COLUMNS], count


def _name_pairs(session: Session, tmp_path: Path) -> Made:
    """The user's own file annotated: it stays HXL when it was (docs/linkage.md), so it is given as HXL."""
    source = tmp_path / "pairs.csv"
    lines = ["id,name_a,note,name_b", "#meta+id,#x_name+a,,#x_name+b", "1,محمد,x,Mohammed", "2,Ahmad,,Hamad"]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = compare_pairs_file(source, tmp_path / "scored.csv")
    tags = ["#meta+id", "#x_name+a", "", "#x_name+b", "#x_score+num", "#x_match"]
    return (tmp_path / "scored.csv").read_text(encoding="utf-8"), tags, summary.rows


def _dedupe(session: Session, tmp_path: Path) -> Made:
    """The user's own file with its clusters: it stays HXL when it was (docs/linkage.md), so it is given as HXL."""
    source = tmp_path / "people.csv"
    lines = ["id,given,family,born", "#meta+id,#x_name+given,#x_name+family,#date+birth"]
    lines += [f"{n},Given{n}x,Family{n % 37}q,19{40 + n % 60}-01-0{1 + n % 9}" for n in range(300)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fields = [("given_name", "given"), ("family_name", "family"), ("birth_date", "born")]
    summary = dedupe_file(DedupeRequest(source, fields, "id", tmp_path / "out.csv"))
    tags = ["#meta+id", "#x_name+given", "#x_name+family", "#date+birth", "#x_cluster"]
    return (tmp_path / "out.csv").read_text(encoding="utf-8"), tags, int(summary["rows"])


EXPORTS: dict[str, Callable[[Session, Path], Made]] = {
    "linkage/names_pairs.py": _name_pairs,
    "linkage/dedupe.py": _dedupe,
    "convoys/manifest.py": _manifest,
    "convoys/plancsv.py": _plan,
    "stats/scorecard_export.py": _scorecard,
    "places/services.py": _places,
}


def test_every_csv_export_is_read_here() -> None:
    writing = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts and re.search(r"\bcsv_writer\(", path.read_text(encoding="utf-8"))
    }
    unread = writing - {"exports.py"} - set(EXPORTS)
    assert not unread, f"CSV exports without an HXL hashtag row read by libhxl in tests/test_hxl.py: {sorted(unread)}"


@pytest.mark.parametrize("module", sorted(EXPORTS))
def test_each_export_is_hxl_that_libhxl_reads(module: str, session: Session, tmp_path: Path) -> None:
    text, hashtags, rows = EXPORTS[module](session, tmp_path)
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[1] == hashtags  # the hashtag row comes right under the headings
    dataset = hxl.data(io.BytesIO(text.encode("utf-8"))).cache()
    assert [column.display_tag for column in dataset.columns] == hashtags
    assert [column.header for column in dataset.columns] == lines[0]
    assert len(list(dataset)) == rows
    assert hxl.validate(dataset)["is_valid"]


# --- the gazetteer's round trip ---------------------------------------------------------------


def _places_now(session: Session) -> list[tuple[object, ...]]:
    pcode_of = dict(session.execute(select(Place.id, Place.pcode)).tuples().all())
    return sorted(
        (p.pcode, p.admin_level, p.name_en, p.name_ar, pcode_of.get(p.parent_id or 0), p.latitude, p.longitude)
        for p in session.scalars(select(Place))
    )


def _fresh_database(database_url: str, tmp_path: Path, sqlite_template: Path) -> str:
    if database_url.startswith("sqlite"):
        target = tmp_path / "fresh.db"
        shutil.copyfile(sqlite_template, target)
        return f"sqlite:///{target}"
    _truncate_all(database_url)
    return database_url


def test_the_gazetteer_goes_out_and_back_in_unchanged(
    runtime: Runtime, session: Session, database_url: str, tmp_path: Path, sqlite_template: Path
) -> None:
    load_demo_gazetteer(session, SYSTEM)
    import_gazetteer(session, SYSTEM, COD_FILE)
    before = _places_now(session)
    exported = tmp_path / "gazetteer.csv"
    with exported.open("w", newline="", encoding="utf-8") as handle:
        assert export_gazetteer(session, handle) == len(before)
    session.close()
    engine = make_engine(_fresh_database(database_url, tmp_path, sqlite_template))
    with session_factory(engine)() as fresh:
        assert _places_now(fresh) == []
        result = import_gazetteer(fresh, SYSTEM, exported)
        assert (result.places_created, result.places_updated) == (len(before), 0)
        assert _places_now(fresh) == before
    engine.dispose()


def test_awda_places_export_writes_what_import_places_reads(awda: Callable[..., Done], tmp_path: Path) -> None:
    awda("init")
    awda("import", "places", str(COD_FILE))
    out = tmp_path / "places.csv"
    done = awda("places", "export", "--out", str(out), "--json")
    assert "13" in done.stdout
    again = awda("import", "places", str(out), "--json")
    assert '"places_created": 0' in again.stdout and '"places_updated": 0' in again.stdout
    broken = tmp_path / "broken.csv"
    broken.write_text(out.read_text(encoding="utf-8").replace("SY0201,", "SY0301,", 1), encoding="utf-8")
    failed = awda("import", "places", str(broken), expect=2)
    assert "admin2Pcode: SY0301 does not start with its parent's P-code SY02" in failed.stderr
