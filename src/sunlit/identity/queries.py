"""Identity reads, scoped to what the actor may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sunlit.identity import certs
from sunlit.identity.models import Certificate, Organization, TrustedCA, User
from sunlit.identity.policies import POLICY
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.crypto import PublicKey
from sunlit.kernel.errors import DomainError, not_found
from sunlit.kernel.web.sessions import WebSession


def load_actor(db: Session, session: WebSession, request: Request) -> Actor | None:
    """Build the actor of a web/API session (installed as the app's actor loader)."""
    user = db.get(User, session.subject_id)
    if user is None or user.status != "active" or user.organization.status == "suspended":
        return None
    return Actor(
        user_id=user.id,
        org_id=user.organization_id,
        roles=frozenset(Role(r) for r in user.roles),
        name=user.name,
        org_name=user.organization.name,
        auth_method=session.auth_method,
        ip=request.client.host if request.client else None,
    )


def get_organization(db: Session, actor: Actor, org_id: str) -> Organization:
    org = db.get(Organization, org_id)
    POLICY.require_visible(actor, "org.view", org, "单位")
    assert org is not None
    return org


def search_organizations(
    db: Session,
    actor: Actor,
    q: str = "",
    status: str | None = None,
    role: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Organization], int]:
    POLICY.require(actor, "org.list")
    stmt = select(Organization)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Organization.name.like(like), Organization.credit_code.like(like)))
    if status:
        stmt = stmt.where(Organization.status == status)
    if role:
        stmt = stmt.where(Organization.roles.any(role=role))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(
        stmt.order_by(Organization.created_at.desc(), Organization.id).limit(limit).offset(offset)
    )
    return list(rows), total


def users_of(db: Session, actor: Actor, org_id: str) -> list[User]:
    get_organization(db, actor, org_id)
    return list(db.scalars(select(User).where(User.organization_id == org_id).order_by(User.name)))


def get_user(db: Session, actor: Actor, user_id: str) -> User:
    user = db.get(User, user_id)
    if user is None or not POLICY.allows(actor, "org.view", user.organization):
        raise not_found("用户")
    return user


def certificates_of(db: Session, actor: Actor, user_id: str) -> list[Certificate]:
    get_user(db, actor, user_id)
    stmt = select(Certificate).where(Certificate.user_id == user_id).order_by(Certificate.bound_at)
    return list(db.scalars(stmt))


def trusted_cas(db: Session) -> list[TrustedCA]:
    """The trust list is public: anyone may know which CAs the platform accepts."""
    return list(db.scalars(select(TrustedCA).order_by(TrustedCA.added_at)))


# --- for other domains -----------------------------------------------------------------------


@dataclass(frozen=True)
class OrgSummary:
    """Public registry facts about an organization (主体信息 are public)."""

    id: str
    name: str
    credit_code: str
    region_code: str
    status: str
    roles: frozenset[str]

    @property
    def active(self) -> bool:
        return self.status == "active"


def _summary(org: Organization) -> OrgSummary:
    return OrgSummary(
        id=org.id,
        name=org.name,
        credit_code=org.credit_code,
        region_code=org.region_code,
        status=org.status,
        roles=frozenset(org.role_names),
    )


def organization_summary(db: Session, org_id: str) -> OrgSummary | None:
    org = db.get(Organization, org_id)
    return _summary(org) if org is not None else None


def organization_by_credit_code(db: Session, credit_code: str) -> OrgSummary | None:
    code = (credit_code or "").strip().upper()
    org = db.scalar(select(Organization).where(Organization.credit_code == code))
    return _summary(org) if org is not None else None


@dataclass(frozen=True)
class SigningCertificate:
    fingerprint: str
    subject: str
    public_key: PublicKey


def active_certificate(
    db: Session, user_id: str, fingerprint: str, at: dt.datetime
) -> SigningCertificate | None:
    """The user's bound certificate with this SHA-256 ``fingerprint`` if it is valid at ``at``
    (trust store and CRLs checked, as in :func:`active_certificate_public_keys`), else None.

    One indexed lookup and one verification, where the list form verifies every bound
    certificate of the user: for hot paths that already know which certificate signed."""
    row = db.execute(
        select(Certificate.fingerprint, Certificate.subject, Certificate.der).where(
            Certificate.user_id == user_id,
            Certificate.fingerprint == fingerprint,
            Certificate.status == "active",
        )
    ).first()
    if row is None:
        return None
    try:
        verified = certs.verify_certificate(db, row.der, at)
    except DomainError:
        return None
    return SigningCertificate(row.fingerprint, row.subject, verified.public_key)


def active_certificate_public_keys(
    db: Session, user_id: str, at: dt.datetime
) -> list[SigningCertificate]:
    """The user's bound certificates that are valid at ``at`` (trust store and CRLs checked).

    Other domains verify signatures a user made with a bound certificate key against these.
    A certificate that has expired, been revoked or whose CA is no longer trusted is left out.
    """
    rows = db.scalars(
        select(Certificate)
        .where(Certificate.user_id == user_id, Certificate.status == "active")
        .order_by(Certificate.bound_at.desc())
    )
    result = []
    for row in rows:
        try:
            verified = certs.verify_certificate(db, row.der, at)
        except DomainError:
            continue
        result.append(SigningCertificate(row.fingerprint, row.subject, verified.public_key))
    return result


@dataclass(frozen=True)
class BasicAccount:
    """An organization's registered basic deposit account (基本存款账户): deposits and
    guarantee premiums must be paid from it."""

    bank: str
    account_no: str


def basic_account(db: Session, org_id: str) -> BasicAccount:
    """The organization's registered basic account; empty fields when none is registered."""
    org = db.get(Organization, org_id)
    if org is None:
        return BasicAccount("", "")
    return BasicAccount(org.basic_account_bank, org.basic_account_no)
