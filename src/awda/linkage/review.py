"""The review queue: uncertain pairs for people with the right role, their decisions, household
matches, and undoing merges. Every write is one named action with its own event."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from awda.access.readers import person_for
from awda.access.rules import Actor, Permission, Role, covers_site
from awda.access.services import require
from awda.audit.services import record_event
from awda.db import action, serialise, utcnow
from awda.errors import Conflict, NotFound, StaleVersion
from awda.households.models import Household, Person
from awda.ids import new_uid
from awda.linkage.models import LinkCandidate, PersonMerge
from awda.linkage.rules import (
    CandidateStatus,
    Decision,
    HouseholdMatch,
    MergeReason,
    ScoredPair,
    check_decision,
    household_matches,
    plan_merges,
)
from awda.linkage.services import LINKAGE_LOCK, load_forest, mark, write_merges
from awda.vault import Vault

MAX_PAGE = 500


def _candidate_query(actor: Actor | None = None) -> Select[Any]:
    """Pairs with their persons' uids and households; with an actor, only those wholly in scope (in SQL)."""
    person_a, person_b = aliased(Person), aliased(Person)
    household_a, household_b = aliased(Household), aliased(Household)
    query = (
        select(LinkCandidate, person_a.uid, person_b.uid, household_a, household_b)
        .join(person_a, person_a.id == LinkCandidate.person_a_id)
        .join(person_b, person_b.id == LinkCandidate.person_b_id)
        .join(household_a, household_a.id == LinkCandidate.household_a_id)
        .join(household_b, household_b.id == LinkCandidate.household_b_id)
    )
    if actor is None:
        return query
    query = query.where(household_a.erased_at.is_(None), household_b.erased_at.is_(None))
    if actor.role == Role.ADMIN or actor.all_sites:
        return query
    sites = sorted(actor.site_ids)
    return query.where(household_a.site_id.in_(sites), household_b.site_id.in_(sites))


def _in_scope(actor: Actor, *households: Household) -> bool:
    return all(covers_site(actor, household.site_id) and household.erased_at is None for household in households)


def _view(row: Any) -> dict[str, Any]:
    candidate, uid_a, uid_b, household_a, household_b = row
    return {
        "uid": candidate.uid,
        "person_a": uid_a,
        "person_b": uid_b,
        "household_a": household_a.uid,
        "household_b": household_b.uid,
        "probability": round(candidate.probability, 6),
        "status": candidate.status,
        "version": candidate.version,
    }


def review_queue(session: Session, actor: Actor, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Pending pairs whose two households are in the actor's scope, most likely first; no personal value."""
    require(actor, Permission.REVIEW_LINKAGE)
    query = _candidate_query(actor).where(LinkCandidate.status == CandidateStatus.PENDING)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page = query.order_by(LinkCandidate.probability.desc(), LinkCandidate.id).limit(min(limit, MAX_PAGE)).offset(offset)
    items = [_view(row) for row in session.execute(page)]
    return {"total": int(total or 0), "limit": limit, "offset": offset, "items": items}


def _load(session: Session, actor: Actor, uid: str, lock: bool = False) -> Any:
    query = _candidate_query().where(LinkCandidate.uid == uid)
    row = session.execute(query.with_for_update(of=LinkCandidate) if lock else query).first()
    if row is None or not _in_scope(actor, row[3], row[4]):
        raise NotFound(f"no candidate pair {uid}")
    return row


def candidate_for_review(session: Session, vault: Vault, actor: Actor, uid: str) -> dict[str, Any]:
    """One pair with both persons opened side by side; each opening is a logged read."""
    require(actor, Permission.REVIEW_LINKAGE)
    row = _load(session, actor, uid)
    view = _view(row)
    view["a"] = person_for(session, vault, actor, view["person_a"])
    view["b"] = person_for(session, vault, actor, view["person_b"])
    return view


def decide(session: Session, actor: Actor, uid: str, decision: Decision, expected_version: int) -> dict[str, Any]:
    """Merge or reject one pending pair (`decide_link`): a merge joins the two persons' clusters."""
    require(actor, Permission.REVIEW_LINKAGE)
    with action(session):
        serialise(session, LINKAGE_LOCK)
        row = _load(session, actor, uid, lock=True)
        candidate: LinkCandidate = row[0]
        if candidate.version != expected_version:
            raise StaleVersion("the pair was decided by someone else meanwhile", candidate.version)
        check_decision(candidate.status, decision)
        merges = []
        if decision == Decision.MERGE:
            merges = _merge_pairs(session, actor, [candidate], new_uid())
        else:
            mark(candidate, CandidateStatus.REJECTED, actor)
        payload = {"decision": decision.value, "merges": len(merges), "probability": round(candidate.probability, 4)}
        record_event(session, actor, "decide_link", "link_candidate", uid, payload, row[3].site_id)
    return _view(_load(session, actor, uid)) | {"merges": [merge.uid for merge in merges]}


def _merge_pairs(session: Session, actor: Actor, candidates: list[LinkCandidate], group: str) -> list[PersonMerge]:
    """Reviewed merges of pending pairs; a pair whose persons are one already is marked merged."""
    forest, rejected = load_forest(session)
    pairs = [
        ScoredPair(c.person_a_id, c.person_b_id, c.household_a_id, c.household_b_id, c.probability) for c in candidates
    ]
    rejected -= {(c.person_a_id, c.person_b_id) for c in candidates}  # a person's merge overrides an old rejection
    planned, implied = plan_merges(pairs, forest, rejected, threshold=0.0)
    by_pair = {(c.person_a_id, c.person_b_id): c for c in candidates}
    for pair in implied:
        mark(by_pair[(pair.person_a, pair.person_b)], CandidateStatus.MERGED, actor)
    blocked = len(pairs) - len(planned) - len(implied)
    if blocked:
        raise Conflict("a merge would join people a reviewer has said are different; undo or reject first")
    return write_merges(session, actor, planned, by_pair, MergeReason.REVIEWED, group)


def household_view(session: Session, actor: Actor, limit: int = 50) -> list[dict[str, Any]]:
    """Households matched together (members matched as a group), for review as a whole."""
    require(actor, Permission.REVIEW_LINKAGE)
    rows = session.execute(_candidate_query(actor).where(LinkCandidate.status != CandidateStatus.REJECTED)).all()
    households = {row[3].id: row[3] for row in rows} | {row[4].id: row[4] for row in rows}
    sizes = _household_sizes(session, list(households))
    pairs = [
        (ScoredPair(c.person_a_id, c.person_b_id, c.household_a_id, c.household_b_id, c.probability), c.status)
        for c, *_ in rows
    ]
    matches = household_matches(pairs, sizes)[: min(limit, MAX_PAGE)]
    return [_household_match_view(match, households) for match in matches]


def _household_sizes(session: Session, household_ids: list[int]) -> dict[int, int]:
    sizes: Counter[int] = Counter()
    for start in range(0, len(household_ids), 5_000):
        chunk = household_ids[start : start + 5_000]
        query = select(Person.household_id, func.count()).where(Person.household_id.in_(chunk))
        sizes.update(dict(session.execute(query.group_by(Person.household_id)).tuples().all()))
    return dict(sizes)


def _household_match_view(match: HouseholdMatch, households: dict[int, Household]) -> dict[str, Any]:
    return {
        "household_a": households[match.household_a].uid,
        "household_b": households[match.household_b].uid,
        "matched_members": match.matched_members,
        "size_a": match.size_a,
        "size_b": match.size_b,
        "whole": match.whole,
        "mean_probability": round(match.mean_probability, 4),
        "pending_pairs": match.pending_pairs,
    }


def merge_households(session: Session, actor: Actor, household_a: str, household_b: str) -> dict[str, Any]:
    """Merge every pending member pair between two households at once (`merge_households`), one group."""
    require(actor, Permission.REVIEW_LINKAGE)
    with action(session):
        serialise(session, LINKAGE_LOCK)
        found = {
            h.uid: h for h in session.scalars(select(Household).where(Household.uid.in_([household_a, household_b])))
        }
        if len(found) != 2 or not _in_scope(actor, *found.values()):
            raise NotFound("no such pair of households in your scope")
        ids = [found[household_a].id, found[household_b].id]
        candidates = list(
            session.scalars(
                select(LinkCandidate)
                .where(LinkCandidate.status == CandidateStatus.PENDING)
                .where(LinkCandidate.household_a_id.in_(ids), LinkCandidate.household_b_id.in_(ids))
                .with_for_update()
            )
        )
        if not candidates:
            raise Conflict("these households have no pending matched members")
        group = new_uid()
        merges = _merge_pairs(session, actor, candidates, group)
        payload = {"pairs": len(candidates), "merges": len(merges), "group": group}
        record_event(session, actor, "merge_households", "household", household_a, payload, found[household_a].site_id)
    return {"group": group, "pairs": len(candidates), "merges": [merge.uid for merge in merges]}


def undo_merge(session: Session, actor: Actor, uid: str) -> dict[str, Any]:
    """Undo a merge, or every merge of its group (`undo_merge`); both registrations were kept all along.

    The pairs behind the undone merges become `rejected`: the merge was wrong, and later runs must
    not merge them again on their own.
    """
    require(actor, Permission.REVIEW_LINKAGE)
    with action(session):
        serialise(session, LINKAGE_LOCK)
        merge = session.scalar(select(PersonMerge).where(or_(PersonMerge.uid == uid, PersonMerge.group_uid == uid)))
        if merge is None:
            raise NotFound(f"no merge {uid}")
        group = list(
            session.scalars(
                select(PersonMerge).where(PersonMerge.group_uid == merge.group_uid, PersonMerge.undone_at.is_(None))
            )
        )
        undone = ([merge] if merge.undone_at is None else []) if merge.uid == uid else group
        _check_scope(session, actor, undone)
        if not undone:
            raise Conflict("this merge was undone already")
        for m in undone:
            m.undone_at, m.undone_by = utcnow(), actor.user_id
        ids = [m.candidate_id for m in undone if m.candidate_id is not None]
        if ids:
            session.execute(
                update(LinkCandidate)
                .where(LinkCandidate.id.in_(ids))
                .values(status=CandidateStatus.REJECTED, decided_by=actor.user_id, decided_at=utcnow())
            )
        record_event(session, actor, "undo_merge", "person_merge", uid, {"undone": len(undone)})
    return {"undone": [m.uid for m in undone]}


def _check_scope(session: Session, actor: Actor, merges: list[PersonMerge]) -> None:
    person_ids = {m.kept_person_id for m in merges} | {m.merged_person_id for m in merges}
    query = select(Household).join(Person, Person.household_id == Household.id).where(Person.id.in_(person_ids))
    if not all(covers_site(actor, h.site_id) for h in session.scalars(query)):
        raise NotFound("no such merge in your scope")


def same_person(session: Session, actor: Actor, person_uid: str) -> dict[str, Any]:
    """The registrations of one person: every person record joined to it by active merges."""
    require(actor, Permission.READ_RECORDS)
    person = session.scalar(select(Person).where(Person.uid == person_uid))
    household = session.get(Household, person.household_id) if person else None
    if person is None or household is None or not covers_site(actor, household.site_id):
        raise NotFound(f"no person {person_uid}")
    forest, _ = load_forest(session)
    members = sorted(forest.members(forest.root(person.id)))
    query = select(Person.uid, Household.uid, Household.site_id).join(Household, Household.id == Person.household_id)
    rows = session.execute(query.where(Person.id.in_(members)).order_by(Person.id)).all()
    visible = [{"person": p, "household": h} for p, h, site in rows if covers_site(actor, site)]
    return {"person": person_uid, "root": visible[0]["person"] if visible else person_uid, "records": visible}
