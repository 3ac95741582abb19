"""Gazetteer tables checked with libhxl before anything is imported (pure: rows in, records out).

libhxl finds the hashtag row (in the first 25 rows, as it does for any HXL dataset) and parses
each hashtag; awda then requires the tags a gazetteer needs (an `#admN+code` column, and a name
for every admin level with a code) and checks that P-codes nest: a child's P-code starts with
its parent's (`SY0400` under `SY04`). Codes that do not start with the parent's two-letter
country prefix follow another scheme and are accepted as they are: Syria's communities are
`C1001`, not `SY01000001`. A P-code is also always under the same parent. A table without any
hashtag row is read by its COD column names (`admin1Pcode`, ...), and its P-codes are checked
the same way. Every error names the file's row and the column as the file names it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence

from awda.errors import ValidationFailed
from awda.places.rules import MAX_ADMIN_LEVEL, PlaceRecord, column_fields, parse_gazetteer, place_records

SCAN_ROWS = 25  # libhxl looks for the hashtag row this far down


def checked_places(rows: Iterable[Sequence[str]]) -> Iterator[PlaceRecord]:
    """The places of a gazetteer table, once libhxl has read its tags; the first problem raises."""
    iterator = iter(rows)
    head = [list(row) for row in itertools.islice(iterator, SCAN_ROWS)]
    found = _hashtag_row(head)
    if found is None:
        headings = {f"{level}:pcode": f"admin{level}Pcode" for level in range(MAX_ADMIN_LEVEL + 1)}
        yield from nested(parse_gazetteer(itertools.chain(head, iterator)), headings)
        return
    number, tags = found
    header = head[number - 2] if number > 1 else [""] * len(tags)
    fields = column_fields(header, tags)
    headings = {field: _heading(header, tags, index) for index, field in enumerate(fields) if field}
    _require_names(fields, headings, number)
    data = itertools.chain(head[number:], iterator)
    records = (
        record
        for row_number, row in enumerate(data, start=number + 1)
        if any(cell.strip() for cell in row)
        for record in place_records(fields, row, row_number)
    )
    yield from nested(records, headings)


def _hashtag_row(head: list[list[str]]) -> tuple[int, list[str]] | None:
    """The hashtag row's number and its tags as libhxl reads them; a malformed hashtag is refused."""
    from hxl.model import Column  # type: ignore[import-untyped]

    for index, row in enumerate(head):
        columns = Column.parse_list(row, head[index - 1] if index else None)
        if columns is None:
            continue
        for position, cell in enumerate(row):
            if cell.strip().startswith("#") and not Column.parse(cell.strip()):
                heading = head[index - 1][position] if index and position < len(head[index - 1]) else cell
                raise ValidationFailed(heading or cell, f"{cell.strip()!r} is not a HXL hashtag", index + 1)
        return index + 1, [column.display_tag or "" for column in columns]
    return None


def _heading(header: Sequence[str], tags: Sequence[str], index: int) -> str:
    heading = header[index].strip() if index < len(header) else ""
    return heading or tags[index]


def _require_names(fields: Sequence[str | None], headings: dict[str, str], row: int) -> None:
    for field in fields:
        if field is None or not field.endswith(":pcode"):
            continue
        level = field.split(":")[0]
        if f"{level}:name_en" not in headings and f"{level}:name_ar" not in headings:
            message = f"has no name column beside it (#adm{level}+name+i_en or #adm{level}+name+i_ar)"
            raise ValidationFailed(headings[field], message, row)


def nested(records: Iterable[PlaceRecord], headings: dict[str, str]) -> Iterator[PlaceRecord]:
    """The records, once each P-code is seen to start with its parent's and to keep one parent."""
    parents: dict[str, tuple[str | None, int]] = {}
    for record in records:
        column = headings.get(f"{record.admin_level}:pcode", f"admin{record.admin_level}Pcode")
        parent = record.parent_pcode
        if parent is not None and not _nests(record.pcode, parent):
            raise ValidationFailed(
                column, f"{record.pcode} does not start with its parent's P-code {parent}", record.row
            )
        earlier, first_row = parents.setdefault(record.pcode, (parent, record.row))
        if earlier != parent:
            message = f"{record.pcode} is under {parent}, but under {earlier} on row {first_row}"
            raise ValidationFailed(column, message, record.row)
        yield record


def _nests(pcode: str, parent: str) -> bool:
    return pcode.startswith(parent) or not pcode.startswith(parent[:2])
