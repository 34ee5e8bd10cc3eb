"""Benchmark of the Merkle core (``sunlit.kernel.merkle``), standalone.

    python bench/bench_merkle.py --leaves 1000000 [--hash sha256|sm3] [--samples 1000]

Builds one :class:`InMemoryTree` up to ``--leaves`` leaves and, at 1e3, 1e4, ... leaves, measures
the append rate, the root (current and of an earlier size), inclusion and consistency proof
generation (time, size, node look-ups) and inclusion verification. The baseline, measured in the
same run, is the raw rate of the same hash function at 2 hashes per leaf (one leaf hash plus, on
average, one interior node per leaf is what an append costs). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import platform
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sunlit.kernel.merkle import (
    HashFunction,
    InMemoryTree,
    NodeID,
    consistency_proof,
    hash_function_for_suite,
    inclusion_proof,
    verify_inclusion,
)

LEAF_BYTES = 64
CHUNK = 10_000


def raw_digest(name: str) -> Callable[[bytes], bytes]:
    """The hash, called as directly as the library allows (no Sunlit code)."""
    if name == "sha256":
        sha256 = hashlib.sha256

        def digest(data: bytes) -> bytes:
            return sha256(data).digest()

        return digest

    def sm3(data: bytes) -> bytes:
        ctx = hashes.Hash(hashes.SM3())
        ctx.update(data)
        return ctx.finalize()

    return sm3


def baseline_seconds(name: str, leaves: Sequence[bytes]) -> float:
    """Raw hashing at 2 hashes per leaf: the leaf data, and one 65-byte node input."""
    node = bytes(65)
    if name == "sha256":
        sha256 = hashlib.sha256
        start = time.perf_counter()
        for leaf in leaves:
            sha256(leaf).digest()
            sha256(node).digest()
        return time.perf_counter() - start
    digest = raw_digest(name)
    start = time.perf_counter()
    for leaf in leaves:
        digest(leaf)
        digest(node)
    return time.perf_counter() - start


class CountingStore:
    def __init__(self, tree: InMemoryTree) -> None:
        self.tree = tree
        self.nodes = 0

    def get_nodes(self, ids: Sequence[NodeID]) -> list[bytes]:
        self.nodes += len(ids)
        return self.tree.get_nodes(ids)


def per_call_us(fn: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1e6


@dataclass
class Row:
    size: int
    append_rate: float
    baseline_rate: float
    root_now_us: float
    root_then_us: float
    incl_us: float
    incl_avg: float
    incl_max: int
    cons_us: float
    cons_avg: float
    cons_max: int
    lookups_max: int
    verify_us: float


def measure(
    tree: InMemoryTree,
    size: int,
    append_seconds: float,
    baseline_seconds: float,
    samples: int,
    rng: random.Random,
) -> Row:
    h = tree.hash_function
    indices = [rng.randrange(size) for _ in range(samples)]
    olds = [rng.randrange(1, size) for _ in range(samples)] if size > 1 else [1] * samples

    root_now = per_call_us(tree.root, samples)
    it = iter(olds * 2)
    root_then = per_call_us(lambda: tree.root(next(it)), samples)

    start = time.perf_counter()
    incl = [inclusion_proof(h, tree, i, size) for i in indices]
    incl_us = (time.perf_counter() - start) / samples * 1e6
    start = time.perf_counter()
    cons = [consistency_proof(h, tree, m, size) for m in olds]
    cons_us = (time.perf_counter() - start) / samples * 1e6

    counting = CountingStore(tree)
    lookups = 0
    for i, m in zip(indices[:100], olds[:100], strict=True):
        counting.nodes = 0
        inclusion_proof(h, counting, i, size)
        lookups = max(lookups, counting.nodes)
        counting.nodes = 0
        consistency_proof(h, counting, m, size)
        lookups = max(lookups, counting.nodes)

    root = tree.root(size)
    leaf_hashes = [tree.get_node(0, i) for i in indices]
    start = time.perf_counter()
    for i, leaf, proof in zip(indices, leaf_hashes, incl, strict=True):
        verify_inclusion(h, i, size, leaf, proof, root)
    verify_us = (time.perf_counter() - start) / samples * 1e6

    return Row(
        size=size,
        append_rate=size / append_seconds,
        baseline_rate=size / baseline_seconds,
        root_now_us=root_now,
        root_then_us=root_then,
        incl_us=incl_us,
        incl_avg=statistics.fmean(len(p) for p in incl),
        incl_max=max(len(p) for p in incl),
        cons_us=cons_us,
        cons_avg=statistics.fmean(len(p) for p in cons),
        cons_max=max(len(p) for p in cons),
        lookups_max=lookups,
        verify_us=verify_us,
    )


def checkpoints(leaves: int) -> list[int]:
    out = []
    size = 1000
    while size < leaves:
        out.append(size)
        size *= 10
    out.append(leaves)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--hash", choices=["sha256", "sm3"], default="sha256")
    parser.add_argument("--samples", type=int, default=1000, help="proofs per size")
    parser.add_argument("--seed", type=int, default=9162)
    args = parser.parse_args(argv)
    if args.leaves < 1000:
        parser.error("--leaves must be at least 1000")

    h: HashFunction = hash_function_for_suite("intl" if args.hash == "sha256" else "gm")
    rng = random.Random(args.seed)
    # Leaf data stands in for canonical event encodings; made before any timing.
    leaves = [rng.randbytes(LEAF_BYTES) for _ in range(args.leaves)]

    tree = InMemoryTree(h)
    rows: list[Row] = []
    append_seconds = base_seconds = 0.0
    done = 0
    gc.collect()
    for size in checkpoints(args.leaves):
        # The baseline runs over the same leaves, chunk by chunk, right before they are
        # appended, so that both see the same machine load; ratios use cumulative times.
        for begin in range(done, size, CHUNK):
            chunk = leaves[begin : min(begin + CHUNK, size)]
            base_seconds += baseline_seconds(args.hash, chunk)
            start = time.perf_counter()
            tree.extend(chunk)
            append_seconds += time.perf_counter() - start
        done = size
        rows.append(measure(tree, size, append_seconds, base_seconds, args.samples, rng))
    del leaves

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    d = h.digest_size
    print(f"Command: `python bench/bench_merkle.py --leaves {args.leaves} --hash {args.hash}`  ")
    print(
        f"Python {platform.python_version()} on {platform.machine()}, one thread; "
        f"hash {h.name}; leaf data {LEAF_BYTES} bytes; {args.samples} random proofs per size.  "
    )
    print(
        f"Baseline (same run, interleaved with the appends in chunks of {CHUNK:,} leaves): "
        f"raw {args.hash} at 2 hashes per leaf = {rows[-1].baseline_rate:,.0f} leaves/s "
        f"over all leaves. Peak RSS {peak_mb:,.0f} MB.\n"
    )
    print(
        "| leaves | append (leaves/s) | ÷ raw 2-hash rate | root now (µs) "
        "| root at earlier size (µs) | inclusion proof (µs) | ≈ raw hashes "
        "| inclusion hashes avg / max (max bytes) | consistency proof (µs) | ≈ raw hashes "
        "| consistency hashes avg / max | node look-ups per proof (max) | verify inclusion (µs) |"
    )
    print("|" + "---:|" * 13)
    for r in rows:
        ns_per_hash = 1e9 / (2 * r.baseline_rate)
        print(
            f"| {r.size:,} | {r.append_rate:,.0f} | {r.append_rate / r.baseline_rate:.2f} "
            f"| {r.root_now_us:.1f} | {r.root_then_us:.1f} "
            f"| {r.incl_us:.1f} | {r.incl_us * 1000 / ns_per_hash:.0f} "
            f"| {r.incl_avg:.1f} / {r.incl_max} ({r.incl_max * d}) "
            f"| {r.cons_us:.1f} | {r.cons_us * 1000 / ns_per_hash:.0f} "
            f"| {r.cons_avg:.1f} / {r.cons_max} | {r.lookups_max} | {r.verify_us:.1f} |"
        )


if __name__ == "__main__":
    main()
