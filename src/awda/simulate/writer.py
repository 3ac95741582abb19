"""Streaming CSV outputs written to ``*.part`` files and renamed into place only on success."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol

from awda.simulate.registration import COLUMNS as REGISTRATION_COLUMNS

BUFFER_BYTES = 1 << 18
COPY_BYTES = 1 << 20
FLUSH_ROWS = 2000

TRUTH_COLUMNS: dict[str, tuple[str, ...]] = {
    "persons": (
        "person_id",
        "household_id",
        "sex",
        "birth_year",
        "military_age_at_return",
        "birth_date",
        "relationship",
        "given_name_ar",
        "father_name_ar",
        "grandfather_name_ar",
        "family_name_ar",
        "first_site",
        "first_registered_on",
    ),
    "registration_rows": ("_uuid", "member_index", "person_id", "is_duplicate", "household_id", "site", "today"),
    "intention_history": (
        "household_id",
        "_uuid",
        "date",
        "from_status",
        "to_status",
        "intention_id",
        "intention",
        "origin_pcode",
        "destination_pcode",
        "convoy_id",
    ),
    "agreements": ("agreement_id", "name_en", "name_ar", "area_pcode", "guarantor", "signed_on", "terms"),
    "convoys": (
        "convoy_id",
        "date",
        "origin_pcode",
        "destination_pcode",
        "capacity",
        "guarantor",
        "origin_site",
        "agreement_id",
        "passengers",
    ),
    "movements": (
        "person_id",
        "convoy_id",
        "departed_on",
        "arrived_on",
        "outcome",
        "household_id",
        "agreement_id",
        "intention",
        "profile",
        "observed_until",
    ),
    "followups": ("household_id", "scheduled_on", "contacted_on", "outcome", "days_after_arrival"),
    "incidents": (
        "incident_id",
        "person_id",
        "type",
        "date",
        "place_pcode",
        "perpetrator_category",
        "agreement_id",
        "breached_term_id",
        "verification",
        "household_id",
        "days_since_arrival",
        "process",
    ),
}


class RowWriter(Protocol):
    """The part of ``csv.writer`` the simulator uses."""

    def writerow(self, row: Sequence[str], /) -> None: ...

    def writerows(self, rows: Sequence[Sequence[str]], /) -> None: ...


class JoinedCsv:
    """A ``csv.writer`` equivalent that buffers rows and joins them in C (csv.writer is 3x slower).

    Each flush proves with two counts that no field needed quoting (the text has exactly one
    comma per field boundary and one line break per row, and no quote); if the proof fails
    the rows are formatted by the csv module instead, so the output is always identical.
    """

    def __init__(self, handle: IO[str], flush_rows: int = FLUSH_ROWS) -> None:
        self._write = handle.write
        self._pending: list[Sequence[str]] = []
        self._flush_rows = flush_rows
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\n")

    def writerow(self, row: Sequence[str], /) -> None:
        """Write one row of two or more fields."""
        self._pending.append(row)
        if len(self._pending) >= self._flush_rows:
            self.flush()

    def writerows(self, rows: Sequence[Sequence[str]], /) -> None:
        """Write rows of two or more fields."""
        self._pending += rows
        if len(self._pending) >= self._flush_rows:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows to the file."""
        rows = self._pending
        if not rows:
            return
        text = "\n".join(map(",".join, rows))
        fields = sum(map(len, rows))
        if text.count(",") != fields - len(rows) or text.count("\n") != len(rows) - 1 or '"' in text or "\r" in text:
            self._buffer.seek(0)
            self._buffer.truncate()
            self._csv.writerows(rows)
            text = self._buffer.getvalue()[:-1]
        self._write(text + "\n")
        self._pending = []


STREAMED = ("registrations", "persons", "registration_rows", "intention_history", "movements", "followups", "incidents")
WRITTEN_LAST = ("agreements", "convoys")  # per calendar, not per household: written once at the end


def relative_path(name: str) -> str:
    """Where output ``name`` lives under the scenario directory."""
    return "registrations.csv" if name == "registrations" else f"truth/{name}.csv"


def columns(name: str) -> tuple[str, ...]:
    """The header of output ``name``."""
    return REGISTRATION_COLUMNS if name == "registrations" else TRUTH_COLUMNS[name]


class ChunkFiles:
    """The streamed outputs of one chunk of households, without headers, in their own directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, JoinedCsv] = {}
        with ExitStack() as opening:
            for name in STREAMED:
                path = directory / f"{name}.csv"
                handle = opening.enter_context(open(path, "w", encoding="utf-8", newline="", buffering=BUFFER_BYTES))
                self._writers[name] = JoinedCsv(handle)
            self._files = opening.pop_all()  # kept open until close()
        writers = self._writers
        self.registrations: RowWriter = writers["registrations"]
        self.persons: RowWriter = writers["persons"]
        self.registration_rows: RowWriter = writers["registration_rows"]
        self.intention_history: RowWriter = writers["intention_history"]
        self.movements: RowWriter = writers["movements"]
        self.followups: RowWriter = writers["followups"]
        self.incidents: RowWriter = writers["incidents"]

    def close(self) -> None:
        """Flush and close every file of the chunk."""
        with self._files:
            for writer in self._writers.values():
                writer.flush()


class ScenarioOutput:
    """The scenario's files, written as ``*.part`` and renamed into place only on success."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        (out_dir / "truth").mkdir(parents=True, exist_ok=True)
        self.relative_paths = [relative_path(name) for name in STREAMED + WRITTEN_LAST] + ["truth/manifest.json"]
        self._binary: dict[str, IO[bytes]] = {}
        with ExitStack() as opening:
            for name in STREAMED + WRITTEN_LAST:
                handle = opening.enter_context(open(self._part(relative_path(name)), "wb"))
                handle.write((",".join(columns(name)) + "\n").encode("utf-8"))
                self._binary[name] = handle
            self._files = opening.pop_all()  # kept open until close()

    def _part(self, relative: str) -> Path:
        return self.out_dir / (relative + ".part")

    def append_chunk(self, directory: Path) -> None:
        """Append a finished chunk's files in order, then delete them."""
        for name in STREAMED:
            chunk_file = directory / f"{name}.csv"
            with open(chunk_file, "rb") as source:
                shutil.copyfileobj(source, self._binary[name], COPY_BYTES)
            chunk_file.unlink()
        directory.rmdir()

    def write_rows(self, name: str, rows: Iterable[Sequence[str]]) -> None:
        """Write rows of a file that is not streamed by chunks (agreements, convoys)."""
        text = io.StringIO()
        writer = JoinedCsv(text)
        for row in rows:
            writer.writerow(row)
        writer.flush()
        self._binary[name].write(text.getvalue().encode("utf-8"))

    def write_json(self, relative: str, data: Any) -> None:
        """Write the manifest (or another JSON document)."""
        with open(self._part(relative), "w", encoding="utf-8", newline="\n") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=2, sort_keys=True)
            handle.write("\n")

    def close(self, success: bool) -> None:
        """Close all files; rename them into place if ``success``, else remove them."""
        self._files.close()
        for relative in self.relative_paths:
            part = self._part(relative)
            if success:
                os.replace(part, self.out_dir / relative)
            else:
                part.unlink(missing_ok=True)

    def __enter__(self) -> ScenarioOutput:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(exc_type is None)
