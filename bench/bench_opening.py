"""Opening throughput: decrypt + verify of sealed bids, as a ratio to the raw AEAD of the suite.

    python bench/bench_opening.py [--suite gm|intl|both] [--gm-mib 128] [--intl-mib 512] [--runs 5]

For each suite, seals one bid of four files totalling the given size (``sunlit.bidding``), then
measures, interleaved so that every path sees the same machine load, best of ``--runs``:

* **baseline**: raw AEAD decryption with ``cryptography`` directly (SM4-GCM through
  ``Cipher``, AES-256-GCM through ``AESGCM``), no Sunlit code, of as many *distinct* 1 MiB
  chunks (+ tag) as the bid holds, each in memory;
* the suite hash over the same bytes, for scale;
* ``verify_structure``: the keyless check the platform runs on upload (hash of every blob,
  signature, structure);
* ``decrypt_files``: opening with full verification (signature, key commitment, every chunk's
  AEAD tag / counter / last flag, and every blob's ciphertext hash against the signed header);
* ``decrypt_files`` without the ciphertext-hash check (AEAD + STREAM only);
* ``open_files`` from the sealed file on disk to a directory (full verification, includes
  writing the plaintext through the page cache);
* for scale, ``seal_bid`` of the same files (the bidder's side; one run).

The bid is read from memory (``io.BytesIO``) except for the last row. Throughput counts
plaintext bytes. The process is pinned to one core when the OS allows it. Prints a Markdown
table (the ratio column is the figure of DESIGN.md §6: target ≥ 0.50).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sunlit.bidding import sealed
from sunlit.bidding.machine import MachineFingerprint
from sunlit.kernel.crypto import Suite, get_suite
from sunlit.kernel.crypto.x509 import CertificateAuthority, SubjectInfo

MiB = 1 << 20
CHUNK = sealed.CHUNK_SIZE


def raw_decryptor(suite_name: str, key: bytes) -> Callable[[bytes, bytes], bytes]:
    """Decrypt one ``ciphertext ‖ tag`` with `cryptography` directly."""
    if suite_name == "intl":

        def aes(nonce: bytes, data: bytes) -> bytes:
            return AESGCM(key).decrypt(nonce, data, b"")

        return aes

    sm4 = algorithms.SM4(key)

    def sm4_gcm(nonce: bytes, data: bytes) -> bytes:
        dec = Cipher(sm4, modes.GCM(nonce, data[-16:])).decryptor()
        return dec.update(data[:-16]) + dec.finalize()

    return sm4_gcm


def raw_chunks(suite: Suite, total: int) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    key = os.urandom(suite.aead_key_size)
    chunks = []
    for i in range(-(-total // CHUNK)):
        nonce = i.to_bytes(12, "big")
        size = min(CHUNK, total - i * CHUNK)
        chunks.append((nonce, suite.seal(key, nonce, os.urandom(size))))
    return key, chunks


def make_bid(
    suite_name: str, folder: Path, total: int
) -> tuple[Path, sealed.SectionKeys, bytes, float]:
    suite = get_suite(suite_name)
    now = datetime.now(UTC)
    ca = CertificateAuthority.create_root(
        suite.generate_keypair(), common_name="bench CA", not_before=now,
        not_after=now + timedelta(days=30),
    )  # fmt: skip
    bidder = suite.generate_keypair()
    cert = ca.issue(
        SubjectInfo("张三", "基准测试有限公司", "9144030071526726XG"), bidder.public_key(),
        not_before=now, not_after=now + timedelta(days=30),
    )  # fmt: skip
    tenderer, center = suite.generate_keypair(), suite.generate_keypair()
    section = sealed.SectionKeys("BENCH-1", suite_name, tenderer.public_key(), center.public_key())
    src = folder / "src"
    src.mkdir()
    block = os.urandom(MiB)
    sizes = [total // 2, total // 4, total // 8, total - total // 2 - total // 4 - total // 8]
    for n, size in enumerate(sizes):
        with (src / f"file{n}.bin").open("wb") as handle:
            for i in range(size // MiB):
                handle.write(block[i % 13 :] + block[: i % 13])
            handle.write(block[: size % MiB])
    bid = folder / "bid.sealed"
    start = time.perf_counter()
    with bid.open("wb") as out:
        sealed.seal_bid(
            src, sealed.BidSummary("1.00"), section, bidder, cert, out,
            fingerprint=MachineFingerprint("bench", "", "bench"), created_at=now,
        )  # fmt: skip
    seal_rate = total / MiB / (time.perf_counter() - start)
    shutil.rmtree(src)
    with bid.open("rb") as handle:
        header = sealed.inspect(handle)
    shares = [
        sealed.partial_decrypt(header.wrapped_share("files", "tenderer"), tenderer, "tenderer"),
        sealed.partial_decrypt(header.wrapped_share("files", "center"), center, "center"),
    ]
    return bid, section, sealed.combine(header, "files", shares), seal_rate


def bench_suite(suite_name: str, total: int, runs: int) -> list[tuple[str, float]]:
    suite = get_suite(suite_name)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        bid, section, files_key, seal_rate = make_bid(suite_name, folder, total)
        data = bid.read_bytes()
        raw_key, chunks = raw_chunks(suite, total)
        decrypt = raw_decryptor(suite_name, raw_key)

        def baseline() -> None:
            for nonce, chunk in chunks:
                decrypt(nonce, chunk)

        def hash_only() -> None:
            hasher = suite.hasher()
            view = memoryview(data)
            for i in range(0, len(data), CHUNK + 16):
                hasher.update(bytes(view[i : i + CHUNK + 16]))
            hasher.digest()

        def verify() -> None:
            sealed.verify_structure(io.BytesIO(data), section)

        def open_full() -> None:
            for _ in sealed.decrypt_files(io.BytesIO(data), files_key):
                pass

        def open_aead() -> None:
            stream = sealed.decrypt_files(
                io.BytesIO(data), files_key, verify_ciphertext_hashes=False
            )
            for _ in stream:
                pass

        def open_disk() -> None:
            out = folder / "out"
            shutil.rmtree(out, ignore_errors=True)
            with bid.open("rb") as handle:
                sealed.open_files(handle, files_key, out)

        paths: list[tuple[str, Callable[[], None]]] = [
            (f"raw {'SM4-GCM' if suite_name == 'gm' else 'AES-256-GCM'} decrypt "
             "(`cryptography`, baseline)", baseline),
            (f"{'SM3' if suite_name == 'gm' else 'SHA-256'} over the container (for scale)",
             hash_only),
            ("`verify_structure` (keyless upload check)", verify),
            ("`decrypt_files`, full verification", open_full),
            ("`decrypt_files`, AEAD + STREAM only", open_aead),
            ("`open_files` file → directory, full verification", open_disk),
        ]  # fmt: skip
        best = {name: 0.0 for name, _ in paths}
        for _ in range(runs):
            for name, fn in paths:
                start = time.perf_counter()
                fn()
                rate = total / MiB / (time.perf_counter() - start)
                best[name] = max(best[name], rate)
    results = [(name, best[name]) for name, _ in paths]
    results.append(("`seal_bid` folder → file (bidder's tool, two passes; one run)", seal_rate))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suite", choices=["gm", "intl", "both"], default="both")
    parser.add_argument("--gm-mib", type=int, default=128)
    parser.add_argument("--intl-mib", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    print(
        f"Python {platform.python_version()}, {platform.machine()}, one core; "
        f"chunk {CHUNK // MiB} MiB; best of {args.runs}\n"
    )
    print("| suite | bid size | path | MiB/s | ÷ raw AEAD |")
    print("|---|---:|---|---:|---:|")
    suites = ["gm", "intl"] if args.suite == "both" else [args.suite]
    for suite_name in suites:
        size = (args.gm_mib if suite_name == "gm" else args.intl_mib) * MiB
        results = bench_suite(suite_name, size, args.runs)
        raw = results[0][1]
        for name, rate in results:
            ratio = rate / raw
            shown = f"**{ratio:.2f}**" if name.startswith("`decrypt_files`") else f"{ratio:.2f}"
            print(f"| `{suite_name}` | {size // MiB} MiB | {name} | {rate:,.0f} | {shown} |")


if __name__ == "__main__":
    main()
