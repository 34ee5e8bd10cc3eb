"""Every way a container can be damaged or forged is refused with its own code."""

from __future__ import annotations

import base64
import io
import secrets
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sunlit.bidding import sealed
from sunlit.bidding.errors import Inconsistent

from .conftest import (
    FINGERPRINT,
    NOW,
    OTHER_CREDIT_CODE,
    SAMPLE_FILES,
    Party,
    party,
    write_tree,
)
from .helpers import code_of, flip, header_of, oneway, rebuild, regions


def keyless(p: Party, data: bytes, stream: Any = None) -> str:
    return code_of(lambda: sealed.verify_structure(stream or io.BytesIO(data), p.section))


def files_key(p: Party, data: bytes) -> bytes:
    return sealed.remedy_decrypt(io.BytesIO(data), p.bidder_key).files_key


def summary_key(p: Party, data: bytes) -> bytes:
    return sealed.remedy_decrypt(io.BytesIO(data), p.bidder_key).summary_key


def drain(p: Party, data: bytes, key: bytes, stream: Any = None, **kwargs: bool) -> None:
    for _ in sealed.decrypt_files(stream or io.BytesIO(data), key, **kwargs):
        pass


# --- not a sealed bid -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [b"", b"%PDF-1.7\n...", b"SLB", b"\x89SLB\r\n\x1a\x0a"[::-1] + b"x" * 100, "投标文件".encode()],
)
def test_plain_files_are_not_sealed_bids(p: Party, payload: bytes) -> None:
    assert keyless(p, payload) == "bid.not_sealed"


def test_a_zip_is_not_a_sealed_bid(p: Party) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("投标文件.pdf", b"%PDF")
    assert keyless(p, buffer.getvalue()) == "bid.not_sealed"


# --- section ----------------------------------------------------------------------------------


def test_a_bid_sealed_to_another_sections_keys_is_refused(p: Party, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    other_keys = p.other_section()  # same code, another tenderer key
    data = p.seal(tmp_path / "f", section=other_keys)
    assert sealed.verify_structure(io.BytesIO(data), other_keys).size == len(data)
    assert keyless(p, data) == "bid.wrong_section"
    another_code = sealed.SectionKeys(
        "E3205000001000123002", p.name, p.section.tenderer_pub, p.section.center_pub
    )
    assert code_of(lambda: sealed.verify_structure(io.BytesIO(data), another_code)) == (
        "bid.wrong_section"
    )
    swapped = sealed.SectionKeys(  # tenderer and center keys exchanged
        p.section.section_code, p.name, p.section.center_pub, p.section.tenderer_pub
    )
    assert code_of(lambda: sealed.verify_structure(io.BytesIO(data), swapped)) == (
        "bid.wrong_section"
    )


def test_a_bid_of_the_other_suite_is_refused(sample: bytes, p: Party) -> None:
    other = party("intl" if p.name == "gm" else "gm")
    assert keyless(other, sample) == "bid.wrong_section"


# --- truncation -------------------------------------------------------------------------------


def test_truncation_anywhere_is_detected(p: Party, sample: bytes) -> None:
    r = regions(sample)
    cuts = {3, 8, 10, r["header"][0] + 5, r["signature"][0] + 1, r["digest"][1] - 1}
    cuts |= {start for start, _ in r.values()} | {end - 1 for _, end in r.values()}
    cuts.discard(0)
    for cut in sorted(cuts):
        short = sample[:cut]
        assert keyless(p, short) == "bid.truncated", cut
        assert keyless(p, short, oneway(short)) == "bid.truncated", cut


def test_truncation_is_detected_when_opening(p: Party, sample: bytes) -> None:
    key = files_key(p, sample)
    for name in ("summary", "file0.chunk0", "file1.chunk1", "file1.chunk2", "file2.chunk0"):
        start, end = regions(sample)[name]
        for cut in (start, end - 1):
            short = sample[:cut]
            assert code_of(lambda s=short: drain(p, s, key)) == "bid.truncated"
            assert (
                code_of(lambda s=short: drain(p, s, key, oneway(s), verify_ciphertext_hashes=False))
                == "bid.truncated"
            )


def test_dropped_chunk(p: Party, sample: bytes) -> None:
    r = regions(sample)
    key = files_key(p, sample)
    for name in ("file1.chunk0", "file1.chunk1", "file1.chunk2"):
        start, end = r[name]
        dropped = sample[:start] + sample[end:]
        assert keyless(p, dropped) == "bid.truncated"  # length known: missing bytes
        assert code_of(lambda d=dropped: drain(p, d, key)) == "bid.truncated"
        # Streamed without a known length: the chunk that takes chunk 0's place fails its
        # tag; after dropping chunk 1 or 2 the stream ends before a full chunk.
        code = code_of(lambda d=dropped: drain(p, d, key, oneway(d)))
        assert code == ("bid.tampered" if name == "file1.chunk0" else "bid.truncated")


def test_reordered_chunks(p: Party, sample: bytes) -> None:
    r = regions(sample)
    (a0, a1), (b0, b1) = r["file1.chunk0"], r["file1.chunk1"]
    assert a1 - a0 == b1 - b0
    swapped = sample[:a0] + sample[b0:b1] + sample[a0:a1] + sample[b1:]
    key = files_key(p, sample)
    assert keyless(p, swapped) == "bid.tampered"
    assert code_of(lambda: drain(p, swapped, key, verify_ciphertext_hashes=False)) == (
        "bid.tampered"
    )


def test_trailing_data(p: Party, sample: bytes) -> None:
    longer = sample + b"\x00"
    assert keyless(p, longer) == "bid.tampered"
    assert keyless(p, longer, oneway(longer)) == "bid.tampered"
    assert code_of(lambda: drain(p, longer, files_key(p, sample))) == "bid.tampered"


# --- bit flips --------------------------------------------------------------------------------


def expected_flip_codes(region: str) -> set[str]:
    if region == "magic":
        return {"bid.not_sealed"}
    if region in ("header_len", "sig_len"):  # the block is read with a wrong length
        return {"bid.tampered", "bid.truncated"}
    return {"bid.tampered"}


def test_one_bit_flipped_anywhere_in_each_region(p: Party, sample: bytes) -> None:
    for region, (start, end) in regions(sample).items():
        for position in {start, (start + end) // 2, end - 1}:
            for bit in (0, 7):
                code = keyless(p, flip(sample, position, bit))
                assert code in expected_flip_codes(region), (region, position, bit, code)


def test_bit_flips_when_opening(p: Party, sample: bytes) -> None:
    r = regions(sample)
    key = files_key(p, sample)
    s_key = summary_key(p, sample)
    for region in r:
        if not region.startswith("file"):
            continue
        position = (r[region][0] + r[region][1]) // 2
        damaged = flip(sample, position)
        # the AEAD catches it even without the hash check
        assert code_of(lambda d=damaged: drain(p, d, key, verify_ciphertext_hashes=False)) == (
            "bid.tampered"
        )
    damaged = flip(sample, r["summary"][0] + 100)
    assert code_of(lambda: sealed.open_summary(io.BytesIO(damaged), s_key)) == "bid.tampered"
    damaged = flip(sample, r["header"][0] + 40)
    assert code_of(lambda: sealed.open_summary(io.BytesIO(damaged), s_key)) == "bid.tampered"
    assert code_of(lambda: sealed.remedy_decrypt(io.BytesIO(damaged), p.bidder_key)) == (
        "bid.tampered"
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_single_bit_flip_is_refused(p: Party, sample: bytes, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(sample) - 1))
    bit = data.draw(st.integers(0, 7))
    region = next(n for n, (a, b) in regions(sample).items() if a <= position < b)
    assert keyless(p, flip(sample, position, bit)) in expected_flip_codes(region)


# --- signatures and forged headers ------------------------------------------------------------


def test_signature_by_another_key(p: Party, tmp_path: Path) -> None:
    write_tree(tmp_path / "src", {"a": b"1"})
    impostor = p.suite.generate_keypair()
    out = io.BytesIO()
    sealed._seal(
        tmp_path / "src", sealed.BidSummary("1"), p.section, p.bidder_key, p.cert, out, None,
        fingerprint=FINGERPRINT, created_at=NOW, rng=secrets.token_bytes, wrap=None,
        sign=lambda _key, message: p.suite.sign(impostor, message),
    )  # fmt: skip
    assert keyless(p, out.getvalue()) == "bid.bad_signature"


def test_edited_header_with_a_recomputed_digest(p: Party, sample: bytes) -> None:
    def later(doc: dict[str, Any]) -> None:
        doc["created_at"] = "2026-11-24T09:30:00+08:00"

    forged = rebuild(sample, later, signer=None)  # old signature, consistent digest
    assert keyless(p, forged) == "bid.bad_signature"


def test_certificate_of_another_bidder(p: Party, sample: bytes) -> None:
    def other_code(doc: dict[str, Any]) -> None:
        doc["bidder"]["credit_code"] = OTHER_CREDIT_CODE

    # re-signed by the real key: signature fine, but the certificate names another bidder
    assert keyless(p, rebuild(sample, other_code, signer=p.bidder_key)) == "bid.bidder_mismatch"

    swapped_cert = p.issue(p.suite.generate_keypair())

    def other_cert(doc: dict[str, Any]) -> None:
        doc["bidder"]["certificate"] = base64.b64encode(swapped_cert.der).decode()

    assert keyless(p, rebuild(sample, other_cert, signer=p.bidder_key)) == "bid.bad_signature"


def test_spec_violations_with_a_consistent_digest_are_malformed(p: Party, sample: bytes) -> None:
    def unknown_field(doc: dict[str, Any]) -> None:
        doc["note"] = "x"

    def bad_name(doc: dict[str, Any]) -> None:
        doc["files"][0]["name"] = "../escape.txt"

    def bad_size(doc: dict[str, Any]) -> None:
        doc["files"][0]["ciphertext_size"] += 1

    def new_version(doc: dict[str, Any]) -> None:
        doc["version"] = 2

    for mutate in (unknown_field, bad_name, bad_size):
        assert keyless(p, rebuild(sample, mutate, signer=p.bidder_key)) == "bid.malformed"
    assert keyless(p, rebuild(sample, new_version, signer=p.bidder_key)) == (
        "bid.unsupported_version"
    )


def test_wrapped_share_copied_from_another_bid_does_not_open(p: Party, tmp_path: Path) -> None:
    """A bidder copying a competitor's wrapped shares into their own header gains nothing."""
    write_tree(tmp_path / "src", {"a": b"mine"})
    victim = header_of(p.seal(tmp_path / "src"))
    write_tree(tmp_path / "src2", {"a": b"copycat"})
    copycat = p.seal(tmp_path / "src2")

    def steal(doc: dict[str, Any]) -> None:
        for part in sealed.PARTS:
            for role in sealed.ROLES:
                doc["keys"][part][role]["wrapped"] = base64.b64encode(
                    victim.keys[part].slot(role).wrapped
                ).decode()

    forged = rebuild(copycat, steal, signer=p.bidder_key)
    header = sealed.verify_structure(io.BytesIO(forged), p.section).header
    with pytest.raises(Inconsistent):
        sealed.partial_decrypt(
            header.wrapped_share("files", "tenderer"), p.tenderer_key, "tenderer"
        )


def test_sample_files_fixture_is_what_we_think() -> None:
    assert len(SAMPLE_FILES["技术标/data.bin"]) == 2 * sealed.CHUNK_SIZE + 7


def test_a_file_cut_at_a_chunk_boundary_fails_even_with_a_re_signed_header(
    p: Party, tmp_path: Path
) -> None:
    """The last-chunk flag: even a header re-signed to declare the shorter file (the bidder's
    own key, e.g. a broken tool) cannot turn a non-final chunk into the end of the file."""
    write_tree(tmp_path / "src", {"two-chunks.bin": b"z" * (2 * sealed.CHUNK_SIZE)})
    data = p.seal(tmp_path / "src")
    r = regions(data)
    start, end = r["file0.chunk0"]
    chunk0 = data[start:end]

    def cut(doc: dict[str, Any]) -> None:
        entry = doc["files"][0]
        entry["size"] = sealed.CHUNK_SIZE
        entry["ciphertext_size"] = sealed.CHUNK_SIZE + sealed.TAG_SIZE
        entry["ciphertext_hash"] = p.suite.hash(chunk0).hex()

    forged = rebuild(data[:end], cut, signer=p.bidder_key)
    sealed.verify_structure(io.BytesIO(forged), p.section)  # structurally consistent
    key = files_key(p, data)
    assert code_of(lambda: drain(p, forged, key)) == "bid.tampered"
