"""The identity domain's view of certificates: the platform trust store, held in the database.

Wraps ``kernel.crypto.x509`` and turns its typed errors into DomainErrors with Chinese messages.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.identity.models import TrustedCA
from sunlit.kernel.crypto import InvalidSignature, PublicKey, verify_any, x509
from sunlit.kernel.crypto.errors import CertificateError, CryptoError
from sunlit.kernel.errors import DomainError, InvalidInput, Unauthenticated

CERT_MESSAGES: dict[str, str] = {
    "cert.malformed": "证书格式错误，无法解析",
    "cert.untrusted": "证书不是由平台认可的 CA 机构签发",
    "cert.bad_signature": "证书签名无效（证书可能被篡改）",
    "cert.expired": "证书已过期，请向 CA 机构办理证书更新",
    "cert.not_yet_valid": "证书尚未生效",
    "cert.revoked": "证书已被 CA 机构吊销",
    "cert.invalid_issuer": "证书的签发机构不具备 CA 资格",
    "cert.usage_not_allowed": "该证书不能用于数字签名",
    "cert.unsupported": "不支持该证书的算法或扩展",
    "cert.revocation_unknown": "无法确认证书吊销状态（CA 的吊销列表缺失或已过期），请联系交易中心",
    "cert.invalid": "证书无效",
    "crl.malformed": "证书吊销列表格式错误",
    "crl.bad_signature": "证书吊销列表签名无效",
}
ALGORITHMS = {"gm": "SM2", "intl": "ECDSA-P256"}


def certificate_error(exc: CryptoError) -> DomainError:
    code = getattr(exc, "code", "cert.invalid")
    message = CERT_MESSAGES.get(code, CERT_MESSAGES["cert.invalid"])
    return Unauthenticated(f"identity.{code}", message)


@dataclass(frozen=True)
class VerifiedCert:
    fingerprint: str
    serial: str
    issuer: str
    subject: str
    credit_code: str | None
    common_name: str
    algorithm: str
    not_before: dt.datetime
    not_after: dt.datetime
    public_key: PublicKey


@dataclass(frozen=True)
class RootInfo:
    der: bytes
    fingerprint: str
    subject: str
    algorithm: str


def decode_certificate(text: str | bytes) -> bytes:
    """PEM or Base64 DER -> DER; anything else is refused clearly."""
    raw = text.encode() if isinstance(text, str) else text
    try:
        if b"-----BEGIN" in raw:
            return x509.load_certificate(raw).der
        der = base64.b64decode(b"".join(raw.split()), validate=True)
        return x509.load_certificate(der).der
    except (binascii.Error, ValueError, CryptoError):
        raise InvalidInput(
            "identity.cert.malformed", CERT_MESSAGES["cert.malformed"], field="certificate"
        ) from None


def subject_text(cert: x509.Certificate) -> str:
    s = cert.subject
    parts = [s.get("organization_name"), s.get("common_name")]
    return " · ".join(p for p in parts if p)


def inspect_root(der: bytes) -> RootInfo:
    cert = x509.load_certificate(der)
    try:
        x509.TrustStore([cert])
    except CertificateError as exc:
        raise InvalidInput(
            "identity.ca.not_a_root", "这不是有效的 CA 根证书：{reason}", reason=str(exc)
        ) from None
    return RootInfo(
        der=cert.der,
        fingerprint=cert.fingerprint.hex(),
        subject=subject_text(cert) or str(cert.subject),
        algorithm=ALGORITHMS[cert.public_key.suite_name],
    )


def check_crl(ca_der: bytes, crl: bytes, now: dt.datetime) -> bytes:
    """Parse a CRL and check that ``ca_der`` signed it; return its DER."""
    ca = x509.load_certificate(ca_der)
    try:
        parsed = x509.load_crl(crl)
        x509.verify_crl(parsed, ca)
    except CryptoError as exc:
        raise InvalidInput(
            f"identity.{exc.code}", CERT_MESSAGES.get(exc.code, "吊销列表无效")
        ) from None
    return parsed.der


@functools.lru_cache(maxsize=64)
def _store_of(roots: tuple[bytes, ...]) -> x509.TrustStore:
    """Parsed trust stores by their roots' DER (parsing and self-signature checks are pure)."""
    return x509.TrustStore([x509.load_certificate(der) for der in roots])


@functools.lru_cache(maxsize=64)
def _crl_of(der: bytes) -> x509.RevocationList:
    return x509.load_crl(der)


def trust_store(db: Session) -> tuple[x509.TrustStore, list[x509.RevocationList]]:
    """The enabled roots and their CRLs as stored now (read on every call; parsing is cached)."""
    rows = list(db.scalars(select(TrustedCA).where(TrustedCA.enabled.is_(True))))
    store = _store_of(tuple(r.der for r in rows))
    return store, [_crl_of(r.crl_der) for r in rows if r.crl_der]


def verify_certificate(db: Session, der: bytes, at: dt.datetime) -> VerifiedCert:
    """Verify ``der`` against the platform's trusted CAs and their CRLs at time ``at``."""
    store, crls = trust_store(db)
    try:
        v = store.verify_certificate(der, at, crls)
    except CryptoError as exc:
        raise certificate_error(exc) from None
    cert = v.certificate
    return VerifiedCert(
        fingerprint=hashlib.sha256(cert.der).hexdigest(),
        serial=format(v.serial_number, "x"),
        issuer=v.issuer,
        subject=subject_text(cert),
        credit_code=v.credit_code,
        common_name=v.common_name or "",
        algorithm=ALGORITHMS[v.public_key.suite_name],
        not_before=v.not_before,
        not_after=v.not_after,
        public_key=v.public_key,
    )


def verify_signature(cert: VerifiedCert, message: bytes, signature: bytes) -> None:
    try:
        verify_any(cert.public_key, message, signature)
    except (InvalidSignature, CryptoError):
        raise Unauthenticated(
            "identity.signature.invalid", "签名验证失败：签名与证书或挑战内容不匹配"
        ) from None
