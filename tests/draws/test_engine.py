"""The pure core: encodings, commitments, the stream, and unbiased sampling.

Statistical tests use a fixed seed per case, so they are deterministic; their threshold is the
chi-square quantile at p = 1e-4 (Wilson–Hilferty), and a deliberately biased generator is shown
to fail the very same check (the test has the power to see modulo bias).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sunlit.draws import (
    RandomStream,
    candidates_hash,
    commitment,
    commitment_matches,
    conceal_candidates,
    derive_candidate_salt,
    hash_candidate_id,
    new_secret,
    stream_block,
)
from sunlit.draws.engine import label_problem, labels_problem, lp
from sunlit.kernel.crypto import get_suite

from . import reference

PROPERTY_SETTINGS = settings(max_examples=80, deadline=None, database=None)
SUITES = ["gm", "intl"]
Z_1E4 = 3.719  # standard normal quantile at 1 - 1e-4


def seed_for(label: str, suite: str = "gm") -> bytes:
    return get_suite(suite).hash(label.encode())


def chi_square(counts: Sequence[int], expected: Sequence[float]) -> float:
    return sum((c - e) ** 2 / e for c, e in zip(counts, expected, strict=True))


def critical(df: int, z: float = Z_1E4) -> float:
    """Upper chi-square quantile (Wilson–Hilferty approximation, good for df >= 2)."""
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def uniform_statistic(draw: Callable[[], int], n: int, samples: int) -> float:
    counts = Counter(draw() for _ in range(samples))
    assert set(counts) <= set(range(n))
    return chi_square([counts[i] for i in range(n)], [samples / n] * n)


# --- encodings ---------------------------------------------------------------------------------


def test_length_prefix() -> None:
    assert lp(b"") == b"\x00\x00\x00\x00"
    assert lp(b"abc") == b"\x00\x00\x00\x03abc"


@pytest.mark.parametrize("suite", SUITES)
def test_commitment_binds_value_and_salt(suite: str) -> None:
    value, salt = new_secret(), new_secret()
    assert len(value) == len(salt) == 32 and value != salt
    c = commitment(suite, value, salt)
    assert c == reference.commitment(suite, value, salt)
    assert commitment_matches(suite, c, value, salt)
    assert not commitment_matches(suite, c, salt, value)
    assert not commitment_matches(suite, c, value[:-1] + bytes([value[-1] ^ 1]), salt)
    # Length prefixes: moving a byte from value to salt changes the commitment.
    assert commitment(suite, value + salt[:1], salt[1:]) != c


def test_commitments_differ_between_suites() -> None:
    value, salt = bytes(32), bytes(32)
    assert commitment("gm", value, salt) != commitment("intl", value, salt)


@pytest.mark.parametrize("suite", SUITES)
def test_hashed_candidate_ids(suite: str) -> None:
    key = bytes(range(32))
    salt = derive_candidate_salt(suite, key, "E0001")
    assert salt == get_suite(suite).hash(
        lp(b"sunlit/draw/v1/candidate-salt") + lp(key) + lp(b"E0001")
    )
    hashed = hash_candidate_id(suite, "E0001", salt)
    assert hashed == reference.hashed_id(suite, "E0001", salt)
    assert len(hashed) == 64 and hashed != hash_candidate_id(suite, "E0002", salt)
    with pytest.raises(ValueError, match="at least 16 bytes"):
        derive_candidate_salt(suite, b"short", "E0001")
    with pytest.raises(ValueError, match="at least 16 bytes"):
        conceal_candidates(suite, ["E0001"], b"short")


@pytest.mark.parametrize("suite", SUITES)
def test_conceal_candidates_matches_the_one_by_one_functions(suite: str) -> None:
    key = new_secret()
    ids = ["E0001", "专家-张三", "x" * 256]
    expected = []
    for c in ids:
        salt = derive_candidate_salt(suite, key, c)
        expected.append((c, salt, hash_candidate_id(suite, c, salt)))
    assert conceal_candidates(suite, ids, key) == expected
    fresh = conceal_candidates(suite, ids)
    assert [c for c, _, _ in fresh] == ids and len({salt for _, salt, _ in fresh}) == 3
    assert all(hash_candidate_id(suite, c, salt) == h for c, salt, h in fresh)
    assert conceal_candidates(suite, []) == []


@pytest.mark.parametrize("suite", SUITES)
def test_candidates_hash_depends_on_every_id_and_the_order(suite: str) -> None:
    ids = ["E0001", "E0002", "E0003"]
    h = candidates_hash(suite, ids)
    assert h == reference.candidates_hash(suite, ids)
    assert candidates_hash(suite, ["E0001", "E0002"]) != h
    assert candidates_hash(suite, ["E0001", "E0003", "E0002"]) != h
    assert candidates_hash(suite, ["E0001", "E0002", "E0004"]) != h
    # No ambiguity between one id and two: ["ab"] vs ["a", "b"].
    assert candidates_hash(suite, ["ab"]) != candidates_hash(suite, ["a", "b"])
    assert candidates_hash(suite, []) == reference.candidates_hash(suite, [])


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "为空"),
        ("a\nb", "含控制字符"),
        ("x" * 257, "超过 256 个字符"),
        ("\ud800", "不是有效的 UTF-8 文本"),
        ("专家 E0001", None),
        ("x" * 256, None),
        ("a\u0085b", "含控制字符"),
    ],
)
def test_labels(value: str, problem: str | None) -> None:
    assert label_problem(value) == problem
    expected = None if problem is None else (1, problem)
    assert labels_problem(["ok", value]) == expected


# --- stream ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_stream_is_counter_mode_hash(suite: str) -> None:
    seed = seed_for("stream", suite)
    blocks = [stream_block(suite, seed, i) for i in range(4)]
    expected = [
        get_suite(suite).hash(lp(b"sunlit/draw/v1/stream") + seed + i.to_bytes(8, "big"))
        for i in range(4)
    ]
    assert blocks == expected
    stream = RandomStream(suite, seed)
    chunks = [stream.read(n) for n in (0, 5, 27, 1, 40, 31)]
    assert b"".join(chunks) == b"".join(blocks)[:104]
    assert stream.consumed == 104


def test_stream_rejects_bad_seeds_and_arguments() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        RandomStream("gm", b"short")
    stream = RandomStream("gm", bytes(32))
    with pytest.raises(ValueError):
        stream.randbelow(0)
    with pytest.raises(ValueError):
        stream.sample(3, 4)
    with pytest.raises(ValueError):
        stream.choose_weighted([1, 0, 2])
    with pytest.raises(ValueError):
        stream.choose_weighted([])


def test_randbelow_one_reads_nothing() -> None:
    stream = RandomStream("gm", bytes(32))
    assert [stream.randbelow(1) for _ in range(10)] == [0] * 10
    assert stream.consumed == 0


def test_randbelow_rejects_out_of_range_candidates() -> None:
    """n = 10 takes one byte and keeps its low 4 bits; values 10–15 are rejected, not folded."""
    seed = seed_for("reject")
    raw = RandomStream("gm", seed)
    stream = RandomStream("gm", seed)
    for _ in range(200):
        value = stream.randbelow(10)
        while True:
            nibble = raw.read(1)[0] & 0x0F
            if nibble < 10:
                break
        assert value == nibble
    assert stream.consumed == raw.consumed


@given(seed=st.binary(min_size=32, max_size=32), n=st.integers(1, 2**70))
@PROPERTY_SETTINGS
def test_randbelow_is_always_in_range(seed: bytes, n: int) -> None:
    stream = RandomStream("intl", seed)
    for _ in range(5):
        assert 0 <= stream.randbelow(n) < n


@given(
    seed=st.binary(min_size=32, max_size=32),
    weights=st.lists(st.integers(1, 1000), min_size=1, max_size=20),
)
@PROPERTY_SETTINGS
def test_choose_weighted_is_always_in_range(seed: bytes, weights: list[int]) -> None:
    stream = RandomStream("gm", seed)
    for _ in range(5):
        assert 0 <= stream.choose_weighted(weights) < len(weights)


@given(seed=st.binary(min_size=32, max_size=32), data=st.data())
@PROPERTY_SETTINGS
def test_sample_draws_distinct_positions_without_replacement(
    seed: bytes, data: st.DataObject
) -> None:
    n = data.draw(st.integers(0, 400))
    m = data.draw(st.integers(0, n))
    picks = RandomStream("gm", seed).sample(n, m)
    assert len(picks) == m == len(set(picks))
    assert all(0 <= p < n for p in picks)
    # The sparse implementation equals the textbook full-array Fisher–Yates.
    ref = reference.Stream("gm", seed)
    items = list(range(n))
    for i in range(m):
        j = i + ref.randbelow(n - i)
        items[i], items[j] = items[j], items[i]
    assert picks == items[:m]


def test_sample_everything_is_a_permutation() -> None:
    picks = RandomStream("gm", seed_for("perm")).sample(1000, 1000)
    assert sorted(picks) == list(range(1000))


# --- unbiasedness ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [3, 5, 6, 7, 10, 12, 100, 1000])
def test_randbelow_is_uniform_for_n_not_a_power_of_two(n: int) -> None:
    samples = max(60_000, 100 * n)
    stream = RandomStream("gm", seed_for(f"chi-square n={n}"))
    statistic = uniform_statistic(lambda: stream.randbelow(n), n, samples)
    assert statistic < critical(n - 1), (statistic, critical(n - 1))


@pytest.mark.parametrize("n", [3 * 2**30, 2**40 + 12_345])
def test_randbelow_is_uniform_over_large_ranges(n: int) -> None:
    """Large n (several bytes per try): the draws fall evenly into 64 equal slices of [0, n).

    A 32-bit draw reduced modulo 3·2^30 would put half the mass in the first third: caught here.
    """
    stream = RandomStream("intl", seed_for(f"large n={n}", "intl"))
    samples, bins = 64_000, 64
    statistic = uniform_statistic(lambda: stream.randbelow(n) * bins // n, bins, samples)
    assert statistic < critical(bins - 1)


def test_the_uniformity_check_detects_modulo_bias() -> None:
    """The naive ``byte % 200`` (values 0–55 twice as likely) fails the same check badly."""
    n, samples = 200, 60_000
    stream = RandomStream("gm", seed_for("biased"))
    biased = uniform_statistic(lambda: stream.read(1)[0] % n, n, samples)
    assert biased > 10 * critical(n - 1)
    # While rejection sampling on the same kind of stream passes it.
    fair = RandomStream("gm", seed_for("biased"))
    assert uniform_statistic(lambda: fair.randbelow(n), n, samples) < critical(n - 1)


def test_choose_weighted_follows_integer_weights() -> None:
    weights = [1, 2, 3, 7, 1]
    total, samples = sum(weights), 70_000
    stream = RandomStream("gm", seed_for("weighted"))
    counts = Counter(stream.choose_weighted(weights) for _ in range(samples))
    expected = [samples * w / total for w in weights]
    statistic = chi_square([counts[i] for i in range(len(weights))], expected)
    assert statistic < critical(len(weights) - 1)


def test_fangjian_style_rounding_bias_is_absent() -> None:
    """``min + round(random() * 5)`` gives the end values half the probability; 6 equal
    candidates drawn here are equally likely (spec §8)."""
    stream = RandomStream("intl", seed_for("float point", "intl"))
    statistic = uniform_statistic(lambda: stream.randbelow(6), 6, 60_000)
    assert statistic < critical(5)


@pytest.mark.parametrize(("n", "m"), [(5, 2), (4, 4), (7, 3)])
def test_sample_is_uniform_over_ordered_selections(n: int, m: int) -> None:
    outcomes = list(itertools.permutations(range(n), m))
    samples = 500 * len(outcomes)
    stream = RandomStream("gm", seed_for(f"sample {n} {m}"))
    counts = Counter(tuple(stream.sample(n, m)) for _ in range(samples))
    assert set(counts) <= set(outcomes)
    statistic = chi_square([counts[o] for o in outcomes], [samples / len(outcomes)] * len(outcomes))
    assert statistic < critical(len(outcomes) - 1)
