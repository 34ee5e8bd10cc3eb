"""Sunlit's crypto provider: two suites behind one interface, keys, signatures, certificates.

Quick tour::

    from sunlit.kernel.crypto import get_suite, load_public_key_any, verify_any

    gm = get_suite()                       # "gm" (SM2/SM3/SM4) is the default; "intl" too
    key = gm.generate_keypair()
    sig = gm.sign(key, "投标文件".encode())  # DER SEQUENCE { r, s }
    verify_any(key.public_key(), "投标文件".encode(), sig)   # raises InvalidSignature

    k = gm.new_aead_key(); nonce = os.urandom(12)
    ct = gm.seal(k, nonce, b"...", aad=b"header")
    blob = gm.wrap(key.public_key(), k, info=b"sunlit/bid/...")
    assert gm.unwrap(key, blob, info=b"sunlit/bid/...") == k

Certificates (dev CA, multi-root trust store, CRLs) are in :mod:`sunlit.kernel.crypto.x509`.
Errors are in :mod:`sunlit.kernel.crypto.errors`. Formats: ``docs/spec/crypto-suites.md``.

This package imports nothing from the rest of Sunlit. The SM2 binding (gmssl-fast) is touched
only by ``_sm2`` (ADR 0002).
"""

from __future__ import annotations

from ._asn1 import signature_from_raw as _signature_from_raw
from ._asn1 import signature_to_raw as _signature_to_raw
from .errors import (
    CryptoError,
    DecryptionFailed,
    InvalidSignature,
    MalformedKey,
    UnknownSuite,
    UnsupportedKey,
)
from .keys import PrivateKey, PublicKey, load_private_key_any, load_public_key_any
from .suites import (
    DEFAULT_SUITE,
    Hasher,
    Suite,
    get_suite,
    sign_any,
    suite_for_key,
    verify_any,
)

__all__ = [
    "DEFAULT_SUITE",
    "CryptoError",
    "DecryptionFailed",
    "Hasher",
    "InvalidSignature",
    "MalformedKey",
    "PrivateKey",
    "PublicKey",
    "Suite",
    "UnknownSuite",
    "UnsupportedKey",
    "get_suite",
    "load_private_key_any",
    "load_public_key_any",
    "sign_any",
    "signature_from_raw",
    "signature_to_raw",
    "suite_for_key",
    "verify_any",
]


def signature_to_raw(der_signature: bytes) -> bytes:
    """Canonical DER ``SEQUENCE { r, s }`` -> raw 64-byte ``r || s`` (for tools wanting raw).

    Raises :class:`InvalidSignature` for non-canonical DER or integers not in ``[1, 2^256)``.
    """
    return _signature_to_raw(der_signature, 1 << 256)


def signature_from_raw(raw_signature: bytes) -> bytes:
    """Raw 64-byte ``r || s`` (as sm-crypto, GmSSL raw APIs, WebCrypto emit) -> DER."""
    return _signature_from_raw(raw_signature)
