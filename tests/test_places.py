"""The gazetteer: HXL and COD layouts, the demo data, errors by row and field, re-import."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.errors import PermissionDenied, ValidationFailed
from awda.places.models import Place, Site
from awda.places.rules import parse_gazetteer
from awda.places.services import import_gazetteer, list_places, load_demo_gazetteer, place_by_pcode
from tests.conftest import make_user

COD = [
    [
        "admin1Pcode",
        "admin1Name_en",
        "admin1Name_ar",
        "admin2Pcode",
        "admin2Name_en",
        "admin2Name_ar",
        "latitude",
        "longitude",
    ],
    ["SY04", "Homs", "حمص", "SY0404", "Tadmor", "تدمر", "34.56", "38.27"],
]


def test_cod_layout_yields_the_place_and_its_parents() -> None:
    records = list(parse_gazetteer(COD))
    assert [(r.pcode, r.admin_level, r.parent_pcode) for r in records] == [("SY04", 1, None), ("SY0404", 2, "SY04")]
    assert (records[1].name_ar, records[1].latitude, records[0].latitude) == ("تدمر", 34.56, None)


def test_hxl_row_takes_precedence_over_column_names() -> None:
    rows = [
        ["code", "english", "arabic"],
        ["#adm1+code", "#adm1+name+i_en", "#adm1+name+i_ar"],
        ["SY07", "Idleb", "إدلب"],
    ]
    (record,) = parse_gazetteer(rows)
    assert (record.pcode, record.name_en, record.name_ar, record.row) == ("SY07", "Idleb", "إدلب", 3)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (["SY04", "Homs", "حمص", "sy 04!", "X", "", "", ""], "admin2Pcode"),
        (["SY04", "Homs", "حمص", "", "", "", "95", "38"], "latitude"),
        (["SY04", "Homs", "حمص", "", "", "", "34", "east"], "longitude"),
        (["SY04", "", "", "", "", "", "", ""], "admin1Name_en"),
    ],
)
def test_bad_rows_name_row_and_field(row: list[str], field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        list(parse_gazetteer([COD[0], COD[1], row]))
    assert (raised.value.row, raised.value.field) == (3, field)


def test_header_without_pcode_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="P-code column"):
        list(parse_gazetteer([["name", "lat"], ["x", "1"]]))


def test_demo_gazetteer_loads_once_and_is_marked(session: Session) -> None:
    first = load_demo_gazetteer(session, SYSTEM)
    again = load_demo_gazetteer(session, SYSTEM)
    assert first.places_created >= 25 and first.sites_created == 6
    assert (again.places_created, again.places_updated, again.sites_created) == (0, 0, 0)
    rukban = place_by_pcode(session, "C4402")
    assert (rukban.name_ar, rukban.is_demo) == ("الركبان", True)
    tadmor = session.get(Place, rukban.parent_id)
    assert tadmor is not None and tadmor.pcode == "SY040400"
    assert {p.pcode for p in list_places(session, admin_level=1)} == {"SY02", "SY04", "SY07"}
    site = session.scalar(select(Site).where(Site.code == "ALWAER"))
    assert site is not None and site.kind == "neighbourhood"


def test_import_updates_names_and_is_all_or_nothing(session: Session, tmp_path: Path) -> None:
    load_demo_gazetteer(session, SYSTEM)
    update = tmp_path / "update.csv"
    update.write_text("admin1Pcode,admin1Name_en,admin1Name_ar\nSY04,Homs Governorate,محافظة حمص\n", encoding="utf-8")
    result = import_gazetteer(session, SYSTEM, update)
    assert result.places_updated == 1 and place_by_pcode(session, "SY04").name_en == "Homs Governorate"
    broken = tmp_path / "broken.csv"
    broken.write_text("admin1Pcode,admin1Name_en\nSY09,Deir-ez-Zor\nSY10,\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="row 3"):
        import_gazetteer(session, SYSTEM, broken)
    assert session.scalar(select(Place).where(Place.pcode == "SY09")) is None


def test_only_admins_manage_places(session: Session, tmp_path: Path) -> None:
    registrar = make_user(session, "reg", "registrar")
    with pytest.raises(PermissionDenied):
        load_demo_gazetteer(session, registrar)
