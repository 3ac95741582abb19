"""The import's CPU work (checking, sealing, blind indexes) in worker processes, chunk by chunk.

The main process reads the file and cuts it into chunks of whole households (`reading.py`);
workers turn each chunk into rows ready to insert (a `writer.RowBatch`); the main process writes
the chunks in file order while the workers prepare the next ones. At most a few chunks are in
flight, so memory stays bounded whatever the file's size. A file of one chunk is prepared
in-process: starting workers would cost more than it saves. Workers start with the platform's
default method and rebuild the vault from the master key, which reaches them only through the
pool (inherited on fork, or over its pipe).
"""

from __future__ import annotations

import gc
import itertools
import os
from collections import deque
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from awda.access.rules import Actor, Permission, may
from awda.bulk import temporal_binder
from awda.errors import ValidationFailed
from awda.households.filecheck import FileChecker, ParsedHousehold
from awda.households.reading import RawChunk
from awda.households.rows import Layout, group_households
from awda.households.writer import Preparation, RowBatch, prepare_household
from awda.vault import Vault

CHUNK_HOUSEHOLDS = 500
MAX_WORKERS = 4
IN_FLIGHT_PER_WORKER = 2  # enough to keep every worker busy while the main process writes


@dataclass(frozen=True)
class ChunkSetup:
    """What preparing a chunk needs besides its rows; picklable, so workers can rebuild the vault."""

    master_key: bytes = field(repr=False)
    actor: Actor
    sites: dict[str, int]
    places: dict[str, int]
    columns: list[str]
    dialect: str


class RowError(NamedTuple):
    field: str
    message: str
    row: int | None
    household_rows: int


class Candidate(NamedTuple):
    """A household whose rows are valid: prepared (at `position` of the batch), or refused by `error`."""

    source_ref: str
    fingerprint: bytes
    first_row: int
    members: int
    position: int | None
    error: RowError | None


@dataclass
class ChunkResult:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)  # households with an invalid row
    candidates: list[Candidate] = field(default_factory=list)
    batch: RowBatch = field(default_factory=RowBatch)


def prepare_chunk(setup: ChunkSetup, vault: Vault, chunk: RawChunk) -> ChunkResult:
    """Check every household of the chunk and prepare the rows of the valid ones."""
    result = ChunkResult()
    layout = Layout(setup.columns)
    checker = FileChecker(layout)
    preparation = Preparation(vault, setup.actor, setup.places, temporal_binder(setup.dialect), "import")
    today = date.today()
    for group in group_households(chunk.cell_rows(), layout, chunk.first_row):
        result.rows += len(group.rows)
        try:
            parsed = checker.parse(group, today)
        except ValidationFailed as error:
            result.errors.append(RowError(error.field, error.message, error.row, len(group.rows)))
            continue
        result.candidates.append(_candidate(setup, preparation, parsed, result.batch))
    result.batch.sort_identifiers()
    return result


def _candidate(setup: ChunkSetup, preparation: Preparation, parsed: ParsedHousehold, batch: RowBatch) -> Candidate:
    household = parsed.household
    fingerprint = preparation.vault.fingerprint(parsed.content)
    members = len(household.members)
    try:
        site_id = setup.sites.get(household.site_code.upper())
        if site_id is None:
            raise ValidationFailed("site", f"no site with code {household.site_code!r}")
        if not may(setup.actor, Permission.REGISTER, site_id):
            raise ValidationFailed("site", f"you may not register households at {household.site_code}")
        prepared = prepare_household(preparation, household, site_id, batch, fingerprint)
    except ValidationFailed as error:
        refused = RowError(error.field, error.message, parsed.first_row, members)
        return Candidate(str(household.source_ref), fingerprint, parsed.first_row, members, None, refused)
    return Candidate(
        str(household.source_ref), fingerprint, parsed.first_row, members, prepared.footprint.household, None
    )


def prepared_chunks(
    setup: ChunkSetup, vault: Vault, chunks: Iterator[RawChunk], workers: int | None = None
) -> Generator[ChunkResult, None, None]:
    """The chunks prepared, in order: by `workers` processes (None: one per core, 0 for one chunk)."""
    head = list(itertools.islice(chunks, 2))
    if workers is None:
        workers = default_workers() if len(head) > 1 else 0
    everything = itertools.chain(head, chunks)
    if workers == 0:
        yield from (prepare_chunk(setup, vault, chunk) for chunk in everything)
    else:
        yield from _prepared_in_pool(setup, everything, workers)


def default_workers() -> int:
    """One worker per core (the main process writes meanwhile); none on a single core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cores, MAX_WORKERS) if cores > 1 else 0


def _prepared_in_pool(setup: ChunkSetup, chunks: Iterator[RawChunk], workers: int) -> Iterator[ChunkResult]:
    pool = ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(setup,))
    in_flight: deque[Future[ChunkResult]] = deque()
    try:
        for chunk in chunks:
            in_flight.append(pool.submit(_prepare_in_worker, chunk))
            if len(in_flight) > IN_FLIGHT_PER_WORKER * workers:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_worker_state: list[tuple[ChunkSetup, Vault]] = []  # set once in each worker process


def _start_worker(setup: ChunkSetup) -> None:
    _worker_state.append((setup, Vault(setup.master_key)))
    # Preparing allocates many objects and almost no cycles: collect once per chunk instead of
    # every few hundred allocations, and never scan what the worker loaded at start.
    gc.disable()
    gc.freeze()


def _prepare_in_worker(chunk: RawChunk) -> ChunkResult:
    gc.collect()
    setup, vault = _worker_state[0]
    return prepare_chunk(setup, vault, chunk)
