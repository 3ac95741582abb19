"""Reading HXL-tagged or COD-style gazetteer tables (pure: rows in, records out)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from awda.errors import ValidationFailed

MAX_ADMIN_LEVEL = 4
MAX_NAME = 200  # the size of the name columns (PostgreSQL refuses longer text)
PCODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
SITE_KINDS = frozenset({"camp", "neighbourhood", "collective_shelter", "informal_settlement", "reception_centre"})

_COD_COLUMN = re.compile(r"^admin([0-4])(pcode|name_en|name_ar|name)$", re.IGNORECASE)
_HXL_ADMIN = re.compile(r"^#adm([0-4])$")


@dataclass(frozen=True)
class PlaceRecord:
    pcode: str
    admin_level: int
    name_en: str
    name_ar: str
    parent_pcode: str | None
    latitude: float | None
    longitude: float | None
    row: int


@dataclass(frozen=True)
class SiteRecord:
    code: str
    kind: str
    name_en: str
    name_ar: str
    place_pcode: str
    row: int


def _hxl_field(tag: str) -> str | None:
    """Map one HXL hashtag with attributes to 'N:pcode', 'N:name_en', 'lat', ... or None."""
    parts = tag.strip().lower().replace(" ", "").split("+")
    head, attributes = parts[0], set(parts[1:])
    if head == "#geo":
        return "lat" if "lat" in attributes else "lon" if "lon" in attributes else None
    match = _HXL_ADMIN.match(head)
    if not match:
        return None
    level = match.group(1)
    if "code" in attributes:
        return f"{level}:pcode"
    if "name" in attributes:
        if attributes & {"i_ar", "ar"}:
            return f"{level}:name_ar"
        return f"{level}:name_en"
    return None


def _cod_field(name: str) -> str | None:
    lowered = name.strip().lower()
    if lowered in {"latitude", "lat", "y"}:
        return "lat"
    if lowered in {"longitude", "lon", "long", "x"}:
        return "lon"
    match = _COD_COLUMN.match(lowered)
    if not match:
        return None
    suffix = match.group(2).lower()
    return f"{match.group(1)}:{'name_en' if suffix == 'name' else suffix}"


def is_hxl_row(row: Sequence[str]) -> bool:
    filled = [cell.strip() for cell in row if cell.strip()]
    return bool(filled) and all(cell.startswith("#") for cell in filled)


def column_fields(header: Sequence[str], hxl: Sequence[str] | None) -> list[str | None]:
    """The meaning of each column, from its HXL hashtag when present, else its COD name."""
    fields: list[str | None] = []
    for index, name in enumerate(header):
        tag = hxl[index] if hxl is not None and index < len(hxl) else ""
        fields.append(_hxl_field(tag) if tag.strip() else _cod_field(name))
    if not any(field and field.endswith(":pcode") for field in fields):
        raise ValidationFailed("header", "no admin P-code column (admin1Pcode or #adm1+code)", row=1)
    return fields


def _coordinate(value: str, field: str, row: int, limit: float) -> float | None:
    if not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValidationFailed(field, f"{value!r} is not a number", row) from None
    if not -limit <= number <= limit:
        raise ValidationFailed(field, f"{number} is out of range", row)
    return number


def place_records(fields: Sequence[str | None], row: Sequence[str], row_number: int) -> Iterator[PlaceRecord]:
    """The places one row names: its deepest admin unit, with coordinates, and its ancestors."""
    values: dict[str, str] = {}
    for field, cell in zip(fields, row, strict=False):
        if field is not None:
            values[field] = cell.strip()
    levels = [level for level in range(MAX_ADMIN_LEVEL + 1) if values.get(f"{level}:pcode")]
    if not levels:
        raise ValidationFailed("pcode", "the row names no P-code", row_number)
    parent: str | None = None
    for level in levels:
        pcode = values[f"{level}:pcode"].upper()
        if not PCODE_PATTERN.match(pcode):
            raise ValidationFailed(f"admin{level}Pcode", f"{pcode!r} is not a valid P-code", row_number)
        name_en, name_ar = values.get(f"{level}:name_en", ""), values.get(f"{level}:name_ar", "")
        if not name_en and not name_ar:
            raise ValidationFailed(f"admin{level}Name_en", "a place needs an English or Arabic name", row_number)
        _check_length(f"admin{level}Name_en", name_en, row_number)
        _check_length(f"admin{level}Name_ar", name_ar, row_number)
        deepest = level == levels[-1]
        yield PlaceRecord(
            pcode=pcode,
            admin_level=level,
            name_en=name_en or name_ar,
            name_ar=name_ar or name_en,
            parent_pcode=parent,
            latitude=_coordinate(values.get("lat", ""), "latitude", row_number, 90) if deepest else None,
            longitude=_coordinate(values.get("lon", ""), "longitude", row_number, 180) if deepest else None,
            row=row_number,
        )
        parent = pcode


def _check_length(field: str, name: str, row: int) -> None:
    if len(name) > MAX_NAME:
        raise ValidationFailed(field, f"is longer than {MAX_NAME} characters", row)


def parse_gazetteer(rows: Iterable[Sequence[str]]) -> Iterator[PlaceRecord]:
    """Every place record of a gazetteer table (header, optional HXL row, data rows)."""
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        raise ValidationFailed("header", "the file is empty", row=1)
    first = next(iterator, None)
    hxl = first if first is not None and is_hxl_row(first) else None
    fields = column_fields(header, hxl)
    row_number = 2
    if first is not None and hxl is None:
        yield from place_records(fields, first, row_number)
    for row in iterator:
        row_number += 1
        if any(cell.strip() for cell in row):
            yield from place_records(fields, row, row_number)


def parse_sites(rows: Iterable[Sequence[str]]) -> Iterator[SiteRecord]:
    """Site records from a table with columns code, kind, name_en, name_ar, place_pcode."""
    iterator = iter(rows)
    header = [cell.strip().lower() for cell in next(iterator, [])]
    required = ["code", "kind", "name_en", "name_ar", "place_pcode"]
    missing = [name for name in required if name not in header]
    if missing:
        raise ValidationFailed(missing[0], "column is missing", row=1)
    position = {name: header.index(name) for name in required}
    for row_number, row in enumerate(iterator, start=2):
        if is_hxl_row(row) or not any(cell.strip() for cell in row):
            continue
        cells = {name: (row[index].strip() if index < len(row) else "") for name, index in position.items()}
        if not PCODE_PATTERN.match(cells["code"].upper()):
            raise ValidationFailed("code", f"{cells['code']!r} is not a valid site code", row_number)
        if cells["kind"] not in SITE_KINDS:
            raise ValidationFailed(
                "kind", f"{cells['kind']!r} is not one of {', '.join(sorted(SITE_KINDS))}", row_number
            )
        _check_length("name_en", cells["name_en"], row_number)
        _check_length("name_ar", cells["name_ar"], row_number)
        yield SiteRecord(
            code=cells["code"].upper(),
            kind=cells["kind"],
            name_en=cells["name_en"] or cells["name_ar"],
            name_ar=cells["name_ar"] or cells["name_en"],
            place_pcode=cells["place_pcode"].upper(),
            row=row_number,
        )
