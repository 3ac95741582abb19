"""Checking the log in one pass: recomputed leaves against signed tree heads and the leaf cache.

Inputs are streams, so memory stays O(log n) whatever the log's size: the events' recomputed leaf
hashes and the cached (committed) leaf hashes, both as (event id, leaf hash) in leaf order, and the
tree heads whose signatures were already checked. How the first bad index is named (docs/audit.md):

- The leaf cache holds the hash of every leaf a head committed. Where the cache reproduces a
  signed root at a head's size, its leaves up to that size are authentic (SHA-256 collision
  resistance); the first index at which the recomputed leaf differs from the authentic one is
  exactly the first changed, deleted or moved event.
- If the cache was altered too, only the heads remain: the first bad index lies between the
  largest head size whose root still matches and the smallest one whose root no longer does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

from awda.audit.merkle import RootBuilder
from awda.audit.models import TreeHead

Leaf = tuple[int, bytes]  # (event id, leaf hash)


@dataclass
class LogWalk:
    """The state of one pass; `problems()` is its verdict."""

    recomputed: RootBuilder = field(default_factory=RootBuilder)
    committed: RootBuilder = field(default_factory=RootBuilder)
    first_difference: tuple[int, int | None, int] | None = None  # (index, found event id, expected event id)
    authenticated_size: int = 0
    matching_sizes: list[int] = field(default_factory=list)
    head_problems: list[dict[str, Any]] = field(default_factory=list)

    def step(self, index: int, event: Leaf | None, cached: Leaf | None) -> None:
        """Take leaf `index` from both streams (None once a stream has ended)."""
        if event is not None:
            self.recomputed.append(event[1])
        if cached is not None:
            self.committed.append(cached[1])
            differs = event is None or event[1] != cached[1]
            if differs and self.first_difference is None:
                self.first_difference = (index, event[0] if event else None, cached[0])

    def check_head(self, head: TreeHead) -> None:
        """Compare a head's signed root with the recomputed tree and the cache at its size."""
        if self.committed.size == head.tree_size and self.committed.root() == head.root_hash:
            self.authenticated_size = max(self.authenticated_size, head.tree_size)
        if self.recomputed.size == head.tree_size and self.recomputed.root() == head.root_hash:
            self.matching_sizes.append(head.tree_size)
            return
        stored = self.recomputed.size
        self.head_problems.append(
            {
                "kind": "root_mismatch",
                "head_id": head.id,
                "tree_size": head.tree_size,
                "message": f"tree head {head.id} (size {head.tree_size}) does not match the stored events"
                + (f" (only {stored} are stored)" if stored < head.tree_size else ""),
            }
        )

    def problems(self) -> list[dict[str, Any]]:
        """The first bad index (or range) first, then every head that no longer matches."""
        first = self._first_bad()
        cache = self._cache_problem()
        return [*([first] if first else []), *self.head_problems, *([cache] if cache else [])]

    def _first_bad(self) -> dict[str, Any] | None:
        difference = self.first_difference
        if difference is not None and difference[0] < self.authenticated_size:
            index, found, expected = difference
            if found is None:
                what = f"event {expected} is missing (deleted)"
            elif found == expected:
                what = f"event {expected} was changed"
            else:
                what = f"event {found} stands where event {expected} was (deleted, inserted or moved)"
            return {
                "kind": "first_bad_index",
                "index": index,
                "event_id": expected,
                "message": f"leaf {index}: {what}",
            }
        return self._first_bad_from_heads()

    def _first_bad_from_heads(self) -> dict[str, Any] | None:
        if not self.head_problems:
            return None
        upper = min(problem["tree_size"] for problem in self.head_problems)
        lower = max((size for size in self.matching_sizes if size < upper), default=0)
        if upper - lower == 1:
            return {
                "kind": "first_bad_index",
                "index": lower,
                "event_id": None,
                "message": f"leaf {lower} was changed, deleted or moved (found from the tree heads)",
            }
        return {
            "kind": "first_bad_range",
            "first": lower,
            "last": upper - 1,
            "message": f"the first bad leaf is between {lower} and {upper - 1} (the leaf cache was altered too)",
        }

    def _cache_problem(self) -> dict[str, Any] | None:
        difference = self.first_difference
        if difference is None or difference[0] < self.authenticated_size:
            return None
        return {
            "kind": "leaf_cache",
            "index": difference[0],
            "message": f"the leaf cache differs from the events at leaf {difference[0]}; no tree head vouches for it",
        }


def walk_log(events: Iterator[Leaf], cached: Iterator[Leaf], heads: Sequence[TreeHead]) -> LogWalk:
    """One pass over both streams, checking each head (sorted by size) when its size is reached."""
    walk = LogWalk()
    pending = deque(sorted(heads, key=lambda head: (head.tree_size, head.id)))
    while pending and pending[0].tree_size == 0:
        walk.check_head(pending.popleft())
    for index, (event, cached_leaf) in enumerate(zip_longest(events, cached)):
        walk.step(index, event, cached_leaf)
        while pending and pending[0].tree_size == index + 1:
            walk.check_head(pending.popleft())
    for head in pending:  # heads larger than both streams: events were deleted from the end
        walk.check_head(head)
    return walk
