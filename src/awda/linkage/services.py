"""Linkage over the registry: one run reads the persons in scope, scores pairs, queues and merges.

Personal fields are opened only inside the run (`access.readers.persons_for_linkage`, one logged
read per run), held in memory as column batches, handed to the engine and dropped; what is written
back names persons by id with a probability, never a value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.readers import persons_for_linkage
from awda.access.rules import Actor, Permission, covers_site
from awda.access.services import require
from awda.audit.services import record_event
from awda.db import action, serialise, utcnow
from awda.errors import ValidationFailed
from awda.ids import new_uid
from awda.linkage.models import LinkageRun, LinkCandidate, PersonMerge
from awda.linkage.rules import (
    CandidateStatus,
    MergeForest,
    MergeReason,
    PlannedMerge,
    ScoredPair,
    check_thresholds,
    ordered,
    plan_merges,
)
from awda.places.models import Site
from awda.vault import Vault

# The registry's personal fields and the engine roles they play; Arabic and Latin spellings of a
# name are both kept (a role given twice).
REGISTRY_FIELDS: tuple[tuple[str, str], ...] = (
    ("given_name", "given_name_ar"),
    ("given_name", "given_name_lat"),
    ("father_name", "father_name_ar"),
    ("father_name", "father_name_lat"),
    ("grandfather_name", "grandfather_name_ar"),
    ("grandfather_name", "grandfather_name_lat"),
    ("family_name", "family_name_ar"),
    ("family_name", "family_name_lat"),
    ("birth_date", "birth_date"),
    ("birth_year", "birth_year"),
    ("sex", "sex"),
    ("id_number", "document_number"),
    ("phone", "phone"),
)
COLUMNS = ("person_id", *dict.fromkeys(column for _, column in REGISTRY_FIELDS))
BATCH_ROWS = 50_000
ENGINE_MAX_THRESHOLD = 0.999999  # the engine clusters below 1
LINKAGE_LOCK = "linkage"  # runs and decisions take turns: the merge forest must not change under them


@dataclass(frozen=True)
class RunResult:
    run: str
    persons: int
    pairs: int
    queued: int
    merged: int
    already_one: int
    backend: str

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def check_backend(name: str) -> Literal["duckdb", "spark"]:
    if name == "duckdb":
        return "duckdb"
    if name == "spark":
        return "spark"
    raise ValidationFailed("backend", "must be duckdb or spark")


def scope_sites(session: Session, actor: Actor, site_codes: Sequence[str] | None) -> list[int]:
    """The sites a run covers: those named (each in scope), or every site in the actor's scope."""
    require(actor, Permission.RUN_LINKAGE)
    sites = {site.code: site.id for site in session.scalars(select(Site))}
    if site_codes:
        unknown = [code for code in site_codes if code not in sites]
        if unknown:
            raise ValidationFailed("site", f"unknown site {unknown[0]}")
        chosen = [sites[code] for code in site_codes]
    else:
        chosen = [site_id for site_id in sites.values() if covers_site(actor, site_id)]
    for site_id in chosen:
        require(actor, Permission.RUN_LINKAGE, site_id)
    return chosen


def person_batches(people: Iterable[dict[str, Any]], households: list[int]) -> Iterator[pa.RecordBatch]:
    """The engine's input as column batches; `households` collects each row's household id, in order."""
    columns: dict[str, list[str | None]] = {name: [] for name in COLUMNS}
    for person in people:
        households.append(person["household_id"])
        for name in COLUMNS:
            value = person.get(name)
            columns[name].append(None if value in (None, "") else str(value))
        if len(columns["person_id"]) >= BATCH_ROWS:
            yield pa.RecordBatch.from_pydict(columns)
            columns = {name: [] for name in COLUMNS}
    if columns["person_id"]:
        yield pa.RecordBatch.from_pydict(columns)


def read_registry(
    session: Session, vault: Vault, actor: Actor, site_ids: list[int], run_uid: str
) -> tuple[pa.Table, dict[int, int]]:
    """The persons of the sites as one column table, and each person's household."""
    households: list[int] = []
    people = persons_for_linkage(session, vault, actor, site_ids, run_uid)
    schema = pa.schema([(name, pa.string()) for name in COLUMNS])
    table = pa.Table.from_batches(list(person_batches(people, households)), schema=schema)
    session.commit()  # the read itself is logged, whatever happens to the run
    ids = np.asarray(table.column("person_id").to_pylist(), dtype=np.int64) if table.num_rows else np.empty(0)
    return table, dict(zip(ids.tolist(), households, strict=True))


def scored_pairs(pairs: pa.Table, household_of: dict[int, int], review_threshold: float) -> list[ScoredPair]:
    """Engine pairs at or above the review threshold, ordered (a < b), same-household pairs dropped.

    Members of one registration are distinct people by construction (one form, one person a row).
    """
    found: dict[tuple[int, int], ScoredPair] = {}
    left = pairs.column("unique_id_l").to_pylist()
    right = pairs.column("unique_id_r").to_pylist()
    probability = pairs.column("match_probability").to_pylist()
    for raw_a, raw_b, p in zip(left, right, probability, strict=True):
        a, b = ordered(int(raw_a), int(raw_b))
        if p is None or p < review_threshold or household_of[a] == household_of[b]:
            continue
        found[(a, b)] = ScoredPair(a, b, household_of[a], household_of[b], float(p))
    return list(found.values())


def split_by_engine(clusters: pa.Table, pairs: list[ScoredPair], merge_threshold: float) -> set[tuple[int, int]]:
    """Pairs sure enough to merge that the engine nevertheless kept apart: they go to review instead.

    The engine rebuilds a cluster whose members contradict each other (one strong link cannot weld two
    people whom everything else separates); a merge on its own must respect that.
    """
    ids, labels = clusters.column("unique_id").to_pylist(), clusters.column("cluster_id").to_pylist()
    cluster_of = dict(zip(ids, labels, strict=True))
    return {
        (pair.person_a, pair.person_b)
        for pair in pairs
        if pair.probability >= merge_threshold
        and cluster_of.get(str(pair.person_a)) != cluster_of.get(str(pair.person_b))
    }


def run_linkage(
    session: Session,
    vault: Vault,
    actor: Actor,
    *,
    site_codes: Sequence[str] | None = None,
    backend: str = "duckdb",
    review_threshold: float = 0.5,
    merge_threshold: float = 0.99,
    workdir: Path | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Score every pair of persons in scope; queue the uncertain ones, merge the near-certain (undoable)."""
    from awda.linkage.engine import link_records

    check_thresholds(review_threshold, merge_threshold)
    site_ids = scope_sites(session, actor, site_codes)
    run_uid = new_uid()
    table, household_of = read_registry(session, vault, actor, site_ids, run_uid)
    if on_progress:
        on_progress(f"read {table.num_rows} persons")
    pairs: list[ScoredPair] = []
    held: set[tuple[int, int]] = set()
    parameters: dict[str, Any] = {}
    if table.num_rows > 1:
        result = link_records(
            table,
            REGISTRY_FIELDS,
            id_column="person_id",
            backend=check_backend(backend),
            threshold=min(merge_threshold, ENGINE_MAX_THRESHOLD),
            on_progress=on_progress,
            workdir=workdir,
        )
        pairs, parameters = scored_pairs(result.pairs, household_of, review_threshold), result.parameters
        held = split_by_engine(result.clusters, pairs, merge_threshold)
    persons = table.num_rows
    del table
    thresholds = (review_threshold, merge_threshold)
    return store_run(session, actor, RunRecord(run_uid, backend, persons, parameters, thresholds, held), pairs)


@dataclass(frozen=True)
class RunRecord:
    uid: str
    backend: str
    persons: int
    parameters: dict[str, Any]
    thresholds: tuple[float, float]  # review, merge
    held: set[tuple[int, int]] = field(default_factory=set)  # sure pairs the engine kept apart: reviewed


def store_run(session: Session, actor: Actor, record: RunRecord, pairs: list[ScoredPair]) -> RunResult:
    """Write the run, its new and re-scored pending pairs and its automatic merges, in one action."""
    review_threshold, merge_threshold = record.thresholds
    with action(session):
        serialise(session, LINKAGE_LOCK)
        run = LinkageRun(
            uid=record.uid,
            run_by=actor.user_id,
            backend=record.backend,
            persons=record.persons,
            review_threshold=review_threshold,
            merge_threshold=merge_threshold,
            parameters=json.dumps(record.parameters, sort_keys=True, default=str),
        )
        session.add(run)
        session.flush()
        candidates = upsert_candidates(session, run.id, pairs)
        forest, rejected = load_forest(session)
        pending = [
            pair
            for pair in pairs
            if candidates[(pair.person_a, pair.person_b)].status == "pending"
            and (pair.person_a, pair.person_b) not in record.held
        ]
        planned, implied = plan_merges(pending, forest, rejected, merge_threshold)
        write_merges(session, actor, planned, candidates, MergeReason.AUTOMATIC, new_uid())
        for pair in implied:
            mark(candidates[(pair.person_a, pair.person_b)], CandidateStatus.MERGED, actor)
        run.pairs, run.merged, run.finished_at = len(pairs), len(planned), utcnow()
        run.queued = sum(1 for c in candidates.values() if c.status == CandidateStatus.PENDING)
        counts = {"pairs": run.pairs, "queued": run.queued, "merged": run.merged, "already_one": len(implied)}
        payload = counts | {"persons": record.persons, "backend": record.backend}
        record_event(session, actor, "run_linkage", "linkage_run", record.uid, payload)
    return RunResult(record.uid, record.persons, run.pairs, run.queued, run.merged, len(implied), record.backend)


def upsert_candidates(session: Session, run_id: int, pairs: list[ScoredPair]) -> dict[tuple[int, int], LinkCandidate]:
    """The candidate row of every pair: new pairs pending, pending ones re-scored, decided ones kept."""
    known: dict[tuple[int, int], LinkCandidate] = {}
    persons = sorted({p.person_a for p in pairs})
    for start in range(0, len(persons), 5_000):
        chunk = persons[start : start + 5_000]
        for candidate in session.scalars(select(LinkCandidate).where(LinkCandidate.person_a_id.in_(chunk))):
            known[(candidate.person_a_id, candidate.person_b_id)] = candidate
    for pair in pairs:
        key = (pair.person_a, pair.person_b)
        found = known.get(key)
        if found is None:
            candidate = LinkCandidate(
                uid=new_uid(),
                run_id=run_id,
                person_a_id=pair.person_a,
                person_b_id=pair.person_b,
                household_a_id=pair.household_a,
                household_b_id=pair.household_b,
                probability=pair.probability,
                status=CandidateStatus.PENDING,
            )
            session.add(candidate)
            known[key] = candidate
        elif found.status == CandidateStatus.PENDING:
            found.probability, found.run_id = pair.probability, run_id
    session.flush()
    return {(p.person_a, p.person_b): known[(p.person_a, p.person_b)] for p in pairs}


def load_forest(session: Session) -> tuple[MergeForest, set[tuple[int, int]]]:
    """The active merges and the rejected pairs (a person's word stands against later runs)."""
    merges = session.execute(
        select(PersonMerge.kept_person_id, PersonMerge.merged_person_id).where(PersonMerge.undone_at.is_(None))
    ).tuples()
    rejected = session.execute(
        select(LinkCandidate.person_a_id, LinkCandidate.person_b_id).where(
            LinkCandidate.status == CandidateStatus.REJECTED
        )
    ).tuples()
    return MergeForest(merges), {(a, b) for a, b in rejected}


def write_merges(
    session: Session,
    actor: Actor,
    planned: list[PlannedMerge],
    candidates: dict[tuple[int, int], LinkCandidate],
    reason: MergeReason,
    group_uid: str,
) -> list[PersonMerge]:
    rows = []
    for merge in planned:
        candidate = candidates[(merge.pair.person_a, merge.pair.person_b)]
        mark(candidate, CandidateStatus.MERGED, actor)
        rows.append(
            PersonMerge(
                uid=new_uid(),
                group_uid=group_uid,
                kept_person_id=merge.kept,
                merged_person_id=merge.merged,
                candidate_id=candidate.id,
                reason=reason,
                merged_by=actor.user_id,
            )
        )
    session.add_all(rows)
    session.flush()
    return rows


def mark(candidate: LinkCandidate, status: CandidateStatus, actor: Actor) -> None:
    candidate.status, candidate.decided_by, candidate.decided_at = status, actor.user_id, utcnow()
