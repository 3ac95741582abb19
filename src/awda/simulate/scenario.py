"""write_scenario: cut the households into chunks, run them (in parallel when possible), join the files.

A chunk's content depends only on (seed, chunk index), so the files are byte-identical whatever
the number of worker processes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from queue import Empty
from typing import Any, TypeVar

from awda.simulate.agreements import AGREEMENTS
from awda.simulate.dates import date_text
from awda.simulate.journeys import ConvoyKey, convoy_rows
from awda.simulate.manifest import build_manifest
from awda.simulate.mix import LinkageMix
from awda.simulate.places import scenario_sites
from awda.simulate.simulation import PARAMETERS, ChunkJob, ChunkResult, run_chunk
from awda.simulate.writer import ScenarioOutput

CHUNK_HOUSEHOLDS = 5_000  # part of the scenario's definition: changing it changes the files
CHUNK_DIR = ".chunks"
MAX_WORKERS = 8
POLL_SECONDS = 0.2
LAST_PROGRESS_SECONDS = 30.0
Key = TypeVar("Key")


@dataclass(frozen=True)
class ScenarioSummary:
    """What ``write_scenario`` wrote."""

    households: int  # distinct true households generated
    persons: int  # distinct true persons
    registration_rows: int  # rows of registrations.csv (includes duplicate registrations)
    duplicate_registrations: int  # registrations that re-register already registered people
    files: list[str]  # relative paths written


class _Totals:
    """Counts and convoy passengers summed over chunks."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.incidents_by_type: dict[str, int] = {}
        self.convoys: dict[ConvoyKey, int] = {}

    def add(self, result: ChunkResult) -> None:
        _add(self.counts, result.counts)
        _add(self.incidents_by_type, result.incidents_by_type)
        _add(self.convoys, result.convoys)


def _add(totals: dict[Key, int], part: dict[Key, int]) -> None:
    for key, value in part.items():
        totals[key] = totals.get(key, 0) + value


def default_workers() -> int:
    """One process per CPU, up to ``MAX_WORKERS``."""
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def write_scenario(
    out_dir: Path,
    households: int,
    seed: int,
    *,
    on_progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    duplicates: float | None = None,
    year_only: float | None = None,
) -> ScenarioSummary:
    """Write registrations.csv and truth/ under out_dir, deterministic for (households, seed, mix).

    Files are written as ``*.part`` and renamed only when the whole scenario succeeded.
    ``on_progress(n)`` receives the number of households completed since its last call.
    ``workers`` processes generate chunks in parallel (default: one per CPU); it never changes the files.
    ``duplicates`` (share of registrations that are re-registrations, at most 0.5) and ``year_only``
    (share of people known by birth year only) make a harder scenario for linkage (docs/simulator.md);
    left unset, the scenario is the default one, byte for byte.
    """
    if households < 1:
        raise ValueError(f"households must be at least 1, got {households}")
    mix = LinkageMix(duplicates, year_only)
    out_dir = Path(out_dir)
    chunks = out_dir / CHUNK_DIR
    jobs = [
        ChunkJob(chunks / f"{index:06d}", seed, index, first, min(CHUNK_HOUSEHOLDS, households - first), mix)
        for index, first in enumerate(range(0, households, CHUNK_HOUSEHOLDS))
    ]
    totals = _Totals()
    with ScenarioOutput(out_dir) as output:
        try:
            for result in _results(jobs, workers or default_workers(), on_progress):
                output.append_chunk(result.job.directory)
                totals.add(result)
        finally:
            shutil.rmtree(chunks, ignore_errors=True)
        _write_calendar(output, totals)
        counts = _counts(totals)
        output.write_json("truth/manifest.json", build_manifest(seed, households, counts, _parameters(mix)))
    return ScenarioSummary(
        counts["households"], counts["persons"], counts["registration_rows"], counts["duplicate_registrations"],
        list(output.relative_paths),
    )  # fmt: skip


def _write_calendar(output: ScenarioOutput, totals: _Totals) -> None:
    """Agreements and convoys: one row each, whatever the number of households."""
    output.write_rows("agreements", [
        [a.agreement_id, a.name_en, a.name_ar, a.area_pcode, a.guarantor, a.signed_on,
         json.dumps([t.as_json() for t in a.terms], ensure_ascii=False)]
        for a in AGREEMENTS
    ])  # fmt: skip
    output.write_rows("convoys", convoy_rows(totals.convoys, scenario_sites(), date_text()))


def _counts(totals: _Totals) -> dict[str, Any]:
    return {
        **totals.counts,
        "agreements": len(AGREEMENTS),
        "convoys": len(totals.convoys),
        "incidents_by_type": dict(sorted(totals.incidents_by_type.items())),
    }


def _parameters(mix: LinkageMix) -> dict[str, Any]:
    chunks = {"chunk_households": CHUNK_HOUSEHOLDS, "chunk_seed": "awda.simulate/{seed}/{chunk index}"}
    return {**PARAMETERS, **chunks, **mix.manifest()}


def _results(jobs: list[ChunkJob], workers: int, on_progress: Callable[[int], None] | None) -> Iterator[ChunkResult]:
    """Chunk results in chunk order."""
    if min(workers, len(jobs)) <= 1:
        for job in jobs:
            yield run_chunk(job, on_progress)
    else:
        yield from _pool_results(jobs, min(workers, len(jobs)), on_progress)


_worker_progress: Queue[int] | None = None  # set in each worker process


def _init_worker(progress: Queue[int] | None) -> None:
    global _worker_progress  # noqa: PLW0603 - a pool initializer can only hand over state this way
    _worker_progress = progress


def _run_chunk_in_worker(job: ChunkJob) -> ChunkResult:
    return run_chunk(job, None if _worker_progress is None else _worker_progress.put)


def _pool_results(
    jobs: list[ChunkJob], workers: int, on_progress: Callable[[int], None] | None
) -> Iterator[ChunkResult]:
    context = multiprocessing.get_context()
    progress: Queue[int] | None = context.Queue() if on_progress is not None else None
    reported = 0
    with context.Pool(workers, initializer=_init_worker, initargs=(progress,)) as pool:
        pending = deque(pool.apply_async(_run_chunk_in_worker, (job,)) for job in jobs)
        while pending:
            pending[0].wait(POLL_SECONDS)
            reported += _forward(progress, on_progress, 0.0)
            if pending[0].ready():
                yield pending.popleft().get()
    total = sum(job.households for job in jobs)
    while reported < total:  # the last reports may still be in the queue's pipe
        reported += _forward(progress, on_progress, LAST_PROGRESS_SECONDS) or total


def _forward(progress: Queue[int] | None, on_progress: Callable[[int], None] | None, wait: float) -> int:
    """Pass queued progress reports to ``on_progress``; return how many households they counted."""
    if progress is None or on_progress is None:
        return 0
    done = 0
    try:
        while True:
            n = progress.get(timeout=wait) if wait else progress.get_nowait()
            on_progress(n)
            done += n
            wait = 0.0
    except Empty:
        return done
