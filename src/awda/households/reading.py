"""Reading a registrations file into chunks of whole households, as cheaply as the main process can.

A CSV line without quotes (the usual Kobo/ODK export) is its cells joined by commas, exactly as
the csv module would read it: such lines travel to the workers as text, which they split. From
the first line that needs the csv module on (a quote, a NUL, a huge field, bad UTF-8), the shared
reader of `awda.tables` takes over, with its parsing and its errors.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from awda.households.rows import Layout
from awda.tables import read_rows

Record = str | list[str]  # a plain CSV line (no line ending), or the cells of any other row


@dataclass(frozen=True)
class RawChunk:
    """Rows of whole households: plain lines joined by newlines, or cells."""

    first_row: int  # file row number of the first row (the header is row 1)
    text: str | None = None  # one string pickles far cheaper than a list of lists of cells
    rows: list[list[str]] = field(default_factory=list)

    @classmethod
    def of(cls, first_row: int, records: Sequence[Record]) -> RawChunk:
        lines = [record for record in records if isinstance(record, str)]
        if len(lines) == len(records):
            return cls(first_row, text="\n".join(lines))
        return cls(first_row, rows=[cells(record) for record in records])

    def cell_rows(self) -> list[list[str]]:
        return self.rows if self.text is None else [line.split(",") for line in self.text.split("\n")]


def cells(record: Record) -> list[str]:
    return record.split(",") if isinstance(record, str) else record


def file_records(path: Path) -> Iterator[Record]:
    """Every row of the file, the header first (missing or unsupported files raise at once)."""
    rows = read_rows(path)
    return _plain_then_parsed(path, rows) if path.suffix.lower() == ".csv" else iter(rows)


def _plain_then_parsed(path: Path, rows: Iterator[list[str]]) -> Iterator[Record]:
    consumed, limit = 0, csv.field_size_limit()
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for line in handle:
                if '"' in line or "\x00" in line or len(line) > limit:
                    break
                consumed += 1
                yield line.rstrip("\r\n")  # the only CR or LF of a line is its ending (newline="")
            else:
                return
    except UnicodeDecodeError:
        pass  # the shared reader reports it, at the same row
    yield from itertools.islice(rows, consumed, None)


def raw_chunks(records: Iterator[Record], layout: Layout, households: int) -> Iterator[RawChunk]:
    """The rows in chunks of `households` whole households (as `rows.group_households` groups them)."""
    uuid_at, width = layout.at("_uuid"), layout.width
    chunk: list[Record] = []
    first_row, started, current = 2, 0, None
    for number, record in enumerate(records, start=2):
        ref = _cell(record, uuid_at).strip()
        if ref != current and (ref or any(cell.strip() for cell in cells(record)[:width])):
            current = ref
            if started == households:
                yield RawChunk.of(first_row, chunk)
                chunk, first_row, started = [], number, 0
            started += 1
        chunk.append(record)
    if chunk:
        yield RawChunk.of(first_row, chunk)


def _cell(record: Record, index: int) -> str:
    parts = record.split(",", index + 1) if isinstance(record, str) else record
    return parts[index] if index < len(parts) else ""
