"""Convoy manifests from plain values: the HXL CSV (formula cells neutralised) and the printed PDF.

The PDF is read back with PDFium, as a search or a screen reader would: the Arabic must come back in
logical order. PDFium orders each printed line by the direction of most of its letters, which is why
the sheet keeps Arabic on a row's first line and Latin on its second. It still swaps the two letters
of a lam-alef ligature (لا), so the names checked here have none.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime

import hxl  # type: ignore[import-untyped]
import pypdfium2
import pytest
from PIL import Image

from awda.convoys.manifest import (
    CSV_COLUMNS,
    Manifest,
    ManifestHousehold,
    ManifestPerson,
    destination_totals,
    manifest_csv,
    manifest_html,
    manifest_pdf,
    manifest_png,
    safe_cell,
    text_direction,
)

HEAD_AR = "عبد الستار الحسيني"
HEAD_LAT = "Abd al-Sattar al-Husseini"
SCRIPT_NAME = "<script>alert(1)</script> Rami"
FORMULA_NAMES = ('=HYPERLINK("http://evil.example","x")', "+963 944 000 000", "-1", "@x", "\tTab", "\rReturn")
DESTINATIONS = (("C1001", "Qaryatayn", "القريتين"), ("C2002", "Mahin", "مهين"))


def person(index: int, name_ar: str = "فاطمة الحسين", name_lat: str = "Fatima al-Hussein") -> ManifestPerson:
    return ManifestPerson(f"P{index}", index, name_ar, name_lat, "female", 1990 + index, departed=False, arrived=False)


def household(number: int, persons: tuple[ManifestPerson, ...], reconfirmed: bool = True) -> ManifestHousehold:
    pcode, name_en, name_ar = DESTINATIONS[number % 2]
    return ManifestHousehold(f"H{number}", f"R-{number:04d}", pcode, name_en, name_ar, reconfirmed, persons)


def manifest(households: tuple[ManifestHousehold, ...]) -> Manifest:
    return Manifest(
        convoy_code="CV-2024-017",
        departs_on=date(2024, 5, 1),
        origin_site_code="SY-RUKBAN",
        origin_en="Rukban camp",
        origin_ar="مخيم الركبان",
        seats=130,
        guarantor="Guarantor North",
        agreement_code="AG-1",
        printed_at=datetime(2024, 4, 30, 9, 5, tzinfo=UTC),
        households=households,
    )


def big_manifest() -> Manifest:
    """40 households of 3 (120 people); the first member of each departed, the first household arrived."""
    households = []
    for number in range(40):
        head = replace(person(0, HEAD_AR, HEAD_LAT), sex="male", birth_year=1970, departed=True, arrived=number == 0)
        members = (head, person(1), person(2, name_lat=SCRIPT_NAME if number == 7 else "Omar al-Hussein"))
        households.append(household(number, members, reconfirmed=number % 3 != 0))
    return manifest(tuple(households))


def page_texts(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [document[index].get_textpage().get_text_range() for index in range(len(document))]
    finally:
        document.close()


@pytest.fixture(scope="module")
def big_pdf() -> bytes:
    return manifest_pdf(big_manifest())


def test_totals_count_households_people_departures_and_arrivals() -> None:
    sheet = big_manifest()
    assert (sheet.household_count, sheet.people, sheet.departed, sheet.arrived) == (40, 120, 40, 1)
    totals = destination_totals(sheet)
    assert [(total.pcode, total.households, total.people) for total in totals] == [("C1001", 20, 60), ("C2002", 20, 60)]


@pytest.mark.parametrize("value", ["=1+1", "+963", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", [HEAD_AR, "Abd al-Sattar", "", "R-0001", "1980", " =1", "'=1"])
def test_other_cells_are_left_alone(value: str) -> None:
    assert safe_cell(value) == value


def test_csv_is_hxl_with_one_row_per_person() -> None:
    sheet = big_manifest()
    out = io.StringIO()
    assert manifest_csv(sheet, out) == 120
    dataset = hxl.data(io.BytesIO(out.getvalue().encode("utf-8"))).cache()
    assert dataset.display_tags == [hashtag for _, hashtag in CSV_COLUMNS]
    assert hxl.validate(dataset)["is_valid"]
    rows = list(dataset)
    assert len(rows) == 120
    first = rows[0]
    assert first.get("#x_convoy+code") == "CV-2024-017"
    assert first.get("#date+departure") == "2024-05-01"
    assert first.get("#x_household+code") == "R-0000"
    assert first.get("#beneficiary+name+i_ar") == HEAD_AR
    assert first.get("#beneficiary+name+latin") == HEAD_LAT
    assert first.get("#loc+dest+code") == "C1001"
    assert (first.get("#status+reconfirmed"), first.get("#status+departed"), first.get("#status+arrived")) == (
        "false",
        "true",
        "true",
    )
    assert sum(row.get("#status+departed") == "true" for row in rows) == sheet.departed
    headings = next(csv.reader(io.StringIO(out.getvalue())))
    assert headings == [heading for heading, _ in CSV_COLUMNS]


def test_csv_neutralises_formula_cells_and_leaves_arabic_alone() -> None:
    members = tuple(person(index, name_ar=HEAD_AR, name_lat=name) for index, name in enumerate(FORMULA_NAMES))
    formula_household = ManifestHousehold("=cmd|' /C calc'!A0", "@ref", "C1001", "Qaryatayn", "القريتين", True, members)
    out = io.StringIO()
    assert manifest_csv(manifest((formula_household,)), out) == len(FORMULA_NAMES)
    rows = list(hxl.data(io.BytesIO(out.getvalue().encode("utf-8"))).cache())
    assert len(rows) == len(FORMULA_NAMES)
    assert all(row.get("#beneficiary+name+latin").startswith("'") for row in rows)
    assert {row.get("#beneficiary+name+i_ar") for row in rows} == {HEAD_AR}
    assert rows[0].get("#x_household+id") == "'=cmd|' /C calc'!A0"
    assert rows[0].get("#x_household+code") == "'@ref"
    # libhxl turns a CR inside a quoted cell into LF; the csv module gives back each cell exactly.
    exact = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))[1:]
    assert [row["name_lat"] for row in exact] == ["'" + name for name in FORMULA_NAMES]


def test_an_empty_manifest_has_only_its_two_heading_rows() -> None:
    out = io.StringIO()
    assert manifest_csv(manifest(()), out) == 0
    assert len(out.getvalue().splitlines()) == 2


def test_names_are_escaped_and_take_the_direction_of_their_first_letter() -> None:
    html = manifest_html(big_manifest())
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Rami" in html
    assert (text_direction(HEAD_AR), text_direction("1990 " + HEAD_AR), text_direction(HEAD_LAT)) == (
        "rtl",
        "rtl",
        "ltr",
    )
    assert text_direction("") == text_direction("(12)") == "ltr"


def test_the_printed_manifest_reads_back_in_logical_order_on_numbered_pages(big_pdf: bytes) -> None:
    assert big_pdf.startswith(b"%PDF")
    pages = page_texts(big_pdf)
    count = len(pages)
    assert count > 1
    for number, text in enumerate(pages, start=1):
        assert f"page {number} of {count}" in text
        assert f"صفحة {number} من {count}" in text
        assert "Convoy manifest CV-2024-017" in text
        assert "Birth year" in text and "الجنس" in text  # the table heading repeats
    everything = "\n".join(pages)
    # PDFium gave logical-order Arabic letters, not presentation forms: no NFKC was needed.
    assert everything.count(HEAD_AR) == 40
    assert everything.count(HEAD_LAT) == 40
    assert "مخيم الركبان" in everything and "Rukban camp" in everything
    assert SCRIPT_NAME in everything
    assert everything.count("✓") == 40 + 1  # one tick per departure and per arrival


def test_a_page_renders_as_a_png(big_pdf: bytes) -> None:
    with Image.open(io.BytesIO(manifest_png(big_pdf, page=1))) as image:
        assert image.format == "PNG"
        assert image.width > image.height  # A4 landscape


def test_an_empty_manifest_prints_one_page_saying_so_in_both_languages() -> None:
    pdf = manifest_pdf(manifest(()))
    assert pdf.startswith(b"%PDF")
    pages = page_texts(pdf)
    assert len(pages) == 1
    assert "هذه القائمة فارغة" in pages[0]
    assert "This manifest is empty" in pages[0]
    assert "page 1 of 1" in pages[0]
