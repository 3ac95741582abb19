"""RFC 9162 Merkle trees: every transparency-dev/merkle vector, and properties over random trees."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awda.audit import merkle
from tests.shared_data import reference_data

VECTORS_FILE = reference_data("merkle") / "rfc6962_vectors.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))


def _probe_id(probe: dict[str, Any]) -> str:
    return str(probe["source_path"]).removeprefix("testdata/").removesuffix(".json")


def _hashes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH exactly as RFC 9162 §2.1.1 writes it (recursive), to check the streaming builder."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    left, right = reference_root(leaves[:split]), reference_root(leaves[split:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def test_leaf_hashes_and_roots_of_the_vectors() -> None:
    inputs = _hashes(VECTORS["leaf_inputs_hex"])
    leaves = [merkle.leaf_hash(data) for data in inputs]
    assert [leaf.hex() for leaf in leaves] == VECTORS["leaf_hashes_hex"]
    assert merkle.EMPTY_ROOT.hex() == VECTORS["empty_root_hex"]
    for size, root in VECTORS["root_hashes_hex_by_size"].items():
        assert merkle.root_of(leaves[: int(size)]).hex() == root


@pytest.mark.parametrize("probe", VECTORS["inclusion_upstream"], ids=_probe_id)
def test_inclusion_vector(probe: dict[str, Any]) -> None:
    verdict = merkle.verify_inclusion(
        bytes.fromhex(probe["leafHash"]),
        probe["leafIdx"],
        probe["treeSize"],
        _hashes(probe["proof"]),
        bytes.fromhex(probe["root"]),
    )
    assert verdict is not probe["wantErr"]


@pytest.mark.parametrize("probe", VECTORS["consistency_upstream"], ids=_probe_id)
def test_consistency_vector(probe: dict[str, Any]) -> None:
    verdict = merkle.verify_consistency(
        probe["size1"],
        probe["size2"],
        _hashes(probe["proof"]),
        bytes.fromhex(probe["root1"]),
        bytes.fromhex(probe["root2"]),
    )
    assert verdict is not probe["wantErr"]


def _standard_tree(size: int, root: str) -> bool:
    """Whether a probe is about the vectors' own 8-leaf tree (so we can generate its proof)."""
    return 0 < size <= len(VECTORS["leaf_hashes_hex"]) and VECTORS["root_hashes_hex_by_size"][str(size)] == root


def test_the_happy_vectors_are_the_proofs_we_generate() -> None:
    leaves = _hashes(VECTORS["leaf_hashes_hex"])
    for probe in VECTORS["inclusion_upstream"]:
        index, size = probe["leafIdx"], probe["treeSize"]
        if not probe["wantErr"] and _standard_tree(size, probe["root"]) and leaves[index].hex() == probe["leafHash"]:
            assert merkle.to_hex(merkle.inclusion_proof(leaves, index, size)) == probe["proof"]
    for probe in VECTORS["consistency_upstream"]:
        size1, size2 = probe["size1"], probe["size2"]
        standard = _standard_tree(size1, probe["root1"]) and _standard_tree(size2, probe["root2"])
        if not probe["wantErr"] and standard:
            assert merkle.to_hex(merkle.consistency_proof(leaves, size1, size2)) == probe["proof"]


def test_every_proof_of_small_trees_verifies() -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(40)]
    for size in range(1, 41):
        root = merkle.root_of(leaves[:size])
        assert root == reference_root(leaves[:size])
        for index in range(size):
            assert merkle.verify_inclusion(
                leaves[index], index, size, merkle.inclusion_proof(leaves, index, size), root
            )
        for size1 in range(1, size + 1):
            proof = merkle.consistency_proof(leaves, size1, size)
            assert merkle.verify_consistency(size1, size, proof, merkle.root_of(leaves[:size1]), root)


def test_builder_gives_every_prefix_root() -> None:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(70)]
    builder = merkle.RootBuilder()
    assert builder.root() == merkle.EMPTY_ROOT
    for size, leaf in enumerate(leaves, 1):
        builder.append(leaf)
        assert builder.root() == reference_root(leaves[:size])


def test_proof_generation_refuses_impossible_requests() -> None:
    leaves = [merkle.leaf_hash(b"x")] * 4
    for index, size in [(4, 4), (-1, 4), (0, 0)]:
        with pytest.raises(ValueError, match="not below"):
            merkle.inclusion_proof(leaves, index, size)
    for size1, size2 in [(0, 4), (5, 4)]:
        with pytest.raises(ValueError, match="size1"):
            merkle.consistency_proof(leaves, size1, size2)
    with pytest.raises(ValueError, match="ended"):
        merkle.inclusion_proof(leaves, 0, 8)


def test_hex_helpers() -> None:
    assert merkle.proof_from_hex("") == []
    assert merkle.proof_from_hex("00ff,11") == [b"\x00\xff", b"\x11"]
    with pytest.raises(ValueError, match="proof element 2 is not hexadecimal"):
        merkle.proof_from_hex("00,zz")
    with pytest.raises(ValueError, match="must be 32 bytes"):
        merkle.from_hex("00", "root", merkle.HASH_SIZE)


def _flip(value: bytes, bit: int) -> bytes:
    position = bit % (8 * len(value))
    flipped = bytearray(value)
    flipped[position // 8] ^= 1 << (position % 8)
    return bytes(flipped)


trees = st.lists(st.binary(max_size=12), min_size=1, max_size=80).map(lambda data: [merkle.leaf_hash(d) for d in data])


@settings(max_examples=150, deadline=None)
@given(leaves=trees, choice=st.integers(min_value=0), bit=st.integers(min_value=0))
def test_inclusion_proofs_verify_and_bit_flips_are_rejected(leaves: list[bytes], choice: int, bit: int) -> None:
    size = len(leaves)
    index = choice % size
    root = reference_root(leaves)
    proof = merkle.inclusion_proof(leaves, index, size)
    assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
    assert not merkle.verify_inclusion(_flip(leaves[index], bit), index, size, proof, root)
    assert not merkle.verify_inclusion(leaves[index], index, size, proof, _flip(root, bit))
    if proof:
        element = choice % len(proof)
        damaged = [*proof[:element], _flip(proof[element], bit), *proof[element + 1 :]]
        assert not merkle.verify_inclusion(leaves[index], index, size, damaged, root)


@settings(max_examples=150, deadline=None)
@given(leaves=trees, first=st.integers(min_value=0), second=st.integers(min_value=0), bit=st.integers(min_value=0))
def test_consistency_proofs_verify_and_bit_flips_are_rejected(
    leaves: list[bytes], first: int, second: int, bit: int
) -> None:
    size2 = 1 + second % len(leaves)
    size1 = 1 + first % size2
    root1, root2 = reference_root(leaves[:size1]), reference_root(leaves[:size2])
    proof = merkle.consistency_proof(leaves, size1, size2)
    assert merkle.verify_consistency(size1, size2, proof, root1, root2)
    assert not merkle.verify_consistency(size1, size2, proof, _flip(root1, bit), root2)
    assert not merkle.verify_consistency(size1, size2, proof, root1, _flip(root2, bit))
    if proof:
        element = first % len(proof)
        damaged = [*proof[:element], _flip(proof[element], bit), *proof[element + 1 :]]
        assert not merkle.verify_consistency(size1, size2, damaged, root1, root2)
