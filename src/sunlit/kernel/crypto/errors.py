"""Typed errors of the crypto provider.

Every error carries a stable ``code`` string so that callers (the identity domain, the API
layer) can map it to a user-facing Chinese message without parsing English text. These
classes are deliberately independent of the platform's ``DomainError`` family: the crypto
package knows nothing of the rest of Sunlit.

Hierarchy::

    CryptoError                      crypto.error
      UnknownSuite                   crypto.unknown_suite
      MalformedKey                   crypto.malformed_key
      UnsupportedKey                 crypto.unsupported_key
      InvalidSignature               crypto.invalid_signature
      DecryptionFailed               crypto.decryption_failed
      CertificateError               cert.invalid
        CertificateMalformed         cert.malformed
        CertificateUntrusted         cert.untrusted
        CertificateBadSignature      cert.bad_signature
        CertificateExpired           cert.expired
        CertificateNotYetValid       cert.not_yet_valid
        CertificateRevoked           cert.revoked
        CertificateInvalidIssuer     cert.invalid_issuer
        CertificateUsageNotAllowed   cert.usage_not_allowed
        CertificateUnsupported       cert.unsupported
        RevocationUnknown            cert.revocation_unknown
        CrlMalformed                 crl.malformed
        CrlBadSignature              crl.bad_signature
"""

from __future__ import annotations

__all__ = [
    "CertificateBadSignature",
    "CertificateError",
    "CertificateExpired",
    "CertificateInvalidIssuer",
    "CertificateMalformed",
    "CertificateNotYetValid",
    "CertificateRevoked",
    "CertificateUnsupported",
    "CertificateUntrusted",
    "CertificateUsageNotAllowed",
    "CrlBadSignature",
    "CrlMalformed",
    "CryptoError",
    "DecryptionFailed",
    "InvalidSignature",
    "MalformedKey",
    "RevocationUnknown",
    "UnknownSuite",
    "UnsupportedKey",
]


class CryptoError(Exception):
    """Base class of every error raised by ``sunlit.kernel.crypto``."""

    code: str = "crypto.error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)
        self.message = message or self.code


class UnknownSuite(CryptoError):
    """The requested suite name is neither ``"gm"`` nor ``"intl"``."""

    code = "crypto.unknown_suite"


class MalformedKey(CryptoError):
    """Key bytes could not be parsed (bad PEM/DER, bad structure, point not on the curve)."""

    code = "crypto.malformed_key"


class UnsupportedKey(CryptoError):
    """The key is well formed but not usable here (other curve, other suite, missing part)."""

    code = "crypto.unsupported_key"


class InvalidSignature(CryptoError):
    """A signature did not verify, or is not a canonical DER ECDSA/SM2 signature."""

    code = "crypto.invalid_signature"


class DecryptionFailed(CryptoError):
    """AEAD tag mismatch, unwrap failure, wrong private key or wrong password.

    Deliberately carries no detail about *why* decryption failed.
    """

    code = "crypto.decryption_failed"


class CertificateError(CryptoError):
    """Base class of certificate and CRL verification failures."""

    code = "cert.invalid"


class CertificateMalformed(CertificateError):
    """The bytes are not a well-formed X.509 v3 certificate."""

    code = "cert.malformed"


class CertificateUntrusted(CertificateError):
    """No trusted root (through at most one intermediate) issued the certificate."""

    code = "cert.untrusted"


class CertificateBadSignature(CertificateError):
    """The issuer named in the certificate is trusted but its signature does not verify."""

    code = "cert.bad_signature"


class CertificateExpired(CertificateError):
    """The certificate (or a certificate of its chain) expired before the given time."""

    code = "cert.expired"


class CertificateNotYetValid(CertificateError):
    """The certificate (or a certificate of its chain) is not yet valid at the given time."""

    code = "cert.not_yet_valid"


class CertificateRevoked(CertificateError):
    """The certificate (or its intermediate) is listed on its issuer's CRL."""

    code = "cert.revoked"


class CertificateInvalidIssuer(CertificateError):
    """The issuer is not a CA, may not sign certificates or CRLs, or exceeds its path length."""

    code = "cert.invalid_issuer"


class CertificateUsageNotAllowed(CertificateError):
    """The certificate's key usage does not allow the requested use (or it is a CA)."""

    code = "cert.usage_not_allowed"


class CertificateUnsupported(CertificateError):
    """Well formed, but uses an algorithm or a critical extension Sunlit does not support."""

    code = "cert.unsupported"


class RevocationUnknown(CertificateError):
    """No current CRL of the issuer was supplied, so revocation status cannot be established."""

    code = "cert.revocation_unknown"


class CrlMalformed(CertificateError):
    """The bytes are not a well-formed X.509 v2 CRL."""

    code = "crl.malformed"


class CrlBadSignature(CertificateError):
    """A CRL names a trusted issuer but its signature does not verify with that issuer's key."""

    code = "crl.bad_signature"
