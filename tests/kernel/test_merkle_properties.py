"""Merkle core: hypothesis properties, for SHA-256 (``intl``) and SM3 (``gm``).

Generated proofs are compared with a literal transcription of RFC 9162's recursive definitions
(MTH, PATH, SUBPROOF) written here independently of the module under test.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sunlit.kernel.merkle import (
    SHA256,
    SM3,
    CompactRange,
    HashFunction,
    InMemoryTree,
    NodeID,
    ProofError,
    consistency_proof,
    consistency_proof_length,
    inclusion_proof,
    inclusion_proof_length,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# No example database: nothing is written into the working tree.
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, database=None)
MAX_SIZE = 300

HASHES = [pytest.param(SHA256, id="sha256"), pytest.param(SM3, id="sm3")]


# --- RFC 9162 §2.1 recursive definitions, verbatim (the oracle) ------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(h: HashFunction, d: Sequence[bytes]) -> bytes:
    """MTH over leaf *hashes* (so MTH({d0}) is the leaf hash itself)."""
    n = len(d)
    if n == 0:
        return h.digest(b"")
    if n == 1:
        return d[0]
    k = _k(n)
    return h.digest(b"\x01" + ref_mth(h, d[:k]) + ref_mth(h, d[k:]))


def ref_path(h: HashFunction, m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(h, m, d[:k]), ref_mth(h, d[k:])]
    return [*ref_path(h, m - k, d[k:]), ref_mth(h, d[:k])]


def ref_subproof(h: HashFunction, m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(h, d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(h, m, d[:k], b), ref_mth(h, d[k:])]
    return [*ref_subproof(h, m - k, d[k:], False), ref_mth(h, d[:k])]


# --- helpers ----------------------------------------------------------------------------------


def _tree(h: HashFunction, n: int, salt: bytes) -> tuple[InMemoryTree, list[bytes]]:
    tree = InMemoryTree(h)
    tree.extend(salt + i.to_bytes(4, "big") for i in range(n))
    leaves = [leaf_hash(h, salt + i.to_bytes(4, "big")) for i in range(n)]
    return tree, leaves


def _ceil_log2(n: int) -> int:
    return (n - 1).bit_length()


def _flip(value: bytes, bit: int) -> bytes:
    bit %= 8 * len(value)
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


sizes = st.integers(min_value=1, max_value=MAX_SIZE)
salts = st.binary(max_size=8)


# --- properties -------------------------------------------------------------------------------


@pytest.mark.parametrize("h", HASHES)
@PROPERTY_SETTINGS
@given(n=sizes, salt=salts)
def test_every_inclusion_proof_verifies(h: HashFunction, n: int, salt: bytes) -> None:
    tree, leaves = _tree(h, n, salt)
    tree_root = tree.root()
    for index in range(n):
        proof = tree.inclusion_proof(index)
        assert len(proof) == inclusion_proof_length(index, n) <= _ceil_log2(n)
        verify_inclusion(h, index, n, leaves[index], proof, tree_root)


@pytest.mark.parametrize("h", HASHES)
@PROPERTY_SETTINGS
@given(data=st.data(), n=sizes, salt=salts)
def test_inclusion_proof_is_rfc_path(
    h: HashFunction, data: st.DataObject, n: int, salt: bytes
) -> None:
    tree, leaves = _tree(h, n, salt)
    size = data.draw(st.integers(1, n), label="tree_size")
    index = data.draw(st.integers(0, size - 1), label="index")
    expected = ref_path(h, index, leaves[:size])
    assert tree.inclusion_proof(index, size) == expected
    assert inclusion_proof(h, leaves, index, size) == expected
    verify_inclusion(h, index, size, leaves[index], expected, ref_mth(h, leaves[:size]))


@pytest.mark.parametrize("h", HASHES)
@PROPERTY_SETTINGS
@given(n=sizes, salt=salts)
def test_every_consistency_proof_verifies(h: HashFunction, n: int, salt: bytes) -> None:
    tree, _ = _tree(h, n, salt)
    new_root = tree.root()
    for m in range(1, n + 1):
        proof = tree.consistency_proof(m)
        if m < n:
            assert len(proof) == consistency_proof_length(m, n) <= _ceil_log2(n) + 1
        else:
            assert proof == []
        verify_consistency(h, m, n, proof, tree.root(m), new_root)


@pytest.mark.parametrize("h", HASHES)
@PROPERTY_SETTINGS
@given(data=st.data(), n=sizes, salt=salts)
def test_consistency_proof_is_rfc_subproof(
    h: HashFunction, data: st.DataObject, n: int, salt: bytes
) -> None:
    tree, leaves = _tree(h, n, salt)
    new = data.draw(st.integers(1, n), label="new_size")
    old = data.draw(st.integers(1, new), label="old_size")
    expected = ref_subproof(h, old, leaves[:new], True) if old < new else []
    assert tree.consistency_proof(old, new) == expected
    assert consistency_proof(h, leaves, old, new) == expected
    verify_consistency(h, old, new, expected, ref_mth(h, leaves[:old]), ref_mth(h, leaves[:new]))


@pytest.mark.parametrize("h", HASHES)
@PROPERTY_SETTINGS
@given(data=st.data(), n=sizes, salt=salts)
def test_any_flipped_bit_breaks_an_inclusion_proof(
    h: HashFunction, data: st.DataObject, n: int, salt: bytes
) -> None:
    tree, leaves = _tree(h, n, salt)
    index = data.draw(st.integers(0, n - 1), label="index")
    proof, tree_root, leaf = tree.inclusion_proof(index), tree.root(), leaves[index]
    # Targets: each proof element, the root, the leaf hash.
    target = data.draw(st.integers(0, len(proof) + 1), label="target")
    bit = data.draw(st.integers(0, 8 * h.digest_size - 1), label="bit")
    if target < len(proof):
        proof = [*proof[:target], _flip(proof[target], bit), *proof[target + 1 :]]
    elif target == len(proof):
        tree_root = _flip(tree_root, bit)
    else:
        leaf = _flip(leaf, bit)
    with pytest.raises(ProofError):
        verify_inclusion(h, index, n, leaf, proof, tree_root)


@pytest.mark.parametrize("h", HASHES)
@PROPERTY_SETTINGS
@given(data=st.data(), n=sizes, salt=salts)
def test_any_flipped_bit_breaks_a_consistency_proof(
    h: HashFunction, data: st.DataObject, n: int, salt: bytes
) -> None:
    tree, _ = _tree(h, n, salt)
    old = data.draw(st.integers(1, n), label="old_size")
    proof, root1, root2 = tree.consistency_proof(old), tree.root(old), tree.root()
    # Targets: each proof element, root1, root2.
    target = data.draw(st.integers(0, len(proof) + 1), label="target")
    bit = data.draw(st.integers(0, 8 * h.digest_size - 1), label="bit")
    if target < len(proof):
        proof = [*proof[:target], _flip(proof[target], bit), *proof[target + 1 :]]
    elif target == len(proof):
        root1 = _flip(root1, bit)
    else:
        root2 = _flip(root2, bit)
    with pytest.raises(ProofError):
        verify_consistency(h, old, n, proof, root1, root2)


@pytest.mark.parametrize("h", HASHES)
@PROPERTY_SETTINGS
@given(data=st.data(), n=sizes, salt=salts)
def test_wrong_sizes_or_indices_are_rejected(
    h: HashFunction, data: st.DataObject, n: int, salt: bytes
) -> None:
    tree, leaves = _tree(h, n, salt)
    index = data.draw(st.integers(0, n - 1), label="index")
    proof = tree.inclusion_proof(index)
    other_index = data.draw(st.integers(0, 2 * n).filter(lambda i: i != index), label="other")
    with pytest.raises(ProofError):
        verify_inclusion(h, other_index, n, leaves[index], proof, tree.root())
    # The root does not commit to the tree size (the signed checkpoint does): a proof whose
    # shape is the same in another size, e.g. leaf 0 in sizes 33 and 34, verifies there too.
    # Every size that changes the shape, or does not contain the index, must be refused.
    other_size = data.draw(
        st.integers(0, 2 * n).filter(
            lambda s: s <= index or inclusion_proof_length(index, s) != len(proof)
        ),
        label="other_size",
    )
    with pytest.raises(ProofError):
        verify_inclusion(h, index, other_size, leaves[index], proof, tree.root())


@pytest.mark.parametrize("h", HASHES)
@PROPERTY_SETTINGS
@given(data=st.data(), n=st.integers(0, MAX_SIZE), salt=salts)
def test_frontier_root_is_recursive_mth(
    h: HashFunction, data: st.DataObject, n: int, salt: bytes
) -> None:
    tree, leaves = _tree(h, n, salt)
    frontier = CompactRange(h)
    for leaf in leaves:
        frontier.append(leaf)
    assert frontier.root() == tree.root() == root(h, leaves) == ref_mth(h, leaves)
    m = data.draw(st.integers(0, n), label="earlier_size")
    assert tree.root(m) == ref_mth(h, leaves[:m])
    assert CompactRange.from_store(h, tree, m).root() == ref_mth(h, leaves[:m])


@pytest.mark.parametrize("h", HASHES)
@PROPERTY_SETTINGS
@given(n=st.integers(0, MAX_SIZE), salt=salts)
def test_bulk_extend_equals_single_appends(h: HashFunction, n: int, salt: bytes) -> None:
    bulk, leaves = _tree(h, n, salt)
    single = InMemoryTree(h)
    for i in range(n):
        assert single.append(salt + i.to_bytes(4, "big")) == i
    assert single.size == bulk.size == n
    assert single.root() == bulk.root()
    ids = [NodeID(level, index) for level in range(n.bit_length()) for index in range(n >> level)]
    assert single.get_nodes(ids) == bulk.get_nodes(ids)
    assert bulk.get_nodes([NodeID(0, i) for i in range(n)]) == leaves
