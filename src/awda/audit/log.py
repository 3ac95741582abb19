"""The stored log as streams of leaves: events in id order, the leaf cache, tree heads, proofs.

Every query that may touch the whole log streams its rows (`yield_per`), so memory is bounded by
one batch plus the O(log n) state of the Merkle computations.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import closing, contextmanager
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from awda.audit.encoding import event_leaf_data
from awda.audit.merkle import (
    LeafRange,
    RootBuilder,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    range_roots,
    to_hex,
)
from awda.audit.models import Event, TreeHead, TreeLeaf
from awda.audit.verification import Leaf
from awda.errors import Conflict, ValidationFailed

BATCH = 10_000
EVENT_COLUMNS = (
    Event.id,
    Event.at,
    Event.actor_id,
    Event.actor_name,
    Event.action,
    Event.subject_type,
    Event.subject_id,
    Event.site_id,
    Event.payload,
)


def event_leaves(session: Session, after_event_id: int | None = None) -> Generator[Leaf, None, None]:
    """(event id, leaf hash) of every stored event in id order (after `after_event_id`, if given)."""
    query = select(*EVENT_COLUMNS).order_by(Event.id).execution_options(yield_per=BATCH)
    if after_event_id is not None:
        query = query.where(Event.id > after_event_id)
    result = session.execute(query)
    try:
        for row in result:
            yield int(row[0]), leaf_hash(event_leaf_data(*row))
    finally:
        result.close()  # a pass that stops early must not leave a server-side cursor open


def cached_leaves(session: Session) -> Generator[Leaf, None, None]:
    """(event id, leaf hash) of the leaf cache, in leaf order."""
    query = select(TreeLeaf.event_id, TreeLeaf.leaf_hash).order_by(TreeLeaf.leaf_index)
    result = session.execute(query.execution_options(yield_per=BATCH))
    try:
        for event_id, cached_hash in result:
            yield int(event_id), bytes(cached_hash)
    finally:
        result.close()


def tree_heads(session: Session) -> list[TreeHead]:
    return list(session.scalars(select(TreeHead).order_by(TreeHead.tree_size, TreeHead.id)))


def head_at(session: Session, size: int) -> TreeHead | None:
    """The latest head issued at exactly `size`."""
    query = select(TreeHead).where(TreeHead.tree_size == size).order_by(TreeHead.id.desc()).limit(1)
    return session.scalar(query)


def latest_head(session: Session) -> TreeHead | None:
    return session.scalar(select(TreeHead).order_by(TreeHead.tree_size.desc(), TreeHead.id.desc()).limit(1))


def event_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def lock_log(session: Session) -> None:
    """Hold off every other writer of events until this transaction ends.

    PostgreSQL hands out ids from a sequence, so transactions can commit out of id order; the
    EXCLUSIVE lock waits for writers in flight and stops new ones, so no lower id can appear after
    the head. SQLite has one writer: a (no-op) write takes its lock before we read.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE events IN EXCLUSIVE MODE"))
    else:
        session.execute(delete(TreeLeaf).where(TreeLeaf.leaf_index < 0))


@contextmanager
def read_snapshot(session: Session) -> Iterator[None]:
    """One consistent view for a read of several queries (REPEATABLE READ on PostgreSQL)."""
    started = not session.in_transaction()
    if started and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        yield
    finally:
        if started:
            session.commit()  # nothing was written: this only ends the snapshot


def extend_leaf_cache(session: Session) -> RootBuilder:
    """Append the leaves of events not yet cached, and return the tree over all cached leaves.

    Refuses (Conflict) when the cache no longer reproduces the latest head's root: a new head
    must never be signed over an altered history.
    """
    latest = latest_head(session)
    builder = RootBuilder()
    last_event_id = None
    with closing(cached_leaves(session)) as cached:
        for event_id, cached_hash in cached:
            builder.append(cached_hash)
            last_event_id = event_id
            if latest is not None and builder.size == latest.tree_size and builder.root() != latest.root_hash:
                raise Conflict("the log does not match its latest tree head; run `awda audit verify`")
    batch: list[dict[str, Any]] = []
    for event_id, event_hash in event_leaves(session, last_event_id):
        batch.append({"leaf_index": builder.size, "event_id": event_id, "leaf_hash": event_hash})
        builder.append(event_hash)
        if len(batch) == BATCH:
            session.execute(insert(TreeLeaf), batch)
            batch = []
    if batch:
        session.execute(insert(TreeLeaf), batch)
    return builder


class _TreePass:
    """One pass over the first `size` recomputed leaves: it feeds a proof's subtree ranges while
    keeping the whole tree's root, one leaf hash and the root of one prefix."""

    def __init__(self, session: Session, size: int, leaf_index: int = -1, prefix_size: int = -1) -> None:
        self.session, self.size, self.leaf_index, self.prefix_size = session, size, leaf_index, prefix_size
        self.builder = RootBuilder()
        self.leaf = b""
        self.prefix_root = b""

    def __iter__(self) -> Iterator[bytes]:
        with closing(event_leaves(self.session)) as leaves:
            for index, (_, event_hash) in enumerate(leaves):
                if index == self.size:
                    return
                self.builder.append(event_hash)
                if index == self.leaf_index:
                    self.leaf = event_hash
                if self.builder.size == self.prefix_size:
                    self.prefix_root = self.builder.root()
                yield event_hash

    def proof(self, ranges: list[LeafRange]) -> list[bytes]:
        """The roots of `ranges`; the pass then runs to the end, so `builder` holds the full tree."""
        leaves = iter(self)
        roots = range_roots(leaves, ranges)
        for _ in leaves:
            pass
        return roots


def _check_size(session: Session, name: str, size: int) -> None:
    stored = event_count(session)
    if not 0 < size <= stored:
        raise ValidationFailed(name, f"must be between 1 and the number of events ({stored}), not {size}")


def inclusion_evidence(session: Session, index: int, size: int) -> dict[str, Any]:
    """Leaf hash, proof and root for leaf `index` in the tree of the first `size` events."""
    _check_size(session, "size", size)
    if not 0 <= index < size:
        raise ValidationFailed("index", f"must be below the tree size {size}, not {index}")
    tree = _TreePass(session, size, leaf_index=index)
    proof = tree.proof(inclusion_ranges(index, size))
    return {
        "index": index,
        "size": size,
        "leaf_hash": tree.leaf.hex(),
        "root": tree.builder.root().hex(),
        "proof": to_hex(proof),
    }


def consistency_evidence(session: Session, size1: int, size2: int) -> dict[str, Any]:
    """Both roots and the proof that the first `size1` events are a prefix of the first `size2`."""
    _check_size(session, "size2", size2)
    if not 0 < size1 <= size2:
        raise ValidationFailed("size1", f"must be between 1 and size2 ({size2}), not {size1}")
    tree = _TreePass(session, size2, prefix_size=size1)
    proof = tree.proof(consistency_ranges(size1, size2) if size1 < size2 else [])
    return {
        "size1": size1,
        "size2": size2,
        "root1": tree.prefix_root.hex(),
        "root2": tree.builder.root().hex(),
        "proof": to_hex(proof),
    }
