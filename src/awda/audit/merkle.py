"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashes, proofs and their verification.

Pure functions over 32-byte SHA-256 hashes; nothing here knows about storage. A leaf hash is
SHA-256(0x00 || data), an interior node SHA-256(0x01 || left || right) (RFC 9162 §2.1.1). Proof
generation works on a stream of leaf hashes in one pass with O(log n) memory: a proof is a list
of roots of disjoint subtrees, so we compute which leaf ranges those subtrees span first
(`inclusion_ranges`, `consistency_ranges`) and then hash the leaves of each range as they pass.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

LeafRange = tuple[int, int]  # [start, end) of leaf indexes


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf's data: SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


class RootBuilder:
    """The root of a growing tree, fed one leaf hash at a time, in O(log n) memory.

    It keeps the roots of the perfect subtrees that the binary decomposition of the size gives
    (largest first); RFC 9162 splits a tree at the largest power of two below its size, so the
    root is those subtree roots folded from the right.
    """

    def __init__(self) -> None:
        self._perfect_roots: list[bytes] = []
        self.size = 0

    def append(self, leaf: bytes) -> None:
        """Add the next leaf hash."""
        node, merged = leaf, self.size
        # Each trailing one bit of the old size is a perfect subtree the new leaf completes.
        while merged & 1:
            node = node_hash(self._perfect_roots.pop(), node)
            merged >>= 1
        self._perfect_roots.append(node)
        self.size += 1

    def root(self) -> bytes:
        """The root of the leaves appended so far (the hash of the empty string when none)."""
        if not self._perfect_roots:
            return EMPTY_ROOT
        root = self._perfect_roots[-1]
        for left in reversed(self._perfect_roots[:-1]):
            root = node_hash(left, root)
        return root


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    """The Merkle tree hash of a sequence (or stream) of leaf hashes."""
    builder = RootBuilder()
    for leaf in leaf_hashes:
        builder.append(leaf)
    return builder.root()


def _split(size: int) -> int:
    """The largest power of two smaller than `size` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[LeafRange]:
    """The leaf ranges whose subtree roots form the inclusion proof of `index` (RFC 9162 §2.1.3.1),
    in proof order (nearest the leaf first)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not below the tree size {size}")
    start, end, siblings = 0, size, []
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            siblings.append((middle, end))
            end = middle
        else:
            siblings.append((start, middle))
            start = middle
    return siblings[::-1]


def consistency_ranges(size1: int, size2: int) -> list[LeafRange]:
    """The leaf ranges whose subtree roots form the consistency proof from `size1` to `size2`
    (RFC 9162 §2.1.4.1, SUBPROOF), in proof order."""
    if not 0 < size1 <= size2:
        raise ValueError(f"a consistency proof needs 0 < size1 <= size2, not {size1} and {size2}")
    start, end, siblings, whole_old_tree = 0, size2, [], True
    while size1 - start != end - start:
        middle = start + _split(end - start)
        if size1 <= middle:
            siblings.append((middle, end))
            end = middle
        else:
            siblings.append((start, middle))
            start, whole_old_tree = middle, False
    # When the old tree is itself a subtree here, the verifier already knows its root.
    base = [] if whole_old_tree else [(start, end)]
    return base + siblings[::-1]


def range_roots(leaf_hashes: Iterator[bytes], ranges: Sequence[LeafRange]) -> list[bytes]:
    """The root of each of the disjoint `ranges`, in their order, from one pass over the leaves.

    Consumes `leaf_hashes` only up to the end of the last range.
    """
    order = sorted(range(len(ranges)), key=lambda position: ranges[position][0])
    roots = [b""] * len(ranges)
    pending = iter(order)
    current = next(pending, None)
    builder = RootBuilder()
    position = 0
    while current is not None:
        leaf = next(leaf_hashes, None)
        if leaf is None:
            raise ValueError("the leaves ended before the proof's last subtree")
        start, end = ranges[current]
        if position >= start:
            builder.append(leaf)
        if position == end - 1:
            roots[current], builder = builder.root(), RootBuilder()
            current = next(pending, None)
        position += 1
    return roots


def inclusion_proof(leaf_hashes: Iterable[bytes], index: int, size: int) -> list[bytes]:
    """The inclusion proof of leaf `index` in the tree of the first `size` leaf hashes."""
    return range_roots(iter(leaf_hashes), inclusion_ranges(index, size))


def consistency_proof(leaf_hashes: Iterable[bytes], size1: int, size2: int) -> list[bytes]:
    """The consistency proof between the trees of the first `size1` and `size2` leaf hashes."""
    if size1 == size2:
        return []
    return range_roots(iter(leaf_hashes), consistency_ranges(size1, size2))


def _all_hashes(values: Iterable[bytes]) -> bool:
    return all(len(value) == HASH_SIZE for value in values)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether `proof` shows leaf hash `leaf` at `index` in the tree of `size` with `root`
    (RFC 9162 §2.1.3.2). Never raises on bad input: returns False."""
    if not 0 <= index < size or not _all_hashes([leaf, *proof]):
        return False
    position, last, computed = index, size - 1, leaf
    for sibling in proof:
        if last == 0:
            return False  # the proof is longer than the path to the root
        if position & 1 or position == last:
            computed = node_hash(sibling, computed)
            while not position & 1 and position != 0:
                position, last = position >> 1, last >> 1
        else:
            computed = node_hash(computed, sibling)
        position, last = position >> 1, last >> 1
    return last == 0 and hmac.compare_digest(computed, root)


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> bool:
    """Whether `proof` shows the tree of `size1` with `root1` is a prefix of the tree of `size2`
    with `root2` (RFC 9162 §2.1.4.2). A proof from the empty tree is refused (it proves nothing);
    equal sizes need an empty proof and equal roots. Never raises on bad input: returns False."""
    if size1 <= 0 or size2 < size1:
        return False
    if size1 == size2:
        return not proof and hmac.compare_digest(root1, root2)
    if not proof or not _all_hashes([*proof, root1, root2]):
        return False
    # A power-of-two old tree is a whole subtree: its root is the proof's implicit first node.
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    position, last = size1 - 1, size2 - 1
    while position & 1:
        position, last = position >> 1, last >> 1
    old_root = new_root = path[0]
    for node in path[1:]:
        if last == 0:
            return False
        if position & 1 or position == last:
            old_root, new_root = node_hash(node, old_root), node_hash(node, new_root)
            while not position & 1 and position != 0:
                position, last = position >> 1, last >> 1
        else:
            new_root = node_hash(new_root, node)
        position, last = position >> 1, last >> 1
    return last == 0 and hmac.compare_digest(old_root, root1) and hmac.compare_digest(new_root, root2)


def from_hex(text: str, what: str, size: int | None = None) -> bytes:
    """Bytes from hex text; ValueError naming `what` when it is not hex (or, given `size`, not that long)."""
    try:
        value = bytes.fromhex(text.strip())
    except ValueError:
        raise ValueError(f"{what} is not hexadecimal") from None
    if size is not None and len(value) != size:
        raise ValueError(f"{what} must be {size} bytes ({2 * size} hex digits), not {len(value)}")
    return value


def proof_from_hex(text: str, size: int | None = None) -> list[bytes]:
    """A proof given as comma-separated hex hashes (empty text: an empty proof)."""
    parts = text.split(",") if text.strip() else []
    return [from_hex(part, f"proof element {number}", size) for number, part in enumerate(parts, 1)]


def to_hex(values: Iterable[bytes]) -> list[str]:
    return [value.hex() for value in values]
