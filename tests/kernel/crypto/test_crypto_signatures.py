"""Signatures: SM2 (gm) and ECDSA P-256 (intl), interoperating both ways with the OpenSSL 3 CLI,
and SM2 cross-checked with a second, independent implementation (snowland-smx, pure Python)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from pysmx.SM2 import Sign as smx_sign
from pysmx.SM2 import Verify as smx_verify
from pysmx.SM2 import generate_keypair as smx_generate_keypair
from pysmx.SM2 import sm2_N

from sunlit.kernel.crypto import (
    InvalidSignature,
    UnsupportedKey,
    get_suite,
    load_private_key_any,
    load_public_key_any,
    signature_from_raw,
    signature_to_raw,
    verify_any,
)
from sunlit.kernel.crypto._asn1 import P256_ORDER, SM2_ORDER

from .helpers import SM2_ID, OpenSSL

GM = get_suite("gm")
INTL = get_suite("intl")
MESSAGES = [
    "投标文件摘要：苏州市某某工程施工招标 第一标段".encode(),
    "唱标：投标报价 ¥1,234,567.89，工期 365 日历天，质量 合格".encode(),
    b"",
    bytes(range(256)) * 40,
]

Writer = Callable[[str, bytes], Path]


def _sm2_verify_cli(openssl: OpenSSL, pub: Path, msg: Path, sig: Path) -> bool:
    return openssl.ok(
        "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", f"distid:{SM2_ID}",
        "-pubin", "-inkey", pub, "-in", msg, "-sigfile", sig,
    )  # fmt: skip


# --- SM2 with OpenSSL --------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(MESSAGES)))
def test_sunlit_sm2_signature_verifies_in_openssl(
    openssl: OpenSSL, write: Writer, index: int
) -> None:
    message = MESSAGES[index]
    key = GM.generate_keypair()
    signature = GM.sign(key, message)
    pub = write("pub.pem", key.public_key().to_pem())
    msg = write("msg.bin", message)
    sig = write("sig.der", signature)
    assert _sm2_verify_cli(openssl, pub, msg, sig)
    # The same check through `openssl dgst`.
    assert openssl.ok(
        "dgst", "-sm3", "-sigopt", f"distid:{SM2_ID}", "-verify", pub, "-signature", sig, msg
    )
    # Tampered message and wrong ID fail in OpenSSL too, so the checks above can fail.
    tampered = write("tampered.bin", message + b"!")
    assert not _sm2_verify_cli(openssl, pub, tampered, sig)
    assert not openssl.ok(
        "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", "distid:ALICE123@YAHOO.COM",
        "-pubin", "-inkey", pub, "-in", msg, "-sigfile", sig,
    )  # fmt: skip


@pytest.mark.parametrize("algorithm", ["SM2", "EC-SM2"])
def test_openssl_sm2_signature_verifies_in_sunlit(
    openssl: OpenSSL, write: Writer, tmp_path: Path, algorithm: str
) -> None:
    key_path = tmp_path / "openssl-sm2.pem"
    if algorithm == "SM2":
        openssl.run("genpkey", "-algorithm", "SM2", "-out", key_path)
    else:
        openssl.run(
            "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", key_path
        )
    pub_pem = openssl.run("pkey", "-in", key_path, "-pubout")
    public = load_public_key_any(pub_pem)
    private = load_private_key_any(key_path.read_bytes())
    assert public.algorithm == "sm2"
    assert private.public_key() == public
    for message in MESSAGES[:3]:
        msg = write("msg.bin", message)
        signature = openssl.run(
            "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", f"distid:{SM2_ID}",
            "-inkey", key_path, "-in", msg,
        )  # fmt: skip
        GM.verify(public, message, signature)
        verify_any(public, message, signature)
        with pytest.raises(InvalidSignature):
            GM.verify(public, message + b"x", signature)
    # And Sunlit signs with OpenSSL's key; OpenSSL verifies.
    message = MESSAGES[0]
    sig = write("sunlit.sig", GM.sign(private, message))
    assert _sm2_verify_cli(openssl, write("pub.pem", pub_pem), write("m.bin", message), sig)


def test_sm2_signature_without_the_default_id_is_refused(openssl: OpenSSL, write: Writer) -> None:
    key = GM.generate_keypair()
    key_path = write("key.pem", key.to_pem())
    message = "同一消息".encode()
    other_id = openssl.run(
        "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", "distid:ALICE123@YAHOO.COM",
        "-inkey", key_path, "-in", write("m.bin", message),
    )  # fmt: skip
    with pytest.raises(InvalidSignature):
        GM.verify(key.public_key(), message, other_id)


# --- SM2 with snowland-smx (independent pure-Python implementation) ----------------------------


def test_sm2_cross_check_with_snowland_smx() -> None:
    uid = SM2_ID.encode()
    for message in MESSAGES[:2]:
        pair = smx_generate_keypair()
        public = load_public_key_any(
            # snowland gives x || y; build the SPKI through the provider's loader.
            _spki_for_sm2_point(b"\x04" + pair.publicKey)
        )
        nonce = f"{secrets.randbelow(sm2_N - 1) + 1:064x}"
        raw = smx_sign(message, pair.privateKey, nonce, 64, uid=uid)
        GM.verify(public, message, signature_from_raw(raw))
        with pytest.raises(InvalidSignature):
            GM.verify(public, message + b"\x00", signature_from_raw(raw))

        key = GM.generate_keypair()
        der = GM.sign(key, message)
        point = key.public_key().point[1:]
        assert smx_verify(signature_to_raw(der), message, point, 64, uid=uid)
        assert not smx_verify(signature_to_raw(der), message + b"\x00", point, 64, uid=uid)


def _spki_for_sm2_point(point: bytes) -> bytes:
    from sunlit.kernel.crypto._asn1 import OID_SM2P256V1, spki_der

    return spki_der(OID_SM2P256V1, point)


# --- ECDSA P-256 with OpenSSL ------------------------------------------------------------------


def test_sunlit_ecdsa_signature_verifies_in_openssl(openssl: OpenSSL, write: Writer) -> None:
    key = INTL.generate_keypair()
    pub = write("pub.pem", key.public_key().to_pem())
    for message in MESSAGES:
        msg = write("msg.bin", message)
        sig = write("sig.der", INTL.sign(key, message))
        assert openssl.ok("dgst", "-sha256", "-verify", pub, "-signature", sig, msg)
        assert not openssl.ok(
            "dgst", "-sha256", "-verify", pub, "-signature", sig, write("t.bin", message + b"!")
        )


def test_openssl_ecdsa_signature_verifies_in_sunlit(
    openssl: OpenSSL, write: Writer, tmp_path: Path
) -> None:
    key_path = tmp_path / "p256.pem"
    openssl.run(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key_path
    )
    public = load_public_key_any(openssl.run("pkey", "-in", key_path, "-pubout"))
    assert public.algorithm == "p256"
    assert load_private_key_any(key_path.read_bytes()).public_key() == public
    for message in MESSAGES:
        sig = openssl.run("dgst", "-sha256", "-sign", key_path, write("m.bin", message))
        INTL.verify(public, message, sig)
        verify_any(public, message, sig)
        with pytest.raises(InvalidSignature):
            INTL.verify(public, message + b"!", sig)


# --- encoding rules at the boundary ------------------------------------------------------------


@pytest.mark.parametrize(
    ("suite", "order"), [(GM, SM2_ORDER), (INTL, P256_ORDER)], ids=["gm", "intl"]
)
def test_signature_encoding_is_strict_der(suite, order: int) -> None:  # type: ignore[no-untyped-def]
    key = suite.generate_keypair()
    message = b"header"
    der = suite.sign(key, message)
    raw = signature_to_raw(der)
    assert len(raw) == 64
    assert signature_from_raw(raw) == der
    # Raw r || s is not accepted where DER is expected: convert at the boundary.
    with pytest.raises(InvalidSignature):
        suite.verify(key.public_key(), message, raw)
    # Non-minimal DER (an extra leading zero on r) is refused although r is unchanged.
    r = int.from_bytes(raw[:32], "big")
    s = int.from_bytes(raw[32:], "big")
    r_bytes = b"\x00" + r.to_bytes((r.bit_length() + 8) // 8, "big")
    s_bytes = s.to_bytes((s.bit_length() + 8) // 8, "big")
    body = b"\x02" + bytes([len(r_bytes)]) + r_bytes + b"\x02" + bytes([len(s_bytes)]) + s_bytes
    with pytest.raises(InvalidSignature):
        suite.verify(key.public_key(), message, b"\x30" + bytes([len(body)]) + body)
    # Trailing bytes, r = 0 and s >= n are refused.
    with pytest.raises(InvalidSignature):
        suite.verify(key.public_key(), message, der + b"\x00")
    with pytest.raises(InvalidSignature):
        suite.verify(key.public_key(), message, signature_from_raw(bytes(32) + raw[32:]))
    with pytest.raises(InvalidSignature):
        suite.verify(
            key.public_key(),
            message,
            signature_from_raw(raw[:32] + (order + 1).to_bytes(32, "big")),
        )
    # A signature from another key fails.
    with pytest.raises(InvalidSignature) as err:
        suite.verify(suite.generate_keypair().public_key(), message, der)
    assert err.value.code == "crypto.invalid_signature"


def test_signatures_are_randomized() -> None:
    key = GM.generate_keypair()
    assert GM.sign(key, b"m") != GM.sign(key, b"m")


def test_keys_of_the_other_suite_are_refused() -> None:
    sm2, p256 = GM.generate_keypair(), INTL.generate_keypair()
    with pytest.raises(UnsupportedKey):
        GM.sign(p256, b"m")
    with pytest.raises(UnsupportedKey):
        INTL.sign(sm2, b"m")
    with pytest.raises(UnsupportedKey):
        INTL.verify(sm2.public_key(), b"m", GM.sign(sm2, b"m"))
    with pytest.raises(UnsupportedKey):
        GM.key_id(p256.public_key())


def test_verify_any_dispatches_on_the_key() -> None:
    for suite in (GM, INTL):
        key = suite.generate_keypair()
        verify_any(key.public_key(), b"m", suite.sign(key, b"m"))
        with pytest.raises(InvalidSignature):
            verify_any(key.public_key(), b"n", suite.sign(key, b"m"))


def test_sign_any_uses_the_key_suite() -> None:
    from sunlit.kernel.crypto import sign_any

    for suite in (GM, INTL):
        key = suite.generate_keypair()
        suite.verify(key.public_key(), b"challenge", sign_any(key, b"challenge"))
