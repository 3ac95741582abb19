"""A convoy's manifest from plain values: a printed sheet to tick at departure and arrival, and a CSV.

The PDF is WeasyPrint over a Jinja2 template, as the cards are (Pango and HarfBuzz shape the Arabic,
so PDFium gives the names back in logical order); the CSV carries an HXL hashtag row and every text
cell is neutralised against spreadsheet formula injection. Nothing here reads the database.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, TextIO

from jinja2 import Environment, PackageLoader, select_autoescape

from awda.cards.printing import render_png
from awda.exports import (
    Cell,
    csv_writer,
    safe_cell,  # noqa: F401  (re-exported: it lived here before `awda.exports`)
)

Sex = Literal["female", "male"]

# A4 at 150 dpi is about 1750 x 1240 pixels: readable on a screen, a fraction of the 300 dpi size.
PREVIEW_DPI = 150

# (column heading, HXL hashtag): the HXL 1.1 dictionary, `#x_` tags where it has none. A destination
# P-code may be of any admin level, hence `#loc` rather than one `#admN`.
CSV_COLUMNS = (
    ("convoy", "#x_convoy+code"),
    ("departs_on", "#date+departure"),
    ("household", "#x_household+id"),
    ("reference", "#x_household+code"),
    ("member_index", "#beneficiary+member+num"),
    ("name_ar", "#beneficiary+name+i_ar"),
    ("name_lat", "#beneficiary+name+latin"),
    ("sex", "#beneficiary+sex"),
    ("birth_year", "#date+birth+year"),
    ("destination_pcode", "#loc+dest+code"),
    ("reconfirmed", "#status+reconfirmed"),
    ("departed", "#status+departed"),
    ("arrived", "#status+arrived"),
)


@dataclass(frozen=True)
class ManifestPerson:
    person_uid: str
    member_index: int
    name_ar: str
    name_lat: str
    sex: Sex
    birth_year: int | None
    departed: bool
    arrived: bool


@dataclass(frozen=True)
class ManifestHousehold:
    household_uid: str
    reference: str
    destination_pcode: str
    destination_en: str
    destination_ar: str
    reconfirmed: bool
    persons: tuple[ManifestPerson, ...]


@dataclass(frozen=True)
class Manifest:
    convoy_code: str
    departs_on: date
    origin_site_code: str
    origin_en: str
    origin_ar: str
    seats: int
    guarantor: str
    agreement_code: str | None
    printed_at: datetime
    households: tuple[ManifestHousehold, ...]

    @property
    def people(self) -> int:
        return sum(len(household.persons) for household in self.households)

    @property
    def household_count(self) -> int:
        return len(self.households)

    @property
    def departed(self) -> int:
        return sum(person.departed for household in self.households for person in household.persons)

    @property
    def arrived(self) -> int:
        return sum(person.arrived for household in self.households for person in household.persons)


@dataclass(frozen=True)
class NumberedPerson:
    """A person with their line number on the sheet, which the coordinator reads out at boarding."""

    number: int
    person: ManifestPerson


@dataclass(frozen=True)
class DestinationTotal:
    pcode: str
    name_en: str
    name_ar: str
    households: int
    people: int


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _csv_rows(manifest: Manifest) -> Iterator[list[Cell]]:
    convoy, departs_on = manifest.convoy_code, manifest.departs_on.isoformat()
    for household in manifest.households:
        for person in household.persons:
            yield [
                convoy,
                departs_on,
                household.household_uid,
                household.reference,
                person.member_index,
                person.name_ar,
                person.name_lat,
                person.sex,
                person.birth_year,
                household.destination_pcode,
                _flag(household.reconfirmed),
                _flag(person.departed),
                _flag(person.arrived),
            ]


def manifest_csv(manifest: Manifest, out: TextIO) -> int:
    """One row per person after a heading row and an HXL hashtag row; returns the number of people.

    Open a file for `out` with `newline=""`, as for any csv writer. Every text cell goes through the
    formula-injection guard of `awda.exports`.
    """
    writer = csv_writer(out)
    writer.writerow([heading for heading, _ in CSV_COLUMNS])
    writer.writerow([hashtag for _, hashtag in CSV_COLUMNS])
    count = 0
    for row in _csv_rows(manifest):
        writer.writerow(row)
        count += 1
    return count


def numbered(manifest: Manifest) -> list[tuple[ManifestHousehold, list[NumberedPerson]]]:
    """Households in the manifest's order, people numbered from 1 across the whole convoy."""
    groups: list[tuple[ManifestHousehold, list[NumberedPerson]]] = []
    number = 0
    for household in manifest.households:
        members = []
        for person in household.persons:
            number += 1
            members.append(NumberedPerson(number, person))
        groups.append((household, members))
    return groups


def destination_totals(manifest: Manifest) -> list[DestinationTotal]:
    """Households and people per destination, in order of first appearance (where the buses stop)."""
    households: Counter[str] = Counter()
    people: Counter[str] = Counter()
    names: dict[str, tuple[str, str]] = {}
    for household in manifest.households:
        names.setdefault(household.destination_pcode, (household.destination_en, household.destination_ar))
        households[household.destination_pcode] += 1
        people[household.destination_pcode] += len(household.persons)
    return [
        DestinationTotal(pcode, name_en, name_ar, households[pcode], people[pcode])
        for pcode, (name_en, name_ar) in names.items()
    ]


def text_direction(text: str) -> str:
    """HTML's `dir="auto"` rule (the first strong letter decides), which WeasyPrint does not apply itself."""
    for character in text:
        kind = unicodedata.bidirectional(character)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("awda.convoys", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["direction"] = text_direction
    return environment


def manifest_html(manifest: Manifest) -> str:
    """The manifest as the HTML WeasyPrint prints (also what a page could show)."""
    return (
        _environment()
        .get_template("manifest.html")
        .render(
            manifest=manifest,
            groups=numbered(manifest),
            destinations=destination_totals(manifest),
            printed_at=manifest.printed_at.isoformat(sep=" ", timespec="minutes"),
        )
    )


def manifest_pdf(manifest: Manifest) -> bytes:
    """A4 landscape, one table grouped by household, its header repeated and "page X of Y" on every page."""
    from weasyprint import HTML  # a heavy import (Pango), only when printing

    pdf = HTML(string=manifest_html(manifest)).write_pdf()
    if pdf is None:
        raise RuntimeError("WeasyPrint produced no PDF")
    return bytes(pdf)


def manifest_png(pdf: bytes, page: int = 0) -> bytes:
    """One page of a manifest PDF as a PNG, for a preview on screen."""
    return render_png(pdf, page, dpi=PREVIEW_DPI)
