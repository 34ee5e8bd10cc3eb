"""Key wrapping to a public key: SM2 C1C3C2 (gm) and HPKE P-256 (intl), with interop proofs.

* gm: an outsider decrypts Sunlit's wrap with ``openssl pkeyutl -decrypt`` after converting the
  GM/T 0003.4 C1C3C2 bytes to the GM/T 0009 DER SM2Cipher OpenSSL expects, and Sunlit unwraps
  what OpenSSL encrypted; snowland-smx (pure Python) agrees both ways.
* intl: an independent RFC 9180 base-mode decryption written here from primitives (ECDH,
  HKDF, AES-GCM) recovers Sunlit's wrapped key, proving the format in the spec.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from pysmx.SM2 import Decrypt as smx_decrypt
from pysmx.SM2 import Encrypt as smx_encrypt

from sunlit.kernel.crypto import DecryptionFailed, UnsupportedKey, get_suite, load_private_key_any
from sunlit.kernel.crypto._asn1 import sm2_ciphertext_from_der, sm2_ciphertext_to_der

from .helpers import OpenSSL

GM = get_suite("gm")
INTL = get_suite("intl")
SUITES = pytest.mark.parametrize("suite", [GM, INTL], ids=["gm", "intl"])
Writer = Callable[[str, bytes], Path]
INFO = "sunlit/bid/JS-2026-0001/标段1/tenderer".encode()


@SUITES
def test_wrap_round_trip(suite) -> None:  # type: ignore[no-untyped-def]
    key = suite.generate_keypair()
    for secret in (suite.new_aead_key(), b"\x00", os.urandom(223)):
        blob = suite.wrap(key.public_key(), secret, INFO)
        assert len(secret) < 16 or secret not in blob
        assert suite.unwrap(key, blob, INFO) == secret
    # Randomized: two wraps of the same key differ.
    secret = suite.new_aead_key()
    assert suite.wrap(key.public_key(), secret, INFO) != suite.wrap(key.public_key(), secret, INFO)


@SUITES
def test_wrap_sizes(suite) -> None:  # type: ignore[no-untyped-def]
    key = suite.generate_keypair()
    blob = suite.wrap(key.public_key(), b"k" * 16, INFO)
    # gm: 04 || x || y || C3 || C2 with C2 = key || SM3(info); intl: enc(65) || ct || tag(16).
    assert len(blob) == (1 + 64 + 32 + 16 + 32 if suite is GM else 65 + 16 + 16)
    assert blob[0] == 0x04
    with pytest.raises(ValueError):
        suite.wrap(key.public_key(), b"", INFO)
    with pytest.raises(ValueError):
        suite.wrap(key.public_key(), b"k" * 224, INFO)


@SUITES
def test_unwrap_failures_are_decryption_failed(suite) -> None:  # type: ignore[no-untyped-def]
    key = suite.generate_keypair()
    blob = suite.wrap(key.public_key(), suite.new_aead_key(), INFO)
    with pytest.raises(DecryptionFailed) as err:
        suite.unwrap(suite.generate_keypair(), blob, INFO)  # wrong private key
    assert err.value.code == "crypto.decryption_failed"
    with pytest.raises(DecryptionFailed):
        suite.unwrap(key, blob, INFO + b"x")  # other context
    for position in (0, 1, 40, 70, 100, len(blob) - 1):
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        with pytest.raises(DecryptionFailed):
            suite.unwrap(key, bytes(tampered), INFO)
    for truncated in (b"", blob[:1], blob[:64], blob[:-1]):
        with pytest.raises(DecryptionFailed):
            suite.unwrap(key, truncated, INFO)


def test_wrap_refuses_keys_of_the_other_suite() -> None:
    sm2, p256 = GM.generate_keypair(), INTL.generate_keypair()
    with pytest.raises(UnsupportedKey):
        GM.wrap(p256.public_key(), b"k" * 16, INFO)
    with pytest.raises(UnsupportedKey):
        INTL.unwrap(sm2, b"\x04" * 200, INFO)


# --- gm interop ------------------------------------------------------------------------------


def test_openssl_decrypts_a_gm_wrap(openssl: OpenSSL, write: Writer) -> None:
    key = GM.generate_keypair()
    secret = GM.new_aead_key()
    blob = GM.wrap(key.public_key(), secret, INFO)
    der = write("wrap.der", sm2_ciphertext_to_der(blob))
    plain = openssl.run("pkeyutl", "-decrypt", "-inkey", write("k.pem", key.to_pem()), "-in", der)
    assert plain == secret + GM.hash(INFO)
    # The DER form converts back to the same bytes.
    assert sm2_ciphertext_from_der(der.read_bytes()) == blob


def test_sunlit_unwraps_what_openssl_encrypted(
    openssl: OpenSSL, write: Writer, tmp_path: Path
) -> None:
    path = tmp_path / "k.pem"
    openssl.run("genpkey", "-algorithm", "SM2", "-out", path)
    key = load_private_key_any(path.read_bytes())
    secret = os.urandom(16)
    pub = write("pub.pem", key.public_key().to_pem())
    der = openssl.run(
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        pub,
        "-in",
        write("m.bin", secret + GM.hash(INFO)),
    )
    blob = sm2_ciphertext_from_der(der)
    assert GM.unwrap(key, blob, INFO) == secret
    with pytest.raises(DecryptionFailed):
        GM.unwrap(key, blob, b"another context")


def test_gm_wrap_cross_check_with_snowland_smx() -> None:
    key = GM.generate_keypair()
    secret = GM.new_aead_key()
    point = key.public_key().point[1:]  # snowland: x || y, C1 without the 04 prefix
    theirs = smx_encrypt(secret + GM.hash(INFO), point, 64)
    assert GM.unwrap(key, b"\x04" + theirs, INFO) == secret
    blob = GM.wrap(key.public_key(), secret, INFO)
    der = key.to_der()
    scalar = der[der.index(b"\x04\x20") + 2 :][:32]
    assert smx_decrypt(blob[1:], scalar, 64) == secret + GM.hash(INFO)


# --- intl: HPKE decrypted by an independent RFC 9180 implementation ---------------------------


def _labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    mac = crypto_hmac.HMAC(salt, hashes.SHA256())
    mac.update(b"HPKE-v1" + suite_id + label + ikm)
    return mac.finalize()


def _labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    labeled = length.to_bytes(2, "big") + b"HPKE-v1" + suite_id + label + info
    return HKDFExpand(hashes.SHA256(), length, labeled).derive(prk)


def _rfc9180_base_open(blob: bytes, private: ec.EllipticCurvePrivateKey, info: bytes) -> bytes:
    enc, ct = blob[:65], blob[65:]
    kem_id = b"KEM\x00\x10"  # DHKEM(P-256, HKDF-SHA256)
    pk_e = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), enc)
    dh = private.exchange(ec.ECDH(), pk_e)
    pk_rm = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    eae_prk = _labeled_extract(kem_id, b"", b"eae_prk", dh)
    shared = _labeled_expand(kem_id, eae_prk, b"shared_secret", enc + pk_rm, 32)
    suite_id = b"HPKE" + b"\x00\x10" + b"\x00\x01" + b"\x00\x02"  # P-256, HKDF-SHA256, AES-256-GCM
    psk_id_hash = _labeled_extract(suite_id, b"", b"psk_id_hash", b"")
    info_hash = _labeled_extract(suite_id, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash  # mode_base
    secret = _labeled_extract(suite_id, shared, b"secret", b"")
    key = _labeled_expand(suite_id, secret, b"key", context, 32)
    base_nonce = _labeled_expand(suite_id, secret, b"base_nonce", context, 12)
    return AESGCM(key).decrypt(base_nonce, ct, b"")  # sequence number 0, empty aad


def test_intl_wrap_is_rfc9180_base_mode() -> None:
    key = INTL.generate_keypair()
    secret = INTL.new_aead_key()
    blob = INTL.wrap(key.public_key(), secret, INFO)
    assert _rfc9180_base_open(blob, key._key, INFO) == secret  # type: ignore[attr-defined]
    with pytest.raises(InvalidTag):  # the info is bound into the key schedule
        _rfc9180_base_open(blob, key._key, b"other")  # type: ignore[attr-defined]
