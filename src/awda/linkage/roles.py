"""Field roles: what each input column means to the linkage engine, and the `--fields` spec (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from awda.errors import ValidationFailed

NAME_ROLES: Final = ("given_name", "father_name", "grandfather_name", "family_name")
ROLES: Final = (
    *NAME_ROLES,
    "full_name",
    "birth_date",
    "birth_year",
    "sex",
    "id_number",
    "phone",
    "address",
    "street_number",
    "locality",
    "postcode",
    "region",
)

Field = tuple[str, str]
"""(role, column): one input column and the role it plays; a role may appear more than once."""


def parse_fields(spec: str) -> list[Field]:
    """`given_name=first,family_name=surname,sex` as [(role, column)]; a bare item names both.

    An empty item or an unknown role is refused; checking the columns against a file is
    `check_columns`' job.
    """
    fields: list[Field] = []
    for position, raw in enumerate(spec.split(","), start=1):
        item = raw.strip()
        if not item:
            raise ValidationFailed("fields", f"item {position} is empty")
        role, _, column = item.partition("=")
        role, column = role.strip(), (column.strip() if column else role.strip())
        if role not in ROLES:
            raise ValidationFailed("fields", f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        if not column:
            raise ValidationFailed("fields", f"role {role} names no column")
        fields.append((role, column))
    return fields


def check_fields(fields: Sequence[Field]) -> None:
    """The roles are known, at least one was given, and no column plays the same role twice."""
    if not fields:
        raise ValidationFailed("fields", "name at least one role")
    seen: set[Field] = set()
    for role, column in fields:
        if role not in ROLES:
            raise ValidationFailed("fields", f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        if (role, column) in seen:
            raise ValidationFailed("fields", f"{role}={column} is given twice")
        seen.add((role, column))


def check_columns(fields: Sequence[Field], columns: Sequence[str], id_column: str) -> None:
    """Every column the fields name, and the id column, is in the file's header."""
    present = set(columns)
    if id_column not in present:
        raise ValidationFailed(id_column, "the id column is not in the file's header", 1)
    for role, column in fields:
        if column not in present:
            raise ValidationFailed(column, f"column for role {role} is not in the file's header", 1)


def columns_by_role(fields: Sequence[Field]) -> dict[str, list[str]]:
    """Each role present and its columns, in the order given (the first is the primary spelling)."""
    grouped: dict[str, list[str]] = {}
    for role, column in fields:
        grouped.setdefault(role, []).append(column)
    return grouped
