"""Survival records from an analyst's CSV or XLSX file, checked cell by cell, as a `CountTable`."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from awda.errors import ValidationFailed
from awda.stats.counts import CountTable
from awda.tables import read_rows

INTEGER = re.compile(r"\s*[+-]?\d+\s*")
MAX_WHOLE_DURATION = 2**63 - 1  # whole durations become an int64 array
MAX_EVENT_CODE = 999  # the counts hold a column per code up to the largest: a huge code would exhaust memory
TRUE_WORDS = frozenset({"true", "yes"})
FALSE_WORDS = frozenset({"false", "no"})


def read_counts(path: Path, duration: str, event: str, group: str | None = None, competing: bool = False) -> CountTable:
    """Count the file's records by group, time and cause; the first bad cell raises with its row and column.

    Durations keep their type: a column of whole numbers stays integer, otherwise floats. Events:
    without `competing` 0/1, true/false (yes/no), any non-zero number is an event; with it, codes
    0 (censored) and 1..k (causes). The header is row 1; blank rows are skipped.
    """
    rows = read_rows(path)
    header = next(rows, None)
    if header is None:
        raise ValidationFailed("header", "the file is empty", row=1)
    wanted = [duration, event, *([group] if group is not None else [])]
    missing = [name for name in wanted if name not in header]
    if missing:
        raise ValidationFailed(missing[0], "column is missing from the header", row=1)
    positions = [header.index(name) for name in wanted]
    durations: list[int | float] = []
    events: list[int] = []
    labels: list[str] = []
    for number, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = [_cell(cells, position, name, number) for position, name in zip(positions, wanted, strict=True)]
        durations.append(_duration(values[0], duration, number))
        events.append(_event(values[1], event, number, competing))
        if group is not None:
            labels.append(values[2])
    if not durations:
        raise ValidationFailed("file", "has no data rows", row=2)
    times = np.array(durations, dtype=np.int64 if all(type(v) is int for v in durations) else np.float64)
    groups = np.array(labels, dtype=object) if group is not None else None
    return CountTable.from_records(times, np.array(events, dtype=np.int64), groups, competing=competing)


def _cell(cells: list[str], position: int, column: str, row: int) -> str:
    if position >= len(cells):
        raise ValidationFailed(column, "is missing (the row is too short)", row)
    return cells[position]


def _duration(text: str, column: str, row: int) -> int | float:
    if not text.strip():
        raise ValidationFailed(column, "is empty; a duration is required", row)
    value: int | float
    if INTEGER.fullmatch(text):
        value = _whole(text, column, row)
        if value > MAX_WHOLE_DURATION:
            raise ValidationFailed(column, f"{_shown(text)} is too large for a duration", row)
    else:
        try:
            value = float(text)
        except ValueError:
            raise ValidationFailed(column, f"{_shown(text)} is not a number", row) from None
        if not math.isfinite(value):
            raise ValidationFailed(column, f"{_shown(text)} is not a finite number", row)
    if value < 0:
        raise ValidationFailed(column, f"{_shown(text)} is negative; durations are >= 0", row)
    return value


def _whole(text: str, column: str, row: int) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise ValidationFailed(column, f"{_shown(text)} is too large", row) from None


def _shown(text: str) -> str:
    """The cell as the message quotes it: a huge cell is cut, not echoed whole."""
    return repr(text) if len(text) <= 40 else repr(text[:40]) + "..."


def _event(text: str, column: str, row: int, competing: bool) -> int:
    word = text.strip().lower()
    if competing:
        code = _whole(text, column, row) if INTEGER.fullmatch(text) else -1
        if not 0 <= code <= MAX_EVENT_CODE:
            message = f"{_shown(text)} is not an event code (0 = censored, 1..{MAX_EVENT_CODE} = causes)"
            raise ValidationFailed(column, message, row)
        return code
    if word in TRUE_WORDS:
        return 1
    if word in FALSE_WORDS:
        return 0
    try:
        number = float(word)
    except ValueError:
        raise ValidationFailed(column, f"{_shown(text)} is not an event (0/1 or true/false)", row) from None
    if math.isnan(number):
        raise ValidationFailed(column, f"{_shown(text)} is not an event (0/1 or true/false)", row)
    return int(number != 0)
