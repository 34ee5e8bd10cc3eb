"""Public and private key objects for the two suites, and algorithm-agnostic loaders.

* ``gm`` keys are SM2 keys (curve sm2p256v1, OID 1.2.156.10197.1.301) held by the SM2 binding;
  their SPKI / PKCS#8 encodings are built with ``asn1crypto`` exactly as OpenSSL 3 writes them.
* ``intl`` keys are ECDSA/ECDH P-256 keys (secp256r1, OID 1.2.840.10045.3.1.7) held by
  ``cryptography``.

Both kinds use the same containers: SubjectPublicKeyInfo with ``id-ecPublicKey``
(1.2.840.10045.2.1) and a named curve for public keys, PKCS#8 for private keys, optionally
password-encrypted with PBES2 (scrypt N=2^14, r=8, p=1; SM4-CBC for SM2 keys, AES-256-CBC
for P-256 keys).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Final, Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from . import _asn1, _sm2
from .errors import MalformedKey, UnsupportedKey

__all__ = [
    "Algorithm",
    "PrivateKey",
    "PublicKey",
    "SuiteName",
    "load_private_key_any",
    "load_public_key_any",
]

Algorithm = Literal["sm2", "p256"]
SuiteName = Literal["gm", "intl"]

_PUBLIC_PEM: Final = "PUBLIC KEY"
_PRIVATE_PEM: Final = "PRIVATE KEY"
_ENCRYPTED_PEM: Final = "ENCRYPTED PRIVATE KEY"
_SEC1_PEM: Final = "EC PRIVATE KEY"


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


class PublicKey(ABC):
    """A public key of one suite (SM2 for ``gm``, P-256 for ``intl``).

    Equality and hashing follow the DER SubjectPublicKeyInfo.
    """

    __slots__ = ("_spki",)

    algorithm: Algorithm
    suite_name: SuiteName

    def __init__(self, spki: bytes) -> None:
        self._spki = spki

    def to_der(self) -> bytes:
        """DER SubjectPublicKeyInfo (``id-ecPublicKey`` + named curve)."""
        return self._spki

    def to_pem(self) -> bytes:
        """PEM ``PUBLIC KEY`` (SubjectPublicKeyInfo), as ``openssl pkey -pubout`` writes."""
        return _asn1.armor(_PUBLIC_PEM, self._spki)

    @property
    @abstractmethod
    def point(self) -> bytes:
        """The uncompressed SEC1 point ``04 || x || y`` (65 bytes)."""

    @abstractmethod
    def key_id(self) -> bytes:
        """Key identifier: the suite hash (SM3 / SHA-256) of the DER SubjectPublicKeyInfo."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other._spki == self._spki

    def __hash__(self) -> int:
        return hash(self._spki)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key_id().hex()[:16]}>"


class PrivateKey(ABC):
    """A private key of one suite. ``repr`` never shows secret material."""

    __slots__ = ()

    algorithm: Algorithm
    suite_name: SuiteName

    @abstractmethod
    def public_key(self) -> PublicKey:
        """The matching public key."""

    @abstractmethod
    def _pkcs8(self) -> bytes:
        """Unencrypted DER PKCS#8 PrivateKeyInfo."""

    @property
    @abstractmethod
    def _pbes2_cipher(self) -> str:
        """OID of the CBC cipher used when the key is exported with a password."""

    def to_der(self, password: bytes | None = None) -> bytes:
        """DER PKCS#8; with ``password``, PBES2-encrypted (scrypt + SM4/AES-CBC)."""
        der = self._pkcs8()
        if password is None:
            return der
        if not password:
            raise ValueError("empty password")
        return _asn1.encrypt_pkcs8(der, password, self._pbes2_cipher)

    def to_pem(self, password: bytes | None = None) -> bytes:
        """PEM ``PRIVATE KEY`` or, with ``password``, ``ENCRYPTED PRIVATE KEY``."""
        label = _PRIVATE_PEM if password is None else _ENCRYPTED_PEM
        return _asn1.armor(label, self.to_der(password))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} for {self.public_key()!r}>"


# --- SM2 (gm) -----------------------------------------------------------------------------------


class Sm2PublicKey(PublicKey):
    """SM2 public key on sm2p256v1."""

    __slots__ = ("_handle", "_point")

    algorithm: Algorithm = "sm2"
    suite_name: SuiteName = "gm"

    def __init__(self, point: bytes) -> None:
        try:
            self._handle = _sm2.Sm2Handle(point)
        except _sm2.Sm2BindingError as exc:
            raise MalformedKey("invalid SM2 public point") from exc
        self._point = bytes(point)
        super().__init__(_asn1.spki_der(_asn1.OID_SM2P256V1, self._point))

    @property
    def point(self) -> bytes:
        return self._point

    def key_id(self) -> bytes:
        return _digest(hashes.SM3(), self._spki)


class Sm2PrivateKey(PrivateKey):
    """SM2 private key; the scalar stays inside this object and the binding."""

    __slots__ = ("_d", "_handle", "_public")

    algorithm: Algorithm = "sm2"
    suite_name: SuiteName = "gm"

    def __init__(self, d: bytes, point: bytes) -> None:
        try:
            self._handle = _sm2.Sm2Handle(point, d)
        except _sm2.Sm2BindingError as exc:
            raise MalformedKey("invalid SM2 private key or mismatched public key") from exc
        self._d = bytes(d)
        self._public = Sm2PublicKey(point)

    def public_key(self) -> Sm2PublicKey:
        return self._public

    def _pkcs8(self) -> bytes:
        return _asn1.sm2_pkcs8_der(self._d, self._public.point)

    @property
    def _pbes2_cipher(self) -> str:
        return _asn1.OID_SM4_CBC


# --- P-256 (intl) -------------------------------------------------------------------------------


class P256PublicKey(PublicKey):
    """ECDSA/ECDH P-256 public key (``cryptography`` object inside)."""

    __slots__ = ("_key",)

    algorithm: Algorithm = "p256"
    suite_name: SuiteName = "intl"

    def __init__(self, key: ec.EllipticCurvePublicKey) -> None:
        if not isinstance(key.curve, ec.SECP256R1):
            raise UnsupportedKey(f"curve {key.curve.name} is not P-256")
        self._key = key
        super().__init__(
            key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    @property
    def point(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def key_id(self) -> bytes:
        return _digest(hashes.SHA256(), self._spki)


class P256PrivateKey(PrivateKey):
    """ECDSA/ECDH P-256 private key (``cryptography`` object inside)."""

    __slots__ = ("_key", "_public")

    algorithm: Algorithm = "p256"
    suite_name: SuiteName = "intl"

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(key.curve, ec.SECP256R1):
            raise UnsupportedKey(f"curve {key.curve.name} is not P-256")
        self._key = key
        self._public = P256PublicKey(key.public_key())

    def public_key(self) -> P256PublicKey:
        return self._public

    def _pkcs8(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def _pbes2_cipher(self) -> str:
        return _asn1.OID_AES256_CBC


# --- generation -------------------------------------------------------------------------------


def generate_sm2() -> Sm2PrivateKey:
    """A fresh SM2 key pair from the binding's CSPRNG."""
    d, point = _sm2.generate()
    return Sm2PrivateKey(d, point)


def generate_p256() -> P256PrivateKey:
    """A fresh P-256 key pair from OpenSSL's CSPRNG."""
    return P256PrivateKey(ec.generate_private_key(ec.SECP256R1()))


# --- loading ----------------------------------------------------------------------------------


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("ascii") if isinstance(data, str) else bytes(data)


def load_public_key_any(data: bytes | str) -> PublicKey:
    """Load a SubjectPublicKeyInfo (PEM ``PUBLIC KEY`` or DER) of either suite.

    The curve OID in the SPKI decides: sm2p256v1 -> SM2 (``gm``), secp256r1 -> P-256
    (``intl``). Anything else raises :class:`UnsupportedKey`; unparsable input or a point not
    on the curve raises :class:`MalformedKey`.
    """
    label, _headers, der = _asn1.unarmor(_as_bytes(data))
    if label is not None and label != _PUBLIC_PEM:
        raise MalformedKey(f"expected a PUBLIC KEY PEM, got {label}")
    curve, point = _asn1.parse_spki(der)
    if curve == _asn1.OID_SM2P256V1:
        return Sm2PublicKey(point)
    if curve == _asn1.OID_SECP256R1:
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise MalformedKey("invalid P-256 public key") from exc
        if not isinstance(key, ec.EllipticCurvePublicKey):  # pragma: no cover - OID checked
            raise UnsupportedKey("not an EC public key")
        return P256PublicKey(key)
    raise UnsupportedKey(f"unsupported curve {curve}")


def _from_ec_private(parsed: _asn1.ParsedEcPrivateKey, sec1_der: bytes) -> PrivateKey:
    if parsed.curve_oid == _asn1.OID_SM2P256V1:
        if parsed.public is None:
            # The binding cannot derive d*G for us and Sunlit does no curve arithmetic itself.
            raise UnsupportedKey("SM2 private key without its public key (OpenSSL always adds it)")
        return Sm2PrivateKey(parsed.private, parsed.public)
    if parsed.curve_oid == _asn1.OID_SECP256R1:
        try:
            key = serialization.load_der_private_key(sec1_der, password=None)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise MalformedKey("invalid P-256 private key") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - OID checked
            raise UnsupportedKey("not an EC private key")
        return P256PrivateKey(key)
    raise UnsupportedKey(f"unsupported curve {parsed.curve_oid}")


def load_private_key_any(data: bytes | str, password: bytes | None = None) -> PrivateKey:
    """Load a private key of either suite.

    Accepted: PEM ``PRIVATE KEY`` / DER PKCS#8, PEM ``ENCRYPTED PRIVATE KEY`` / DER PBES2
    EncryptedPrivateKeyInfo (scrypt or PBKDF2-HMAC-SHA*, AES-CBC or SM4-CBC), and unencrypted
    SEC1 ``EC PRIVATE KEY`` (``openssl ecparam -genkey``). A wrong password raises
    :class:`~sunlit.kernel.crypto.errors.DecryptionFailed`; a password given for an
    unencrypted key raises :class:`UnsupportedKey` (so a key believed protected is not
    silently stored in clear).
    """
    label, headers, der = _asn1.unarmor(_as_bytes(data))
    if label not in (None, _PRIVATE_PEM, _ENCRYPTED_PEM, _SEC1_PEM):
        raise MalformedKey(f"expected a private key PEM, got {label}")
    if label == _SEC1_PEM:
        if "Proc-Type" in headers:
            raise UnsupportedKey("legacy OpenSSL-encrypted PEM; use PKCS#8 (openssl pkcs8 -topk8)")
        if password is not None:
            raise UnsupportedKey("password given but the key is not encrypted")
        return _from_ec_private(_asn1.parse_ec_private_key(der, None), der)
    encrypted = label == _ENCRYPTED_PEM or (label is None and _asn1.is_encrypted_pkcs8(der))
    if encrypted:
        if password is None:
            raise UnsupportedKey("the private key is encrypted; a password is required")
        der = _asn1.decrypt_pkcs8(der, password)
    elif password is not None:
        raise UnsupportedKey("password given but the key is not encrypted")
    curve, ec_der = _asn1.parse_pkcs8(der)
    if curve not in (_asn1.OID_SM2P256V1, _asn1.OID_SECP256R1):
        raise UnsupportedKey(f"unsupported curve {curve}")
    parsed = _asn1.parse_ec_private_key(ec_der, curve)
    if curve == _asn1.OID_SECP256R1:
        try:
            key = serialization.load_der_private_key(der, password=None)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise MalformedKey("invalid P-256 private key") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - OID checked
            raise UnsupportedKey("not an EC private key")
        return P256PrivateKey(key)
    return _from_ec_private(parsed, ec_der)
