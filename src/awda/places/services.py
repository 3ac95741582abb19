"""Actions on the gazetteer: importing places and sites, loading the demo gazetteer."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.access.services import require
from awda.audit.services import record_event
from awda.db import action
from awda.errors import NotFound, ValidationFailed
from awda.exports import csv_writer
from awda.places.hxlcheck import checked_places
from awda.places.models import Place, Site
from awda.places.rules import PlaceRecord, SiteRecord, parse_sites
from awda.tables import read_rows


@dataclass(frozen=True)
class GazetteerImport:
    places_created: int
    places_updated: int
    sites_created: int
    sites_updated: int


def demo_file(name: str) -> Path:
    return Path(str(resources.files("awda.places") / "data" / name))


def _apply_place(session: Session, record: PlaceRecord, known: dict[str, Place], is_demo: bool, source: str) -> str:
    """Insert or update one place; returns 'created', 'updated' or 'same'."""
    parent_id = known[record.parent_pcode].id if record.parent_pcode else None
    place = known.get(record.pcode) or session.scalar(select(Place).where(Place.pcode == record.pcode))
    if place is None:
        place = Place(
            pcode=record.pcode,
            admin_level=record.admin_level,
            name_en=record.name_en,
            name_ar=record.name_ar,
            parent_id=parent_id,
            latitude=record.latitude,
            longitude=record.longitude,
            is_demo=is_demo,
            source=source,
        )
        session.add(place)
        session.flush()
        known[record.pcode] = place
        return "created"
    known[record.pcode] = place
    wanted = {
        "admin_level": record.admin_level,
        "name_en": record.name_en,
        "name_ar": record.name_ar,
        "parent_id": parent_id,
    }
    if record.latitude is not None:
        wanted |= {"latitude": record.latitude, "longitude": record.longitude}
    changed = {key: value for key, value in wanted.items() if getattr(place, key) != value}
    for key, value in changed.items():
        setattr(place, key, value)
    return "updated" if changed else "same"


def _apply_site(session: Session, record: SiteRecord, is_demo: bool) -> str:
    place = session.scalar(select(Place).where(Place.pcode == record.place_pcode))
    if place is None:
        raise ValidationFailed("place_pcode", f"no place with P-code {record.place_pcode!r}", record.row)
    site = session.scalar(select(Site).where(Site.code == record.code))
    if site is None:
        session.add(
            Site(
                code=record.code,
                kind=record.kind,
                name_en=record.name_en,
                name_ar=record.name_ar,
                place_id=place.id,
                is_demo=is_demo,
            )
        )
        return "created"
    wanted = {"kind": record.kind, "name_en": record.name_en, "name_ar": record.name_ar, "place_id": place.id}
    changed = {key: value for key, value in wanted.items() if getattr(site, key) != value}
    for key, value in changed.items():
        setattr(site, key, value)
    return "updated" if changed else "same"


def import_gazetteer(
    session: Session, actor: Actor, places_file: Path | None, sites_file: Path | None = None, *, is_demo: bool = False
) -> GazetteerImport:
    """Import places (HXL/COD CSV or XLSX, checked by `hxlcheck`) and sites in one transaction; all or nothing."""
    require(actor, Permission.MANAGE_PLACES)
    counts = {"place:created": 0, "place:updated": 0, "site:created": 0, "site:updated": 0}
    with action(session):
        known: dict[str, Place] = {}
        if places_file is not None:
            for record in checked_places(read_rows(places_file)):  # libhxl reads the tags first
                outcome = _apply_place(session, record, known, is_demo, places_file.name[:200])  # the column size
                counts[f"place:{outcome}"] = counts.get(f"place:{outcome}", 0) + 1
            session.flush()
        if sites_file is not None:
            for site_record in parse_sites(read_rows(sites_file)):
                outcome = _apply_site(session, site_record, is_demo)
                counts[f"site:{outcome}"] = counts.get(f"site:{outcome}", 0) + 1
        result = GazetteerImport(
            counts["place:created"], counts["place:updated"], counts["site:created"], counts["site:updated"]
        )
        record_event(session, actor, "import_gazetteer", "gazetteer", "places", {"demo": is_demo, **result.__dict__})
    return result


def load_demo_gazetteer(session: Session, actor: Actor) -> GazetteerImport:
    """The shipped demo places and sites (marked as demo data)."""
    return import_gazetteer(session, actor, demo_file("demo_gazetteer.csv"), demo_file("demo_sites.csv"), is_demo=True)


def list_places(session: Session, admin_level: int | None = None, parent_pcode: str | None = None) -> list[Place]:
    """Gazetteer entries are public facts: any authenticated user may list them."""
    query = select(Place).order_by(Place.pcode)
    if admin_level is not None:
        query = query.where(Place.admin_level == admin_level)
    if parent_pcode is not None:
        parent = place_by_pcode(session, parent_pcode)
        query = query.where(Place.parent_id == parent.id)
    return list(session.scalars(query).all())


def place_by_pcode(session: Session, pcode: str) -> Place:
    place = session.scalar(select(Place).where(Place.pcode == pcode.upper()))
    if place is None:
        raise NotFound(f"no place with P-code {pcode!r}")
    return place


def list_sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.code)).all())


def site_by_code(session: Session, code: str) -> Site:
    site = session.scalar(select(Site).where(Site.code == code.upper()))
    if site is None:
        raise NotFound(f"no site with code {code!r}")
    return site


# The gazetteer export's columns: the COD names and their HXL hashtags, levels 1 to 4 (`hxlcheck` reads them back).
EXPORT_LEVELS = (1, 2, 3, 4)
_NAMED = (("Pcode", "code"), ("Name_en", "name+i_en"), ("Name_ar", "name+i_ar"))
EXPORT_COLUMNS = (
    *((f"admin{level}{suffix}", f"#adm{level}+{tag}") for level in EXPORT_LEVELS for suffix, tag in _NAMED),
    ("latitude", "#geo+lat"),
    ("longitude", "#geo+lon"),
)


def export_gazetteer(session: Session, out: TextIO) -> int:
    """Every place as an HXL-tagged COD CSV row (its ancestors' codes and names beside it); returns the places.

    Open a file with `newline=""`. Levels 0 and 5+ are not written: the COD layout awda reads has 1 to 4.
    """
    places = {place.id: place for place in session.scalars(select(Place).where(Place.admin_level.in_(EXPORT_LEVELS)))}
    writer = csv_writer(out)
    writer.writerow([heading for heading, _ in EXPORT_COLUMNS])
    writer.writerow([hashtag for _, hashtag in EXPORT_COLUMNS])
    chains = sorted((_chain(place, places) for place in places.values()), key=lambda chain: [p.pcode for p in chain])
    for chain in chains:
        cells: dict[int, list[str | float | None]] = {p.admin_level: [p.pcode, p.name_en, p.name_ar] for p in chain}
        row = [cell for level in EXPORT_LEVELS for cell in cells.get(level, ["", "", ""])]
        writer.writerow([*row, chain[-1].latitude, chain[-1].longitude])
    return len(chains)


def _chain(place: Place, places: dict[int, Place]) -> list[Place]:
    """The place and its ancestors, the highest first."""
    chain = [place]
    while chain[0].parent_id is not None and chain[0].parent_id in places and len(chain) <= len(EXPORT_LEVELS):
        chain.insert(0, places[chain[0].parent_id])
    return chain
