"""The one CSV writer of files meant for people, so no export can forget the formula-injection guard.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return,
which some strip first) as a formula: a name like `=HYPERLINK("http://evil.example", "x")` in a
manifest would run on the coordinator's laptop (OWASP "CSV injection"). Such a text cell gets a
leading apostrophe, which spreadsheets show as text and hide. HXL hashtag rows start with `#`,
which is no formula, so they pass unchanged. Numbers the program formats itself (an `int` or a
`float` cell) are not text from outside and are written as they are. `tests/test_exports.py` lists
every export and fails when a CSV writer appears in `src/` that does not go through here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TextIO

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None


def safe_cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def safe_row(row: Iterable[Cell]) -> list[str]:
    """Every text cell through `safe_cell`; numbers as Python writes them; None as an empty cell."""
    return [safe_cell(cell) if isinstance(cell, str) else "" if cell is None else str(cell) for cell in row]


class SafeWriter:
    """`csv.writer` for exports: the same `writerow`/`writerows`, every row through `safe_row`.

    Python's csv quotes a cell holding a CR or LF only when that character is in the line
    terminator, so rows are formed with CRLF and their end rewritten: with a bare "\n" ending, a
    name holding a CR would otherwise start a new row, and that row could start a formula.
    """

    def __init__(self, out: TextIO, lineterminator: str = "\r\n") -> None:
        self._out, self._line_end = out, lineterminator
        self._row = io.StringIO()
        self._writer = csv.writer(self._row, lineterminator="\r\n")

    def writerow(self, row: Iterable[Cell]) -> None:
        self._writer.writerow(safe_row(row))
        text = self._row.getvalue()
        self._row.seek(0)
        self._row.truncate()
        self._out.write(text[:-2] + self._line_end)

    def writerows(self, rows: Iterable[Iterable[Cell]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: TextIO, lineterminator: str = "\r\n") -> SafeWriter:
    """The writer every CSV export uses (open files with `newline=""`, as for any csv writer)."""
    return SafeWriter(out, lineterminator)
