"""The two crypto suites, ``gm`` (default) and ``intl``, behind one interface.

===========  =====================================  ==========================================
operation    gm                                     intl
===========  =====================================  ==========================================
hash         SM3 (32 bytes)                         SHA-256 (32 bytes)
hmac         HMAC-SM3                               HMAC-SHA256
derive_key   HKDF-SM3 (RFC 5869 with SM3)           HKDF-SHA256
keys         SM2 (sm2p256v1)                        ECDSA/ECDH P-256
sign         SM2 with SM3, Z over ID                ECDSA P-256 with SHA-256, DER
             1234567812345678, DER SEQUENCE{r,s}
seal/open    SM4-GCM, 16-byte key, 12-byte nonce,   AES-256-GCM, 32-byte key, 12-byte nonce,
             16-byte tag appended                   16-byte tag appended
wrap         SM2 encryption (GM/T 0003.4) C1C3C2     HPKE base mode (RFC 9180) DHKEM(P-256,
             of key || SM3(info)                    HKDF-SHA256), HKDF-SHA256, AES-256-GCM
key_id       SM3(SPKI DER)                          SHA-256(SPKI DER)
===========  =====================================  ==========================================

The byte-level formats are specified in ``docs/spec/crypto-suites.md``.
"""

from __future__ import annotations

import hmac as _hmac
import secrets
from abc import ABC, abstractmethod
from typing import Final

from cryptography.exceptions import InvalidSignature as _CryptographyInvalidSignature
from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives import hmac as _crypto_hmac
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from . import _asn1, _sm2
from .errors import DecryptionFailed, InvalidSignature, UnknownSuite, UnsupportedKey
from .keys import (
    P256PrivateKey,
    P256PublicKey,
    PrivateKey,
    PublicKey,
    Sm2PrivateKey,
    Sm2PublicKey,
    SuiteName,
    generate_p256,
    generate_sm2,
    load_private_key_any,
    load_public_key_any,
)

__all__ = [
    "DEFAULT_SUITE",
    "Hasher",
    "Suite",
    "get_suite",
    "sign_any",
    "suite_for_key",
    "verify_any",
]

DEFAULT_SUITE: Final = "gm"

#: AEAD nonce and tag sizes shared by both suites.
NONCE_SIZE: Final = 12
TAG_SIZE: Final = 16
#: Longest key that :meth:`Suite.wrap` accepts (SM2 plaintext limit 255 minus the 32-byte
#: info hash); the same bound applies to both suites so callers behave identically.
MAX_WRAPPED_KEY: Final = _sm2.MAX_PLAINTEXT - 32

_HPKE = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class Hasher:
    """Incremental hash (SM3 or SHA-256): ``update()`` any number of times, then ``digest()``."""

    __slots__ = ("_ctx", "_done")

    def __init__(self, algorithm: hashes.HashAlgorithm) -> None:
        self._ctx = hashes.Hash(algorithm)
        self._done = False

    def update(self, data: bytes) -> None:
        """Feed more data."""
        self._ctx.update(data)

    def copy(self) -> Hasher:
        """An independent hasher with the same state."""
        clone = Hasher.__new__(Hasher)
        clone._ctx = self._ctx.copy()
        clone._done = False
        return clone

    def digest(self) -> bytes:
        """Finish and return the digest; the hasher cannot be used afterwards."""
        if self._done:
            raise ValueError("digest() already called")
        self._done = True
        return self._ctx.finalize()


def _check_aead(key: bytes, key_size: int, nonce: bytes) -> None:
    if len(key) != key_size:
        raise ValueError(f"AEAD key must be {key_size} bytes")
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"AEAD nonce must be {NONCE_SIZE} bytes")


def _check_wrap_key(key_bytes: bytes) -> None:
    if not 0 < len(key_bytes) <= MAX_WRAPPED_KEY:
        raise ValueError(f"wrapped key must be 1 to {MAX_WRAPPED_KEY} bytes")


class Suite(ABC):
    """A named set of algorithms. Obtain one with :func:`get_suite`.

    Attributes: ``name`` ("gm" or "intl"), ``hash_size`` (32), ``aead_key_size``
    (16 for SM4-GCM, 32 for AES-256-GCM), ``nonce_size`` (12), ``tag_size`` (16),
    ``signature_algorithm_oid`` (X.509 signatureAlgorithm of certificates signed in this suite).
    """

    name: SuiteName
    hash_size: int = 32
    aead_key_size: int
    nonce_size: int = NONCE_SIZE
    tag_size: int = TAG_SIZE
    signature_algorithm_oid: str

    @abstractmethod
    def _hash_algorithm(self) -> hashes.HashAlgorithm: ...

    # --- hashing ------------------------------------------------------------------------------

    def hash(self, data: bytes) -> bytes:
        """One-shot digest (SM3 / SHA-256)."""
        h = hashes.Hash(self._hash_algorithm())
        h.update(data)
        return h.finalize()

    def hasher(self) -> Hasher:
        """Incremental digest for data that does not fit in memory."""
        return Hasher(self._hash_algorithm())

    def hmac(self, key: bytes, data: bytes) -> bytes:
        """HMAC-SM3 / HMAC-SHA256 of ``data`` (compare tags with ``hmac.compare_digest``)."""
        mac = _crypto_hmac.HMAC(key, self._hash_algorithm())
        mac.update(data)
        return mac.finalize()

    def derive_key(self, ikm: bytes, *, salt: bytes | None, info: bytes, length: int) -> bytes:
        """HKDF (RFC 5869) with the suite hash: HKDF-SM3 / HKDF-SHA256."""
        return HKDF(algorithm=self._hash_algorithm(), length=length, salt=salt, info=info).derive(
            ikm
        )

    # --- keys and signatures ------------------------------------------------------------------

    @abstractmethod
    def generate_keypair(self) -> PrivateKey:
        """A fresh private key of this suite (SM2 / P-256) from a CSPRNG."""

    def load_private_key(self, data: bytes | str, password: bytes | None = None) -> PrivateKey:
        """Load a PEM/DER PKCS#8 private key, which must belong to this suite."""
        key = load_private_key_any(data, password)
        if key.suite_name != self.name:
            raise UnsupportedKey(f"{key.algorithm} key does not belong to suite {self.name}")
        return key

    def load_public_key(self, data: bytes | str) -> PublicKey:
        """Load a PEM/DER SubjectPublicKeyInfo, which must belong to this suite."""
        key = load_public_key_any(data)
        if key.suite_name != self.name:
            raise UnsupportedKey(f"{key.algorithm} key does not belong to suite {self.name}")
        return key

    @abstractmethod
    def sign(self, private_key: PrivateKey, data: bytes) -> bytes:
        """Sign ``data``; returns a DER ``SEQUENCE { r INTEGER, s INTEGER }``."""

    @abstractmethod
    def verify(self, public_key: PublicKey, data: bytes, signature: bytes) -> None:
        """Verify a DER signature; raises :class:`InvalidSignature` on any failure.

        Only canonical DER with ``0 < r, s < n`` is accepted (convert raw ``r || s`` with
        :func:`sunlit.kernel.crypto.signature_from_raw` first).
        """

    def key_id(self, public_key: PublicKey) -> bytes:
        """Suite hash of the DER SubjectPublicKeyInfo (32 bytes)."""
        self._own_public(public_key)
        return public_key.key_id()

    # --- symmetric ----------------------------------------------------------------------------

    def new_aead_key(self) -> bytes:
        """A fresh random AEAD key of :attr:`aead_key_size` bytes."""
        return secrets.token_bytes(self.aead_key_size)

    @abstractmethod
    def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        """AEAD-encrypt; returns ``ciphertext || tag`` (tag 16 bytes). Never reuse a nonce."""

    @abstractmethod
    def open(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes = b"") -> bytes:
        """AEAD-decrypt ``ciphertext || tag``; raises :class:`DecryptionFailed` on any mismatch."""

    # --- key wrapping to a public key ---------------------------------------------------------

    @abstractmethod
    def wrap(self, public_key: PublicKey, key_bytes: bytes, info: bytes) -> bytes:
        """Encrypt a short secret (1 to 223 bytes) to ``public_key``, bound to ``info``."""

    @abstractmethod
    def unwrap(self, private_key: PrivateKey, blob: bytes, info: bytes) -> bytes:
        """Recover a wrapped secret; wrong key, wrong ``info`` or tampering raise
        :class:`DecryptionFailed`."""

    # --- helpers ------------------------------------------------------------------------------

    def _own_public(self, key: PublicKey) -> None:
        if key.suite_name != self.name:
            raise UnsupportedKey(f"{key.algorithm} key does not belong to suite {self.name}")

    def _own_private(self, key: PrivateKey) -> None:
        if key.suite_name != self.name:
            raise UnsupportedKey(f"{key.algorithm} key does not belong to suite {self.name}")

    def __repr__(self) -> str:
        return f"<Suite {self.name}>"


class _GmSuite(Suite):
    name: SuiteName = "gm"
    aead_key_size = 16
    signature_algorithm_oid = _asn1.OID_SM2_WITH_SM3

    def _hash_algorithm(self) -> hashes.HashAlgorithm:
        return hashes.SM3()

    def generate_keypair(self) -> Sm2PrivateKey:
        return generate_sm2()

    def sign(self, private_key: PrivateKey, data: bytes) -> bytes:
        if not isinstance(private_key, Sm2PrivateKey):
            raise UnsupportedKey("the gm suite signs with SM2 keys only")
        try:
            raw = private_key._handle.sign(data)
        except _sm2.Sm2BindingError as exc:  # pragma: no cover - binding failure
            raise UnsupportedKey(str(exc)) from exc
        return _asn1.signature_from_raw(raw)

    def verify(self, public_key: PublicKey, data: bytes, signature: bytes) -> None:
        if not isinstance(public_key, Sm2PublicKey):
            raise UnsupportedKey("the gm suite verifies SM2 keys only")
        raw = _asn1.signature_to_raw(signature, _asn1.SM2_ORDER)
        if not public_key._handle.verify(data, raw):
            raise InvalidSignature("SM2 signature does not verify")

    def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        _check_aead(key, self.aead_key_size, nonce)
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        body = enc.update(plaintext) + enc.finalize()
        return body + enc.tag

    def open(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes = b"") -> bytes:
        _check_aead(key, self.aead_key_size, nonce)
        if len(ciphertext) < TAG_SIZE:
            raise DecryptionFailed("ciphertext shorter than the tag")
        body, tag = ciphertext[:-TAG_SIZE], ciphertext[-TAG_SIZE:]
        dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        dec.authenticate_additional_data(aad)
        try:
            return dec.update(body) + dec.finalize()
        except InvalidTag as exc:
            raise DecryptionFailed("SM4-GCM authentication failed") from exc

    def wrap(self, public_key: PublicKey, key_bytes: bytes, info: bytes) -> bytes:
        if not isinstance(public_key, Sm2PublicKey):
            raise UnsupportedKey("the gm suite wraps to SM2 keys only")
        _check_wrap_key(key_bytes)
        raw = public_key._handle.encrypt(key_bytes + self.hash(info))
        return b"\x04" + raw

    def unwrap(self, private_key: PrivateKey, blob: bytes, info: bytes) -> bytes:
        if not isinstance(private_key, Sm2PrivateKey):
            raise UnsupportedKey("the gm suite unwraps with SM2 keys only")
        if len(blob) < 1 + 64 + 32 + 33 or blob[0] != 0x04:
            raise DecryptionFailed("not a gm wrapped key")
        try:
            message = private_key._handle.decrypt(blob[1:])
        except _sm2.Sm2BindingError as exc:
            raise DecryptionFailed("SM2 decryption failed") from exc
        key_bytes, info_hash = message[:-32], message[-32:]
        if not key_bytes or not _hmac.compare_digest(info_hash, self.hash(info)):
            raise DecryptionFailed("wrapped key bound to another context")
        return key_bytes


class _IntlSuite(Suite):
    name: SuiteName = "intl"
    aead_key_size = 32
    signature_algorithm_oid = _asn1.OID_ECDSA_WITH_SHA256

    def _hash_algorithm(self) -> hashes.HashAlgorithm:
        return hashes.SHA256()

    def generate_keypair(self) -> P256PrivateKey:
        return generate_p256()

    def sign(self, private_key: PrivateKey, data: bytes) -> bytes:
        if not isinstance(private_key, P256PrivateKey):
            raise UnsupportedKey("the intl suite signs with P-256 keys only")
        return private_key._key.sign(data, ec.ECDSA(hashes.SHA256()))

    def verify(self, public_key: PublicKey, data: bytes, signature: bytes) -> None:
        if not isinstance(public_key, P256PublicKey):
            raise UnsupportedKey("the intl suite verifies P-256 keys only")
        _asn1.signature_to_raw(signature, _asn1.P256_ORDER)  # canonical-DER check
        try:
            public_key._key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except _CryptographyInvalidSignature as exc:
            raise InvalidSignature("ECDSA signature does not verify") from exc

    def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        _check_aead(key, self.aead_key_size, nonce)
        return AESGCM(key).encrypt(nonce, plaintext, aad)

    def open(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes = b"") -> bytes:
        _check_aead(key, self.aead_key_size, nonce)
        try:
            return AESGCM(key).decrypt(nonce, ciphertext, aad)
        except InvalidTag as exc:
            raise DecryptionFailed("AES-GCM authentication failed") from exc

    def wrap(self, public_key: PublicKey, key_bytes: bytes, info: bytes) -> bytes:
        if not isinstance(public_key, P256PublicKey):
            raise UnsupportedKey("the intl suite wraps to P-256 keys only")
        _check_wrap_key(key_bytes)
        return _HPKE.encrypt(key_bytes, public_key._key, info=info)

    def unwrap(self, private_key: PrivateKey, blob: bytes, info: bytes) -> bytes:
        if not isinstance(private_key, P256PrivateKey):
            raise UnsupportedKey("the intl suite unwraps with P-256 keys only")
        try:
            key_bytes = _HPKE.decrypt(blob, private_key._key, info=info)
        except (InvalidTag, ValueError, UnsupportedAlgorithm) as exc:
            raise DecryptionFailed("HPKE decryption failed") from exc
        if not key_bytes:
            raise DecryptionFailed("empty wrapped key")
        return key_bytes


_SUITES: Final[dict[str, Suite]] = {"gm": _GmSuite(), "intl": _IntlSuite()}


def get_suite(name: str = DEFAULT_SUITE) -> Suite:
    """Return the suite called ``name`` (``"gm"``, the default, or ``"intl"``).

    Raises :class:`UnknownSuite` for any other name.
    """
    try:
        return _SUITES[name]
    except KeyError:
        raise UnknownSuite(f"unknown crypto suite {name!r} (expected 'gm' or 'intl')") from None


def suite_for_key(key: PublicKey | PrivateKey) -> Suite:
    """The suite a key belongs to (SM2 -> ``gm``, P-256 -> ``intl``)."""
    return _SUITES[key.suite_name]


def sign_any(private_key: PrivateKey, data: bytes) -> bytes:
    """Sign with whichever suite ``private_key`` belongs to (SM2-with-SM3 or ECDSA-SHA256, DER)."""
    return suite_for_key(private_key).sign(private_key, data)


def verify_any(public_key: PublicKey, data: bytes, signature: bytes) -> None:
    """Verify a DER signature with whichever suite ``public_key`` belongs to."""
    suite_for_key(public_key).verify(public_key, data, signature)
