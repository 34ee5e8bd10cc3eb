"""Guarantee reads, scoped to what the actor may see."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.bidding import queries as bidding_queries
from sunlit.identity import queries as identity_queries
from sunlit.kernel import clock, partner
from sunlit.kernel.authz import Actor
from sunlit.kernel.crypto import CryptoError, load_public_key_any, verify_any
from sunlit.kernel.errors import not_found
from sunlit.projects import queries as project_queries

from .models import Alert, Application, CenterChoice, Claim, Institution, Product
from .policies import POLICY
from .states import APPLICATION, CLAIM, AppStatus

LIVE = (
    AppStatus.ISSUED.value,
    AppStatus.REVEALED.value,
    AppStatus.CLAIMED.value,
)


def status_label(status: str) -> str:
    return APPLICATION.label(AppStatus(status))


def claim_label(status: str) -> str:
    from .states import ClaimStatus

    return CLAIM.label(ClaimStatus(status))


def institutions(db: Session) -> list[Institution]:
    return list(db.scalars(select(Institution).order_by(Institution.admitted_at)))


def products(db: Session, institution_id: str | None = None) -> list[Product]:
    stmt = select(Product).order_by(Product.created_at)
    if institution_id:
        stmt = stmt.where(Product.institution_id == institution_id)
    return list(db.scalars(stmt))


def choices(db: Session) -> list[CenterChoice]:
    return list(db.scalars(select(CenterChoice).order_by(CenterChoice.region_code)))


def my_applications(db: Session, actor: Actor) -> list[Application]:
    if actor.org_id is None:
        return []
    return list(
        db.scalars(
            select(Application)
            .where(Application.org_id == actor.org_id)
            .order_by(Application.created_at.desc())
        )
    )


def get_own(db: Session, actor: Actor, application_id: str) -> Application:
    row = db.get(Application, application_id)
    if row is None or row.org_id != actor.org_id:
        raise not_found("保函申请")
    return row


def institution_of_org(db: Session, org_id: str | None) -> Institution | None:
    if org_id is None:
        return None
    return db.scalar(select(Institution).where(Institution.org_id == org_id))


def fi_queue(
    db: Session, actor: Actor
) -> tuple[Institution | None, list[Application], list[Claim]]:
    """An FI user's view of its institution's applications and claims (sealed fields only)."""
    POLICY.require(actor, "guarantee.fi.view")
    inst = institution_of_org(db, actor.org_id)
    if inst is None:
        return None, [], []
    apps = list(
        db.scalars(
            select(Application)
            .where(Application.institution_id == inst.id)
            .order_by(Application.created_at.desc())
        )
    )
    claims = list(
        db.scalars(
            select(Claim)
            .join(Application, Application.id == Claim.application_id)
            .where(Application.institution_id == inst.id)
            .order_by(Claim.filed_at.desc())
        )
    )
    return inst, apps, claims


def monitoring(db: Session, actor: Actor) -> dict[str, Any]:
    """Counts by status and the partner outbox backlog, for staff."""
    POLICY.require(actor, "guarantee.monitor")
    counts: dict[str, int] = {}
    for status in db.scalars(select(Application.status)):
        counts[status] = counts.get(status, 0) + 1
    pending = partner.pending_messages(db)
    return {
        "counts": {status_label(k): v for k, v in sorted(counts.items())},
        "pending": pending,
    }


def alerts(db: Session, actor: Actor) -> list[Alert]:
    """Risk alerts whose section's bid deadline has passed (who bids stays secret until then)."""
    POLICY.require(actor, "guarantee.alerts")
    return list(
        db.scalars(
            select(Alert)
            .where(Alert.visible_after <= clock.now())
            .order_by(Alert.created_at.desc())
        )
    )


@dataclass(frozen=True)
class Security:
    """One bidder's bid security as the opening record shows it (验真 at the opening)."""

    org_id: str
    bidder_name: str
    credit_code: str
    bid_id: str | None
    kind: str  # guarantee | none
    verified: bool
    problems: tuple[str, ...]
    institution: str = ""
    guarantee_no: str = ""
    amount: Decimal | None = None
    valid_to: dt.date | None = None
    form: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "bidder_name": self.bidder_name,
            "credit_code": self.credit_code,
            "bid_id": self.bid_id,
            "kind": self.kind,
            "verified": self.verified,
            "problems": list(self.problems),
            "institution": self.institution,
            "guarantee_no": self.guarantee_no,
            "amount": str(self.amount) if self.amount is not None else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "form": self.form,
        }


def verify_document(row: Application) -> list[str]:
    """Re-check a stored guarantee: the FI's signature over its document and the PDF hash."""
    problems = []
    if row.document is None or row.document_signature is None or row.signer_public_key is None:
        return ["未收到签名保函"]
    try:
        key = load_public_key_any(row.signer_public_key)
        verify_any(
            key, partner.canonical_json(row.document), base64.b64decode(row.document_signature)
        )
    except (CryptoError, ValueError):
        problems.append("金融机构签名验证失败")
    if row.document.get("pdf_sha256") != row.pdf_sha256:
        problems.append("保函文件哈希与签名信息不符")
    if row.document.get("guarantee_no") != row.guarantee_no:
        problems.append("保函编号与签名信息不符")
    return problems


def section_securities(db: Session, section_id: str) -> list[Security]:
    """Each valid bid's guarantee, verified (signature, hash, amount, validity, status).

    For the opening record (``sunlit.opening`` reads this after the deadline) and the parties.
    """
    section = project_queries.section_by_id(db, section_id)
    if section is None:
        return []
    bids = bidding_queries.valid_bids(db, section_id)
    out = []
    for bid in bids:
        org = identity_queries.organization_summary(db, bid.org_id)
        row = db.scalar(
            select(Application)
            .where(
                Application.section_id == section_id,
                Application.org_id == bid.org_id,
                Application.status.in_(
                    (*LIVE, AppStatus.RELEASED.value, AppStatus.COMPENSATED.value)
                ),
            )
            .order_by(Application.created_at.desc())
        )
        name, code = (org.name, org.credit_code) if org else ("", "")
        if row is None:
            problems = ("未提交投标保证金或保函",) if section.bid_security > 0 else ()
            out.append(Security(bid.org_id, name, code, bid.id, "none", not problems, problems))
            continue
        problems_l = verify_document(row)
        if row.guarantee_amount is None or row.guarantee_amount < section.bid_security:
            problems_l.append("担保金额低于投标保证金要求")
        problems_l += _binding_problems(db, section, row, code)
        if row.status not in LIVE:
            problems_l.append("保函状态为" + status_label(row.status))
        inst = db.get(Institution, row.institution_id)
        out.append(
            Security(
                bid.org_id,
                name,
                code,
                bid.id,
                "guarantee",
                not problems_l,
                tuple(problems_l),
                institution=inst.name if inst else "",
                guarantee_no=row.guarantee_no or "",
                amount=row.guarantee_amount,
                valid_to=row.guarantee_valid_to,
                form=row.guarantee_form or "",
            )
        )
    return out


def _binding_problems(db: Session, section: Any, row: Application, credit_code: str) -> list[str]:
    """The signed guarantee must be for this bidder and this section, and cover the bid
    validity: the applicant's credit code, the commitment to the section's sealed details
    (recomputed from the salt), and the validity dates of the signed document."""
    from .service import commitment_of, sealed_details

    doc = row.document or {}
    if not doc:
        return []
    problems = []
    if doc.get("applicant_credit_code") != credit_code:
        problems.append("保函被保证人与投标人不符")
    tenderer = identity_queries.organization_summary(db, section.tender_project.tenderer_org_id)
    suite = (row.sealed_details or {}).get("suite", "")
    try:
        expected = commitment_of(suite, row.salt, sealed_details(section, tenderer))
    except (KeyError, ValueError):
        expected = ""
    if doc.get("commitment") != row.commitment or expected != row.commitment:
        problems.append("保函未绑定本标段（标段承诺值不符）")
    deadline = clock.ensure_aware(section.bid_deadline).date() if section.bid_deadline else None
    try:
        valid_from = dt.date.fromisoformat(str(doc.get("valid_from")))
        valid_to = dt.date.fromisoformat(str(doc.get("valid_to")))
    except ValueError:
        return [*problems, "保函有效期格式不正确"]
    if deadline is not None:
        through = deadline + dt.timedelta(days=section.bid_validity_days)
        if valid_from > deadline or valid_to < through:
            problems.append(f"保函有效期未覆盖投标有效期（至{through.isoformat()}）")
    return problems


def securities_for(db: Session, actor: Actor, section_id: str) -> list[Security]:
    """The securities of a section, for its parties, staff and supervisors after the deadline."""
    section = project_queries.section_by_id(db, section_id)
    tender = section.tender_project if section else None
    if section is None or not POLICY.allows(actor, "guarantee.securities", tender):
        raise not_found("标段")
    if section.bid_deadline is None or clock.now() < section.bid_deadline:
        return []
    return section_securities(db, section_id)


@dataclass(frozen=True)
class Verification:
    found: bool
    row: Application | None = None
    institution: str = ""
    problems: tuple[str, ...] = ()
    status: str = ""


def verify_public(db: Session, guarantee_no: str, code: str) -> Verification:
    """验真: anyone with the number and the verification code; nothing else is disclosed."""
    import hmac

    rows = list(
        db.scalars(select(Application).where(Application.guarantee_no == guarantee_no.strip()))
    )
    for row in rows:
        if row.verification_code and hmac.compare_digest(
            row.verification_code, code.strip().upper()
        ):
            inst = db.get(Institution, row.institution_id)
            return Verification(
                True,
                row,
                inst.name if inst else "",
                tuple(verify_document(row)),
                status_label(row.status),
            )
    return Verification(False)


def pdf_of(db: Session, guarantee_no: str, code: str) -> Application | None:
    v = verify_public(db, guarantee_no, code)
    return v.row if v.found else None


def fi_order(db: Session, inst: Institution, order_no: str) -> Application | None:
    return db.scalar(
        select(Application).where(
            Application.order_no == order_no, Application.institution_id == inst.id
        )
    )


def institution_by_partner(db: Session, partner_id: str) -> Institution | None:
    return db.scalar(select(Institution).where(Institution.partner_id == partner_id))


def claims_of(db: Session, application_id: str) -> list[Claim]:
    return list(
        db.scalars(
            select(Claim).where(Claim.application_id == application_id).order_by(Claim.filed_at)
        )
    )


def claimable(db: Session, actor: Actor) -> list[Application]:
    """Revealed guarantees on the actor's tender projects (the tenderer or its agency)."""
    rows = list(
        db.scalars(
            select(Application)
            .where(Application.status.in_([AppStatus.REVEALED.value, AppStatus.CLAIMED.value]))
            .order_by(Application.revealed_at.desc())
        )
    )
    out = []
    for row in rows:
        section = project_queries.section_by_id(db, row.section_id)
        if section is not None and POLICY.allows(actor, "guarantee.claim", section.tender_project):
            out.append(row)
    return out
