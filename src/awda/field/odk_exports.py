"""ODK Central's CSV exports read as tables, and the shape every field-export reader yields.

Central's "CSV zip" (the layout of ODK Briefcase's CSV export, which Central writes in
central-backend `lib/data/briefcase.js`; ODK Briefcase documents it in `docs/export-format.md`):

- `<form id>.csv`: one row per submission: `SubmissionDate` first, then one column per field named
  by its group path joined with `-` (`meta-instanceID`, `household-site`; only the field's name
  when the export is made without group names), then `KEY` (the instanceID, `uuid:...`),
  `SubmitterID`, `SubmitterName`, `AttachmentsPresent`, `AttachmentsExpected`, `Status`,
  `ReviewState`, `DeviceID`, `Edits`, `FormVersion`. A select_multiple is its space-separated
  answer, followed, with "split select multiples", by one `name/choice` column of 0 or 1 per choice.
- `<form id>-<repeat name>.csv`: one row per repeat instance, columns named by their path inside
  the repeat, then `PARENT_KEY` (the submission's `KEY` for a top-level repeat) and `KEY`
  (`uuid:.../members[1]`, 1-based).

The export is read straight from the zip (or the files, or a folder holding them): nothing is
extracted to disk.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from awda.errors import ValidationFailed

Rows = Iterator[tuple[int, list[str]]]  # (file row number, the header being row 1; cells)


@dataclass
class Table:
    """One sheet or file of an export: its name as errors show it, its header, its data rows."""

    source: str
    header: list[str]
    rows: Rows


@dataclass(frozen=True)
class Keys:
    """How a tool names its submission id, submission time and parent-child links."""

    uuid: tuple[str, ...]  # columns holding the submission's instanceID, in order of preference
    submitted: str
    join: str  # the main table's column that repeat rows point to
    parent: str  # the repeat table's column pointing to it
    separators: str  # characters that join group paths in headers
    review: str = ""  # the column of a reviewer's verdict, and the verdicts that keep a submission out
    rejected: frozenset[str] = frozenset()


# `KEY` is the submission's first instanceID: an edit in Central keeps it (and changes `meta-instanceID`).
CENTRAL_KEYS = Keys(
    ("KEY", "instanceID"), "SubmissionDate", "KEY", "PARENT_KEY", "-", "ReviewState", frozenset({"rejected"})
)


@dataclass
class Export:
    """An export: the main table, its repeat tables by repeat name, and how they join."""

    tool: str
    keys: Keys
    main: Table
    repeats: dict[str, Table] = field(default_factory=dict)
    form_hint: str | None = None  # the form id, when the file names tell it
    closer: ExitStack = field(default_factory=ExitStack)


def csv_table(source: str, stream: IO[bytes], closer: ExitStack, delimiter: str = ",") -> Table:
    """A CSV table from a byte stream (UTF-8, with or without a BOM), closed with `closer`."""
    text = closer.enter_context(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
    rows = _csv_rows(source, text, delimiter)
    header = next(rows, (1, []))[1]
    return Table(source, [cell.strip() for cell in header], rows)


def _csv_rows(source: str, text: IO[str], delimiter: str) -> Rows:
    number = 0
    try:
        for number, row in enumerate(csv.reader(text, delimiter=delimiter), start=1):
            if "\x00" in "".join(row):
                raise ValidationFailed("file", f"{source} holds a NUL character (is it a text file?)", number)
            yield number, row
    except UnicodeDecodeError:
        raise ValidationFailed("file", f"{source} is not UTF-8 text", number + 1) from None
    except csv.Error as error:
        raise ValidationFailed("file", f"{source} is not valid CSV ({error})", number + 1) from None


def read_central(path: Path) -> Export:
    """A Central export: its CSV zip, its main CSV (repeat files beside it are found), or a folder."""
    if path.is_dir():
        files = {item.name: item for item in path.iterdir() if item.suffix.lower() == ".csv"}
        return _central(path.name, list(files), lambda name: files[name].open("rb"))
    if path.suffix.lower() == ".zip":
        return _central_zip(path)
    files = {item.name: item for item in path.parent.iterdir() if item.suffix.lower() == ".csv"}
    stem = path.stem
    files = {name: item for name, item in files.items() if name == path.name or name.startswith(f"{stem}-")}
    return _central(path.name, list(files), lambda name: files[name].open("rb"), main=path.name)


def _central_zip(path: Path) -> Export:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise ValidationFailed("file", f"{path.name} is not a readable zip file") from None
    names = {Path(name).name: name for name in archive.namelist() if name.lower().endswith(".csv")}
    try:
        export = _central(path.name, list(names), lambda name: archive.open(names[name]))
    except BaseException:
        archive.close()
        raise
    export.closer.callback(archive.close)
    return export


def _central(where: str, files: Collection[str], opener: Callable[[str], IO[bytes]], main: str | None = None) -> Export:
    if not files:
        raise ValidationFailed("file", f"{where} holds no CSV file of an ODK Central export")
    main = main or min(files, key=len)  # `<form>.csv` is shorter than every `<form>-<repeat>.csv`
    stem = main.removesuffix(".csv")
    strays = [name for name in files if name != main and not name.startswith(f"{stem}-")]
    if strays:
        raise ValidationFailed("file", f"{where}: {strays[0]} is not a repeat file of {main}")
    closer = ExitStack()
    try:
        tables = {name: csv_table(name, opener(name), closer) for name in sorted(files)}
    except BaseException:  # a header that cannot be read: close what was opened
        closer.close()
        raise
    repeats = {name.removeprefix(f"{stem}-").removesuffix(".csv"): tables[name] for name in tables if name != main}
    return Export("ODK Central", CENTRAL_KEYS, tables[main], repeats, stem, closer)


@dataclass
class Columns:
    """Where each field of the form sits in one table, whatever group path the export gave it."""

    table: Table
    at: dict[str, int]
    choices: dict[str, list[tuple[str, int]]]

    def value(self, cells: list[str], name: str) -> str:
        index = self.at.get(name)
        if index is not None:
            return cells[index].strip() if index < len(cells) else ""
        picked = [choice for choice, at in self.choices.get(name, []) if at < len(cells) and _ticked(cells[at])]
        return " ".join(picked)

    def has(self, name: str) -> bool:
        return name in self.at or name in self.choices

    def heading(self, name: str) -> str:
        index = self.at.get(name)
        return self.table.header[index] if index is not None else name


def _ticked(cell: str) -> bool:
    return cell.strip().lower() in {"1", "1.0", "true"}


def columns_of(table: Table, wanted: set[str], list_fields: frozenset[str], separators: str) -> Columns:
    """Each wanted field's column: its name, or the last step of its group path (`household-site`)."""
    at: dict[str, int] = {}
    choices: dict[str, list[tuple[str, int]]] = {}
    split = re.compile(f"[{re.escape(separators)}]")
    for index, heading in enumerate(table.header):
        stem, _, choice = heading.rpartition("/")
        base = _field(stem, wanted, split) if stem else None
        if base in list_fields and base is not None:
            choices.setdefault(base, []).append((choice, index))
            continue
        name = _field(heading, wanted, split)
        if name is not None:
            at.setdefault(name, index)
    return Columns(table, at, choices)


def _field(heading: str, wanted: set[str], split: re.Pattern[str]) -> str | None:
    if heading in wanted:
        return heading
    last = split.split(heading)[-1]
    return last if last in wanted else None
