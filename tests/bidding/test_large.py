"""A large bid streams with bounded memory: sealing, keyless verification and opening never
hold more than a few chunks, whatever the size of the files."""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
import textwrap
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sunlit.bidding import sealed

from .conftest import FINGERPRINT, NOW, SUMMARY, party

T = TypeVar("T")
MiB = 1 << 20


def write_big(path: Path, size: int) -> Path:
    block = os.urandom(MiB)
    with path.open("wb") as handle:
        for i in range(size // MiB):
            handle.write(block[i % 7 :] + block[: i % 7])
        handle.write(block[: size % MiB])
    return path


def peak(fn: Callable[[], T]) -> tuple[T, int]:
    """Peak of Python allocations (bytes objects included) while ``fn`` runs."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_64_mib_gm_bid_streams_with_bounded_memory(tmp_path: Path) -> None:
    p = party("gm")
    size = 64 * MiB + 12345
    source = write_big(tmp_path / "施工图.bin", size)
    bid = tmp_path / "bid.sealed"

    def seal() -> sealed.SealResult:
        with bid.open("wb") as out:
            return sealed.seal_bid(
                source, SUMMARY, p.section, p.bidder_key, p.cert, out,
                fingerprint=FINGERPRINT, created_at=NOW,
            )  # fmt: skip

    result, seal_peak = peak(seal)
    assert (
        bid.stat().st_size == result.size == size + 65 * 16 + result.header.header_block_size + 4112
    )

    def verify() -> sealed.VerifiedBid:
        with bid.open("rb") as handle:
            return sealed.verify_structure(handle, p.section)

    verified, verify_peak = peak(verify)
    assert verified.bid_digest == result.bid_digest

    with bid.open("rb") as handle:
        key = sealed.remedy_decrypt(handle, p.bidder_key).files_key

    def open_all() -> list[sealed.OpenedFile]:
        with bid.open("rb") as handle:
            return sealed.open_files(handle, key, tmp_path / "out")

    opened, open_peak = peak(open_all)
    assert opened[0].size == size
    assert (tmp_path / "out" / "施工图.bin").stat().st_size == size
    # a few chunks at most (1 MiB each), never the 64 MiB file
    for name, value in (("seal", seal_peak), ("verify", verify_peak), ("open", open_peak)):
        assert value < 8 * MiB, f"{name} peaked at {value / MiB:.1f} MiB"


CHILD = textwrap.dedent(
    """
    import io, resource, sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tests.bidding.conftest import FINGERPRINT, NOW, SUMMARY, party
    from sunlit.bidding import sealed

    p = party("intl")
    tmp = Path({tmp!r})
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with (tmp / "bid.sealed").open("wb") as out:
        sealed.seal_bid(tmp / "big.bin", SUMMARY, p.section, p.bidder_key, p.cert, out,
                        fingerprint=FINGERPRINT, created_at=NOW)
    with (tmp / "bid.sealed").open("rb") as handle:
        sealed.verify_structure(handle, p.section)
    with (tmp / "bid.sealed").open("rb") as handle:
        key = sealed.remedy_decrypt(handle, p.bidder_key).files_key
    with (tmp / "bid.sealed").open("rb") as handle:
        sealed.open_files(handle, key, tmp / "out")
    assert (tmp / "out" / "big.bin").stat().st_size == (tmp / "big.bin").stat().st_size
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
    """
)


def test_200_mib_intl_bid_peak_rss(tmp_path: Path) -> None:
    """Seal + verify + open a 200 MiB bid in a fresh process: its peak RSS (ru_maxrss, KiB on
    Linux) grows by far less than the file over the peak reached by imports and key set-up."""
    write_big(tmp_path / "big.bin", 200 * MiB + 3)
    root = str(Path(__file__).resolve().parents[2])
    code = CHILD.format(root=root, tmp=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=root
    )
    assert out.returncode == 0, out.stderr
    grown_kib = int(out.stdout.split()[-1])
    assert grown_kib < 48 * 1024, f"peak RSS grew by {grown_kib / 1024:.0f} MiB for a 200 MiB bid"


def test_progress_reaches_the_total(tmp_path: Path) -> None:
    p = party("intl")
    write_big(tmp_path / "f.bin", 3 * MiB + 1)
    seen: list[tuple[int, int]] = []
    out = io.BytesIO()
    sealed.seal_bid(
        tmp_path / "f.bin", SUMMARY, p.section, p.bidder_key, p.cert, out,
        lambda done, total: seen.append((done, total)), fingerprint=FINGERPRINT, created_at=NOW,
    )  # fmt: skip
    assert seen[-1] == (2 * (3 * MiB + 1), 2 * (3 * MiB + 1))
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))
