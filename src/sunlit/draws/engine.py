"""Pure core of verifiable random draws (随机抽取): encodings, commitments, seed, stream, sampling.

Everything here is deterministic computation over bytes: no database, no clock, no I/O, and no
randomness except :func:`new_secret` (``secrets``, for the center's value and salts). Python's
``random`` module is never used. The byte-level algorithm is normative in ``docs/spec/draws.md``
(algorithm id ``sunlit-draw-v1``); this module is its reference implementation.

Notation: ``H`` is the suite hash (SM3 for ``gm``, SHA-256 for ``intl``; 32 bytes),
``‖`` concatenation, ``u32(n)`` / ``u64(n)`` big-endian unsigned integers, and::

    lp(x) = u32(len(x)) ‖ x                       (length-prefixed bytes)

Constructions (each hash starts with its own length-prefixed domain tag)::

    commitment      = H(lp("sunlit/draw/v1/commit") ‖ lp(value) ‖ lp(salt))
    hashed id       = H(lp("sunlit/draw/v1/candidate-id") ‖ lp(salt) ‖ lp(UTF-8(id)))
    candidates hash = H(lp("sunlit/draw/v1/candidates") ‖ u32(n) ‖ id_1 ‖ 0x0A ‖ … ‖ id_n ‖ 0x0A)
    definition hash = H(lp("sunlit/draw/v1/definition") ‖ JCS(definition))      (RFC 8785)
    seed            = H(seed preimage, see seed_preimage())
    block_i         = H(lp("sunlit/draw/v1/stream") ‖ seed ‖ u64(i)),  i = 0, 1, 2, …

The stream is ``block_0 ‖ block_1 ‖ …`` read front to back, each byte used once.
:meth:`RandomStream.randbelow` draws an unbiased integer in ``[0, n)`` by rejection sampling;
:meth:`RandomStream.choose_weighted` and :meth:`RandomStream.sample` build on it.
"""

from __future__ import annotations

import hmac as _hmac
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, NamedTuple

import rfc8785

from sunlit.kernel.crypto import Suite, get_suite

__all__ = [
    "ALGORITHM",
    "HASHED_ID_PATTERN",
    "MAX_LABEL_LENGTH",
    "SALT_SIZE",
    "TAG_CANDIDATES",
    "TAG_CANDIDATE_ID",
    "TAG_CANDIDATE_SALT",
    "TAG_COMMIT",
    "TAG_DEFINITION",
    "TAG_SEED",
    "TAG_STREAM",
    "VALUE_SIZE",
    "RandomStream",
    "SeedBeacon",
    "SeedBidder",
    "candidates_hash",
    "commitment",
    "commitment_matches",
    "compute_seed",
    "conceal_candidates",
    "definition_hash",
    "derive_candidate_salt",
    "hash_candidate_id",
    "label_problem",
    "labels_problem",
    "lp",
    "new_secret",
    "seed_preimage",
    "stream_block",
]

ALGORITHM: Final = "sunlit-draw-v1"
"""Identifier of the whole algorithm (encodings, seed, stream, sampling) in draw records."""

VALUE_SIZE: Final = 32
"""Size of the center's value and of each bidder's random number, in bytes."""

SALT_SIZE: Final = 32
"""Size of the salt of the center's commitment and of candidate-id salts, in bytes."""

MAX_LABEL_LENGTH: Final = 256
"""Longest identifier, name or value string (in characters) that a draw accepts."""

TAG_COMMIT: Final = b"sunlit/draw/v1/commit"
TAG_CANDIDATE_ID: Final = b"sunlit/draw/v1/candidate-id"
TAG_CANDIDATE_SALT: Final = b"sunlit/draw/v1/candidate-salt"
TAG_CANDIDATES: Final = b"sunlit/draw/v1/candidates"
TAG_DEFINITION: Final = b"sunlit/draw/v1/definition"
TAG_SEED: Final = b"sunlit/draw/v1/seed"
TAG_STREAM: Final = b"sunlit/draw/v1/stream"

HASHED_ID_PATTERN: Final = re.compile(r"[0-9a-f]{64}")
"""A hashed candidate id: 64 lower-case hex digits (no other form is accepted)."""

# C0 controls, DEL and C1 controls: never allowed in identifiers, names or values, so a line
# feed can terminate each id in the candidates hash and every string prints on one line.
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_U32: Final = 2**32 - 1
_MAX_U64: Final = 2**64 - 1


def _suite(suite: Suite | str) -> Suite:
    return get_suite(suite) if isinstance(suite, str) else suite


def lp(data: bytes) -> bytes:
    """Length-prefixed bytes: ``u32(len(data)) ‖ data``."""
    if len(data) > _MAX_U32:
        raise ValueError("field longer than 2**32 - 1 bytes")
    return len(data).to_bytes(4, "big") + data


def new_secret(size: int = VALUE_SIZE) -> bytes:
    """Fresh random bytes from the operating system's CSPRNG (``secrets``), never ``random``."""
    return secrets.token_bytes(size)


# --------------------------------------------------------------------------------------------
# Strings that enter the hashes
# --------------------------------------------------------------------------------------------


def label_problem(value: str) -> str | None:
    """Why ``value`` cannot be an identifier, name or value in a draw, or ``None`` if it can.

    Allowed: 1 to 256 characters, none of them a control character (U+0000–U+001F,
    U+007F–U+009F) or a lone surrogate (the string must encode to UTF-8).
    """
    if not value:
        return "为空"
    if len(value) > MAX_LABEL_LENGTH:
        return f"超过 {MAX_LABEL_LENGTH} 个字符"
    if _CONTROL.search(value):
        return "含控制字符"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "不是有效的 UTF-8 文本"
    return None


def labels_problem(values: Sequence[str]) -> tuple[int, str] | None:
    """The first ``(position, reason)`` among ``values`` that :func:`label_problem` refuses.

    Fast path for long candidate lists: a few C-speed scans over the joined text.
    """
    if not values:
        return None
    joined = "".join(values)
    if joined.isascii():
        clean = joined.isprintable()  # printable ASCII is U+0020–U+007E: no control character
    else:
        clean = not _CONTROL.search(joined) and _encodes(joined)
    if clean and all(values) and max(map(len, values)) <= MAX_LABEL_LENGTH:
        return None
    for position, value in enumerate(values):
        reason = label_problem(value)
        if reason is not None:
            return position, reason
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Commitments and candidate ids
# --------------------------------------------------------------------------------------------


def commitment(suite: Suite | str, value: bytes, salt: bytes) -> bytes:
    """The commitment ``H(lp(TAG_COMMIT) ‖ lp(value) ‖ lp(salt))`` to the center's value."""
    return _suite(suite).hash(lp(TAG_COMMIT) + lp(value) + lp(salt))


def commitment_matches(suite: Suite | str, expected: bytes, value: bytes, salt: bytes) -> bool:
    """Whether ``(value, salt)`` opens the commitment ``expected`` (constant-time compare)."""
    return _hmac.compare_digest(commitment(suite, value, salt), expected)


def hash_candidate_id(suite: Suite | str, candidate_id: str, salt: bytes) -> str:
    """The confidential form of a candidate id: hex of ``H(lp(TAG) ‖ lp(salt) ‖ lp(id))``.

    Expert draws list these instead of expert ids until evaluation starts (DESIGN.md D4); the
    salts are disclosed afterwards, so anyone can check who was drawn.
    """
    data = lp(TAG_CANDIDATE_ID) + lp(salt) + lp(candidate_id.encode("utf-8"))
    return _suite(suite).hash(data).hex()


def derive_candidate_salt(suite: Suite | str, key: bytes, candidate_id: str) -> bytes:
    """A per-candidate salt derived from one secret ``key`` per draw (informative).

    ``H(lp(TAG_CANDIDATE_SALT) ‖ lp(key) ‖ lp(UTF-8(id)))``: the platform keeps one secret key
    per draw instead of one salt per candidate, and can still disclose salts one by one. The
    length prefixes leave no room for length extension (any extension of the input is not a
    valid encoding). Verifiers never need this: they only see ``(id, salt)`` pairs.
    """
    if len(key) < 16:
        raise ValueError("salt derivation key must be at least 16 bytes")
    data = lp(TAG_CANDIDATE_SALT) + lp(key) + lp(candidate_id.encode("utf-8"))
    return _suite(suite).hash(data)


def conceal_candidates(
    suite: Suite | str, ids: Iterable[str], key: bytes | None = None
) -> list[tuple[str, bytes, str]]:
    """``(id, salt, hashed id)`` for each id: the confidential form of a candidate list.

    With ``key``, salts come from :func:`derive_candidate_salt` (keep the key, recompute the
    salts at disclosure time); without, each salt is 32 fresh bytes from ``secrets`` (keep the
    returned salts). Same results as :func:`hash_candidate_id` one by one, faster for large
    pools: the constant prefixes are hashed once and the hash state copied.
    """
    if key is not None and len(key) < 16:
        raise ValueError("salt derivation key must be at least 16 bytes")
    s = _suite(suite)
    id_prefix = s.hasher()
    id_prefix.update(lp(TAG_CANDIDATE_ID) + SALT_SIZE.to_bytes(4, "big"))
    listed = list(ids)
    encoded = [lp(candidate.encode("utf-8")) for candidate in listed]
    if key is None:
        pool = secrets.token_bytes(SALT_SIZE * len(listed))
        salts = [pool[k : k + SALT_SIZE] for k in range(0, len(pool), SALT_SIZE)]
    else:
        salt_prefix = s.hasher()
        salt_prefix.update(lp(TAG_CANDIDATE_SALT) + lp(key))
        salts = []
        for data in encoded:
            h = salt_prefix.copy()
            h.update(data)
            salts.append(h.digest())
    out = []
    for candidate, salt, data in zip(listed, salts, encoded, strict=True):
        h = id_prefix.copy()
        h.update(salt + data)
        out.append((candidate, salt, h.digest().hex()))
    return out


def candidates_hash(suite: Suite | str, ids: Sequence[str]) -> bytes:
    """Hash of a candidate list, in its order: ``H(lp(TAG) ‖ u32(n) ‖ id_1 ‖ LF ‖ … ‖ id_n ‖ LF)``.

    Ids never contain control characters (see :func:`label_problem`), so the line feed after
    each id makes the encoding unambiguous. The caller checks the ids first.
    """
    if len(ids) > _MAX_U32:
        raise ValueError("too many candidates")
    body = "\n".join(ids).encode("utf-8") + (b"\n" if ids else b"")
    return _suite(suite).hash(lp(TAG_CANDIDATES) + len(ids).to_bytes(4, "big") + body)


def definition_hash(suite: Suite | str, definition: Mapping[str, Any]) -> bytes:
    """``H(lp(TAG_DEFINITION) ‖ JCS(definition))`` with RFC 8785 canonical JSON.

    Definitions hold only strings, integers (``|n| < 2**53``), ``null``, arrays and objects;
    no floating-point number ever enters a draw.
    """
    return _suite(suite).hash(lp(TAG_DEFINITION) + rfc8785.dumps(dict(definition)))


# --------------------------------------------------------------------------------------------
# Seed
# --------------------------------------------------------------------------------------------


class SeedBidder(NamedTuple):
    """A bidder's contribution as it enters the seed: a value, or ``None`` and a reason."""

    bidder: str
    value: bytes | None
    reason: str = ""


class SeedBeacon(NamedTuple):
    """A public beacon output (e.g. a drand or NIST beacon round) fixed in the definition."""

    source: str
    round: str
    value: bytes


def seed_preimage(
    *,
    suite: str,
    draw_id: str,
    purpose: str,
    definition_digest: bytes,
    center_value: bytes,
    bidders: Iterable[SeedBidder],
    supervisor_value: str,
    beacon: SeedBeacon | None,
) -> bytes:
    """The exact bytes hashed into the seed::

        lp("sunlit/draw/v1/seed") ‖ lp(suite) ‖ lp(draw_id) ‖ lp(purpose)
        ‖ lp(definition hash) ‖ lp(center value)
        ‖ u32(B) ‖ bidder_1 ‖ … ‖ bidder_B        (sorted by the UTF-8 bytes of the bidder id)
        ‖ lp(UTF-8(supervisor value))
        ‖ beacon

        bidder_j = lp(id) ‖ 0x01 ‖ lp(value)     a revealed random number
                 | lp(id) ‖ 0x00 ‖ lp(reason)    a missing one, with its reason (UTF-8)
        beacon   = 0x00                          no beacon
                 | 0x01 ‖ lp(source) ‖ lp(round) ‖ lp(value)

    Sorting makes the seed independent of the order in which bidders are listed; a missing
    contribution is encoded, never skipped. Bidder ids must be unique (the caller checks).
    """
    utf8 = str.encode
    parts = [
        lp(TAG_SEED),
        lp(utf8(suite)),
        lp(utf8(draw_id)),
        lp(utf8(purpose)),
        lp(definition_digest),
        lp(center_value),
    ]
    ordered = sorted(bidders, key=lambda b: b.bidder.encode("utf-8"))
    parts.append(len(ordered).to_bytes(4, "big"))
    for bidder in ordered:
        parts.append(lp(utf8(bidder.bidder)))
        if bidder.value is None:
            parts.append(b"\x00" + lp(utf8(bidder.reason)))
        else:
            parts.append(b"\x01" + lp(bidder.value))
    parts.append(lp(utf8(supervisor_value)))
    if beacon is None:
        parts.append(b"\x00")
    else:
        parts.append(b"\x01" + lp(utf8(beacon.source)) + lp(utf8(beacon.round)) + lp(beacon.value))
    return b"".join(parts)


def compute_seed(
    *,
    suite: str,
    draw_id: str,
    purpose: str,
    definition_digest: bytes,
    center_value: bytes,
    bidders: Iterable[SeedBidder],
    supervisor_value: str,
    beacon: SeedBeacon | None,
) -> bytes:
    """The 32-byte seed: the suite hash of :func:`seed_preimage`."""
    preimage = seed_preimage(
        suite=suite,
        draw_id=draw_id,
        purpose=purpose,
        definition_digest=definition_digest,
        center_value=center_value,
        bidders=bidders,
        supervisor_value=supervisor_value,
        beacon=beacon,
    )
    return get_suite(suite).hash(preimage)


# --------------------------------------------------------------------------------------------
# Stream and sampling
# --------------------------------------------------------------------------------------------


def stream_block(suite: Suite | str, seed: bytes, index: int) -> bytes:
    """Block ``index`` of the stream: ``H(lp(TAG_STREAM) ‖ seed ‖ u64(index))``."""
    if not 0 <= index <= _MAX_U64:
        raise ValueError("stream block index out of range")
    return _suite(suite).hash(lp(TAG_STREAM) + seed + index.to_bytes(8, "big"))


class RandomStream:
    """The deterministic byte stream of a seed, and unbiased sampling from it.

    Every method consumes the stream from where the previous one stopped; :attr:`consumed`
    counts the bytes used so far (test vectors publish it).
    """

    __slots__ = ("_buffer", "_next_block", "_position", "_prefix", "_suite", "consumed")

    def __init__(self, suite: Suite | str, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError("a draw seed is 32 bytes")
        self._suite = _suite(suite)
        self._prefix = lp(TAG_STREAM) + seed
        self._buffer = b""
        self._position = 0
        self._next_block = 0
        self.consumed = 0

    def _refill(self) -> None:
        block = self._suite.hash(self._prefix + self._next_block.to_bytes(8, "big"))
        self._next_block += 1
        self._buffer = self._buffer[self._position :] + block
        self._position = 0

    def read(self, size: int) -> bytes:
        """The next ``size`` bytes of the stream."""
        if size < 0:
            raise ValueError("size must not be negative")
        while len(self._buffer) - self._position < size:
            self._refill()
        out = self._buffer[self._position : self._position + size]
        self._position += size
        self.consumed += size
        return out

    def randbelow(self, n: int) -> int:
        """An unbiased integer in ``[0, n)`` by rejection sampling (no modulo bias).

        ``n = 1`` gives 0 and reads nothing. Otherwise, with ``b = bitlength(n - 1)`` (the
        number of bits of ``n - 1``, i.e. ``ceil(log2 n)``) and ``L = ceil(b / 8)``: read ``L``
        bytes, interpret them big-endian, keep the low ``b`` bits; accept if the result is
        ``< n``, else read ``L`` fresh bytes and try again. Each try succeeds with probability
        ``n / 2**b > 1/2``.
        """
        if n < 1:
            raise ValueError("randbelow needs n >= 1")
        if n == 1:
            return 0
        bits = (n - 1).bit_length()
        size = (bits + 7) // 8
        mask = (1 << bits) - 1
        while True:
            x = int.from_bytes(self.read(size), "big") & mask
            if x < n:
                return x

    def choose_weighted(self, weights: Sequence[int]) -> int:
        """Index ``i`` with probability ``weights[i] / sum(weights)``, exactly (integers only).

        ``r = randbelow(W)`` with ``W = sum(weights)``; the result is the smallest ``i`` with
        ``r < weights[0] + … + weights[i]``. Equal weights give :meth:`randbelow` ``(len)``.
        """
        if not weights or any(w < 1 for w in weights):
            raise ValueError("weights must be a non-empty list of positive integers")
        r = self.randbelow(sum(weights))
        cumulative = 0
        for index, weight in enumerate(weights):
            cumulative += weight
            if r < cumulative:
                return index
        raise AssertionError("unreachable: r < sum(weights)")  # pragma: no cover

    def sample(self, n: int, m: int) -> list[int]:
        """``m`` distinct positions of ``range(n)`` in draw order: a partial Fisher–Yates.

        Conceptually ``P = [0, 1, …, n-1]``; for ``i = 0 … m-1``: ``j = i + randbelow(n - i)``,
        swap ``P[i]`` and ``P[j]``, and output ``P[i]``. Only the swapped positions are stored,
        so the cost is O(m) whatever ``n`` is.
        """
        if not 0 <= m <= n:
            raise ValueError("cannot draw more items than there are")
        swapped: dict[int, int] = {}
        out: list[int] = []
        for i in range(m):
            j = i + self.randbelow(n - i)
            picked = swapped.get(j, j)
            swapped[j] = swapped.get(i, i)
            out.append(picked)
        return out
