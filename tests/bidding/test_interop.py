"""Interoperability: chunks and summary against `cryptography` used directly, the header
signature and the digests with the OpenSSL 3 CLI."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sunlit.bidding import sealed

from .conftest import Party
from .helpers import header_of, regions

OpenSSL = Callable[..., subprocess.CompletedProcess[bytes]]
SM2_ID = "1234567812345678"


def _hash_algorithm(suite_name: str) -> hashes.HashAlgorithm:
    return hashes.SM3() if suite_name == "gm" else hashes.SHA256()


def _gcm_encrypt(suite_name: str, key: bytes, nonce: bytes, plain: bytes) -> bytes:
    """SM4-GCM / AES-256-GCM straight from `cryptography`, no Sunlit code."""
    if suite_name == "intl":
        return AESGCM(key).encrypt(nonce, plain, b"")
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    return enc.update(plain) + enc.finalize() + enc.tag


def _gcm_decrypt(suite_name: str, key: bytes, nonce: bytes, sealed_chunk: bytes) -> bytes:
    if suite_name == "intl":
        return AESGCM(key).decrypt(nonce, sealed_chunk, b"")
    body, tag = sealed_chunk[:-16], sealed_chunk[-16:]
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    return dec.update(body) + dec.finalize()


def _hkdf(suite_name: str, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(_hash_algorithm(suite_name), length, None, info).derive(ikm)


def test_chunks_match_gcm_from_cryptography(p: Party, sample: bytes) -> None:
    """Recompute the file keys with HKDF from `cryptography` and every chunk with SM4-GCM /
    AES-256-GCM from `cryptography`: byte-equal to the container's chunks."""
    header = header_of(sample)
    files_key = sealed.remedy_decrypt(io.BytesIO(sample), p.bidder_key).files_key
    r = regions(sample)
    n = p.suite.aead_key_size
    ctx = f"sunlit-bid/1/%s/{header.section_code}/{header.bidder_credit_code}/{header.bid_id.hex()}"
    for entry in header.files:
        okm = _hkdf(p.name, files_key, (ctx % f"file/{entry.index}").encode(), n + 7 + 32)
        key, prefix = okm[:n], okm[n : n + 7]
        count = sealed.chunk_count(entry.size)
        plain_parts = []
        for j in range(count):
            start, end = r[f"file{entry.index}.chunk{j}"]
            nonce = prefix + j.to_bytes(4, "big") + (b"\x01" if j == count - 1 else b"\x00")
            plain = _gcm_decrypt(p.name, key, nonce, sample[start:end])
            assert _gcm_encrypt(p.name, key, nonce, plain) == sample[start:end]
            plain_parts.append(plain)
        assert len(b"".join(plain_parts)) == entry.size


def test_summary_matches_gcm_from_cryptography(p: Party, sample: bytes) -> None:
    header = header_of(sample)
    summary_key = sealed.remedy_decrypt(io.BytesIO(sample), p.bidder_key).summary_key
    n = p.suite.aead_key_size
    info = (
        f"sunlit-bid/1/summary/{header.section_code}/{header.bidder_credit_code}/"
        f"{header.bid_id.hex()}"
    ).encode()
    okm = _hkdf(p.name, summary_key, info, n + 12)
    start, end = regions(sample)["summary"]
    plain = _gcm_decrypt(p.name, okm[:n], okm[n:], sample[start:end])
    length = int.from_bytes(plain[:4], "big")
    assert plain[4 + length :] == bytes(len(plain) - 4 - length) and len(plain) % 4096 == 0
    assert b'"price":"98765.40"' in plain[4 : 4 + length]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_header_signature_verifies_with_openssl(
    p: Party, sample: bytes, tmp_path: Path, openssl: OpenSSL
) -> None:
    header = header_of(sample)
    cert = _write(tmp_path, "cert.pem", header.bidder_certificate.to_pem())
    pub = tmp_path / "pub.pem"
    extracted = openssl("x509", "-in", cert, "-pubkey", "-noout", "-out", pub)
    assert extracted.returncode == 0, extracted.stderr
    assert pub.read_bytes() == p.bidder_key.public_key().to_pem()
    sig = _write(tmp_path, "sig.der", header.signature)

    def verify(message: bytes) -> subprocess.CompletedProcess[bytes]:
        msg = _write(tmp_path, "header.bin", message)
        if p.name == "gm":
            return openssl(
                "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", f"distid:{SM2_ID}",
                "-pubin", "-inkey", pub, "-sigfile", sig, "-in", msg,
            )  # fmt: skip
        return openssl("dgst", "-sha256", "-verify", pub, "-signature", sig, msg)

    good = verify(header.header_json)
    assert good.returncode == 0, good.stdout + good.stderr
    edited = header.header_json.replace(b'"created_at":"2026', b'"created_at":"2027')
    assert edited != header.header_json
    assert verify(edited).returncode != 0


def test_digests_with_openssl(p: Party, sample: bytes, tmp_path: Path, openssl: OpenSSL) -> None:
    """The bid digest (receipt) and a blob's ciphertext hash with `openssl dgst`."""
    header = header_of(sample)
    algorithm = "-sm3" if p.name == "gm" else "-sha256"
    block = _write(tmp_path, "block.bin", sample[: header.header_block_size - 32])
    out = openssl("dgst", algorithm, "-r", block)
    assert out.stdout.split()[0].decode() == header.digest.hex()
    start, end = regions(sample)["file0.chunk0"]
    blob = _write(tmp_path, "blob.bin", sample[start:end])  # file 0 has a single chunk
    out = openssl("dgst", algorithm, "-r", blob)
    assert out.stdout.split()[0].decode() == header.files[0].ciphertext_hash.hex()
