"""Pure mapping of registration file rows (docs/import.md) to validated commands.

Errors name the file row and the column, as the registration officer sees them. The pydantic
commands here are the reference: the importer's fast checker (`filecheck.py`) accepts only what
they accept, and hands everything else to them for the error message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from pydantic import BaseModel, ValidationError

from awda.errors import ValidationFailed
from awda.households.commands import ConsentIn, HouseholdIn, IntentionIn, PersonIn

HOUSEHOLD_COLUMNS = (
    "_uuid",
    "today",
    "site",
    "registrar",
    "travel_group",
    "consent_purposes",
    "consent_date",
    "intention",
    "origin_pcode",
    "destination_pcode",
    "window_start",
    "window_end",
    "intention_members",
)
PERSON_COLUMNS = (
    "member_index",
    "relationship",
    "given_name_ar",
    "given_name_lat",
    "father_name_ar",
    "father_name_lat",
    "grandfather_name_ar",
    "grandfather_name_lat",
    "family_name_ar",
    "family_name_lat",
    "mother_name_ar",
    "mother_name_lat",
    "sex",
    "birth_date",
    "birth_year",
    "document_type",
    "document_number",
    "phone",
    "vulnerabilities",
)
REQUIRED_COLUMNS = ("_uuid", "today", "site", "member_index", "relationship", "sex", "consent_purposes", "consent_date")
# Where a command field comes from in the file, when the names differ.
COLUMN_OF = {
    "purposes": "consent_purposes",
    "given_on": "consent_date",
    "kind": "intention",
    "members": "intention_members",
    "site_code": "site",
    "registered_on": "today",
    "source_ref": "_uuid",
}
_LIST_FIELDS = {"vulnerabilities"}


class Layout:
    """Where each column sits in a row; a column the file lacks reads an empty cell."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self.width = len(self.columns)
        # A repeated column name reads its last cell, as a dict built from the row would.
        self.position = {name: index for index, name in enumerate(self.columns)}
        # The required columns make at least two, so the getter always returns a tuple.
        self.content_cells = itemgetter(*[self.at(name) for name in sorted(self.position)])

    def at(self, column: str) -> int:
        """The cell index of `column`; the padding cell (always empty) if the file lacks it."""
        return self.position.get(column, self.width)

    def cells(self, row: Sequence[str]) -> list[str]:
        """The row's cells, stripped, cut or padded to the header, plus the empty padding cell."""
        if len(row) == self.width:  # the usual case: no copy to cut, one cell to pad
            cells = list(map(str.strip, row))
            cells.append("")
            return cells
        cells = list(map(str.strip, row[: self.width]))
        cells.extend([""] * (self.width + 1 - len(cells)))
        return cells

    def record(self, cells: Sequence[str]) -> dict[str, str]:
        return dict(zip(self.columns, cells, strict=False))


@dataclass(frozen=True)
class HouseholdRows:
    """The rows of one household as read from the file (cells as `Layout.cells`), with their row numbers."""

    source_ref: str
    first_row: int
    rows: list[tuple[int, list[str]]]


def header_columns(header: Sequence[str]) -> list[str]:
    columns = [cell.strip() for cell in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise ValidationFailed(missing[0], "column is missing from the header", row=1)
    return columns


def group_households(rows: Iterable[Sequence[str]], layout: Layout, first_row: int = 2) -> Iterator[HouseholdRows]:
    """Group adjacent rows by `_uuid` (Kobo exports keep a submission's members together)."""
    current: HouseholdRows | None = None
    uuid_at = layout.at("_uuid")
    for number, row in enumerate(rows, start=first_row):
        cells = layout.cells(row)
        if not any(cells):
            continue
        ref = cells[uuid_at]
        if current is not None and ref == current.source_ref:
            current.rows.append((number, cells))
            continue
        if current is not None:
            yield current
        current = HouseholdRows(ref, number, [(number, cells)])
    if current is not None:
        yield current


def _first_error(error: ValidationError) -> tuple[str, str]:
    detail = error.errors()[0]
    location = [str(part) for part in detail["loc"] if not isinstance(part, int)]
    field = location[-1] if location else "row"
    return COLUMN_OF.get(field, field), str(detail["msg"]).removeprefix("Value error, ")


def _validated(model: type[BaseModel], data: dict[str, Any], row: int) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        field, message = _first_error(error)
        raise ValidationFailed(field, message, row) from None
    except ValidationFailed as error:
        raise ValidationFailed(COLUMN_OF.get(error.field, error.field), error.message, row) from None


def _person(row: int, record: dict[str, str]) -> PersonIn:
    data: dict[str, Any] = {}
    for column in PERSON_COLUMNS:
        value = record.get(column, "")
        if value:
            data[column] = value.split() if column in _LIST_FIELDS else value
    return _validated(PersonIn, data, row)  # type: ignore[no-any-return]


def _intention(row: int, record: dict[str, str]) -> IntentionIn | None:
    if not record.get("intention"):
        for column in ("origin_pcode", "destination_pcode", "intention_members"):
            if record.get(column):
                raise ValidationFailed("intention", f"is empty but {column} is filled", row)
        return None
    members_text = record.get("intention_members", "")
    if not members_text:
        raise ValidationFailed("intention_members", "is required with an intention ('all' or member indexes)", row)
    data: dict[str, Any] = {
        "kind": record["intention"],
        "members": None if members_text == "all" else members_text.split(),
    }
    for column in ("origin_pcode", "destination_pcode", "window_start", "window_end"):
        if record.get(column):
            data[column] = record[column]
    return _validated(IntentionIn, data, row)  # type: ignore[no-any-return]


def command_from_rows(group: HouseholdRows, layout: Layout) -> HouseholdIn:
    """Validate every row of a household; the first problem raises, naming row and column."""
    records = [(number, layout.record(cells)) for number, cells in group.rows]
    first_number, first = records[0]
    if not group.source_ref:
        raise ValidationFailed("_uuid", "is required", first_number)
    for number, record in records[1:]:
        for column in HOUSEHOLD_COLUMNS:
            if record.get(column, "") != first.get(column, ""):
                raise ValidationFailed(column, f"differs from row {first_number} of the same household", number)
    members = [_person(number, record) for number, record in records]
    consent = _validated(
        ConsentIn, {"purposes": first["consent_purposes"].split(), "given_on": first["consent_date"]}, first_number
    )
    data = {
        "site_code": first["site"],
        "registered_on": first["today"],
        "registrar": first.get("registrar", ""),
        "travel_group": first.get("travel_group") or None,
        "consent": consent,
        "members": members,
        "intention": _intention(first_number, first),
        "source_ref": group.source_ref,
    }
    command: HouseholdIn = _validated(HouseholdIn, data, first_number)
    return command


def content_of(group: HouseholdRows, layout: Layout) -> bytes:
    """The household's cells in a fixed column order (so a re-ordered export is still a repeat)."""
    return "\x1e".join("\x1f".join(layout.content_cells(cells)) for _, cells in group.rows).encode()
