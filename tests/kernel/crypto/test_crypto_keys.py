"""Key import/export: PEM/DER, SPKI and PKCS#8, password-encrypted PKCS#8, OpenSSL both ways."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sunlit.kernel.crypto import (
    DecryptionFailed,
    MalformedKey,
    UnsupportedKey,
    get_suite,
    load_private_key_any,
    load_public_key_any,
)
from sunlit.kernel.crypto._sm2 import is_valid_point

from .helpers import OpenSSL

GM = get_suite("gm")
INTL = get_suite("intl")
SUITES = pytest.mark.parametrize("suite", [GM, INTL], ids=["gm", "intl"])
Writer = Callable[[str, bytes], Path]

SM2_G = bytes.fromhex(
    "04"
    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"
)


@SUITES
def test_pem_and_der_round_trip(suite) -> None:  # type: ignore[no-untyped-def]
    key = suite.generate_keypair()
    public = key.public_key()
    assert public.suite_name == suite.name
    for data in (key.to_pem(), key.to_der(), key.to_pem().decode()):
        again = load_private_key_any(data)
        assert again.public_key() == public
        assert suite.load_private_key(data).public_key() == public
    for data in (public.to_pem(), public.to_der()):
        assert load_public_key_any(data) == public
        assert suite.load_public_key(data) == public
    assert public.to_pem().startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert key.to_pem().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert len(public.point) == 65 and public.point[0] == 4
    # The reloaded private key signs for the same public key.
    reloaded = load_private_key_any(key.to_pem())
    suite.verify(public, b"m", suite.sign(reloaded, b"m"))


@SUITES
def test_key_id_is_the_suite_hash_of_the_spki(suite) -> None:  # type: ignore[no-untyped-def]
    public = suite.generate_keypair().public_key()
    assert suite.key_id(public) == suite.hash(public.to_der())
    assert public.key_id() == suite.hash(public.to_der())
    assert suite.key_id(public) != suite.key_id(suite.generate_keypair().public_key())


@SUITES
def test_private_key_repr_shows_no_secret(suite) -> None:  # type: ignore[no-untyped-def]
    key = suite.generate_keypair()
    text = repr(key)
    assert "PrivateKey" in text
    der = key.to_der()
    # The 32-byte scalar sits in the ECPrivateKey OCTET STRING; it must not leak into repr.
    scalar = der[der.index(b"\x04\x20") + 2 :][:32]
    assert scalar.hex() not in text.lower()


@SUITES
def test_export_is_readable_by_openssl_and_identical_to_its_own(
    suite, openssl: OpenSSL, write: Writer
) -> None:  # type: ignore[no-untyped-def]
    key = suite.generate_keypair()
    priv = write("key.pem", key.to_pem())
    text = openssl.run("pkey", "-in", priv, "-noout", "-text").decode()
    assert "Private-Key: (256 bit)" in text
    assert ("ASN1 OID: SM2" if suite is GM else "NIST CURVE: P-256") in text
    # OpenSSL re-encodes our PKCS#8 and public key byte for byte.
    assert openssl.run("pkey", "-in", priv) == key.to_pem()
    assert openssl.run("pkey", "-in", priv, "-pubout") == key.public_key().to_pem()
    pub = write("pub.pem", key.public_key().to_pem())
    assert (
        "Public-Key: (256 bit)"
        in openssl.run("pkey", "-pubin", "-in", pub, "-noout", "-text").decode()
    )
    der = write("pub.der", key.public_key().to_der())
    assert openssl.run("pkey", "-pubin", "-inform", "DER", "-in", der) == key.public_key().to_pem()


def test_sm2_pkcs8_matches_openssl_genpkey_layout(openssl: OpenSSL, tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    openssl.run("genpkey", "-algorithm", "SM2", "-out", path)
    theirs = path.read_bytes()
    key = load_private_key_any(theirs)
    assert key.algorithm == "sm2"
    # Re-exporting OpenSSL's key gives back OpenSSL's exact bytes.
    assert key.to_pem() == theirs


@SUITES
def test_password_encrypted_export(suite, openssl: OpenSSL, write: Writer) -> None:  # type: ignore[no-untyped-def]
    key = suite.generate_keypair()
    password = "口令 Pass-1".encode()
    pem = key.to_pem(password)
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert load_private_key_any(pem, password).public_key() == key.public_key()
    assert load_private_key_any(key.to_der(password), password).public_key() == key.public_key()
    with pytest.raises(DecryptionFailed):
        load_private_key_any(pem, b"wrong")
    with pytest.raises(UnsupportedKey):
        load_private_key_any(pem)
    with pytest.raises(UnsupportedKey):
        load_private_key_any(key.to_pem(), password)  # not encrypted: refuse, do not ignore
    path = write("enc.pem", pem)
    structure = openssl.run("asn1parse", "-in", path).decode()
    assert "PBES2" in structure and "scrypt" in structure
    assert ("sm4-cbc" if suite is GM else "aes-256-cbc") in structure
    # OpenSSL decrypts it with the password (scrypt within its default memory limit).
    clear = openssl.run("pkey", "-in", path, "-passin", "pass:口令 Pass-1")
    assert clear == key.to_pem()
    with pytest.raises(ValueError):
        key.to_pem(b"")


@pytest.mark.parametrize(
    ("curve", "kdf"),
    [("SM2", ["-scrypt", "-v2", "sm4-cbc"]), ("SM2", ["-v2", "aes-256-cbc"]),
     ("P-256", ["-v2", "aes-128-cbc"]), ("P-256", ["-scrypt"])],
)  # fmt: skip
def test_openssl_encrypted_keys_are_readable(
    openssl: OpenSSL, tmp_path: Path, curve: str, kdf: list[str]
) -> None:
    plain = tmp_path / "plain.pem"
    openssl.run(
        "genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{curve}", "-out", plain
    )
    enc = tmp_path / "enc.pem"
    openssl.run("pkcs8", "-topk8", *kdf, "-in", plain, "-passout", "pass:secret", "-out", enc)
    key = load_private_key_any(enc.read_bytes(), b"secret")
    assert key.to_pem() == load_private_key_any(plain.read_bytes()).to_pem()
    with pytest.raises(DecryptionFailed):
        load_private_key_any(enc.read_bytes(), b"Secret")


def test_openssl_sec1_keys_are_readable(openssl: OpenSSL, tmp_path: Path) -> None:
    sec1 = openssl.run("ecparam", "-genkey", "-name", "prime256v1", "-noout")
    assert sec1.startswith(b"-----BEGIN EC PRIVATE KEY-----")
    key = load_private_key_any(sec1)
    path = tmp_path / "k.pem"
    path.write_bytes(sec1)
    assert openssl.run("pkey", "-in", path, "-pubout") == key.public_key().to_pem()


def test_sec1_sm2_keys_are_readable(openssl: OpenSSL, tmp_path: Path) -> None:
    # OpenSSL 3 writes SM2 keys only as PKCS#8; older tools (OpenSSL 1.1.1, GmSSL 2) wrote
    # SEC1 "EC PRIVATE KEY" with the curve in [0]. Build one from an OpenSSL key.
    from sunlit.kernel.crypto import _asn1

    path = tmp_path / "k.pem"
    openssl.run("genpkey", "-algorithm", "SM2", "-out", path)
    _label, _h, der = _asn1.unarmor(path.read_bytes())
    inner = _asn1.ECPrivateKey.load(_asn1.PrivateKeyInfo.load(der)["private_key"].native)
    sec1 = _asn1.ECPrivateKey(
        {
            "version": 1,
            "private_key": inner["private_key"].native,
            "parameters": _asn1.OID_SM2P256V1,
            "public_key": inner["public_key"].native,
        }
    ).dump()
    key = load_private_key_any(_asn1.armor("EC PRIVATE KEY", sec1))
    assert key.to_pem() == path.read_bytes()


def test_other_curves_and_algorithms_are_unsupported(openssl: OpenSSL, tmp_path: Path) -> None:
    for args in (
        ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        ["-algorithm", "ED25519"],
    ):
        path = tmp_path / "k.pem"
        openssl.run("genpkey", *args, "-out", path)
        with pytest.raises(UnsupportedKey):
            load_private_key_any(path.read_bytes())
        with pytest.raises(UnsupportedKey):
            load_public_key_any(openssl.run("pkey", "-in", path, "-pubout"))


def test_load_public_key_any_detects_the_curve() -> None:
    sm2 = GM.generate_keypair().public_key()
    p256 = INTL.generate_keypair().public_key()
    assert load_public_key_any(sm2.to_der()).algorithm == "sm2"
    assert load_public_key_any(p256.to_pem()).algorithm == "p256"
    with pytest.raises(UnsupportedKey):
        GM.load_public_key(p256.to_pem())
    with pytest.raises(UnsupportedKey):
        INTL.load_private_key(GM.generate_keypair().to_pem())


def test_malformed_keys_are_refused() -> None:
    sm2 = GM.generate_keypair().public_key()
    bad_point = bytearray(sm2.to_der())
    bad_point[-1] ^= 0x01  # y no longer satisfies the curve equation
    for data in (b"", b"junk", b"-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----\n",
                 sm2.to_der()[:-1], sm2.to_der() + b"\x00", bytes(bad_point)):  # fmt: skip
        with pytest.raises(MalformedKey) as err:
            load_public_key_any(data)
        assert err.value.code == "crypto.malformed_key"
    with pytest.raises(MalformedKey):
        load_public_key_any(GM.generate_keypair().to_pem())  # a private key where a public is due
    with pytest.raises(MalformedKey):
        load_private_key_any(b"\x30\x03\x02\x01\x00")


def test_sm2_point_validation() -> None:
    assert is_valid_point(SM2_G)
    assert is_valid_point(GM.generate_keypair().public_key().point)
    assert not is_valid_point(SM2_G[:-1] + bytes([SM2_G[-1] ^ 1]))
    assert not is_valid_point(b"\x02" + SM2_G[1:33])  # compressed form is not accepted
    assert not is_valid_point(b"\x04" + b"\xff" * 64)  # coordinates >= p
    assert not is_valid_point(b"\x04" + bytes(64))


def test_sm2_private_key_must_match_its_public_key() -> None:
    from sunlit.kernel.crypto import _asn1

    a, b = GM.generate_keypair(), GM.generate_keypair()
    d = a.to_der()
    scalar = d[d.index(b"\x04\x20") + 2 :][:32]
    mismatched = _asn1.armor("PRIVATE KEY", _asn1.sm2_pkcs8_der(scalar, b.public_key().point))
    with pytest.raises(MalformedKey):
        load_private_key_any(mismatched)


def test_sm2_private_key_without_public_key_is_unsupported(
    openssl: OpenSSL, tmp_path: Path
) -> None:
    path = tmp_path / "k.pem"
    openssl.run("genpkey", "-algorithm", "SM2", "-out", path)
    # `-no_public` style: rebuild the ECPrivateKey without its [1] publicKey field.
    from asn1crypto import core

    from sunlit.kernel.crypto import _asn1

    _label, _h, der = _asn1.unarmor(path.read_bytes())
    info = _asn1.PrivateKeyInfo.load(der)
    inner = _asn1.ECPrivateKey.load(info["private_key"].native)
    stripped = _asn1.ECPrivateKey({"version": 1, "private_key": inner["private_key"].native})
    info["private_key"] = core.OctetString(stripped.dump())
    with pytest.raises(UnsupportedKey):
        load_private_key_any(info.dump(force=True))
