"""X.509 certificates and CRLs for both suites: a development CA and a multi-root trust store.

``cryptography`` can neither sign with nor load SM2 keys, so TBSCertificate / TBSCertList are
built and parsed with ``asn1crypto`` and signed through the provider. One code path serves both
algorithms (ADR 0003):

* SM2 keys / CAs sign with SM2-with-SM3 (OID 1.2.156.10197.1.501, no parameters), Z computed
  with the default ID ``1234567812345678`` (GM/T 0015, RFC 8998);
* P-256 keys / CAs sign with ecdsa-with-SHA256 (OID 1.2.840.10045.4.3.2, no parameters).

Subject of an end-entity certificate issued by :class:`CertificateAuthority`::

    C=CN, O=<organization name>, title=<role>, CN=<person name>,
    organizationIdentifier (2.5.4.97)=<统一社会信用代码, 18 characters, no prefix>

Nothing here reads a clock: every time is passed in, timezone-aware.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from . import _asn1
from .errors import (
    CertificateBadSignature,
    CertificateExpired,
    CertificateInvalidIssuer,
    CertificateMalformed,
    CertificateNotYetValid,
    CertificateRevoked,
    CertificateUnsupported,
    CertificateUntrusted,
    CertificateUsageNotAllowed,
    CrlBadSignature,
    CrlMalformed,
    CryptoError,
    InvalidSignature,
    RevocationUnknown,
    UnsupportedKey,
)
from .keys import PrivateKey, PublicKey, load_public_key_any
from .suites import suite_for_key

__all__ = [
    "Certificate",
    "CertificateAuthority",
    "RevocationList",
    "SubjectInfo",
    "TrustStore",
    "Usage",
    "VerifiedCertificate",
    "is_credit_code",
    "load_certificate",
    "load_crl",
    "parse_certificate",
    "verify_crl",
]

Usage = Literal["signature", "encryption", "signature+encryption"]
RequiredUsage = Literal["signature", "encryption", "any"]

_SIG_ALG_OF_KEY: Final = {"sm2": _asn1.OID_SM2_WITH_SM3, "p256": _asn1.OID_ECDSA_WITH_SHA256}
_SUPPORTED_SIG_ALGS: Final = frozenset(_SIG_ALG_OF_KEY.values())
_KNOWN_CERT_CRITICAL: Final = frozenset(
    {
        "basic_constraints",
        "key_usage",
        "extended_key_usage",
        "subject_alt_name",
        "key_identifier",
        "authority_key_identifier",
    }
)
_KNOWN_CRL_CRITICAL: Final = frozenset({"authority_key_identifier", "crl_number"})
_MAX_PATH_INTERMEDIATES: Final = 1

# GB 32100-2015: alphabet (no I, O, S, V, Z) and weights 3^i mod 31.
_CREDIT_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def is_credit_code(value: str) -> bool:
    """True when ``value`` is a 统一社会信用代码 with a correct GB 32100-2015 check character."""
    if len(value) != 18 or any(c not in _CREDIT_ALPHABET for c in value):
        return False
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(value, _CREDIT_WEIGHTS, strict=False))
    check = (31 - total % 31) % 31
    return value[17] == _CREDIT_ALPHABET[check]


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment.astimezone(UTC)


def _utc(moment: datetime, what: str) -> datetime:
    """UTC, truncated to whole seconds (what X.509 times can carry)."""
    return _aware(moment, what).replace(microsecond=0)


def _time(moment: datetime) -> asn1_x509.Time:
    # RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    if moment.year < 2050:
        return asn1_x509.Time(name="utc_time", value=moment)
    return asn1_x509.Time(name="general_time", value=moment)


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("ascii") if isinstance(data, str) else bytes(data)


def _name_fields(name: asn1_x509.Name) -> dict[str, str]:
    """First value of each attribute of a Name, keyed by asn1crypto name or dotted OID."""
    out: dict[str, str] = {}
    for rdn in name.chosen:
        for attr in rdn:
            key = str(attr["type"].native)
            value = attr["value"].native
            if key not in out and isinstance(value, str):
                out[key] = value
    return out


_SHORT_NAMES: Final = {
    "common_name": "CN",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "country_name": "C",
    "state_or_province_name": "ST",
    "locality_name": "L",
    "title": "title",
    "serial_number": "serialNumber",
    "organization_identifier": "organizationIdentifier",
}


def _name_text(name: asn1_x509.Name) -> str:
    parts = []
    for rdn in reversed(name.chosen):
        for attr in rdn:
            key = str(attr["type"].native)
            value = attr["value"].native
            parts.append(f"{_SHORT_NAMES.get(key, key)}={value}")
    return ", ".join(parts)


# --- certificates -----------------------------------------------------------------------------


class Certificate:
    """A parsed X.509 v3 certificate whose key is SM2 or P-256.

    Construct with :func:`load_certificate`. Attributes are plain Python values; ``der`` is
    the exact encoding received (signatures are checked over the original bytes).
    """

    __slots__ = ("_asn1", "_public_key", "der")

    def __init__(self, der: bytes, parsed: asn1_x509.Certificate, public_key: PublicKey) -> None:
        self.der = der
        self._asn1 = parsed
        self._public_key = public_key

    @property
    def serial_number(self) -> int:
        return int(self._asn1.serial_number)

    @property
    def subject(self) -> dict[str, str]:
        """Subject attributes, e.g. ``{"common_name": ..., "organization_identifier": ...}``."""
        return _name_fields(self._asn1.subject)

    @property
    def issuer(self) -> dict[str, str]:
        """Issuer attributes, same keys as :attr:`subject`."""
        return _name_fields(self._asn1.issuer)

    @property
    def not_before(self) -> datetime:
        value: datetime = self._asn1.not_valid_before
        return value

    @property
    def not_after(self) -> datetime:
        value: datetime = self._asn1.not_valid_after
        return value

    @property
    def subject_text(self) -> str:
        """The subject as one line, most specific first: ``CN=张三, title=..., O=..., C=CN``."""
        return _name_text(self._asn1.subject)

    @property
    def issuer_text(self) -> str:
        """The issuer as one line, like :attr:`subject_text`."""
        return _name_text(self._asn1.issuer)

    @property
    def public_key(self) -> PublicKey:
        return self._public_key

    @property
    def algorithm(self) -> str:
        """Algorithm of the certified key: ``"sm2"`` or ``"p256"``."""
        return self._public_key.algorithm

    @property
    def is_ca(self) -> bool:
        return bool(self._asn1.ca)

    @property
    def signature_algorithm_oid(self) -> str:
        return str(self._asn1["signature_algorithm"]["algorithm"].dotted)

    @property
    def fingerprint(self) -> bytes:
        """SHA-256 of the DER encoding (what ``openssl x509 -fingerprint -sha256`` prints)."""
        return hashlib.sha256(self.der).digest()

    def to_pem(self) -> bytes:
        return _asn1.armor("CERTIFICATE", self.der)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Certificate) and other.der == self.der

    def __hash__(self) -> int:
        return hash(self.der)

    def __repr__(self) -> str:
        cn = self.subject.get("common_name", "?")
        return f"<Certificate CN={cn!r} serial={self.serial_number:x}>"


def load_certificate(data: bytes | str) -> Certificate:
    """Parse a PEM or DER certificate.

    Raises :class:`CertificateMalformed` for anything that is not a well-formed X.509 v3
    certificate, and :class:`CertificateUnsupported` for keys other than SM2 / P-256.
    """
    raw = _as_bytes(data)
    try:
        label, _headers, der = _asn1.unarmor(raw)
    except CryptoError as exc:
        raise CertificateMalformed("malformed PEM") from exc
    if label is not None and label != "CERTIFICATE":
        raise CertificateMalformed(f"expected a CERTIFICATE PEM, got {label}")
    try:
        parsed = _asn1.load_strict(asn1_x509.Certificate, der)
        if parsed["tbs_certificate"]["version"].native != "v3":
            raise ValueError("not an X.509 v3 certificate")
        _ = parsed.critical_extensions  # parses every extension
        spki = parsed["tbs_certificate"]["subject_public_key_info"].dump()
    except _asn1.ASN1_ERRORS as exc:
        raise CertificateMalformed(f"malformed certificate: {exc}") from exc
    try:
        public_key = load_public_key_any(spki)
    except UnsupportedKey as exc:
        raise CertificateUnsupported(f"unsupported certificate key: {exc}") from exc
    except CryptoError as exc:
        raise CertificateMalformed(f"malformed certificate key: {exc}") from exc
    return Certificate(der, parsed, public_key)


@functools.lru_cache(maxsize=1024)
def _load_certificate_cached(data: bytes) -> Certificate:
    """:func:`load_certificate` memoised by the encoding: parsing is a pure function of the
    bytes and a :class:`Certificate` is never modified, so the same bound certificate verified
    on every upload is parsed once (its path-building comparisons then reuse parsed fields).
    Errors are not cached (``lru_cache`` only stores results). The shared object is parsed in
    full here, before any other thread can see it (asn1crypto parses lazily, in place)."""
    cert = load_certificate(data)
    parsed = cert._asn1
    _ = parsed.native, parsed.authority_key_identifier, parsed.key_identifier
    _ = parsed.key_usage_value, parsed.max_path_length, parsed.ca
    _ = parsed["tbs_certificate"].dump(), parsed.subject.hashable, parsed.issuer.hashable
    return cert


#: Alias of :func:`load_certificate`.
parse_certificate = load_certificate


def _signed_algorithm(asn1_value: Any, outer: str, inner: str, what: str) -> str:
    """Check the outer and inner signature AlgorithmIdentifiers; return the algorithm OID."""
    outer_alg = asn1_value[outer]
    inner_alg = asn1_value[inner]["signature"]
    if outer_alg.dump() != inner_alg.dump():
        raise CertificateMalformed(f"{what}: signature algorithms disagree")
    oid = str(outer_alg["algorithm"].dotted)
    if oid not in _SUPPORTED_SIG_ALGS:
        raise CertificateUnsupported(f"{what}: unsupported signature algorithm {oid}")
    if outer_alg["parameters"].native is not None:
        raise CertificateMalformed(f"{what}: signature algorithm must have no parameters")
    return oid


@functools.lru_cache(maxsize=4096)
def _signature_ok(issuer_key: PublicKey, algorithm_oid: str, tbs: bytes, sig: bytes) -> bool:
    """Whether ``sig`` over ``tbs`` verifies with ``issuer_key``.

    Memoised: the answer is a pure function of its four arguments (keys compare by SPKI), and
    the same roots, CRLs and certificates are checked on every login and upload.
    """
    if _SIG_ALG_OF_KEY[issuer_key.algorithm] != algorithm_oid:
        return False
    try:
        suite_for_key(issuer_key).verify(issuer_key, tbs, sig)
    except InvalidSignature:
        return False
    return True


# --- CRLs -------------------------------------------------------------------------------------


class RevocationList:
    """A parsed X.509 v2 CRL. Construct with :func:`load_crl` or
    :meth:`CertificateAuthority.issue_crl`."""

    __slots__ = ("_asn1", "der")

    def __init__(self, der: bytes, parsed: asn1_crl.CertificateList) -> None:
        self.der = der
        self._asn1 = parsed

    @property
    def issuer(self) -> dict[str, str]:
        return _name_fields(self._asn1.issuer)

    @property
    def this_update(self) -> datetime:
        value: datetime = self._asn1["tbs_cert_list"]["this_update"].native
        return value

    @property
    def next_update(self) -> datetime | None:
        value: datetime | None = self._asn1["tbs_cert_list"]["next_update"].native
        return value

    @property
    def crl_number(self) -> int | None:
        value = self._asn1.crl_number_value
        return None if value is None else int(value.native)

    @property
    def revoked(self) -> dict[int, datetime]:
        """Serial number -> revocation date."""
        out: dict[int, datetime] = {}
        for entry in self._asn1["tbs_cert_list"]["revoked_certificates"]:
            out[int(entry["user_certificate"].native)] = entry["revocation_date"].native
        return out

    def to_pem(self) -> bytes:
        return _asn1.armor("X509 CRL", self.der)

    def __repr__(self) -> str:
        return f"<RevocationList {self.issuer.get('common_name', '?')!r} #{self.crl_number}>"


def load_crl(data: bytes | str) -> RevocationList:
    """Parse a PEM (``X509 CRL``) or DER CRL; raises :class:`CrlMalformed`."""
    raw = _as_bytes(data)
    try:
        label, _headers, der = _asn1.unarmor(raw)
    except CryptoError as exc:
        raise CrlMalformed("malformed PEM") from exc
    if label is not None and label != "X509 CRL":
        raise CrlMalformed(f"expected an X509 CRL PEM, got {label}")
    try:
        parsed = _asn1.load_strict(asn1_crl.CertificateList, der)
        if parsed["tbs_cert_list"]["version"].native not in (None, "v1", "v2"):
            raise ValueError("unknown CRL version")
        _ = parsed.critical_extensions
        for entry in parsed["tbs_cert_list"]["revoked_certificates"]:
            if entry.critical_extensions:
                raise ValueError("critical CRL entry extensions are not supported")
    except _asn1.ASN1_ERRORS as exc:
        raise CrlMalformed(f"malformed CRL: {exc}") from exc
    return RevocationList(der, parsed)


# --- issuing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectInfo:
    """Who an end-entity certificate is for.

    ``credit_code`` is the organization's 统一社会信用代码 (validated with its check character)
    and goes into ``organizationIdentifier`` (2.5.4.97); ``role`` (e.g. "投标人授权代表") goes
    into ``title`` (2.5.4.12).
    """

    common_name: str
    organization: str
    credit_code: str
    role: str | None = None
    country: str = "CN"

    def __post_init__(self) -> None:
        if not self.common_name.strip() or not self.organization.strip():
            raise ValueError("common_name and organization must not be empty")
        if not is_credit_code(self.credit_code):
            raise ValueError(f"invalid 统一社会信用代码 {self.credit_code!r}")

    def _name(self) -> asn1_x509.Name:
        fields: dict[str, str] = {
            "country_name": self.country,
            "organization_name": self.organization,
            "common_name": self.common_name,
            "organization_identifier": self.credit_code,
        }
        if self.role:
            fields["title"] = self.role
        return asn1_x509.Name.build(fields)


def _ski(key: PublicKey) -> bytes:
    """Subject key identifier: first 20 bytes of the key's suite hash of its SPKI."""
    return key.key_id()[:20]


def _random_serial() -> int:
    while True:
        serial = secrets.randbits(128)
        if serial:
            return serial


def _key_usage(names: Iterable[str]) -> asn1_x509.KeyUsage:
    return asn1_x509.KeyUsage(set(names))


def _extension(name: str, value: Any, critical: bool) -> dict[str, Any]:
    return {"extn_id": name, "critical": critical, "extn_value": value}


class CertificateAuthority:
    """A development CA: a CA certificate plus its private key (SM2 or P-256).

    Create a root with :meth:`create_root`, optionally one intermediate with
    :meth:`create_intermediate`; issue end-entity certificates with :meth:`issue`; record
    revocations with :meth:`revoke` and publish them with :meth:`issue_crl`. Persist it by
    storing ``certificate.der`` and ``private_key.to_pem(password)``.
    """

    def __init__(self, certificate: Certificate, private_key: PrivateKey) -> None:
        if certificate.public_key != private_key.public_key():
            raise UnsupportedKey("the private key does not match the CA certificate")
        if not certificate.is_ca:
            raise CertificateInvalidIssuer("the certificate is not a CA certificate")
        self.certificate = certificate
        self.private_key = private_key
        self.revoked: dict[int, datetime] = {}

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def create_root(
        cls,
        private_key: PrivateKey,
        *,
        common_name: str,
        not_before: datetime,
        not_after: datetime,
        organization: str | None = None,
        path_length: int | None = None,
    ) -> CertificateAuthority:
        """Self-signed root: CA:TRUE (critical), keyCertSign + cRLSign (critical)."""
        name = cls._ca_name(common_name, organization)
        public_key = private_key.public_key()
        cert = _sign_certificate(
            signer=private_key,
            issuer=name,
            issuer_key_id=_ski(public_key),
            subject=name,
            public_key=public_key,
            not_before=not_before,
            not_after=not_after,
            extensions=cls._ca_extensions(public_key, path_length),
        )
        return cls(cert, private_key)

    def create_intermediate(
        self,
        private_key: PrivateKey,
        *,
        common_name: str,
        not_before: datetime,
        not_after: datetime,
        organization: str | None = None,
    ) -> CertificateAuthority:
        """An intermediate CA (pathLenConstraint 0) signed by this CA."""
        public_key = private_key.public_key()
        cert = self._sign(
            subject=self._ca_name(common_name, organization),
            public_key=public_key,
            not_before=not_before,
            not_after=not_after,
            extensions=self._ca_extensions(public_key, 0),
        )
        return CertificateAuthority(cert, private_key)

    @staticmethod
    def _ca_name(common_name: str, organization: str | None) -> asn1_x509.Name:
        fields = {"country_name": "CN", "common_name": common_name}
        if organization:
            fields["organization_name"] = organization
        return asn1_x509.Name.build(fields)

    @staticmethod
    def _ca_extensions(public_key: PublicKey, path_length: int | None) -> list[dict[str, Any]]:
        constraints: dict[str, Any] = {"ca": True}
        if path_length is not None:
            constraints["path_len_constraint"] = path_length
        return [
            _extension("basic_constraints", constraints, True),
            _extension("key_usage", _key_usage({"key_cert_sign", "crl_sign"}), True),
            _extension("key_identifier", _ski(public_key), False),
        ]

    # -- issuing -------------------------------------------------------------------------------

    def issue(
        self,
        subject: SubjectInfo,
        public_key: PublicKey,
        *,
        not_before: datetime,
        not_after: datetime,
        usage: Usage = "signature",
    ) -> Certificate:
        """Issue an end-entity certificate with a random 128-bit serial.

        Extensions: basicConstraints CA:FALSE (critical); keyUsage (critical)
        digitalSignature for ``"signature"``, keyEncipherment (SM2 key) or keyAgreement
        (P-256 key) for ``"encryption"``, both for ``"signature+encryption"``;
        extendedKeyUsage clientAuth; subject and authority key identifiers.
        """
        bits: set[str] = set()
        if usage in ("signature", "signature+encryption"):
            bits.add("digital_signature")
        if usage in ("encryption", "signature+encryption"):
            bits.add("key_encipherment" if public_key.algorithm == "sm2" else "key_agreement")
        if not bits:
            raise ValueError(f"unknown usage {usage!r}")
        extensions = [
            _extension("basic_constraints", {"ca": False}, True),
            _extension("key_usage", _key_usage(bits), True),
            _extension("extended_key_usage", ["client_auth"], False),
            _extension("key_identifier", _ski(public_key), False),
        ]
        return self._sign(
            subject=subject._name(),
            public_key=public_key,
            not_before=not_before,
            not_after=not_after,
            extensions=extensions,
        )

    def _sign(
        self,
        *,
        subject: asn1_x509.Name,
        public_key: PublicKey,
        not_before: datetime,
        not_after: datetime,
        extensions: list[dict[str, Any]],
    ) -> Certificate:
        return _sign_certificate(
            signer=self.private_key,
            issuer=self.certificate._asn1.subject,
            issuer_key_id=_ski(self.private_key.public_key()),
            subject=subject,
            public_key=public_key,
            not_before=not_before,
            not_after=not_after,
            extensions=extensions,
        )

    # -- revocation ----------------------------------------------------------------------------

    def revoke(self, serial_number: int, revoked_at: datetime) -> None:
        """Record that ``serial_number`` is revoked from ``revoked_at`` on (in memory)."""
        self.revoked[serial_number] = _utc(revoked_at, "revoked_at")

    def issue_crl(
        self,
        *,
        this_update: datetime,
        next_update: datetime,
        crl_number: int,
        revoked: Mapping[int, datetime] | None = None,
    ) -> RevocationList:
        """A signed v2 CRL listing ``revoked`` (default: everything passed to :meth:`revoke`).

        Carries thisUpdate, nextUpdate, the CRL number and the authority key identifier.
        """
        this_u, next_u = _utc(this_update, "this_update"), _utc(next_update, "next_update")
        if next_u <= this_u:
            raise ValueError("next_update must be after this_update")
        if crl_number < 0:
            raise ValueError("crl_number must not be negative")
        entries = revoked if revoked is not None else self.revoked
        revoked_list = [
            {"user_certificate": serial, "revocation_date": _time(_utc(when, "revocation date"))}
            for serial, when in sorted(entries.items())
        ]
        algorithm = {"algorithm": _SIG_ALG_OF_KEY[self.private_key.algorithm]}
        tbs_fields: dict[str, Any] = {
            "version": "v2",
            "signature": algorithm,
            "issuer": self.certificate._asn1.subject,
            "this_update": _time(this_u),
            "next_update": _time(next_u),
            "crl_extensions": [
                _extension("crl_number", crl_number, False),
                _extension(
                    "authority_key_identifier",
                    {"key_identifier": _ski(self.private_key.public_key())},
                    False,
                ),
            ],
        }
        if revoked_list:
            tbs_fields["revoked_certificates"] = revoked_list
        tbs = asn1_crl.TbsCertList(tbs_fields)
        tbs_der = tbs.dump()
        signature = suite_for_key(self.private_key).sign(self.private_key, tbs_der)
        der = asn1_crl.CertificateList(
            {"tbs_cert_list": tbs, "signature_algorithm": algorithm, "signature": signature}
        ).dump()
        return load_crl(der)


def _sign_certificate(
    *,
    signer: PrivateKey,
    issuer: asn1_x509.Name,
    issuer_key_id: bytes,
    subject: asn1_x509.Name,
    public_key: PublicKey,
    not_before: datetime,
    not_after: datetime,
    extensions: list[dict[str, Any]],
) -> Certificate:
    start, end = _utc(not_before, "not_before"), _utc(not_after, "not_after")
    if end <= start:
        raise ValueError("not_after must be after not_before")
    algorithm = {"algorithm": _SIG_ALG_OF_KEY[signer.algorithm]}
    all_extensions = [
        *extensions,
        _extension("authority_key_identifier", {"key_identifier": issuer_key_id}, False),
    ]
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": _random_serial(),
            "signature": algorithm,
            "issuer": issuer,
            "validity": {"not_before": _time(start), "not_after": _time(end)},
            "subject": subject,
            "subject_public_key_info": asn1_x509.PublicKeyInfo.load(public_key.to_der()),
            "extensions": all_extensions,
        }
    )
    signature = suite_for_key(signer).sign(signer, tbs.dump())
    der = asn1_x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": algorithm, "signature_value": signature}
    ).dump()
    return load_certificate(der)


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedCertificate:
    """What :meth:`TrustStore.verify_certificate` established about a certificate.

    ``credit_code`` is read from organizationIdentifier (an ``NTRCN-`` prefix is dropped), or
    failing that from serialNumber or OU, and only if it passes the GB 32100 check.
    ``chain`` lists the issuing certificates, nearest first, ending with the trusted root.
    """

    certificate: Certificate
    common_name: str | None
    organization: str | None
    credit_code: str | None
    role: str | None
    serial_number: int
    issuer: str
    issuer_key_id: bytes
    public_key: PublicKey
    key_id: bytes
    not_before: datetime
    not_after: datetime
    chain: tuple[Certificate, ...] = field(repr=False)


def _credit_code_of(subject: dict[str, str]) -> str | None:
    for key in ("organization_identifier", "serial_number", "organizational_unit_name"):
        value = subject.get(key)
        if value is None:
            continue
        value = value.strip().upper()
        if value.startswith("NTRCN-"):
            value = value[6:]
        if is_credit_code(value):
            return value
    return None


_USAGE_BITS: Final[dict[str, frozenset[str]]] = {
    "signature": frozenset({"digital_signature", "non_repudiation"}),
    "encryption": frozenset({"key_encipherment", "key_agreement", "data_encipherment"}),
}


class TrustStore:
    """Trusted roots (SM2 and ECDSA mixed: 多CA互认) plus optional untrusted intermediates.

    Paths have at most one intermediate: end-entity <- [intermediate] <- trusted root.
    """

    def __init__(
        self, roots: Iterable[Certificate] = (), intermediates: Iterable[Certificate] = ()
    ) -> None:
        self._roots: list[Certificate] = []
        self._intermediates: list[Certificate] = []
        for root in roots:
            self.add_root(root)
        for cert in intermediates:
            self.add_intermediate(cert)

    @property
    def roots(self) -> tuple[Certificate, ...]:
        return tuple(self._roots)

    def add_root(self, certificate: Certificate) -> None:
        """Trust a self-signed CA certificate (its self-signature must verify)."""
        parsed = certificate._asn1
        if not certificate.is_ca:
            raise CertificateInvalidIssuer("a trusted root must be a CA certificate")
        if parsed.subject != parsed.issuer:
            raise CertificateInvalidIssuer("a trusted root must be self-issued")
        algorithm = _signed_algorithm(parsed, "signature_algorithm", "tbs_certificate", "root")
        if not _signature_ok(
            certificate.public_key,
            algorithm,
            parsed["tbs_certificate"].dump(),
            parsed["signature_value"].native,
        ):
            raise CertificateBadSignature("the root's self-signature does not verify")
        if certificate not in self._roots:
            self._roots.append(certificate)

    def add_intermediate(self, certificate: Certificate) -> None:
        """Offer an intermediate CA for path building (it is verified against a root each time)."""
        if not certificate.is_ca:
            raise CertificateInvalidIssuer("an intermediate must be a CA certificate")
        if certificate not in self._intermediates:
            self._intermediates.append(certificate)

    # -- verification --------------------------------------------------------------------------

    def verify_certificate(
        self,
        certificate: Certificate | bytes | str,
        at_time: datetime,
        crls: Iterable[RevocationList | bytes | str] = (),
        *,
        usage: RequiredUsage = "signature",
        require_crl: bool = True,
    ) -> VerifiedCertificate:
        """Verify an end-entity certificate at ``at_time`` against the trusted roots.

        Checks, in order: well-formedness (``cert.malformed``), supported algorithms and
        critical extensions (``cert.unsupported``), a path to a trusted root with every
        signature verified (``cert.untrusted``, ``cert.bad_signature``), issuer CA constraints
        (``cert.invalid_issuer``), validity of every certificate in the path at ``at_time``
        (``cert.expired``, ``cert.not_yet_valid``), end-entity key usage
        (``cert.usage_not_allowed``), then revocation: every supplied CRL naming an issuer of
        the path must verify (``crl.bad_signature``); a certificate listed with a revocation
        date at or before ``at_time`` is refused (``cert.revoked``). With ``require_crl``
        (default) each issuer must have supplied a CRL whose nextUpdate is not before
        ``at_time`` (else ``cert.revocation_unknown``).
        """
        moment = _aware(at_time, "at_time")
        if isinstance(certificate, Certificate):
            cert = certificate
        elif isinstance(certificate, bytes):
            cert = _load_certificate_cached(certificate)
        else:
            cert = load_certificate(certificate)
        parsed_crls = [c if isinstance(c, RevocationList) else load_crl(c) for c in crls]

        self._check_supported(cert)
        chain = self._build_path(cert)
        path = [cert, *chain]  # end-entity first, root last
        for index in range(1, len(path)):
            self._check_issuer(path[index], intermediates_below=index - 1)
        for member in path:
            if moment < member.not_before:
                raise CertificateNotYetValid(
                    f"{_describe(member)} is not valid before {member.not_before.isoformat()}"
                )
            if moment > member.not_after:
                raise CertificateExpired(
                    f"{_describe(member)} expired at {member.not_after.isoformat()}"
                )
        self._check_usage(cert, usage)
        for index in range(len(path) - 1):
            self._check_revocation(path[index], path[index + 1], moment, parsed_crls, require_crl)

        subject = cert.subject
        issuer_cert = path[1]
        return VerifiedCertificate(
            certificate=cert,
            common_name=subject.get("common_name"),
            organization=subject.get("organization_name"),
            credit_code=_credit_code_of(subject),
            role=subject.get("title"),
            serial_number=cert.serial_number,
            issuer=issuer_cert.subject.get("common_name", ""),
            issuer_key_id=issuer_cert.public_key.key_id(),
            public_key=cert.public_key,
            key_id=cert.public_key.key_id(),
            not_before=cert.not_before,
            not_after=cert.not_after,
            chain=tuple(chain),
        )

    @staticmethod
    def _check_supported(cert: Certificate) -> None:
        _signed_algorithm(cert._asn1, "signature_algorithm", "tbs_certificate", _describe(cert))
        unknown = set(cert._asn1.critical_extensions) - _KNOWN_CERT_CRITICAL
        if unknown:
            raise CertificateUnsupported(
                f"{_describe(cert)} has unsupported critical extensions {sorted(unknown)}"
            )

    def _issuers_of(self, cert: Certificate, pool: list[Certificate]) -> list[Certificate]:
        parsed = cert._asn1
        candidates = [c for c in pool if c._asn1.subject == parsed.issuer]
        aki = parsed.authority_key_identifier
        if aki is not None:
            # Prefer the issuer whose key identifier matches; keep others as fall-backs.
            candidates.sort(key=lambda c: c._asn1.key_identifier != aki)
        return candidates

    def _build_path(self, cert: Certificate) -> list[Certificate]:
        """Issuers of ``cert`` nearest first, ending at a trusted root."""
        saw_candidate = False
        for root in self._issuers_of(cert, self._roots):
            saw_candidate = True
            if self._signed_by(cert, root):
                return [root]
        for intermediate in self._issuers_of(cert, self._intermediates):
            if intermediate in self._roots or intermediate == cert:
                continue
            for root in self._issuers_of(intermediate, self._roots):
                saw_candidate = True
                if self._signed_by(cert, intermediate):
                    self._check_supported(intermediate)
                    if self._signed_by(intermediate, root):
                        return [intermediate, root]
        if saw_candidate:
            raise CertificateBadSignature(
                f"{_describe(cert)}: signature does not verify with the named trusted issuer"
            )
        raise CertificateUntrusted(f"{_describe(cert)} was not issued by a trusted root")

    @staticmethod
    def _signed_by(cert: Certificate, issuer: Certificate) -> bool:
        parsed = cert._asn1
        algorithm = _signed_algorithm(
            parsed, "signature_algorithm", "tbs_certificate", _describe(cert)
        )
        return _signature_ok(
            issuer.public_key,
            algorithm,
            parsed["tbs_certificate"].dump(),
            parsed["signature_value"].native,
        )

    @staticmethod
    def _check_issuer(issuer: Certificate, *, intermediates_below: int) -> None:
        parsed = issuer._asn1
        if not parsed.ca:
            raise CertificateInvalidIssuer(f"{_describe(issuer)} is not a CA")
        key_usage = parsed.key_usage_value
        if key_usage is not None and "key_cert_sign" not in key_usage.native:
            raise CertificateInvalidIssuer(f"{_describe(issuer)} may not sign certificates")
        max_path = parsed.max_path_length
        if max_path is not None and intermediates_below > max_path:
            raise CertificateInvalidIssuer(f"{_describe(issuer)}: path length exceeded")
        if intermediates_below > _MAX_PATH_INTERMEDIATES:  # pragma: no cover - path builder
            raise CertificateInvalidIssuer("too many intermediates")

    @staticmethod
    def _check_usage(cert: Certificate, usage: RequiredUsage) -> None:
        if usage == "any":
            return
        if cert.is_ca:
            raise CertificateUsageNotAllowed(f"{_describe(cert)} is a CA certificate")
        key_usage = cert._asn1.key_usage_value
        if key_usage is None:
            return
        if not (set(key_usage.native) & _USAGE_BITS[usage]):
            raise CertificateUsageNotAllowed(f"{_describe(cert)}: key usage forbids {usage}")

    @staticmethod
    def _check_revocation(
        cert: Certificate,
        issuer: Certificate,
        moment: datetime,
        crls: list[RevocationList],
        require_crl: bool,
    ) -> None:
        mine = [c for c in crls if c._asn1.issuer == issuer._asn1.subject]
        freshest: datetime | None = None
        for crl in mine:
            verify_crl(crl, issuer)
            revoked_at = crl.revoked.get(cert.serial_number)
            if revoked_at is not None and revoked_at <= moment:
                raise CertificateRevoked(
                    f"{_describe(cert)} revoked at {revoked_at.isoformat()} by {_describe(issuer)}"
                )
            next_update = crl.next_update
            if next_update is not None and (freshest is None or next_update > freshest):
                freshest = next_update
        if require_crl and (freshest is None or moment > freshest):
            raise RevocationUnknown(
                f"no current CRL from {_describe(issuer)} for {_describe(cert)}"
            )


def verify_crl(crl: RevocationList, issuer: Certificate) -> None:
    """Check that ``issuer`` signed ``crl`` and may sign CRLs (names, algorithm, signature).

    Raises :class:`CrlBadSignature` (signature or issuer name mismatch), :class:`CrlMalformed`,
    :class:`CertificateUnsupported` or :class:`CertificateInvalidIssuer`. Does not look at
    thisUpdate / nextUpdate: freshness depends on the time of use (see
    :meth:`TrustStore.verify_certificate`).
    """
    parsed = crl._asn1
    if parsed.issuer != issuer._asn1.subject:
        raise CrlBadSignature(f"CRL issuer is not {_describe(issuer)}")
    try:
        algorithm = _signed_algorithm(parsed, "signature_algorithm", "tbs_cert_list", "CRL")
    except CertificateMalformed as exc:
        raise CrlMalformed(str(exc)) from exc
    unknown = set(parsed.critical_extensions) - _KNOWN_CRL_CRITICAL
    if unknown:
        raise CertificateUnsupported(f"CRL has unsupported critical extensions {sorted(unknown)}")
    if not _signature_ok(
        issuer.public_key, algorithm, parsed["tbs_cert_list"].dump(), parsed["signature"].native
    ):
        raise CrlBadSignature(f"CRL signature does not verify with {_describe(issuer)}")
    key_usage = issuer._asn1.key_usage_value
    if key_usage is not None and "crl_sign" not in key_usage.native:
        raise CertificateInvalidIssuer(f"{_describe(issuer)} may not sign CRLs")


def _describe(cert: Certificate) -> str:
    return f"certificate CN={cert.subject.get('common_name', '?')!r}"
