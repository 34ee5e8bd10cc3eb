"""Standard test vectors (GM/T 0004 SM3, GM/T 0002 SM4, RFC 8998 SM4-GCM) and AEAD behaviour."""

from __future__ import annotations

import hashlib
import hmac
import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sunlit.kernel.crypto import DecryptionFailed, UnknownSuite, get_suite

GM = get_suite("gm")
INTL = get_suite("intl")


def test_default_suite_is_gm() -> None:
    assert get_suite() is GM
    assert GM.name == "gm"
    assert INTL.name == "intl"


def test_unknown_suite_is_refused() -> None:
    with pytest.raises(UnknownSuite) as err:
        get_suite("rsa")
    assert err.value.code == "crypto.unknown_suite"


# --- SM3 (GM/T 0004-2012 appendix A) --------------------------------------------------------


def test_sm3_abc_vector() -> None:
    assert GM.hash(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )


def test_sm3_64_byte_vector() -> None:
    assert GM.hash(b"abcd" * 16).hex() == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )


def test_sm3_incremental_equals_one_shot() -> None:
    data = b"abcd" * 16
    h = GM.hasher()
    for start, end in ((0, 2), (2, 2), (2, 17), (17, 63), (63, 64)):
        h.update(data[start:end])
    early = h.copy()
    assert h.digest() == GM.hash(b"abcd" * 16)
    early.update(b"x")
    assert early.digest() == GM.hash(b"abcd" * 16 + b"x")
    with pytest.raises(ValueError):
        h.digest()


def test_intl_hash_is_sha256() -> None:
    data = "开标记录".encode()
    assert INTL.hash(data) == hashlib.sha256(data).digest()
    h = INTL.hasher()
    h.update(data[:3])
    h.update(data[3:])
    assert h.digest() == hashlib.sha256(data).digest()


def test_hmac_per_suite() -> None:
    key, data = b"k" * 32, b"message"
    assert INTL.hmac(key, data) == hmac.new(key, data, hashlib.sha256).digest()
    assert GM.hmac(key, data) != INTL.hmac(key, data)
    assert len(GM.hmac(key, data)) == 32
    assert GM.hmac(key, data) != GM.hmac(b"j" * 32, data)


def test_derive_key_is_hkdf_with_the_suite_hash() -> None:
    # RFC 5869 test case 1 (HKDF-SHA256).
    ikm = bytes.fromhex("0b" * 22)
    salt = bytes.fromhex("000102030405060708090a0b0c")
    info = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
    okm = INTL.derive_key(ikm, salt=salt, info=info, length=42)
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )
    # HKDF-SM3: extract = HMAC-SM3(salt, ikm); first block = HMAC-SM3(prk, info || 0x01).
    prk = GM.hmac(salt, ikm)
    assert GM.derive_key(ikm, salt=salt, info=info, length=32) == GM.hmac(prk, info + b"\x01")


# --- SM4 (GM/T 0002-2012 appendix A) --------------------------------------------------------


def test_sm4_block_vector_through_cryptography_ecb() -> None:
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (enc.update(key) + enc.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_gcm_rfc8998_vector() -> None:
    # RFC 8998 appendix A.1.
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    expected = bytes.fromhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
        "83DE3541E4C2B58177E065A9BF7B62EC"
    )
    assert GM.seal(key, nonce, plaintext, aad) == expected
    assert GM.open(key, nonce, expected, aad) == plaintext


# --- AEAD round trips and tampering (both suites) --------------------------------------------


@pytest.mark.parametrize("suite", [GM, INTL], ids=["gm", "intl"])
def test_aead_round_trip_and_sizes(suite) -> None:  # type: ignore[no-untyped-def]
    key = suite.new_aead_key()
    assert len(key) == suite.aead_key_size == (16 if suite is GM else 32)
    nonce = os.urandom(suite.nonce_size)
    plaintext = "投标报价：壹佰万元整".encode() * 100
    sealed = suite.seal(key, nonce, plaintext, b"header")
    assert len(sealed) == len(plaintext) + suite.tag_size
    assert plaintext not in sealed
    assert suite.open(key, nonce, sealed, b"header") == plaintext
    assert suite.open(key, nonce, suite.seal(key, nonce, b"", b""), b"") == b""


@pytest.mark.parametrize("suite", [GM, INTL], ids=["gm", "intl"])
def test_aead_detects_every_kind_of_tampering(suite) -> None:  # type: ignore[no-untyped-def]
    key = suite.new_aead_key()
    nonce = os.urandom(12)
    sealed = suite.seal(key, nonce, b"sealed bid part", b"aad")
    for position in (0, len(sealed) // 2, len(sealed) - 1):
        flipped = bytearray(sealed)
        flipped[position] ^= 0x01
        with pytest.raises(DecryptionFailed):
            suite.open(key, nonce, bytes(flipped), b"aad")
    with pytest.raises(DecryptionFailed):
        suite.open(key, nonce, sealed, b"other aad")
    with pytest.raises(DecryptionFailed):
        suite.open(suite.new_aead_key(), nonce, sealed, b"aad")
    with pytest.raises(DecryptionFailed):
        suite.open(key, os.urandom(12), sealed, b"aad")
    with pytest.raises(DecryptionFailed):
        suite.open(key, nonce, sealed[:-1], b"aad")
    with pytest.raises(DecryptionFailed) as err:
        suite.open(key, nonce, sealed[:5], b"aad")
    assert err.value.code == "crypto.decryption_failed"


@pytest.mark.parametrize("suite", [GM, INTL], ids=["gm", "intl"])
def test_aead_rejects_wrong_key_and_nonce_sizes(suite) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        suite.seal(b"k" * 24, b"n" * 12, b"x")
    with pytest.raises(ValueError):
        suite.seal(suite.new_aead_key(), b"n" * 16, b"x")


def test_aes_gcm_matches_nist_style_reference() -> None:
    # Cross-check the intl AEAD against cryptography's raw Cipher interface.
    key, nonce = os.urandom(32), os.urandom(12)
    enc = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(b"a")
    ct = enc.update(b"plain") + enc.finalize()
    assert INTL.seal(key, nonce, b"plain", b"a") == ct + enc.tag
