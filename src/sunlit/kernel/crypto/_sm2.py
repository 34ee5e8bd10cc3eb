"""The only module that touches the SM2 binding (``gmssl-fast``, see ADR 0002).

Everything here speaks raw bytes in the formats the binding uses:

* private key ``d``: 32 bytes big-endian;
* public key: 65 bytes, uncompressed SEC1 point ``04 || x || y``;
* signature: raw ``r || s`` (64 bytes), over ``SM3(Z || M)`` with the default
  distinguishing identifier ``1234567812345678`` (GM/T 0009), computed by the binding;
* ciphertext: raw ``C1 || C3 || C2`` with ``C1 = x || y`` (64 bytes, *no* ``04`` prefix).

The conversions to DER / PKCS#8 / SPKI / GM/T 0009 live in ``_asn1`` and ``keys``; swapping
the binding means rewriting this file only.
"""

from __future__ import annotations

import gmssl_fast

__all__ = ["MAX_PLAINTEXT", "Sm2BindingError", "Sm2Handle", "generate"]

# GmsslValueError derives from ValueError, not from GmsslError: catch both families.
_BINDING_ERRORS = (gmssl_fast.GmsslError, gmssl_fast.GmsslValueError, ValueError)

#: The binding's upper bound on SM2 public-key encryption plaintexts (GmSSL fixed buffer).
MAX_PLAINTEXT = 255


class Sm2BindingError(Exception):
    """The binding rejected a key or an input (bad point, scalar out of range, bad ciphertext)."""


# sm2p256v1 domain parameters (GM/T 0003.5 / GB/T 32918.5).
_P = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF", 16)
_A = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC", 16)
_B = int("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93", 16)


def is_valid_point(public: bytes) -> bool:
    """Public-key validation of GM/T 0003.1 section 6.2.1 steps a-c for sm2p256v1.

    ``04 || x || y`` with ``x, y`` in ``[0, p-1]`` and ``y^2 = x^3 + a x + b (mod p)``; the
    point at infinity has no such encoding and the cofactor is 1, so step d holds. This is the
    only curve arithmetic in Sunlit: the binding validates points too, but only lazily, and its
    failure path prints C traces to stderr, so keys are checked here when they are loaded.
    """
    if len(public) != 65 or public[0] != 0x04:
        return False
    x = int.from_bytes(public[1:33], "big")
    y = int.from_bytes(public[33:], "big")
    if x >= _P or y >= _P:
        return False
    return (y * y - (x * x * x + _A * x + _B)) % _P == 0


def _point_hex(public: bytes) -> str:
    if not is_valid_point(public):
        raise Sm2BindingError("SM2 public key is not a valid point on sm2p256v1")
    return public.hex()


def generate() -> tuple[bytes, bytes]:
    """Generate a key pair with the binding's CSPRNG; returns ``(d, 04||x||y)``."""
    try:
        pair = gmssl_fast.SM2.generate()
    except _BINDING_ERRORS as exc:  # pragma: no cover - binding failure
        raise Sm2BindingError(str(exc)) from exc
    d_hex, q_hex = pair.private_key_hex, pair.public_key_hex
    if d_hex is None or q_hex is None:  # pragma: no cover - the binding always returns both
        raise Sm2BindingError("binding returned an incomplete key pair")
    d = bytes.fromhex(d_hex)
    q = bytes.fromhex(q_hex)
    if len(q) == 64:  # pragma: no cover - the binding documents a 130-hex-digit result
        q = b"\x04" + q
    return d, q


class Sm2Handle:
    """A parsed SM2 key kept by the binding (parsing once makes signing ~2x faster).

    Construct with the public point and, for signing/decryption, the private scalar. Both are
    validated eagerly: an invalid point, an out-of-range scalar or a scalar that does not match
    the point raises :class:`Sm2BindingError`.
    """

    __slots__ = ("_key", "_verifier")

    def __init__(self, public: bytes, private: bytes | None = None) -> None:
        pub_hex = _point_hex(public)
        try:
            self._verifier = gmssl_fast.SM2(public_key=pub_hex)
            self._key: gmssl_fast.SM2 | None = None
            if private is not None:
                if len(private) != 32:
                    raise Sm2BindingError("SM2 private key must be 32 bytes")
                self._key = gmssl_fast.SM2(private_key=private.hex(), public_key=pub_hex)
                # The binding checks d*G == Q when it parses the pair; prove it end to end.
                probe = b"sunlit sm2 key pair check"
                if not self._verifier.verify(probe, self._key.sign(probe)):
                    raise Sm2BindingError("SM2 private key does not match its public key")
        except _BINDING_ERRORS as exc:
            raise Sm2BindingError(str(exc)) from exc

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` (ID 1234567812345678); returns raw ``r || s`` (64 bytes)."""
        if self._key is None:
            raise Sm2BindingError("no private key")
        try:
            sig: bytes = self._key.sign(data)
        except _BINDING_ERRORS as exc:  # pragma: no cover - binding failure
            raise Sm2BindingError(str(exc)) from exc
        return sig

    def verify(self, data: bytes, raw_signature: bytes) -> bool:
        """Verify a raw ``r || s`` signature (ID 1234567812345678)."""
        if len(raw_signature) != 64:
            return False
        try:
            return bool(self._verifier.verify(data, raw_signature))
        except _BINDING_ERRORS:
            return False

    def encrypt(self, plaintext: bytes) -> bytes:
        """SM2-encrypt (1 to 255 bytes); returns raw ``x || y || C3 || C2``."""
        if not 0 < len(plaintext) <= MAX_PLAINTEXT:
            raise Sm2BindingError("SM2 plaintext must be 1 to 255 bytes")
        try:
            ct: bytes = self._verifier.encrypt(plaintext)
        except _BINDING_ERRORS as exc:  # pragma: no cover - binding failure
            raise Sm2BindingError(str(exc)) from exc
        return ct

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt raw ``x || y || C3 || C2`` (C1 without ``04``); raises on any failure."""
        if self._key is None:
            raise Sm2BindingError("no private key")
        if len(ciphertext) <= 96:
            raise Sm2BindingError("SM2 ciphertext too short")
        try:
            pt: bytes = self._key.decrypt(ciphertext)
        except _BINDING_ERRORS as exc:
            raise Sm2BindingError("SM2 decryption failed") from exc
        return pt
