"""ASN.1 structures and encodings the provider builds itself (with ``asn1crypto``).

``cryptography`` cannot load or write SM2 keys, so SubjectPublicKeyInfo, PKCS#8 and encrypted
PKCS#8 (PBES2) are built here, exactly as OpenSSL 3 writes them. ECDSA/SM2 signature DER and
the GM/T 0009 SM2 ciphertext structure also live here. Nothing in this module performs a
cryptographic primitive except through ``cryptography``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from asn1crypto import core, pem
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .errors import DecryptionFailed, InvalidSignature, MalformedKey, UnsupportedKey

# --- object identifiers -----------------------------------------------------------------------

OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
OID_SM2P256V1 = "1.2.156.10197.1.301"
OID_SECP256R1 = "1.2.840.10045.3.1.7"
OID_SM2_WITH_SM3 = "1.2.156.10197.1.501"
OID_ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"

OID_PBES2 = "1.2.840.113549.1.5.13"
OID_PBKDF2 = "1.2.840.113549.1.5.12"
OID_SCRYPT = "1.3.6.1.4.1.11591.4.11"
OID_AES128_CBC = "2.16.840.1.101.3.4.1.2"
OID_AES192_CBC = "2.16.840.1.101.3.4.1.22"
OID_AES256_CBC = "2.16.840.1.101.3.4.1.42"
OID_SM4_CBC = "1.2.156.10197.1.104.2"
_PRF_OIDS: dict[str, type[hashes.HashAlgorithm]] = {
    "1.2.840.113549.2.7": hashes.SHA1,
    "1.2.840.113549.2.9": hashes.SHA256,
    "1.2.840.113549.2.10": hashes.SHA384,
    "1.2.840.113549.2.11": hashes.SHA512,
}

#: Group orders, used only to range-check signature integers.
SM2_ORDER = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
P256_ORDER = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)

# scrypt parameters written by Sunlit: the OpenSSL default (16 MiB), the largest that the
# OpenSSL CLI reads without raising its 32 MiB -maxmem default.
SCRYPT_N = 1 << 14
SCRYPT_R = 8
SCRYPT_P = 1
_SCRYPT_MAX_N = 1 << 20
_PBKDF2_MAX_ITERATIONS = 10_000_000


# --- structures -------------------------------------------------------------------------------


class AlgorithmIdentifier(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [  # noqa: RUF012 - asn1crypto declares fields as class lists
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class SubjectPublicKeyInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [  # noqa: RUF012
        ("algorithm", AlgorithmIdentifier),
        ("subject_public_key", core.OctetBitString),
    ]


class ECPrivateKey(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 5915 ECPrivateKey."""

    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("private_key", core.OctetString),
        ("parameters", core.ObjectIdentifier, {"explicit": 0, "optional": True}),
        ("public_key", core.OctetBitString, {"explicit": 1, "optional": True}),
    ]


class _Attributes(core.SetOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = core.Any


class PrivateKeyInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 5208 / 5958 PrivateKeyInfo (OneAsymmetricKey v1)."""

    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("private_key_algorithm", AlgorithmIdentifier),
        ("private_key", core.OctetString),
        ("attributes", _Attributes, {"implicit": 0, "optional": True}),
        ("public_key", core.OctetBitString, {"implicit": 1, "optional": True}),
    ]


class EncryptedPrivateKeyInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [  # noqa: RUF012
        ("encryption_algorithm", AlgorithmIdentifier),
        ("encrypted_data", core.OctetString),
    ]


class Pbes2Params(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [  # noqa: RUF012
        ("key_derivation_func", AlgorithmIdentifier),
        ("encryption_scheme", AlgorithmIdentifier),
    ]


class ScryptParams(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 7914 section 7."""

    _fields = [  # noqa: RUF012
        ("salt", core.OctetString),
        ("cost_parameter", core.Integer),
        ("block_size", core.Integer),
        ("parallelization_parameter", core.Integer),
        ("key_length", core.Integer, {"optional": True}),
    ]


class Pbkdf2Params(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 8018 appendix A.2 (salt restricted to the 'specified' choice)."""

    _fields = [  # noqa: RUF012
        ("salt", core.OctetString),
        ("iteration_count", core.Integer),
        ("key_length", core.Integer, {"optional": True}),
        ("prf", AlgorithmIdentifier, {"optional": True}),
    ]


class EcdsaSigValue(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """``SEQUENCE { r INTEGER, s INTEGER }`` (RFC 3279, GM/T 0009 SM2Signature)."""

    _fields = [("r", core.Integer), ("s", core.Integer)]  # noqa: RUF012


class Sm2Cipher(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """GM/T 0009 SM2Cipher: the DER ciphertext OpenSSL reads and writes."""

    _fields = [  # noqa: RUF012
        ("x", core.Integer),
        ("y", core.Integer),
        ("hash", core.OctetString),
        ("cipher_text", core.OctetString),
    ]


# --- helpers ----------------------------------------------------------------------------------


#: What asn1crypto may raise on hostile input (found by fuzzing: not only ValueError).
ASN1_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
)


def load_strict(spec: type[core.Asn1Value], der: bytes) -> Any:
    """Parse ``der`` as ``spec`` (trailing bytes refused); any parse error is a ``ValueError``."""
    try:
        value = spec.load(der, strict=True)
        # Force a full parse of the tree so later lazy accesses cannot raise.
        _ = value.native
    except ASN1_ERRORS as exc:
        raise ValueError(f"malformed {spec.__name__}: {exc}") from exc
    return value


def unarmor(data: bytes) -> tuple[str | None, dict[str, str], bytes]:
    """Return ``(pem_label, headers, der)``; ``label`` is ``None`` for DER input."""
    stripped = data.strip()
    if stripped.startswith(b"-----BEGIN"):
        try:
            label, headers, der = pem.unarmor(stripped)
        except ASN1_ERRORS as exc:
            raise MalformedKey("malformed PEM") from exc
        return str(label), dict(headers), bytes(der)
    return None, {}, bytes(data)


def armor(label: str, der: bytes) -> bytes:
    """PEM-encode ``der`` (64-column base64, LF line ends, like OpenSSL)."""
    return bytes(pem.armor(label, der))


def named_curve_params(curve_oid: str) -> core.Any:
    return core.Any(core.ObjectIdentifier(curve_oid))


def curve_of(algorithm: AlgorithmIdentifier) -> str:
    """Return the named-curve OID of an id-ecPublicKey AlgorithmIdentifier."""
    if algorithm["algorithm"].dotted != OID_EC_PUBLIC_KEY:
        raise UnsupportedKey(f"not an EC key (algorithm {algorithm['algorithm'].dotted})")
    params = algorithm["parameters"]
    if isinstance(params, core.Void) or params.native is None:
        raise UnsupportedKey("EC key without named curve")
    try:
        oid = params.parse(core.ObjectIdentifier)
    except ASN1_ERRORS as exc:
        raise UnsupportedKey("EC key with explicit curve parameters") from exc
    return str(oid.dotted)


def spki_der(curve_oid: str, point: bytes) -> bytes:
    """DER SubjectPublicKeyInfo of an uncompressed EC point on a named curve."""
    return bytes(
        SubjectPublicKeyInfo(
            {
                "algorithm": {
                    "algorithm": OID_EC_PUBLIC_KEY,
                    "parameters": named_curve_params(curve_oid),
                },
                "subject_public_key": point,
            }
        ).dump()
    )


def parse_spki(der: bytes) -> tuple[str, bytes]:
    """Return ``(curve_oid, point)`` of an EC SubjectPublicKeyInfo."""
    try:
        info = load_strict(SubjectPublicKeyInfo, der)
    except ASN1_ERRORS as exc:
        raise MalformedKey("malformed SubjectPublicKeyInfo") from exc
    curve = curve_of(info["algorithm"])
    return curve, bytes(info["subject_public_key"].native)


def sm2_pkcs8_der(d: bytes, point: bytes) -> bytes:
    """PKCS#8 PrivateKeyInfo of an SM2 key, byte-for-byte as ``openssl genpkey -algorithm SM2``."""
    ec_key = ECPrivateKey({"version": 1, "private_key": d, "public_key": point})
    return bytes(
        PrivateKeyInfo(
            {
                "version": 0,
                "private_key_algorithm": {
                    "algorithm": OID_EC_PUBLIC_KEY,
                    "parameters": named_curve_params(OID_SM2P256V1),
                },
                "private_key": ec_key.dump(),
            }
        ).dump()
    )


@dataclass(frozen=True)
class ParsedEcPrivateKey:
    curve_oid: str
    private: bytes
    public: bytes | None


def parse_ec_private_key(der: bytes, curve_oid: str | None) -> ParsedEcPrivateKey:
    """Parse an RFC 5915 ECPrivateKey; ``curve_oid`` comes from PKCS#8 when wrapped."""
    try:
        key = load_strict(ECPrivateKey, der)
    except ASN1_ERRORS as exc:
        raise MalformedKey("malformed ECPrivateKey") from exc
    if key["version"].native != 1:
        raise MalformedKey("unsupported ECPrivateKey version")
    inner_curve = key["parameters"].dotted if key["parameters"].native is not None else None
    if curve_oid is None:
        curve_oid = inner_curve
    elif inner_curve is not None and inner_curve != curve_oid:
        raise MalformedKey("ECPrivateKey curve disagrees with its PKCS#8 wrapper")
    if curve_oid is None:
        raise MalformedKey("ECPrivateKey without curve")
    d = bytes(key["private_key"].native)
    if len(d) > 32:
        raise MalformedKey("EC private scalar too long")
    pub = key["public_key"].native
    return ParsedEcPrivateKey(str(curve_oid), d.rjust(32, b"\x00"), bytes(pub) if pub else None)


def parse_pkcs8(der: bytes) -> tuple[str, bytes]:
    """Return ``(curve_oid, ECPrivateKey DER)`` of an EC PKCS#8 PrivateKeyInfo."""
    try:
        info = load_strict(PrivateKeyInfo, der)
    except ASN1_ERRORS as exc:
        raise MalformedKey("malformed PKCS#8 PrivateKeyInfo") from exc
    curve = curve_of(info["private_key_algorithm"])
    return curve, bytes(info["private_key"].native)


def is_encrypted_pkcs8(der: bytes) -> bool:
    """True when ``der`` looks like EncryptedPrivateKeyInfo rather than PrivateKeyInfo."""
    # PrivateKeyInfo starts SEQUENCE { INTEGER ...; EncryptedPrivateKeyInfo SEQUENCE { SEQUENCE.
    try:
        outer = core.Sequence.load(der)
        first = outer[0]
    except ASN1_ERRORS:
        return False
    return bool(first.tag == 16)


# --- signatures -------------------------------------------------------------------------------


def signature_to_raw(der: bytes, order: int) -> bytes:
    """Canonical DER ``SEQUENCE { r, s }`` -> raw ``r || s`` (32 + 32 bytes).

    Rejects non-canonical encodings and integers outside ``[1, order - 1]``, so that a
    signature has exactly one accepted encoding.
    """
    try:
        sig = load_strict(EcdsaSigValue, der)
    except ASN1_ERRORS as exc:
        raise InvalidSignature("signature is not DER SEQUENCE { r, s }") from exc
    r, s = int(sig["r"].native), int(sig["s"].native)
    if not (0 < r < order and 0 < s < order):
        raise InvalidSignature("signature integers out of range")
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if signature_from_raw(raw) != der:
        raise InvalidSignature("signature is not canonical DER")
    return raw


def signature_from_raw(raw: bytes) -> bytes:
    """Raw ``r || s`` (64 bytes) -> DER ``SEQUENCE { r, s }``."""
    if len(raw) != 64:
        raise InvalidSignature("raw signature must be 64 bytes (r || s)")
    r = int.from_bytes(raw[:32], "big")
    s = int.from_bytes(raw[32:], "big")
    return bytes(EcdsaSigValue({"r": r, "s": s}).dump())


# --- SM2 ciphertext ---------------------------------------------------------------------------


def sm2_ciphertext_to_der(c1c3c2: bytes) -> bytes:
    """``04 || x || y || C3 || C2`` (GM/T 0003.4) -> GM/T 0009 DER ``SM2Cipher`` (OpenSSL)."""
    if len(c1c3c2) < 98 or c1c3c2[0] != 0x04:
        raise DecryptionFailed("not an SM2 C1C3C2 ciphertext")
    return bytes(
        Sm2Cipher(
            {
                "x": int.from_bytes(c1c3c2[1:33], "big"),
                "y": int.from_bytes(c1c3c2[33:65], "big"),
                "hash": c1c3c2[65:97],
                "cipher_text": c1c3c2[97:],
            }
        ).dump()
    )


def sm2_ciphertext_from_der(der: bytes) -> bytes:
    """GM/T 0009 DER ``SM2Cipher`` (OpenSSL) -> ``04 || x || y || C3 || C2``."""
    try:
        value = load_strict(Sm2Cipher, der)
        x, y = int(value["x"].native), int(value["y"].native)
        c3, c2 = bytes(value["hash"].native), bytes(value["cipher_text"].native)
        if len(c3) != 32 or not c2:
            raise ValueError("bad lengths")
        return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big") + c3 + c2
    except ASN1_ERRORS as exc:
        raise DecryptionFailed("not a GM/T 0009 SM2Cipher") from exc


# --- password-encrypted PKCS#8 (PBES2) --------------------------------------------------------

_CBC_CIPHERS: dict[str, tuple[type[algorithms.AES] | type[algorithms.SM4], int]] = {
    OID_AES128_CBC: (algorithms.AES, 16),
    OID_AES192_CBC: (algorithms.AES, 24),
    OID_AES256_CBC: (algorithms.AES, 32),
    OID_SM4_CBC: (algorithms.SM4, 16),
}


def encrypt_pkcs8(pkcs8: bytes, password: bytes, cipher_oid: str) -> bytes:
    """PBES2(scrypt N=2^14 r=8 p=1, AES-256-CBC or SM4-CBC) EncryptedPrivateKeyInfo."""
    algorithm, key_len = _CBC_CIPHERS[cipher_oid]
    salt = secrets.token_bytes(16)
    iv = secrets.token_bytes(16)
    kek = Scrypt(salt=salt, length=key_len, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(password)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(pkcs8) + padder.finalize()
    enc = Cipher(algorithm(kek), modes.CBC(iv)).encryptor()
    data = enc.update(padded) + enc.finalize()
    params = Pbes2Params(
        {
            "key_derivation_func": {
                "algorithm": OID_SCRYPT,
                "parameters": ScryptParams(
                    {
                        "salt": salt,
                        "cost_parameter": SCRYPT_N,
                        "block_size": SCRYPT_R,
                        "parallelization_parameter": SCRYPT_P,
                    }
                ),
            },
            "encryption_scheme": {"algorithm": cipher_oid, "parameters": core.OctetString(iv)},
        }
    )
    return bytes(
        EncryptedPrivateKeyInfo(
            {
                "encryption_algorithm": {"algorithm": OID_PBES2, "parameters": params},
                "encrypted_data": data,
            }
        ).dump()
    )


def decrypt_pkcs8(der: bytes, password: bytes) -> bytes:
    """Decrypt a PBES2 EncryptedPrivateKeyInfo (scrypt or PBKDF2-HMAC-SHA*, AES/SM4-CBC).

    Raises :class:`UnsupportedKey` for other schemes and :class:`DecryptionFailed` for a wrong
    password.
    """
    try:
        info = load_strict(EncryptedPrivateKeyInfo, der)
        scheme = info["encryption_algorithm"]
        if scheme["algorithm"].dotted != OID_PBES2:
            raise UnsupportedKey("only PBES2 encrypted private keys are supported")
        params = scheme["parameters"].parse(Pbes2Params)
        kdf = params["key_derivation_func"]
        enc = params["encryption_scheme"]
        cipher_oid = str(enc["algorithm"].dotted)
        if cipher_oid not in _CBC_CIPHERS:
            raise UnsupportedKey(f"unsupported PBES2 cipher {cipher_oid}")
        algorithm, key_len = _CBC_CIPHERS[cipher_oid]
        iv = bytes(enc["parameters"].parse(core.OctetString).native)
        kdf_oid = kdf["algorithm"].dotted
        if kdf_oid == OID_SCRYPT:
            sp = kdf["parameters"].parse(ScryptParams)
            n, r, p = (
                int(sp["cost_parameter"].native),
                int(sp["block_size"].native),
                int(sp["parallelization_parameter"].native),
            )
            if not (1 < n <= _SCRYPT_MAX_N and 0 < r <= 32 and 0 < p <= 16):
                raise UnsupportedKey("scrypt parameters out of accepted range")
            kek = Scrypt(salt=bytes(sp["salt"].native), length=key_len, n=n, r=r, p=p).derive(
                password
            )
        elif kdf_oid == OID_PBKDF2:
            pp = kdf["parameters"].parse(Pbkdf2Params)
            prf_oid = (
                pp["prf"]["algorithm"].dotted
                if pp["prf"].native is not None
                else "1.2.840.113549.2.7"
            )
            if prf_oid not in _PRF_OIDS:
                raise UnsupportedKey(f"unsupported PBKDF2 PRF {prf_oid}")
            iterations = int(pp["iteration_count"].native)
            if not 0 < iterations <= _PBKDF2_MAX_ITERATIONS:
                raise UnsupportedKey("PBKDF2 iteration count out of accepted range")
            kek = PBKDF2HMAC(
                algorithm=_PRF_OIDS[prf_oid](),
                length=key_len,
                salt=bytes(pp["salt"].native),
                iterations=iterations,
            ).derive(password)
        else:
            raise UnsupportedKey(f"unsupported PBES2 key derivation {kdf_oid}")
        data = bytes(info["encrypted_data"].native)
    except UnsupportedKey:
        raise
    except ASN1_ERRORS as exc:
        raise MalformedKey("malformed EncryptedPrivateKeyInfo") from exc
    try:
        dec = Cipher(algorithm(kek), modes.CBC(iv)).decryptor()
        padded = dec.update(data) + dec.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        plain = unpadder.update(padded) + unpadder.finalize()
        load_strict(PrivateKeyInfo, plain)
    except ASN1_ERRORS as exc:
        raise DecryptionFailed("wrong password or corrupted private key") from exc
    return plain
