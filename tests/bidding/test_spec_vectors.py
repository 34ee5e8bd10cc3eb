"""The test vectors of docs/spec/sealed-bid.md, read from the document itself so that the
specification and the code cannot drift apart."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
import rfc8785

from sunlit.bidding import sealed
from sunlit.kernel.crypto import PrivateKey, PublicKey, get_suite, verify_any

from . import vectors

SUITES = ("gm", "intl")
VALUES = vectors.spec_values()


def values(suite_name: str) -> dict[str, bytes]:
    prefix = f"{suite_name}."
    return {k[len(prefix) :]: v for k, v in VALUES.items() if k.startswith(prefix)}


def test_the_spec_publishes_every_vector() -> None:
    blocks = vectors.spec_blocks()
    for suite_name in SUITES:
        for name in ("tenderer-key", "center-key", "bidder-key", "bidder-cert", "container"):
            assert f"{suite_name}.{name}" in blocks
        v = values(suite_name)
        for name in (
            "seed", "bid_id", "summary_key", "files_key", "summary_share_tenderer",
            "summary_share_center", "files_share_tenderer", "files_share_center", "random",
            "summary_aead_key", "summary_nonce", "file0_key", "file0_prefix", "file0_salt",
            "file1_key", "bid_digest", "stream_tag0", "stream_tag1", "stream_tag2",
            "stream_ciphertext_hash", "stream_plaintext_hash", "container_hash",
        ):  # fmt: skip
            assert name in v, name


def test_the_random_source_is_the_one_described() -> None:
    rng = vectors.VectorRng(b"sunlit/sealed-bid/test-vector/1")
    first = rng(16) + rng(40)
    import hashlib

    stream = b"".join(
        hashlib.sha256(vectors.SEED + i.to_bytes(8, "big")).digest() for i in range(2)
    )
    assert first == stream[:56]
    assert vectors.SEED == values("gm")["seed"] == values("intl")["seed"]
    assert len(vectors.FILES["技术标/施工组织设计.txt"]) == 36


@pytest.mark.parametrize("suite_name", SUITES)
def test_container_verifies_and_decrypts(suite_name: str, tmp_path: Path) -> None:
    keys = vectors.vector_keys(suite_name)
    data = vectors.container(suite_name)
    v = values(suite_name)
    assert get_suite(suite_name).hash(data) == v["container_hash"]
    verified = sealed.verify_structure(io.BytesIO(data), keys.section(suite_name))
    header = verified.header
    assert verified.bid_digest == v["bid_digest"]
    assert header.bid_id == v["bid_id"] and header.section_code == vectors.SECTION_CODE
    assert header.created_at == "2026-11-23T09:30:00+08:00"
    shares = {}
    for part in sealed.PARTS:
        shares[part] = [
            sealed.partial_decrypt(
                header.wrapped_share(part, "tenderer"), keys.tenderer, "tenderer"
            ),
            sealed.partial_decrypt(header.wrapped_share(part, "center"), keys.center, "center"),
        ]
        assert shares[part][0].value == v[f"{part}_share_tenderer"]
        assert shares[part][1].value == v[f"{part}_share_center"]
        assert sealed.combine(header, part, shares[part]) == v[f"{part}_key"]
    remedy = sealed.remedy_decrypt(io.BytesIO(data), keys.bidder)
    assert (remedy.summary_key, remedy.files_key) == (v["summary_key"], v["files_key"])
    summary = sealed.open_summary(io.BytesIO(data), v["summary_key"])
    assert summary.price == vectors.SUMMARY.price and summary.items == vectors.SUMMARY.items
    assert summary.random == v["random"] and summary.machine == vectors.FINGERPRINT
    sealed.open_files(
        io.BytesIO(data), v["files_key"], tmp_path / "out", verify_plaintext_hashes=True
    )
    for name, content in vectors.FILES.items():
        assert (tmp_path / "out").joinpath(*name.split("/")).read_bytes() == content


@pytest.mark.parametrize("suite_name", SUITES)
def test_container_is_reproduced_byte_for_byte_from_the_seed(
    suite_name: str, tmp_path: Path
) -> None:
    """Everything but the randomized wraps and signature follows from the seed; those are
    taken from the published container after checking that they open / verify."""
    keys = vectors.vector_keys(suite_name)
    published = vectors.container(suite_name)
    header = sealed.inspect(io.BytesIO(published))
    suite = get_suite(suite_name)
    blobs: dict[bytes, bytes] = {}
    for part in sealed.PARTS:
        for role in ("tenderer", "center", "bidder"):
            slot = header.keys[part]
            blob = slot.remedy if role == "bidder" else slot.slot(role).wrapped  # type: ignore[arg-type]
            blobs[header._ident.ctx(f"wrap/{part}/{role}")] = blob

    def replay_wrap(public: PublicKey, secret: bytes, info: bytes) -> bytes:
        blob = blobs[info]
        private: PrivateKey = keys.private_for(public)
        assert suite.unwrap(private, blob, info) == secret, info
        return blob

    def replay_sign(private: PrivateKey, message: bytes) -> bytes:
        assert private == keys.bidder or private.public_key() == keys.bidder.public_key()
        verify_any(keys.certificate.public_key, message, header.signature)
        return header.signature

    rebuilt = vectors.seal_vector(suite_name, keys, tmp_path, wrap=replay_wrap, sign=replay_sign)
    assert rebuilt == published


@pytest.mark.parametrize("suite_name", SUITES)
def test_intermediate_values(suite_name: str) -> None:
    data = vectors.container(suite_name)
    header = sealed.inspect(io.BytesIO(data))
    computed = vectors.intermediates(suite_name, header)
    published = values(suite_name)
    for name, value in computed.items():
        assert published[name] == value, name
    assert published["wrap_info_files_tenderer"] == (
        b"sunlit-bid/1/wrap/files/tenderer/TV-2026-0001/9144030071526726XG/"
        + header.bid_id.hex().encode()
    )


@pytest.mark.parametrize("suite_name", SUITES)
def test_stream_vector(suite_name: str) -> None:
    v = values(suite_name)
    header = sealed.inspect(io.BytesIO(vectors.container(suite_name)))
    computed = vectors.stream_values(suite_name, header, v["files_key"])
    for name, value in computed.items():
        assert v[name] == value, name
    prefix = v["file0_prefix"]
    assert v["stream_nonce0"] == prefix + bytes.fromhex("0000000000")
    assert v["stream_nonce2"] == prefix + bytes.fromhex("0000000201")


def test_example_header_is_the_gm_vector() -> None:
    text = vectors.spec_example_header()
    header = sealed.inspect(io.BytesIO(vectors.container("gm")))
    assert rfc8785.dumps(json.loads(text)) == header.header_json
    assert base64.b64decode(json.loads(text)["bidder"]["certificate"]) == (
        vectors.vector_keys("gm").certificate.der
    )
