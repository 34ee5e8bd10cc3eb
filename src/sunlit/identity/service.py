"""Identity use cases: the only code that writes identity tables.

Each public function is one transaction with one audit event (``kernel.db.use_case``).
Failed logins are recorded by their own use case so that lock-out counts survive the refusal.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import secrets
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.identity import certs
from sunlit.identity.models import (
    Certificate,
    LoginChallenge,
    Organization,
    OrganizationRole,
    TrustedCA,
    User,
)
from sunlit.identity.policies import POLICY, SELF_REGISTRABLE_ROLES
from sunlit.identity.schemas import OrganizationIn, UserIn
from sunlit.identity.states import ORG_LIFECYCLE, OrgAction, OrgStatus
from sunlit.kernel import audit, clock
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.codes import parse_credit_code
from sunlit.kernel.db import new_id, use_case
from sunlit.kernel.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    Locked,
    Unauthenticated,
    not_found,
)
from sunlit.kernel.web import sessions

_hasher = PasswordHasher()
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,63}$")


@dataclass(frozen=True)
class LoginSettings:
    max_failures: int = 5
    lock_minutes: int = 15
    challenge_seconds: int = 120
    session_hours: int = 8
    audience: str = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_at: dt.datetime
    user: User


# --- organizations and users ---------------------------------------------------------------


def _check_roles(actor: Actor, roles: list[Role]) -> None:
    if not roles:
        raise InvalidInput("identity.roles.empty", "请至少选择一个主体角色", field="roles")
    extra = [r for r in roles if r not in SELF_REGISTRABLE_ROLES]
    if extra and not POLICY.allows(actor, "org.grant_any_role"):
        raise InvalidInput(
            "identity.roles.not_self_registrable",
            "“{roles}”角色须由交易中心授予，注册时只能选择投标人、招标人或招标代理",
            field="roles",
            roles="、".join(r.label for r in extra),
        )


def _validate_user(data: UserIn, org_roles: set[str]) -> None:
    if data.mobile and not _MOBILE.match(data.mobile):
        raise InvalidInput("identity.user.mobile", "手机号码格式不正确", field="mobile")
    if data.username is not None and not _USERNAME.match(data.username):
        raise InvalidInput(
            "identity.user.username",
            "登录名须以字母开头，由3至64位字母、数字、下划线、点或连字符组成",
            field="username",
        )
    personal = {r.value for r in data.roles} - org_roles - {Role.EXPERT.value}
    if personal:
        raise InvalidInput(
            "identity.user.role_not_in_org",
            "人员角色“{roles}”不属于其所在单位的主体角色",
            field="roles",
            roles="、".join(Role(r).label for r in sorted(personal)),
        )


def _new_user(db: Session, org: Organization, data: UserIn) -> User:
    _validate_user(data, set(org.role_names))
    if data.username and db.scalar(select(User.id).where(User.username == data.username)):
        raise Conflict(
            "identity.user.username_taken", "登录名“{u}”已被使用", field="username", u=data.username
        )
    user = User(
        id=new_id(),
        organization=org,
        name=data.name.strip(),
        username=data.username,
        mobile=data.mobile,
        roles=sorted({r.value for r in data.roles} or set(org.role_names)),
        status="active",
        failed_logins=0,
        created_at=clock.now(),
    )
    db.add(user)
    return user


@use_case
def register_organization(db: Session, actor: Actor, data: OrganizationIn) -> Organization:
    """主体注册. Self-registration waits for review; staff registration is active at once."""
    code = parse_credit_code(data.credit_code)
    _check_roles(actor, data.roles)
    existing = db.scalar(select(Organization).where(Organization.credit_code == code.code))
    if existing is not None:
        raise Conflict(
            "identity.org.duplicate",
            "统一社会信用代码{code}已注册（{name}），请勿重复注册",
            field="credit_code",
            code=code.code,
            name=existing.name,
        )
    by_staff = POLICY.allows(actor, "org.review")
    now = clock.now()
    org = Organization(
        id=new_id(),
        credit_code=code.code,
        name=data.name.strip(),
        region_code=code.region_code,
        legal_representative=data.legal_representative,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
        address=data.address,
        basic_account_bank=data.basic_account_bank,
        basic_account_no=data.basic_account_no,
        status=OrgStatus.ACTIVE if by_staff else OrgStatus.PENDING,
        created_at=now,
        updated_at=now,
        roles=[OrganizationRole(id=new_id(), role=r.value) for r in sorted(set(data.roles))],
    )
    db.add(org)
    db.flush()
    if data.admin is not None:
        _new_user(db, org, data.admin)
    audit.record(
        db,
        actor,
        "identity.org.registered",
        "organization",
        org.id,
        {
            "credit_code": org.credit_code,
            "name": org.name,
            "roles": org.role_names,
            "status": org.status,
        },
    )
    return org


@use_case
def review_organization(
    db: Session, actor: Actor, org_id: str, action: str, note: str = ""
) -> Organization:
    """审核: approve / reject / suspend / reinstate / resubmit, per ORG_LIFECYCLE."""
    org = db.get(Organization, org_id)
    POLICY.require_visible(actor, "org.view", org, "单位")
    assert org is not None
    try:
        act = OrgAction(action)
    except ValueError:
        raise InvalidInput("identity.org.action", "未知的审核操作“{a}”", a=action) from None
    if act in (OrgAction.REJECT, OrgAction.SUSPEND) and not note.strip():
        raise InvalidInput("identity.org.note_required", "退回或暂停须填写原因", field="note")
    before = org.status
    org.status = ORG_LIFECYCLE.apply(
        OrgStatus(org.status), act, has_permission=lambda p: POLICY.allows(actor, p, org)
    )
    org.review_note = note
    org.updated_at = clock.now()
    if org.status == OrgStatus.SUSPENDED:
        for user_id in db.scalars(select(User.id).where(User.organization_id == org.id)):
            sessions.close_sessions_of(db, user_id)
    audit.record(
        db,
        actor,
        f"identity.org.{act.value}",
        "organization",
        org.id,
        {"from": before, "to": org.status, "note": note},
    )
    return org


@use_case
def add_user(db: Session, actor: Actor, org_id: str, data: UserIn) -> User:
    org = db.get(Organization, org_id)
    POLICY.require_visible(actor, "org.view", org, "单位")
    assert org is not None
    POLICY.require(actor, "org.manage_users", org)
    user = _new_user(db, org, data)
    db.flush()
    audit.record(
        db,
        actor,
        "identity.user.added",
        "user",
        user.id,
        {"organization_id": org.id, "name": user.name, "roles": user.roles},
    )
    return user


def _password_strength(password: str) -> None:
    classes = sum(
        bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]")
    )
    if len(password) < 10 or classes < 3:
        raise InvalidInput(
            "identity.password.weak",
            "口令至少10位，且须包含大写字母、小写字母、数字、特殊字符中的至少三类",
            field="password",
        )


@use_case
def set_password(db: Session, actor: Actor, user_id: str, password: str) -> str:
    """Set a staff password and (re)enrol TOTP; returns the new TOTP secret (show once)."""
    POLICY.require(actor, "user.set_password")
    user = db.get(User, user_id)
    if user is None:
        raise not_found("用户")
    if not user.username:
        raise InvalidInput("identity.password.no_username", "该用户没有登录名，不能设置口令")
    _password_strength(password)
    user.password_hash = _hasher.hash(password)
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None
    audit.record(db, actor, "identity.user.password_set", "user", user.id, {"totp": "enrolled"})
    return user.totp_secret


@use_case
def unlock_user(db: Session, actor: Actor, user_id: str) -> User:
    POLICY.require(actor, "user.unlock")
    user = db.get(User, user_id)
    if user is None:
        raise not_found("用户")
    user.failed_logins = 0
    user.locked_until = None
    audit.record(db, actor, "identity.user.unlocked", "user", user.id)
    return user


# --- trust store ---------------------------------------------------------------------------


@use_case
def add_trusted_ca(db: Session, actor: Actor, name: str, certificate: str) -> TrustedCA:
    POLICY.require(actor, "trust.manage")
    info = certs.inspect_root(certs.decode_certificate(certificate))
    if db.scalar(select(TrustedCA.id).where(TrustedCA.fingerprint == info.fingerprint)):
        raise Conflict("identity.ca.duplicate", "该 CA 根证书已在信任列表中")
    ca = TrustedCA(
        id=new_id(),
        name=name,
        fingerprint=info.fingerprint,
        subject=info.subject,
        algorithm=info.algorithm,
        der=info.der,
        enabled=True,
        added_at=clock.now(),
    )
    db.add(ca)
    audit.record(
        db,
        actor,
        "identity.ca.trusted",
        "trusted_ca",
        ca.id,
        {"name": name, "fingerprint": ca.fingerprint, "subject": ca.subject},
    )
    return ca


@use_case
def update_crl(db: Session, actor: Actor, ca_id: str, crl: bytes) -> TrustedCA:
    """Install a CA's certificate revocation list (its signature is checked first)."""
    POLICY.require(actor, "trust.manage")
    ca = db.get(TrustedCA, ca_id)
    if ca is None:
        raise not_found("CA")
    der = certs.check_crl(ca.der, crl, clock.now())
    ca.crl_der = der
    ca.crl_updated_at = clock.now()
    audit.record(db, actor, "identity.ca.crl_updated", "trusted_ca", ca.id, {"size": len(der)})
    return ca


# --- challenges and login ------------------------------------------------------------------


@use_case
def issue_challenge(
    db: Session, actor: Actor, purpose: str, settings: LoginSettings
) -> tuple[LoginChallenge, bytes]:
    if purpose not in ("login", "bind"):
        raise InvalidInput("identity.challenge.purpose", "未知的挑战用途")
    if purpose == "bind" and not actor.user_id:
        raise Unauthenticated("auth.required", "请先登录")
    now = clock.now()
    ch = LoginChallenge(
        id=new_id(),
        nonce=secrets.token_hex(32),
        purpose=purpose,
        subject_id=actor.user_id if purpose == "bind" else None,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.challenge_seconds),
    )
    db.add(ch)
    audit.record(
        db, actor, "identity.challenge.issued", "login_challenge", ch.id, {"purpose": purpose}
    )
    return ch, ch.message(settings.audience)


class _LoginFailed(Exception):
    def __init__(self, error: DomainError, user_id: str | None, challenge_id: str | None) -> None:
        super().__init__(error.code)
        self.error, self.user_id, self.challenge_id = error, user_id, challenge_id


def _decode_signature(signature: str) -> bytes:
    try:
        return base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("identity.signature.encoding", "签名值不是有效的 Base64 编码") from None


def _take_challenge(db: Session, challenge_id: str, purpose: str) -> LoginChallenge:
    ch = db.get(LoginChallenge, challenge_id)
    if ch is None or ch.purpose != purpose:
        raise Unauthenticated("identity.challenge.unknown", "登录挑战不存在，请刷新后重试")
    if ch.used_at is not None:
        raise Unauthenticated(
            "identity.challenge.replayed", "该登录挑战已被使用（疑似重放），请重新获取挑战"
        )
    if ch.expires_at <= clock.now():
        raise Unauthenticated("identity.challenge.expired", "登录挑战已过期，请重新获取挑战")
    return ch


def _check_not_locked(user: User) -> None:
    if user.locked_until is not None and user.locked_until > clock.now():
        raise Locked(
            "identity.user.locked",
            "连续登录失败次数过多，账号已锁定至{until}，请稍后再试或联系交易中心解锁",
            until=user.locked_until.strftime("%H:%M"),
        )
    if user.status != "active":
        raise Unauthenticated("identity.user.disabled", "账号已停用")
    if user.organization.status == OrgStatus.SUSPENDED:
        raise Unauthenticated("identity.org.suspended", "所在单位已被暂停，不能登录")


def _actor_of(user: User, method: str, ip: str | None) -> Actor:
    return Actor(
        user_id=user.id,
        org_id=user.organization_id,
        roles=frozenset(Role(r) for r in user.roles),
        name=user.name,
        org_name=user.organization.name,
        auth_method=method,
        ip=ip,
    )


def _open(db: Session, user: User, method: str, ip: str | None, s: LoginSettings) -> LoginResult:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = clock.now()
    token, row = sessions.open_session(db, user.id, method, s.session_hours)
    audit.record(
        db, _actor_of(user, method, ip), "identity.login", "user", user.id, {"method": method}
    )
    return LoginResult(token, row.expires_at, user)


@use_case
def _login_certificate(
    db: Session,
    ip: str | None,
    challenge_id: str,
    certificate: str,
    signature: str,
    settings: LoginSettings,
) -> LoginResult:
    user_id: str | None = None
    try:
        ch = _take_challenge(db, challenge_id, "login")
        verified = certs.verify_certificate(db, certs.decode_certificate(certificate), clock.now())
        bound = db.scalar(
            select(Certificate).where(
                Certificate.fingerprint == verified.fingerprint, Certificate.status == "active"
            )
        )
        if bound is None:
            raise Unauthenticated(
                "identity.certificate.unbound",
                "该证书尚未绑定平台账号，请先由本单位经办人或交易中心绑定证书",
            )
        user = bound.user
        user_id = user.id
        _check_not_locked(user)
        certs.verify_signature(
            verified, ch.message(settings.audience), _decode_signature(signature)
        )
        ch.used_at = clock.now()
        return _open(db, user, "certificate", ip, settings)
    except DomainError as exc:
        raise _LoginFailed(exc, user_id, challenge_id) from None


@use_case
def _login_password(
    db: Session, ip: str | None, username: str, password: str, totp: str, settings: LoginSettings
) -> LoginResult:
    user = db.scalar(select(User).where(User.username == username))
    bad = Unauthenticated("identity.login.bad_credentials", "登录名、口令或动态口令不正确")
    if user is None or not user.password_hash or not user.totp_secret:
        raise _LoginFailed(bad, None, None)
    try:
        _check_not_locked(user)
    except DomainError as exc:
        raise _LoginFailed(exc, None, None) from None  # no count while locked
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise _LoginFailed(bad, user.id, None) from None
    step = _totp_step(user.totp_secret, totp)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        raise _LoginFailed(bad, user.id, None)
    user.totp_last_step = step
    return _open(db, user, "password", ip, settings)


def _totp_step(secret: str, code: str) -> int | None:
    """The time step a TOTP code belongs to (±1 step of drift), or None."""
    totp = pyotp.TOTP(secret)
    now = clock.now()
    current = totp.timecode(now)
    for offset in (0, -1, 1):
        candidate = totp.at(now + dt.timedelta(seconds=offset * totp.interval))
        if secrets.compare_digest(candidate, code.strip()):
            return current + offset
    return None


@use_case
def _record_login_failure(
    db: Session, ip: str | None, failure: _LoginFailed, settings: LoginSettings
) -> None:
    data: dict[str, object] = {"reason": failure.error.code}
    if failure.challenge_id:
        ch = db.get(LoginChallenge, failure.challenge_id)
        if ch is not None and ch.used_at is None:
            ch.used_at = clock.now()  # a challenge is good for one attempt only
    user = db.get(User, failure.user_id) if failure.user_id else None
    if user is not None:
        user.failed_logins += 1
        if user.failed_logins >= settings.max_failures:
            user.locked_until = clock.now() + dt.timedelta(minutes=settings.lock_minutes)
            user.failed_logins = 0
            data["locked_until"] = user.locked_until.isoformat()
    audit.record(db, Actor(ip=ip), "identity.login_failed", "user", failure.user_id, data)


def login_with_certificate(
    db: Session,
    ip: str | None,
    challenge_id: str,
    certificate: str,
    signature: str,
    settings: LoginSettings,
) -> LoginResult:
    """证书登录: verify the certificate chain and the signature over a one-time challenge."""
    try:
        return _login_certificate(db, ip, challenge_id, certificate, signature, settings)
    except _LoginFailed as failure:
        _record_login_failure(db, ip, failure, settings)
        raise failure.error from None


def login_with_password(
    db: Session, ip: str | None, username: str, password: str, totp: str, settings: LoginSettings
) -> LoginResult:
    """口令 + 动态口令 login (staff)."""
    try:
        return _login_password(db, ip, username, password, totp, settings)
    except _LoginFailed as failure:
        _record_login_failure(db, ip, failure, settings)
        raise failure.error from None


@use_case
def logout(db: Session, actor: Actor, token: str) -> None:
    sessions.close_session(db, token)
    audit.record(db, actor, "identity.logout", "user", actor.user_id)


# --- certificate binding -------------------------------------------------------------------


def _bind(db: Session, user: User, der: bytes, verified: certs.VerifiedCert) -> Certificate:
    if verified.credit_code and verified.credit_code != user.organization.credit_code:
        raise InvalidInput(
            "identity.certificate.other_org",
            "证书中的统一社会信用代码{cert}与账号所在单位{org}不一致",
            cert=verified.credit_code,
            org=user.organization.credit_code,
        )
    if db.scalar(select(Certificate.id).where(Certificate.fingerprint == verified.fingerprint)):
        raise Conflict("identity.certificate.already_bound", "该证书已绑定到平台账号")
    cert = Certificate(
        id=new_id(),
        user=user,
        fingerprint=verified.fingerprint,
        serial=verified.serial,
        issuer=verified.issuer,
        subject=verified.subject,
        algorithm=verified.algorithm,
        not_before=verified.not_before,
        not_after=verified.not_after,
        der=der,
        status="active",
        bound_at=clock.now(),
    )
    db.add(cert)
    return cert


@use_case
def bind_certificate(
    db: Session,
    actor: Actor,
    challenge_id: str,
    certificate: str,
    signature: str,
    settings: LoginSettings,
) -> Certificate:
    """A logged-in user binds a certificate, proving possession of its private key."""
    if not actor.user_id:
        raise Unauthenticated("auth.required", "请先登录")
    ch = _take_challenge(db, challenge_id, "bind")
    if ch.subject_id != actor.user_id:
        raise Unauthenticated("identity.challenge.unknown", "登录挑战不存在，请刷新后重试")
    der = certs.decode_certificate(certificate)
    verified = certs.verify_certificate(db, der, clock.now())
    certs.verify_signature(verified, ch.message(settings.audience), _decode_signature(signature))
    ch.used_at = clock.now()
    user = db.get(User, actor.user_id)
    assert user is not None
    cert = _bind(db, user, der, verified)
    audit.record(
        db,
        actor,
        "identity.certificate.bound",
        "certificate",
        cert.id,
        {"user_id": user.id, "fingerprint": cert.fingerprint, "serial": cert.serial},
    )
    return cert


@use_case
def bind_certificate_for(db: Session, actor: Actor, user_id: str, certificate: str) -> Certificate:
    """Center staff bind a certificate after checking the holder in person (窗口绑定)."""
    POLICY.require(actor, "user.bind_certificate_for")
    user = db.get(User, user_id)
    if user is None:
        raise not_found("用户")
    der = certs.decode_certificate(certificate)
    verified = certs.verify_certificate(db, der, clock.now())
    cert = _bind(db, user, der, verified)
    audit.record(
        db,
        actor,
        "identity.certificate.bound",
        "certificate",
        cert.id,
        {"user_id": user.id, "fingerprint": cert.fingerprint, "by": "staff"},
    )
    return cert


@use_case
def unbind_certificate(db: Session, actor: Actor, cert_id: str) -> Certificate:
    cert = db.get(Certificate, cert_id)
    if cert is None or not (
        cert.user_id == actor.user_id or POLICY.allows(actor, "user.bind_certificate_for")
    ):
        raise not_found("证书")
    cert.status = "unbound"
    audit.record(db, actor, "identity.certificate.unbound", "certificate", cert.id)
    return cert
