"""`awda names compare --pairs`: a CSV of name pairs in, the same rows out with `score,match` appended.

A file with an HXL hashtag row under its header gets that row back, with `#x_score+num` and
`#x_match` for the added columns; a file without one gets none (so that its rows stay exactly the
input's rows, in order, for whoever reads the result beside the input).

The file is read twice, streaming: once to check it whole (the columns, every row's cell count, no
NUL: `awda.tables.read_rows`) and count its rows, once to write. Nothing is written before the
file is known to be good, and a write that fails half-way removes what it wrote.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from awda.errors import ValidationFailed
from awda.exports import csv_writer
from awda.linkage.names import compare_names
from awda.tables import read_rows

NAME_COLUMNS = ("name_a", "name_b")
ADDED_COLUMNS = ("score", "match")
PROGRESS_EVERY = 1_000


@dataclass(frozen=True)
class PairsSummary:
    """What `compare_pairs_file` did: data rows read, rows that matched, and the file written."""

    rows: int
    matches: int
    out: Path


def _header(rows: Iterator[list[str]]) -> tuple[list[str], int, int]:
    header = next(rows, None)
    if header is None:
        raise ValidationFailed("file", "is empty; expected a header row with name_a,name_b")
    names = [cell.strip() for cell in header]
    for column in NAME_COLUMNS:
        if column not in names:
            raise ValidationFailed(column, "missing column (the header needs name_a and name_b)", 1)
    for column in ADDED_COLUMNS:
        if column in names:
            raise ValidationFailed(column, "the file already has this column; rename it first", 1)
    return header, names.index(NAME_COLUMNS[0]), names.index(NAME_COLUMNS[1])


def count_pair_rows(source: Path) -> int:
    """Check the whole file (header, cell counts, no NUL) and return its number of data rows."""
    rows = read_rows(source)
    header, _, _ = _header(rows)
    count = 0
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise ValidationFailed("file", f"has {len(row)} cells where the header has {len(header)}", number)
        count += 1
    return count


def is_hashtag_row(row: list[str] | None) -> bool:
    """An HXL hashtag row: every filled cell starts with #, and at least one is filled."""
    filled = [cell.strip() for cell in row or [] if cell.strip()]
    return bool(filled) and all(cell.startswith("#") for cell in filled)


def hashtags(header: list[str], given: list[str]) -> list[str]:
    """The input's HXL hashtag row written back under the header, with the score's and the decision's tags."""
    tags = [given[index].strip() if index < len(given) else "" for index in range(len(header))]
    return [*tags, "#x_score+num", "#x_match"]


def check_out(source: Path, out: Path) -> None:
    """The output must be a new or replaceable file in an existing folder, and not the input."""
    if out.resolve() == source.resolve():
        raise ValidationFailed("out", "must not be the input file")
    if not out.parent.is_dir():
        raise ValidationFailed("out", f"cannot be written (no folder {out.parent})")
    if out.is_dir():
        raise ValidationFailed("out", "is a folder; give a file name")


def compare_pairs_file(
    source: Path, out: Path, advance: Callable[[int], None] | None = None, *, checked: bool = False
) -> PairsSummary:
    """Write every row of `source` to `out` with the score (4 places) and the decision (true/false).

    The file and the output are checked first (`count_pair_rows`, `check_out`) unless the caller
    already did (`checked`).
    """
    if not checked:
        check_out(source, out)
        count_pair_rows(source)
    rows = read_rows(source)
    header, left, right = _header(rows)
    total = matches = 0
    try:
        handle = out.open("w", encoding="utf-8", newline="")
    except OSError as error:
        raise ValidationFailed("out", f"cannot be written ({error.strerror or error})") from None
    try:
        with handle:
            writer = csv_writer(handle)
            writer.writerow([*header, *ADDED_COLUMNS])
            first = next(rows, None)
            if first is not None and is_hashtag_row(first):  # an HXL file stays one, tagged like the input
                writer.writerow(hashtags(header, first))
            elif first is not None:
                rows = itertools.chain([first], rows)
            for row in rows:
                result = compare_names(row[left], row[right])
                writer.writerow([*row, round(result.score, 4), "true" if result.match else "false"])
                total += 1
                matches += result.match
                if advance is not None and total % PROGRESS_EVERY == 0:
                    advance(PROGRESS_EVERY)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    if advance is not None:
        advance(total % PROGRESS_EVERY)
    return PairsSummary(total, matches, out)
