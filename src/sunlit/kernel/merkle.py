"""Pure Merkle-tree core of the transparency log (RFC 9162 / RFC 6962 hashing).

Everything here is pure computation: no database, no I/O. The platform's transparency domain
builds on it: it stores leaves and subtree hashes, signs checkpoints and serves proofs.

Hashing (RFC 9162 §2.1.1), for a hash function ``H`` chosen by the crypto suite
(SHA-256 for ``intl``, SM3 for ``gm``)::

    leaf hash        = H(0x00 || leaf)
    node hash        = H(0x01 || left || right)
    MTH({})          = H("")
    MTH(D[0:n])      = H(0x01 || MTH(D[0:k]) || MTH(D[k:n])),  k = largest power of two < n

Terms used below:

* A *perfect subtree* is identified by a :class:`NodeID` ``(level, index)``: it covers the
  ``2**level`` leaves ``[index * 2**level, (index + 1) * 2**level)``. Level 0 nodes are leaf hashes.
* A *node store* (:class:`NodeStore`) returns the hashes of perfect subtrees. Proof generation
  asks it for O(log n) nodes in one batch, so a database table of stored subtree hashes can
  back it later. :class:`InMemoryTree` is the in-memory implementation.
* A :class:`CompactRange` (the *frontier*) holds the O(log n) perfect subtrees that make up
  ``[0, size)``: enough to append a leaf and to compute the root in O(log n).

Proof generation follows RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1 (SUBPROOF); verification follows
the iterative algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2, with every check they require.
Verification failures raise a subclass of :class:`ProofError` whose message says what is wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol, TypeAlias, runtime_checkable

from cryptography.hazmat.primitives import hashes

__all__ = [
    "HASH_FUNCTIONS_BY_SUITE",
    "LEAF_PREFIX",
    "MAX_TREE_SIZE",
    "NODE_PREFIX",
    "SHA256",
    "SM3",
    "CompactRange",
    "HashFunction",
    "HashLengthError",
    "InMemoryTree",
    "IndexBeyondSizeError",
    "NodeID",
    "NodeNotFoundError",
    "NodeStore",
    "NodeVisitor",
    "ProofError",
    "ProofLengthError",
    "ProofSource",
    "RootMismatchError",
    "TreeSizeError",
    "consistency_proof",
    "consistency_proof_length",
    "empty_root",
    "hash_function_for_suite",
    "inclusion_proof",
    "inclusion_proof_length",
    "leaf_hash",
    "node_hash",
    "root",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "root_from_store",
    "verify_consistency",
    "verify_inclusion",
]

LEAF_PREFIX: Final = b"\x00"
"""Domain-separation prefix of leaf hashes (RFC 9162 §2.1.1)."""

NODE_PREFIX: Final = b"\x01"
"""Domain-separation prefix of interior node hashes (RFC 9162 §2.1.1)."""

MAX_TREE_SIZE: Final = 2**64 - 1
"""Tree sizes and leaf indices are uint64 on the wire (RFC 9162 §4); larger ones are refused."""


# --------------------------------------------------------------------------------------------
# Hash functions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HashFunction:
    """A hash function for the tree: a name, its output size, and the one-shot digest."""

    name: str
    digest_size: int
    digest: Callable[[bytes], bytes]

    def __repr__(self) -> str:
        return f"HashFunction({self.name!r})"


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _sm3(data: bytes) -> bytes:
    ctx = hashes.Hash(hashes.SM3())
    ctx.update(data)
    return ctx.finalize()


SHA256: Final = HashFunction("sha256", 32, _sha256)
"""SHA-256 (FIPS 180-4): the ``intl`` suite and the RFC 9162 conformance vectors."""

SM3: Final = HashFunction("sm3", 32, _sm3)
"""SM3 (GB/T 32905-2016) through ``cryptography``: the ``gm`` suite."""

HASH_FUNCTIONS_BY_SUITE: Final[dict[str, HashFunction]] = {"gm": SM3, "intl": SHA256}
"""The tree hash of each crypto suite (DESIGN.md §5 S2)."""


def hash_function_for_suite(suite: str) -> HashFunction:
    """Return the tree hash of a crypto suite (``"gm"`` or ``"intl"``)."""
    try:
        return HASH_FUNCTIONS_BY_SUITE[suite]
    except KeyError:
        known = ", ".join(sorted(HASH_FUNCTIONS_BY_SUITE))
        raise ValueError(f"unknown crypto suite {suite!r} (known: {known})") from None


def empty_root(hash_fn: HashFunction) -> bytes:
    """Return MTH({}) = H(""), the root of the empty tree."""
    return hash_fn.digest(b"")


def leaf_hash(hash_fn: HashFunction, leaf: bytes) -> bytes:
    """Return the leaf hash H(0x00 || leaf) of the leaf's canonical encoding."""
    return hash_fn.digest(LEAF_PREFIX + leaf)


def node_hash(hash_fn: HashFunction, left: bytes, right: bytes) -> bytes:
    """Return the interior node hash H(0x01 || left || right)."""
    return hash_fn.digest(NODE_PREFIX + left + right)


def root(hash_fn: HashFunction, leaf_hashes: Iterable[bytes]) -> bytes:
    """Return the Merkle Tree Hash of a whole list of leaf hashes (O(n) time, O(log n) memory)."""
    frontier = CompactRange(hash_fn)
    for h in leaf_hashes:
        frontier.append(h)
    return frontier.root()


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ProofError(ValueError):
    """A proof failed verification. Subclasses say why; the message gives the details."""


class TreeSizeError(ProofError):
    """The tree sizes themselves are unacceptable (negative, shrinking, size1 = 0, > uint64)."""


class IndexBeyondSizeError(ProofError):
    """The leaf index is not smaller than the tree size."""


class HashLengthError(ProofError):
    """A leaf hash or proof hash does not have the digest size of the hash function."""


class ProofLengthError(ProofError):
    """The proof has more or fewer hashes than the tree shape requires."""


class RootMismatchError(ProofError):
    """The root recomputed from the proof differs from the expected root."""

    def __init__(self, what: str, expected: bytes, calculated: bytes) -> None:
        self.what = what
        self.expected = expected
        self.calculated = calculated
        super().__init__(
            f"{what} mismatch: calculated {calculated.hex()} ({len(calculated)} bytes), "
            f"expected {expected.hex()} ({len(expected)} bytes)"
        )


class NodeNotFoundError(LookupError):
    """A node store does not hold the requested perfect subtree."""


# --------------------------------------------------------------------------------------------
# Node identifiers and node stores
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class NodeID:
    """A perfect subtree: ``2**level`` leaves starting at leaf ``index * 2**level``."""

    level: int
    index: int

    def __str__(self) -> str:
        return f"(level {self.level}, index {self.index})"

    @property
    def begin(self) -> int:
        """First leaf covered."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """One past the last leaf covered."""
        return (self.index + 1) << self.level


@runtime_checkable
class NodeStore(Protocol):
    """Source of perfect-subtree hashes for proof generation.

    ``get_nodes`` returns the hashes of the given nodes, in the given order. Level-0 nodes are
    leaf hashes. Proof generation only ever asks for nodes that are complete in the tree size it
    is working on, and asks for all of them in a single call (one query for a database store).
    A store raises :class:`NodeNotFoundError` for a node it does not hold.
    """

    def get_nodes(self, ids: Sequence[NodeID]) -> Sequence[bytes]:
        """Return the hash of each node in ``ids``, in order."""
        ...


ProofSource: TypeAlias = NodeStore | Sequence[bytes]
"""Where proofs are generated from: a node store, or a plain list of leaf hashes (O(n))."""


class _LeafListStore:
    """Adapter: a list of leaf hashes seen as a node store (recomputes each node; small trees)."""

    __slots__ = ("_hash_fn", "_leaves")

    def __init__(self, hash_fn: HashFunction, leaves: Sequence[bytes]) -> None:
        self._hash_fn = hash_fn
        self._leaves = leaves

    def get_nodes(self, ids: Sequence[NodeID]) -> list[bytes]:
        out = []
        for node in ids:
            if node.level < 0 or node.index < 0 or node.end > len(self._leaves):
                raise NodeNotFoundError(
                    f"node {node} is not complete in a list of {len(self._leaves)} leaves"
                )
            out.append(root(self._hash_fn, self._leaves[node.begin : node.end]))
        return out


def _as_store(hash_fn: HashFunction, source: ProofSource, tree_size: int) -> NodeStore:
    # Checked against Sequence rather than the NodeStore protocol: a runtime protocol check
    # costs more than generating a whole proof from an in-memory store.
    if isinstance(source, bytes | bytearray | str):
        raise TypeError("expected a NodeStore or a sequence of leaf hashes, not a single string")
    if not isinstance(source, Sequence):
        return source
    if tree_size > len(source):
        raise ValueError(f"tree size {tree_size} exceeds the {len(source)} leaf hashes given")
    return _LeafListStore(hash_fn, source)


def _fetch(store: NodeStore, ids: Sequence[NodeID], digest_size: int) -> Sequence[bytes]:
    got = store.get_nodes(ids)
    if len(got) != len(ids):
        raise NodeNotFoundError(f"node store returned {len(got)} hashes for {len(ids)} nodes")
    for node, h in zip(ids, got, strict=True):
        if len(h) != digest_size:
            raise NodeNotFoundError(
                f"node store returned {len(h)} bytes for node {node}, expected {digest_size}"
            )
    return got


# --------------------------------------------------------------------------------------------
# Proof plans: which perfect subtrees a proof needs (pure functions of the sizes)
# --------------------------------------------------------------------------------------------

# One proof element = the MTH of one subtree of the RFC recursion. Such a subtree is either a
# perfect subtree (one node) or, on the right border of the tree, a non-perfect one that is
# recomputed from the perfect subtrees covering it (O(log n) nodes, at most one per proof).
_ProofPlan: TypeAlias = list[tuple[NodeID, ...]]


def _largest_power_of_two_below(n: int) -> int:
    """The split point k of RFC 9162 §2.1.1: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_nodes(begin: int, end: int) -> tuple[NodeID, ...]:
    """Perfect subtrees, left to right, whose fold is MTH(D[begin:end]).

    Valid for every subtree that the RFC recursion produces: ``begin`` is a multiple of the
    smallest power of two >= ``end - begin``, so the decomposition follows the binary digits of
    ``end - begin`` from the highest down.
    """
    count = end - begin
    if count > 0 and count & (count - 1) == 0:  # a perfect subtree: the common case
        level = count.bit_length() - 1
        return (NodeID(level, begin >> level),)
    out = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin & ((1 << level) - 1):  # pragma: no cover - guards the invariant above
            raise AssertionError(f"[{begin}, {end}) is not a subtree of the RFC recursion")
        out.append(NodeID(level, begin >> level))
        begin += 1 << level
    return tuple(out)


def _fold(hash_fn: HashFunction, subtree_hashes: Sequence[bytes]) -> bytes:
    """MTH of consecutive perfect subtrees of strictly decreasing size, given left to right."""
    if len(subtree_hashes) == 1:
        return subtree_hashes[0]
    digest = hash_fn.digest
    acc = subtree_hashes[-1]
    for h in reversed(subtree_hashes[:-1]):
        acc = digest(NODE_PREFIX + h + acc)
    return acc


def _check_uint64(name: str, value: int) -> None:
    if value < 0 or value > MAX_TREE_SIZE:
        raise TreeSizeError(f"{name} {value} is outside 0..2**64-1")


def _inclusion_plan(index: int, tree_size: int) -> _ProofPlan:
    """Subtrees of PATH(index, D[0:tree_size]) (RFC 9162 §2.1.3.1), leaf side first."""
    plan: _ProofPlan = []
    begin, end = 0, tree_size
    while end - begin > 1:
        k = _largest_power_of_two_below(end - begin)
        if index < begin + k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            plan.append(_subtree_nodes(begin + k, end))
            end = begin + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            plan.append(_subtree_nodes(begin, begin + k))
            begin += k
    plan.reverse()
    return plan


def _consistency_plan(old_size: int, new_size: int) -> _ProofPlan:
    """Subtrees of PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true) (RFC 9162 §2.1.4.1)."""
    plan: _ProofPlan = []
    begin, end, m, complete = 0, new_size, old_size, True
    while True:
        n = end - begin
        if m == n:  # SUBPROOF(m, D[m], b) = {} if b else {MTH(D[m])}
            if not complete:
                plan.append(_subtree_nodes(begin, end))
            break
        k = _largest_power_of_two_below(n)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            plan.append(_subtree_nodes(begin + k, end))
            end = begin + k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            plan.append(_subtree_nodes(begin, begin + k))
            begin += k
            m -= k
            complete = False
    plan.reverse()
    return plan


def _materialize(hash_fn: HashFunction, store: NodeStore, plan: _ProofPlan) -> list[bytes]:
    """Fetch every node of a plan in one batch and fold each proof element."""
    ids = [node for element in plan for node in element]
    if not ids:
        return []
    got = _fetch(store, ids, hash_fn.digest_size)
    proof = []
    pos = 0
    for element in plan:
        proof.append(_fold(hash_fn, got[pos : pos + len(element)]))
        pos += len(element)
    return proof


def inclusion_proof_length(index: int, tree_size: int) -> int:
    """Number of hashes in the inclusion proof of leaf ``index`` in a tree of ``tree_size``.

    The path splits where the paths to ``index`` and to ``tree_size - 1`` diverge: below, one
    sibling per level (``inner``); above, one left sibling per set bit of the remaining index.
    """
    inner = (index ^ (tree_size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_length(old_size: int, new_size: int) -> int:
    """Number of hashes in the consistency proof between ``0 < old_size < new_size``."""
    shift = (old_size & -old_size).bit_length() - 1  # trailing zero bits of old_size
    length = inclusion_proof_length(old_size - 1, new_size) - shift
    return length if old_size == 1 << shift else length + 1


# --------------------------------------------------------------------------------------------
# Proof generation
# --------------------------------------------------------------------------------------------


def inclusion_proof(
    hash_fn: HashFunction, source: ProofSource, index: int, tree_size: int
) -> list[bytes]:
    """Return the inclusion proof (audit path) of leaf ``index`` in the tree of ``tree_size``.

    ``source`` is a :class:`NodeStore` (O(log n) node look-ups in one batch) or a list of leaf
    hashes (O(n) hashing). The proof is ordered from the leaf's sibling up to the root's child,
    as in RFC 9162 §2.1.3.1.
    """
    _check_uint64("tree size", tree_size)
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf index {index} is beyond tree size {tree_size} (need index < size)")
    store = _as_store(hash_fn, source, tree_size)
    return _materialize(hash_fn, store, _inclusion_plan(index, tree_size))


def consistency_proof(
    hash_fn: HashFunction, source: ProofSource, old_size: int, new_size: int
) -> list[bytes]:
    """Return the consistency proof between the trees of ``old_size`` and ``new_size`` leaves.

    Defined by RFC 9162 §2.1.4.1 for ``0 < old_size < new_size``; ``old_size == new_size`` gives
    the empty proof. ``old_size == 0`` is refused: every tree extends the empty tree, and the
    verifier rejects such a proof anyway.
    """
    _check_uint64("old size", old_size)
    _check_uint64("new size", new_size)
    if old_size > new_size:
        raise ValueError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == 0:
        raise ValueError(
            "no consistency proof from the empty tree (old size 0): RFC 9162 needs 0 < old size"
        )
    if old_size == new_size:
        return []
    store = _as_store(hash_fn, source, new_size)
    return _materialize(hash_fn, store, _consistency_plan(old_size, new_size))


def root_from_store(hash_fn: HashFunction, store: NodeStore, tree_size: int) -> bytes:
    """Return MTH(D[0:tree_size]) from O(log n) perfect-subtree hashes of a node store."""
    _check_uint64("tree size", tree_size)
    if tree_size == 0:
        return empty_root(hash_fn)
    ids = _subtree_nodes(0, tree_size)
    return _fold(hash_fn, _fetch(store, ids, hash_fn.digest_size))


# --------------------------------------------------------------------------------------------
# Verification (RFC 9162 §2.1.3.2 and §2.1.4.2)
# --------------------------------------------------------------------------------------------


def _check_hash(hash_fn: HashFunction, value: bytes, what: str) -> None:
    if len(value) != hash_fn.digest_size:
        raise HashLengthError(
            f"{what} has {len(value)} bytes, expected {hash_fn.digest_size} for {hash_fn.name}"
        )


def _shift_until_odd_or_zero(fn: int, sn: int) -> tuple[int, int]:
    while not fn & 1 and fn != 0:
        fn >>= 1
        sn >>= 1
    return fn, sn


def root_from_inclusion_proof(
    hash_fn: HashFunction, index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes:
    """Recompute the root from an inclusion proof, per RFC 9162 §2.1.3.2.

    ``leaf`` is the leaf *hash*. Raises a :class:`ProofError` subclass when the sizes, the hash
    lengths or the proof length are wrong; the caller compares the result with the root.
    """
    _check_uint64("leaf index", index)
    _check_uint64("tree size", tree_size)
    # Step 1: leaf_index must be smaller than tree_size.
    if index >= tree_size:
        raise IndexBeyondSizeError(
            f"leaf index {index} is beyond tree size {tree_size} (need index < size)"
        )
    _check_hash(hash_fn, leaf, "leaf hash")
    for i, p in enumerate(proof):
        _check_hash(hash_fn, p, f"proof[{i}]")
    want = inclusion_proof_length(index, tree_size)
    if len(proof) != want:
        raise ProofLengthError(
            f"wrong inclusion proof length: got {len(proof)} hashes, expected {want} "
            f"for leaf {index} in a tree of size {tree_size}"
        )
    digest = hash_fn.digest
    # Steps 2-3.
    fn, sn = index, tree_size - 1
    r = leaf
    # Step 4.
    for p in proof:
        if sn == 0:  # 4a (unreachable once the length is checked; kept as the RFC states it)
            raise ProofLengthError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:  # 4b
            r = digest(NODE_PREFIX + p + r)
            if not fn & 1:
                fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            r = digest(NODE_PREFIX + r + p)
        fn >>= 1  # 4c
        sn >>= 1
    # Step 5 (the root comparison is the caller's).
    if sn != 0:
        raise ProofLengthError("inclusion proof is shorter than the path to the root")
    return r


def verify_inclusion(
    hash_fn: HashFunction,
    index: int,
    tree_size: int,
    leaf: bytes,
    proof: Sequence[bytes],
    root_hash: bytes,
) -> None:
    """Verify that leaf hash ``leaf`` is at ``index`` in the tree of ``tree_size`` and root.

    RFC 9162 §2.1.3.2. Returns ``None`` on success; raises :class:`IndexBeyondSizeError`,
    :class:`TreeSizeError`, :class:`HashLengthError`, :class:`ProofLengthError` or
    :class:`RootMismatchError` (all :class:`ProofError`) otherwise.
    """
    calculated = root_from_inclusion_proof(hash_fn, index, tree_size, leaf, proof)
    if calculated != root_hash:
        raise RootMismatchError("root", root_hash, calculated)


def root_from_consistency_proof(
    hash_fn: HashFunction,
    size1: int,
    size2: int,
    proof: Sequence[bytes],
    root1: bytes,
) -> bytes:
    """Check a consistency proof against ``root1`` and return the implied root of ``size2``.

    RFC 9162 §2.1.4.2 for ``0 < size1 < size2``; for ``size1 == size2`` the proof must be empty
    and ``root1`` is returned. Raises a :class:`ProofError` subclass for wrong sizes, hash
    lengths or proof length, and :class:`RootMismatchError` when the proof does not lead to
    ``root1``.
    """
    _check_uint64("size1", size1)
    _check_uint64("size2", size2)
    if size1 > size2:
        raise TreeSizeError(f"size1 {size1} is larger than size2 {size2}: a log cannot shrink")
    if size1 == 0:
        raise TreeSizeError(
            "size1 is 0: a consistency proof from the empty tree is meaningless "
            "(RFC 9162 §2.1.4 requires 0 < size1); check the new root on its own"
        )
    if size1 == size2:
        if proof:
            raise ProofLengthError(
                f"size1 == size2 == {size1} needs an empty proof, got {len(proof)} hashes"
            )
        return root1
    # Step 1.
    if not proof:
        raise ProofLengthError(f"empty consistency proof for size1 {size1} < size2 {size2}")
    for i, c in enumerate(proof):
        _check_hash(hash_fn, c, f"proof[{i}]")
    want = consistency_proof_length(size1, size2)
    if len(proof) != want:
        raise ProofLengthError(
            f"wrong consistency proof length: got {len(proof)} hashes, expected {want} "
            f"from size {size1} to size {size2}"
        )
    digest = hash_fn.digest
    # Step 2: if size1 is an exact power of 2, prepend root1.
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    # Step 3.
    fn, sn = size1 - 1, size2 - 1
    # Step 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:  # 6a (unreachable once the length is checked; kept as the RFC states it)
            raise ProofLengthError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:  # 6b
            fr = digest(NODE_PREFIX + c + fr)
            sr = digest(NODE_PREFIX + c + sr)
            if not fn & 1:
                fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            sr = digest(NODE_PREFIX + sr + c)
        fn >>= 1  # 6c
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise ProofLengthError("consistency proof is shorter than the path to the root")
    if fr != root1:
        raise RootMismatchError("first root (size1)", root1, fr)
    return sr


def verify_consistency(
    hash_fn: HashFunction,
    size1: int,
    size2: int,
    proof: Sequence[bytes],
    root1: bytes,
    root2: bytes,
) -> None:
    """Verify that the tree of ``size2``/``root2`` extends the tree of ``size1``/``root1``.

    RFC 9162 §2.1.4.2. Returns ``None`` on success; raises :class:`TreeSizeError` (size1 > size2,
    size1 == 0), :class:`HashLengthError`, :class:`ProofLengthError` (including a non-empty proof
    for equal sizes and an empty one for different sizes) or :class:`RootMismatchError`.

    Roots are compared as opaque byte strings, so for ``size1 == size2`` any two equal values
    pass (as in the conformance vectors); their validity comes from the signed checkpoints.
    """
    calculated = root_from_consistency_proof(hash_fn, size1, size2, proof, root1)
    if calculated != root2:
        what = "roots of equal sizes" if size1 == size2 else "second root (size2)"
        raise RootMismatchError(what, root2, calculated)


# --------------------------------------------------------------------------------------------
# Append-only structures
# --------------------------------------------------------------------------------------------

NodeVisitor: TypeAlias = Callable[[int, int, bytes], None]
"""Called as ``visit(level, index, hash)`` for every perfect subtree completed by an append."""


class CompactRange:
    """The frontier of the tree ``[0, size)``: one perfect subtree per set bit of ``size``.

    Appending is amortized O(1) hashes (O(log n) worst case); the root costs O(log n) hashes.
    Hashes are kept from the highest level (leftmost) to the lowest (rightmost).
    """

    __slots__ = ("_hash_fn", "_hashes", "_size")

    def __init__(self, hash_fn: HashFunction, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        _check_uint64("size", size)
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a compact range of size {size} has {size.bit_count()} hashes, got {len(hashes)}"
            )
        for i, h in enumerate(hashes):
            _check_hash(hash_fn, h, f"frontier hash [{i}]")
        self._hash_fn = hash_fn
        self._size = size
        self._hashes = list(hashes)

    @classmethod
    def from_store(cls, hash_fn: HashFunction, store: NodeStore, size: int) -> CompactRange:
        """Load the frontier of ``[0, size)`` from a node store (O(log n) look-ups)."""
        _check_uint64("size", size)
        ids = _subtree_nodes(0, size)
        got = _fetch(store, ids, hash_fn.digest_size) if ids else []
        return cls(hash_fn, size, list(got))

    @staticmethod
    def node_ids(size: int) -> tuple[NodeID, ...]:
        """The perfect subtrees making up ``[0, size)``, left to right."""
        return _subtree_nodes(0, size)

    @property
    def hash_function(self) -> HashFunction:
        """The tree hash."""
        return self._hash_fn

    @property
    def size(self) -> int:
        """Number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Hashes of :meth:`node_ids` (``size``), left to right."""
        return tuple(self._hashes)

    def append(self, leaf: bytes, visit: NodeVisitor | None = None) -> None:
        """Append one leaf *hash*; ``visit`` sees the leaf and every node it completes."""
        if len(leaf) != self._hash_fn.digest_size:
            raise ValueError(
                f"leaf hash has {len(leaf)} bytes, expected {self._hash_fn.digest_size}"
            )
        size = self._size
        if size == MAX_TREE_SIZE:
            raise OverflowError("the tree is full (2**64-1 leaves)")
        digest = self._hash_fn.digest
        frontier = self._hashes
        h = leaf
        if visit is not None:
            visit(0, size, h)
        level, index = 0, size
        while index & 1:  # the new node is a right child: merge it with its left sibling
            h = digest(NODE_PREFIX + frontier.pop() + h)
            level += 1
            index >>= 1
            if visit is not None:
                visit(level, index, h)
        frontier.append(h)
        self._size = size + 1

    def root(self) -> bytes:
        """MTH(D[0:size])."""
        if not self._hashes:
            return empty_root(self._hash_fn)
        return _fold(self._hash_fn, self._hashes)

    def copy(self) -> CompactRange:
        """An independent copy."""
        return CompactRange(self._hash_fn, self._size, self._hashes)


class InMemoryTree:
    """Append-only tree that stores every perfect-subtree hash, level by level.

    Level ``l`` holds the ``size >> l`` complete nodes of that level, packed into one
    ``bytearray`` (about ``2 * size * digest_size`` bytes in total). It implements
    :class:`NodeStore`, so proofs and historical roots take O(log n) look-ups; appends and the
    current root go through a :class:`CompactRange`. Not thread-safe: one writer.
    """

    __slots__ = ("_frontier", "_hash_fn", "_levels")

    def __init__(self, hash_fn: HashFunction = SHA256) -> None:
        self._hash_fn = hash_fn
        self._levels: list[bytearray] = [bytearray()]
        self._frontier = CompactRange(hash_fn)

    @property
    def hash_function(self) -> HashFunction:
        """The tree hash."""
        return self._hash_fn

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._frontier.size

    def __len__(self) -> int:
        return self._frontier.size

    def _store(self, level: int, index: int, h: bytes) -> None:
        levels = self._levels
        if level == len(levels):
            levels.append(bytearray())
        levels[level] += h

    def append(self, leaf: bytes) -> int:
        """Append a leaf (its canonical encoding, hashed here); return its index."""
        return self.append_hash(leaf_hash(self._hash_fn, leaf))

    def append_hash(self, leaf: bytes) -> int:
        """Append a leaf hash; return its index."""
        index = self._frontier.size
        self._frontier.append(leaf, self._store)
        return index

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append several leaves (canonical encodings).

        Same result as :meth:`append` in a loop; this is the bulk path, with the
        :meth:`CompactRange.append` merge inlined (no per-node callback).
        """
        digest = self._hash_fn.digest
        frontier = self._frontier
        hashes = frontier._hashes
        levels = self._levels
        size = frontier._size
        try:
            for leaf in leaves:
                if size == MAX_TREE_SIZE:
                    raise OverflowError("the tree is full (2**64-1 leaves)")
                h = digest(LEAF_PREFIX + leaf)
                levels[0] += h
                level, index = 0, size
                while index & 1:  # the new node is a right child: merge with its left sibling
                    h = digest(NODE_PREFIX + hashes.pop() + h)
                    level += 1
                    index >>= 1
                    if level == len(levels):
                        levels.append(bytearray())
                    levels[level] += h
                hashes.append(h)
                size += 1
        finally:
            frontier._size = size

    def get_node(self, level: int, index: int) -> bytes:
        """Hash of the perfect subtree ``(level, index)``; it must be complete."""
        d = self._hash_fn.digest_size
        if 0 <= level < len(self._levels) and index >= 0:
            row = self._levels[level]
            start = index * d
            if start + d <= len(row):
                return bytes(row[start : start + d])
        raise NodeNotFoundError(
            f"node (level {level}, index {index}) is not a complete subtree "
            f"of the tree of {self.size} leaves"
        )

    def get_nodes(self, ids: Sequence[NodeID]) -> list[bytes]:
        """:class:`NodeStore` look-up."""
        levels = self._levels
        d = self._hash_fn.digest_size
        out = []
        for node in ids:
            level, start = node.level, node.index * d
            if 0 <= level < len(levels) and start >= 0 and start + d <= len(levels[level]):
                out.append(bytes(levels[level][start : start + d]))
            else:
                self.get_node(level, node.index)  # raises NodeNotFoundError
        return out

    def _check_size(self, tree_size: int) -> None:
        if not 0 <= tree_size <= self.size:
            raise ValueError(f"tree size {tree_size} is not within 0..{self.size} (current size)")

    def root(self, tree_size: int | None = None) -> bytes:
        """Root of the current tree, or of the earlier tree of ``tree_size`` leaves."""
        if tree_size is None or tree_size == self.size:
            return self._frontier.root()
        self._check_size(tree_size)
        return root_from_store(self._hash_fn, self, tree_size)

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        """Inclusion proof of leaf ``index`` in the tree of ``tree_size`` (default: current)."""
        size = self.size if tree_size is None else tree_size
        self._check_size(size)
        return inclusion_proof(self._hash_fn, self, index, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Consistency proof from ``old_size`` to ``new_size`` (default: current)."""
        size = self.size if new_size is None else new_size
        self._check_size(size)
        return consistency_proof(self._hash_fn, self, old_size, size)

    def frontier(self) -> CompactRange:
        """A copy of the current frontier."""
        return self._frontier.copy()
