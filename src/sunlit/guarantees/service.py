"""Guarantee use cases. Each is one transaction with one audit event (house rule 1).

FI messages reach these functions through ``api.py`` (signed partner requests) or through
:func:`reconcile_institution` (the platform pulls the FI's records after an outage); both
call the same use cases, which are idempotent for repeated facts.

Called from outside this domain:
* :func:`reveal_section` — after the opening starts (the app's scheduler), sends 解密还原;
* :func:`release_section` — after award / contract (a later domain) or termination;
* :func:`release_expired` — daily (the app's scheduler);
* :func:`reconcile_institution` — the scheduler or staff, after an FI outage.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.identity import queries as identity_queries
from sunlit.kernel import audit, clock, partner
from sunlit.kernel.authz import Actor, Role, system_actor
from sunlit.kernel.codes import parse_credit_code, parse_region_code
from sunlit.kernel.crypto import CryptoError, get_suite
from sunlit.kernel.db import Database, new_id, use_case
from sunlit.kernel.errors import Conflict, DomainError, InvalidInput, NotFound, not_found
from sunlit.kernel.storage import BlobStore, put_bytes
from sunlit.projects import queries as project_queries
from sunlit.transparency import keys as platform_keys

from .models import Alert, Application, CenterChoice, Claim, Institution, Product
from .policies import POLICY
from .states import (
    APPLICATION,
    CLAIM,
    INSTITUTION,
    PRODUCT,
    AppAction,
    AppStatus,
    ClaimAction,
    ClaimStatus,
    InstAction,
    InstStatus,
    ProductAction,
    ProductStatus,
)

CENT = Decimal("0.01")
FORMS = {
    "bank_guarantee": "银行保函",
    "insurance_policy": "保证保险保单",
    "guarantor_letter": "担保公司保函",
}
KINDS = {"bank": "银行", "insurer": "保险公司", "guarantor": "担保公司"}
# Legal grounds on which a tenderer may claim the bid security (招标投标法实施条例 第35、74条,
# 政府采购法实施条例 第33条 and the tender documents).
GROUNDS = {
    "withdraw_after_deadline": "投标截止后撤销投标文件（招标投标法实施条例第35条）",
    "refuse_contract": "中标后无正当理由不与招标人订立合同（招标投标法实施条例第74条）",
    "refuse_performance_security": (
        "中标后未按招标文件要求提交履约保证金（招标投标法实施条例第74条）"
    ),
    "contract_terms_changed": "订立合同时向招标人提出附加条件（招标投标法实施条例第74条）",
    "tender_document_terms": "招标文件规定的其他没收投标保证金的情形",
}
RELEASE_REASONS = {
    "contract_signed": "合同已签订",
    "awarded_other": "未中标，中标结果已确定",
    "terminated": "招标终止",
    "expired": "保函有效期届满",
    "cancelled_by_center": "交易中心注销",
}
VERIFY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ACCOUNT_RE = re.compile(r"[\s-]")


def _money(value: Any, field: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput("guarantee.money", "{field} 不是合法金额", field=field) from None
    if not d.is_finite() or d < 0 or d != d.quantize(CENT):
        raise InvalidInput(
            "guarantee.money", "{field} 不是合法金额（非负，最多两位小数）", field=field
        )
    return d.quantize(CENT)


def _account(value: str | None) -> str:
    return ACCOUNT_RE.sub("", value or "")


def _date(value: Any, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(
            "guarantee.date", "{field} 不是合法日期（YYYY-MM-DD）", field=field
        ) from None


def _instant(value: Any, field: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise InvalidInput("guarantee.time", "{field} 不是带时区的 ISO 8601 时间", field=field)
    return when.astimezone(clock.CHINA_TZ)


def _transition(row: Application, action: AppAction) -> None:
    row.status = APPLICATION.apply(AppStatus(row.status), action)
    row.updated_at = clock.now()


def _require(actor: Actor, permission: str, obj: Any = None) -> None:
    POLICY.require(actor, permission, obj)


# --- admission (准入) -----------------------------------------------------------------------


class AdmitIn(BaseModel):
    name: str = Field(min_length=2, max_length=200, description="金融机构名称")
    credit_code: str = Field(description="统一社会信用代码")
    kind: str = Field(description="bank 银行 / insurer 保险公司 / guarantor 担保公司")
    partner_code: str = Field(description="接口接入方代码（报文 X-Sunlit-Partner）")
    public_key_pem: str = Field(description="报文签名公钥（PEM，SM2 或 P-256）")
    base_url: str = Field(description="金融机构接口地址（平台推送申请、解密还原、退保、索赔）")
    instant: bool = Field(default=False, description="是否支持实时秒开")
    admission_ref: str = Field(default="", max_length=200, description="准入公告或协议编号")


class ProductIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=2, max_length=200)
    form: str = Field(description="bank_guarantee / insurance_policy / guarantor_letter")
    rate: str = Field(description="费率，如 0.0015 表示千分之一点五")
    min_premium: str = Field(default="0.00")
    min_amount: str = Field(default="0.00")
    max_amount: str
    categories: list[str] = Field(default_factory=list, description="适用项目类别，空表示全部")


def _check_product(data: ProductIn) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    if data.form not in FORMS:
        raise InvalidInput("guarantee.product.form", "保函形式不正确：{form}", form=data.form)
    try:
        rate = Decimal(data.rate)
    except InvalidOperation:
        rate = Decimal("-1")
    if not (Decimal("0") < rate < Decimal("0.1")):
        raise InvalidInput("guarantee.product.rate", "费率须大于 0 且小于 10%")
    lo, hi = _money(data.min_amount, "最低担保金额"), _money(data.max_amount, "最高担保金额")
    if hi <= 0 or lo > hi:
        raise InvalidInput("guarantee.product.limits", "担保金额上下限不正确")
    return rate, _money(data.min_premium, "最低保费"), lo, hi


def _new_product(inst: Institution, data: ProductIn, status: ProductStatus) -> Product:
    rate, min_premium, lo, hi = _check_product(data)
    now = clock.now()
    return Product(
        id=new_id(),
        institution_id=inst.id,
        code=data.code,
        name=data.name,
        form=data.form,
        rate=rate,
        min_premium=min_premium,
        min_amount=lo,
        max_amount=hi,
        categories=list(data.categories),
        status=status.value,
        created_at=now,
        updated_at=now,
    )


@use_case
def admit_institution(db: Session, actor: Actor, data: AdmitIn) -> Institution:
    """The center admits an FI and registers its interface key (准入)."""
    _require(actor, "guarantee.admit")
    parse_credit_code(data.credit_code)
    if data.kind not in KINDS:
        raise InvalidInput("guarantee.institution.kind", "机构类型不正确：{kind}", kind=data.kind)
    if db.scalar(select(Institution.id).where(Institution.credit_code == data.credit_code)):
        raise Conflict("guarantee.institution.exists", "该金融机构已准入")
    suite = platform_keys.platform_key().suite
    p = partner.register_partner(
        db,
        code=data.partner_code,
        name=data.name,
        kind=data.kind,
        public_key_pem=data.public_key_pem,
        base_url=data.base_url,
        suite=suite,
    )
    org = identity_queries.organization_by_credit_code(db, data.credit_code)
    now = clock.now()
    inst = Institution(
        id=new_id(),
        partner_id=p.id,
        org_id=org.id if org else None,
        name=data.name,
        credit_code=data.credit_code,
        kind=data.kind,
        instant=data.instant,
        status=InstStatus.ADMITTED.value,
        admission_ref=data.admission_ref,
        admitted_at=now,
        updated_at=now,
    )
    db.add(inst)
    audit.record(
        db,
        actor,
        "guarantee.institution.admitted",
        "guarantee_institution",
        inst.id,
        {"name": data.name, "credit_code": data.credit_code, "partner": data.partner_code},
    )
    return inst


@use_case
def change_institution(db: Session, actor: Actor, inst_id: str, action: str) -> Institution:
    """Suspend or restore an admitted FI (its partner key stops working while suspended)."""
    _require(actor, "guarantee.admit")
    inst = db.get(Institution, inst_id)
    if inst is None:
        raise not_found("金融机构")
    try:
        act = InstAction(action)
    except ValueError:
        raise InvalidInput("guarantee.action", "未知操作：{action}", action=action) from None
    inst.status = INSTITUTION.apply(InstStatus(inst.status), act).value
    inst.updated_at = clock.now()
    p = partner.get_partner(db, inst.partner_id)
    partner.set_status(db, p, "active" if inst.status == "admitted" else "suspended")
    audit.record(
        db, actor, f"guarantee.institution.{act.value}", "guarantee_institution", inst.id, {}
    )
    return inst


@use_case
def add_product(db: Session, actor: Actor, inst_id: str, data: ProductIn) -> Product:
    """Staff register a product of an admitted FI directly (active)."""
    _require(actor, "guarantee.admit")
    inst = db.get(Institution, inst_id)
    if inst is None:
        raise not_found("金融机构")
    _no_duplicate_product(db, inst.id, data.code)
    product = _new_product(inst, data, ProductStatus.ACTIVE)
    db.add(product)
    audit.record(
        db, actor, "guarantee.product.added", "guarantee_product", product.id, _product_log(product)
    )
    return product


def _no_duplicate_product(db: Session, inst_id: str, code: str) -> None:
    if db.scalar(select(Product.id).where(Product.institution_id == inst_id, Product.code == code)):
        raise Conflict("guarantee.product.exists", "产品代码 {code} 已登记", code=code)


def _product_log(p: Product) -> dict[str, Any]:
    return {
        "code": p.code,
        "form": p.form,
        "rate": str(p.rate),
        "min_amount": str(p.min_amount),
        "max_amount": str(p.max_amount),
    }


@use_case
def propose_product(
    db: Session, signed: partner.SignedRequest, data: ProductIn
) -> partner.StoredAnswer:
    """An FI registers a product over the interface; the center reviews it."""
    inst = _institution_of(db, signed)
    _no_duplicate_product(db, inst.id, data.code)
    product = _new_product(inst, data, ProductStatus.PROPOSED)
    db.add(product)
    audit.record(
        db,
        signed.actor,
        "guarantee.product.proposed",
        "guarantee_product",
        product.id,
        _product_log(product),
    )
    return partner.remember(
        db, signed, {"product_id": product.id, "status": product.status}, status_code=201
    )


@use_case
def change_product(db: Session, actor: Actor, product_id: str, action: str) -> Product:
    _require(actor, "guarantee.admit")
    product = db.get(Product, product_id)
    if product is None:
        raise not_found("保函产品")
    try:
        act = ProductAction(action)
    except ValueError:
        raise InvalidInput("guarantee.action", "未知操作：{action}", action=action) from None
    product.status = PRODUCT.apply(ProductStatus(product.status), act).value
    product.updated_at = clock.now()
    audit.record(db, actor, f"guarantee.product.{act.value}", "guarantee_product", product.id, {})
    return product


@use_case
def choose_institution(
    db: Session, actor: Actor, region_code: str, inst_id: str, chosen: bool = True
) -> None:
    """A (sub-)center, named by its 行政区划 code, offers or stops offering an FI."""
    _require(actor, "guarantee.admit")
    parse_region_code(region_code)
    if db.get(Institution, inst_id) is None:
        raise not_found("金融机构")
    row = db.scalar(
        select(CenterChoice).where(
            CenterChoice.region_code == region_code, CenterChoice.institution_id == inst_id
        )
    )
    if chosen and row is None:
        db.add(
            CenterChoice(
                id=new_id(),
                region_code=region_code,
                institution_id=inst_id,
                chosen_by=actor.user_id,
                chosen_at=clock.now(),
            )
        )
    elif not chosen and row is not None:
        db.delete(row)
    audit.record(
        db,
        actor,
        "guarantee.center.chosen" if chosen else "guarantee.center.unchosen",
        "guarantee_institution",
        inst_id,
        {"region_code": region_code},
    )


def region_chain(region_code: str) -> list[str]:
    """A county's code, its city's and its province's: the centers whose choices apply."""
    chain = [region_code, region_code[:4] + "00", region_code[:2] + "0000"]
    return list(dict.fromkeys(chain))


def eligible_products(db: Session, section_id: str) -> list[Product]:
    """Active products of admitted FIs chosen by the section's (sub-)center, for its category.

    The nearest center with any choice decides: a county center that chose its own FIs does
    not inherit its city's; one that chose none offers the city's (or the province's).
    """
    section = project_queries.section_by_id(db, section_id)
    if section is None:
        return []
    tender = section.tender_project
    chosen: list[str] = []
    for code in region_chain(tender.region_code):
        chosen = list(
            db.scalars(select(CenterChoice.institution_id).where(CenterChoice.region_code == code))
        )
        if chosen:
            break
    if not chosen:
        return []
    rows = db.scalars(
        select(Product)
        .join(Institution, Institution.id == Product.institution_id)
        .where(
            Product.institution_id.in_(chosen),
            Product.status == ProductStatus.ACTIVE.value,
            Institution.status == InstStatus.ADMITTED.value,
        )
        .order_by(Product.rate, Product.name)
    )
    return [p for p in rows if not p.categories or tender.category in p.categories]


# --- application (申请) ---------------------------------------------------------------------


class ApplyIn(BaseModel):
    section_id: str
    product_id: str
    machine_id: str = Field(
        default="", max_length=128, description="申请所用计算机的特征码（投标工具提供）"
    )


def sealed_details(section: Any, tenderer: Any) -> dict[str, Any]:
    """The facts the FI must not learn before the opening (revealed by 解密还原)."""
    tender = section.tender_project
    return {
        "tender_project_code": tender.code,
        "tender_project_name": tender.name,
        "section_code": section.code,
        "section_name": section.name,
        "tenderer_name": tenderer.name if tenderer else "",
        "tenderer_credit_code": tenderer.credit_code if tenderer else "",
        "region_code": tender.region_code,
        "bid_deadline": section.bid_deadline.isoformat() if section.bid_deadline else "",
    }


def commitment_of(suite: str, salt_hex: str, details: dict[str, Any]) -> str:
    """hex(H(salt || canonical JSON of details)), H = SM3 (gm) / SHA-256 (intl)."""
    return get_suite(suite).hash(bytes.fromhex(salt_hex) + partner.canonical_json(details)).hex()


def _seal_details(details: dict[str, Any]) -> dict[str, Any]:
    """Encrypt the details to the platform key (数字信封): only the platform can open them."""
    key = platform_keys.platform_key()
    suite = get_suite(key.suite)
    aead = suite.new_aead_key()
    nonce = secrets.token_bytes(12)
    info = b"sunlit/guarantee/sealed-details/v1"
    return {
        "suite": key.suite,
        "key_id": key.key_id,
        "wrapped_key": base64.b64encode(suite.wrap(key.public_key, aead, info)).decode(),
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(
            suite.seal(aead, nonce, partner.canonical_json(details), aad=info)
        ).decode(),
    }


def open_sealed(envelope: dict[str, Any]) -> dict[str, Any]:
    """Open a 数字信封 with the platform key (used in disputes and tests)."""
    key = platform_keys.platform_key()
    suite = get_suite(envelope["suite"])
    info = b"sunlit/guarantee/sealed-details/v1"
    aead = suite.unwrap(key.private_key, base64.b64decode(envelope["wrapped_key"]), info)
    plain = suite.open(
        aead,
        base64.b64decode(envelope["nonce"]),
        base64.b64decode(envelope["ciphertext"]),
        aad=info,
    )
    out: dict[str, Any] = json.loads(plain)
    return out


def _masked(actor: Actor) -> Actor:
    return Actor(auth_method=actor.auth_method, roles=frozenset({Role.BIDDER}))


def _order_no() -> str:
    return "BH" + clock.now().strftime("%Y%m%d") + secrets.token_hex(6).upper()


@use_case
def apply(
    db: Session, actor: Actor, data: ApplyIn, *, client_ip: str = "", base_url: str = ""
) -> Application:
    """A bidder applies for a guarantee for one section; the FI gets a sealed application."""
    _require(actor, "guarantee.apply")
    assert actor.org_id is not None
    now = clock.now()
    section = project_queries.section_by_id(db, data.section_id)
    if section is None or section.status != "published":
        raise not_found("标段")
    if section.bid_security <= 0:
        raise InvalidInput("guarantee.section.no_security", "该标段不要求投标保证金，无需保函")
    if section.bid_deadline is None or now >= section.bid_deadline:
        raise Conflict("guarantee.deadline", "投标截止时间已过，不能再申请保函")
    product = db.get(Product, data.product_id)
    if product is None or product.id not in {p.id for p in eligible_products(db, section.id)}:
        raise InvalidInput(
            "guarantee.product.unavailable",
            "该保函产品不适用于本标段（未准入、已暂停或本中心未选用）",
        )
    amount = Decimal(section.bid_security).quantize(CENT)
    if not (product.min_amount <= amount <= product.max_amount):
        raise InvalidInput(
            "guarantee.product.limits",
            "担保金额 {amount} 元超出该产品的承保范围（{lo}–{hi} 元）",
            amount=str(amount),
            lo=str(product.min_amount),
            hi=str(product.max_amount),
        )
    live = db.scalar(
        select(Application.id).where(
            Application.section_id == section.id,
            Application.org_id == actor.org_id,
            Application.status.not_in(
                [AppStatus.REFUSED.value, AppStatus.CANCELLED.value, AppStatus.RELEASED.value]
            ),
        )
    )
    if live is not None:
        raise Conflict("guarantee.application.exists", "本单位在该标段已有进行中的保函申请")
    account = identity_queries.basic_account(db, actor.org_id)
    if not account.account_no:
        raise InvalidInput(
            "guarantee.basic_account.missing",
            "请先在“我的单位”登记基本存款账户，保费须从基本户缴纳",
        )
    org = identity_queries.organization_summary(db, actor.org_id)
    assert org is not None
    inst = db.get(Institution, product.institution_id)
    assert inst is not None
    tenderer = identity_queries.organization_summary(db, section.tender_project.tenderer_org_id)
    details = sealed_details(section, tenderer)
    suite = platform_keys.platform_key().suite
    salt = secrets.token_hex(16)
    commitment = commitment_of(suite, salt, details)
    valid_from = section.bid_deadline.date()
    valid_to = valid_from + dt.timedelta(days=section.bid_validity_days + 28)
    row = Application(
        id=new_id(),
        order_no=_order_no(),
        section_id=section.id,
        org_id=actor.org_id,
        user_id=actor.user_id,
        institution_id=inst.id,
        product_id=product.id,
        status=AppStatus.SUBMITTED.value,
        amount=amount,
        required_amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        category=section.tender_project.category,
        commitment=commitment,
        sealed_details=_seal_details(details),
        salt=salt,
        client_ip=client_ip or actor.ip or "",
        machine_id=data.machine_id,
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    db.flush()
    payload = {
        "order_no": row.order_no,
        "product_code": product.code,
        "form": product.form,
        "applicant": {
            "name": org.name,
            "credit_code": org.credit_code,
            "basic_account_no": account.account_no,
            "basic_account_bank": account.bank,
        },
        "amount": str(amount),
        "currency": "CNY",
        "valid_from": valid_from.isoformat(),
        "valid_to": valid_to.isoformat(),
        "category": row.category,
        "payment_deadline": section.bid_deadline.isoformat(),
        "sealed": {"commitment": commitment, "envelope": row.sealed_details},
        "callback_base": base_url.rstrip("/") + "/api/v1/guarantee/fi",
    }
    partner.enqueue(
        db,
        inst.partner_id,
        "guarantee.application",
        "/applications",
        payload,
        ref_type="guarantee_application",
        ref_id=row.id,
        idempotency_key=row.order_no,
    )
    _trace_alerts(db, section, "client_ip", row.client_ip)
    _trace_alerts(db, section, "machine_id", row.machine_id)
    audit.record(
        db,
        _masked(actor),
        "guarantee.applied",
        "guarantee_application",
        row.id,
        {"order_no": row.order_no, "institution_id": inst.id},
        sealed={"section_id": section.id, "org_id": actor.org_id, "at": now.isoformat()},
        reveal_after=section.bid_deadline,
    )
    return row


@use_case
def cancel(db: Session, actor: Actor, application_id: str) -> Application:
    row = _own(db, actor, application_id)
    _transition(row, AppAction.CANCEL)
    inst = db.get(Institution, row.institution_id)
    assert inst is not None
    partner.enqueue(
        db,
        inst.partner_id,
        "guarantee.cancel",
        "/cancellations",
        {"order_no": row.order_no, "reason": "投标人撤销申请"},
        ref_type="guarantee_application",
        ref_id=row.id,
    )
    audit.record(db, _masked(actor), "guarantee.cancelled", "guarantee_application", row.id, {})
    return row


def _own(db: Session, actor: Actor, application_id: str) -> Application:
    row = db.get(Application, application_id)
    if row is None or row.org_id != actor.org_id:
        raise not_found("保函申请")
    return row


def _on_application_delivered(
    db: Session, message: partner.OutboxMessage, status: int, answer: dict[str, Any]
) -> None:
    """The FI acknowledged the application (its answer may already approve it: 秒开)."""
    row = db.get(Application, message.ref_id)
    if row is None:
        return
    fi_no = answer.get("fi_order_no")
    if isinstance(fi_no, str) and fi_no:
        row.fi_order_no = fi_no[:64]
    if row.status == AppStatus.SUBMITTED.value:
        _transition(row, AppAction.ACKNOWLEDGE)


def _on_application_rejected(
    db: Session, message: partner.OutboxMessage, status: int, answer: dict[str, Any]
) -> None:
    row = db.get(Application, message.ref_id)
    if row is None or row.status not in (AppStatus.SUBMITTED.value, AppStatus.UNDERWRITING.value):
        return
    _transition(row, AppAction.DECLINE)
    row.refusal_code = "guarantee.fi.rejected"
    row.refusal_reason = str(answer.get("detail") or answer.get("reason") or status)[:2000]


partner.register_handler(
    "guarantee.application",
    delivered=_on_application_delivered,
    rejected=_on_application_rejected,
)


# --- FI messages: decision, payment, issuance --------------------------------------------


def _institution_of(db: Session, signed: partner.SignedRequest) -> Institution:
    inst = db.scalar(select(Institution).where(Institution.partner_id == signed.partner_id))
    if inst is None:
        raise NotFound("guarantee.institution.unknown", "接入方不是已准入的金融机构")
    return inst


def _application_of(db: Session, inst: Institution, order_no: Any) -> Application:
    row = db.scalar(
        select(Application)
        .where(Application.order_no == str(order_no), Application.institution_id == inst.id)
        .with_for_update()
    )
    if row is None:
        raise NotFound(
            "guarantee.application.unknown", "未知的保函申请：{order_no}", order_no=str(order_no)
        )
    return row


class TooEarly(Conflict):
    """A message that arrived before the one it depends on: retry later (HTTP 425)."""

    status = 425


def _status_answer(row: Application, **extra: Any) -> dict[str, Any]:
    out = {"order_no": row.order_no, "status": row.status}
    out.update(extra)
    return out


@dataclass(frozen=True)
class FiMessage:
    """An FI message, from a signed request or from reconciliation."""

    institution_id: str
    actor: Actor
    signed: partner.SignedRequest | None = None

    @classmethod
    def of(cls, db: Session, signed: partner.SignedRequest) -> FiMessage:
        return cls(_institution_of(db, signed).id, signed.actor, signed)

    def answer(self, db: Session, body: dict[str, Any], status: int = 200) -> partner.StoredAnswer:
        if self.signed is not None:
            return partner.remember(db, self.signed, body, status)
        return partner.StoredAnswer(status, body, replayed=False)


@use_case
def fi_decision(db: Session, msg: FiMessage, body: dict[str, Any]) -> partner.StoredAnswer:
    """The FI approves (with the premium) or declines an application."""
    inst = db.get(Institution, msg.institution_id)
    assert inst is not None
    row = _application_of(db, inst, body.get("order_no"))
    decision = body.get("decision")
    if decision not in ("approved", "declined"):
        raise InvalidInput("guarantee.decision", "decision 须为 approved 或 declined")
    target = AppStatus.AWAITING_PAYMENT if decision == "approved" else AppStatus.REFUSED
    if row.status == target.value or (
        decision == "approved"
        and row.status
        in (AppStatus.PAID.value, AppStatus.ISSUED.value, AppStatus.PAYMENT_REFUSED.value)
    ):
        audit.record(
            db, msg.actor, "guarantee.decision.repeated", "guarantee_application", row.id, {}
        )
        return msg.answer(db, _status_answer(row, duplicate=True))
    if decision == "approved":
        premium = _money(body.get("premium"), "premium")
        if premium <= 0:
            raise InvalidInput("guarantee.premium", "保费须大于 0")
        row.premium = premium
        if body.get("rate") is not None:
            try:
                row.rate = Decimal(str(body["rate"]))
            except InvalidOperation:
                raise InvalidInput("guarantee.rate", "费率不正确") from None
        _transition(row, AppAction.APPROVE)
    else:
        _transition(row, AppAction.DECLINE)
        row.refusal_code = "guarantee.fi.declined"
        row.refusal_reason = str(body.get("reason") or "金融机构审核不通过")[:2000]
    if body.get("fi_order_no"):
        row.fi_order_no = str(body["fi_order_no"])[:64]
    audit.record(
        db,
        msg.actor,
        f"guarantee.{decision}",
        "guarantee_application",
        row.id,
        {"order_no": row.order_no},
    )
    return msg.answer(db, _status_answer(row))


@use_case
def fi_payment(db: Session, msg: FiMessage, body: dict[str, Any]) -> partner.StoredAnswer:
    """The FI reports the premium payment; the platform checks the paying account.

    A premium from any account other than the bidder's registered basic account, or paid
    after the bid deadline, is refused: the answer says why, the application records it.
    """
    inst = db.get(Institution, msg.institution_id)
    assert inst is not None
    row = _application_of(db, inst, body.get("order_no"))
    payer = _account(body.get("payer_account_no"))
    paid_at = _instant(body.get("paid_at"), "paid_at")
    amount = _money(body.get("amount"), "amount")
    if not payer:
        raise InvalidInput("guarantee.payment.account", "缺少付款账号 payer_account_no")
    if row.status in (AppStatus.SUBMITTED.value, AppStatus.UNDERWRITING.value):
        raise TooEarly("guarantee.out_of_order", "该申请尚未审核通过，请稍后重发支付结果")
    if row.status not in (AppStatus.AWAITING_PAYMENT.value, AppStatus.PAYMENT_REFUSED.value):
        same = row.paid_at == paid_at and _account(row.payer_account_no) == payer
        if row.status in (AppStatus.PAID.value, AppStatus.ISSUED.value) and same:
            audit.record(
                db, msg.actor, "guarantee.payment.repeated", "guarantee_application", row.id, {}
            )
            return msg.answer(db, _status_answer(row, result="accepted", duplicate=True))
        APPLICATION.apply(AppStatus(row.status), AppAction.PAY)  # raises the 409
    if row.premium is not None and amount != row.premium:
        raise InvalidInput(
            "guarantee.payment.amount",
            "支付金额 {amount} 与核定保费 {premium} 不符",
            amount=str(amount),
            premium=str(row.premium),
        )
    section = project_queries.section_by_id(db, row.section_id)
    assert section is not None and section.bid_deadline is not None
    account = identity_queries.basic_account(db, row.org_id)
    basic = _account(account.account_no)
    row.payer_account_no = payer
    row.payer_account_name = str(body.get("payer_account_name") or "")[:200]
    row.payer_bank = str(body.get("payer_bank") or "")[:200]
    row.paid_at = paid_at
    refusal: tuple[str, str] | None = None
    if payer != basic:
        refusal = (
            "guarantee.payment.not_basic_account",
            f"保费须从投标人基本存款账户缴纳：付款账号 {payer} 不是该投标人登记的基本户",
        )
    elif paid_at > section.bid_deadline or clock.now() > section.bid_deadline:
        refusal = (
            "guarantee.payment.late",
            "保费在投标截止时间（{}）之后缴纳，保函不能用于本次投标".format(
                section.bid_deadline.strftime("%Y-%m-%d %H:%M")
            ),
        )
    if refusal is None:
        _transition(row, AppAction.PAY)
        row.refusal_code = row.refusal_reason = None
    else:
        _transition(row, AppAction.REFUSE_PAYMENT)
        row.refusal_code, row.refusal_reason = refusal
    _trace_alerts(db, section, "payer_account", payer)
    audit.record(
        db,
        msg.actor,
        "guarantee.payment." + ("accepted" if refusal is None else "refused"),
        "guarantee_application",
        row.id,
        {"order_no": row.order_no, "code": refusal[0] if refusal else None},
    )
    result: dict[str, Any] = {"result": "accepted" if refusal is None else "refused"}
    if refusal is not None:
        result.update(code=refusal[0], reason=refusal[1])
    return msg.answer(db, _status_answer(row, **result))


def guarantee_document(body: dict[str, Any]) -> dict[str, Any]:
    """The canonical guarantee document an FI signs (docs/spec/guarantee-api.md §6)."""
    doc = body.get("guarantee")
    if not isinstance(doc, dict):
        raise InvalidInput("guarantee.document", "缺少保函信息 guarantee")
    fields = [
        "version",
        "guarantee_no",
        "order_no",
        "form",
        "institution_name",
        "institution_credit_code",
        "applicant_name",
        "applicant_credit_code",
        "beneficiary",
        "commitment",
        "amount",
        "currency",
        "valid_from",
        "valid_to",
        "issued_at",
        "pdf_sha256",
    ]
    missing = [f for f in fields if f not in doc]
    if missing:
        raise InvalidInput(
            "guarantee.document.fields", "保函信息缺少字段：{fields}", fields=", ".join(missing)
        )
    if doc["version"] != "SUNLIT-GUARANTEE-1":
        raise InvalidInput("guarantee.document.version", "保函信息版本不受支持")
    return {f: doc[f] for f in fields}


@use_case
def fi_issuance(
    db: Session, msg: FiMessage, body: dict[str, Any], blobs: BlobStore
) -> partner.StoredAnswer:
    """The FI's signed guarantee arrives: verify it, check it against the section, bind it."""
    inst = db.get(Institution, msg.institution_id)
    assert inst is not None
    doc = guarantee_document(body)
    row = _application_of(db, inst, doc["order_no"])
    if row.status in (
        AppStatus.ISSUED.value,
        AppStatus.REVEALED.value,
        AppStatus.RELEASED.value,
        AppStatus.CLAIMED.value,
        AppStatus.COMPENSATED.value,
    ):
        if row.guarantee_no == doc["guarantee_no"] and row.document == doc:
            audit.record(
                db, msg.actor, "guarantee.issuance.repeated", "guarantee_application", row.id, {}
            )
            return msg.answer(
                db, _status_answer(row, duplicate=True, verification_code=row.verification_code)
            )
        raise Conflict(
            "guarantee.already_issued", "该申请已出函（保函编号 {no}）", no=row.guarantee_no
        )
    if row.status in (
        AppStatus.SUBMITTED.value,
        AppStatus.UNDERWRITING.value,
        AppStatus.AWAITING_PAYMENT.value,
    ):
        raise TooEarly("guarantee.out_of_order", "尚未收到有效的保费支付结果，请稍后重发出函结果")
    if row.status != AppStatus.PAID.value:
        APPLICATION.apply(AppStatus(row.status), AppAction.ISSUE)  # raises the 409 with the state
    # The document must be the FI's, about this application, and enough for this section.
    p = partner.get_partner(db, inst.partner_id)
    try:
        signature = base64.b64decode(str(body.get("document_signature", "")), validate=True)
        get_suite(p.suite).verify(p.public_key, partner.canonical_json(doc), signature)
    except (binascii.Error, ValueError, CryptoError):
        raise InvalidInput("guarantee.document.signature", "保函签名验证失败") from None
    org = identity_queries.organization_summary(db, row.org_id)
    assert org is not None
    checks = [
        (doc["applicant_credit_code"] == org.credit_code, "被保证人统一社会信用代码与申请不符"),
        (doc["commitment"] == row.commitment, "保函的标段密文承诺与申请不符"),
        (
            doc["institution_credit_code"] == inst.credit_code,
            "担保人统一社会信用代码与准入信息不符",
        ),
        (doc["currency"] == "CNY", "币种须为 CNY"),
        (doc["form"] in FORMS, "保函形式不正确"),
    ]
    for ok, reason in checks:
        if not ok:
            raise InvalidInput("guarantee.document.mismatch", reason)
    amount = _money(doc["amount"], "amount")
    if amount < row.required_amount:
        raise InvalidInput(
            "guarantee.amount.below_required",
            "担保金额 {amount} 元低于标段要求的投标保证金 {required} 元",
            amount=str(amount),
            required=str(row.required_amount),
        )
    valid_from, valid_to = (
        _date(doc["valid_from"], "valid_from"),
        _date(doc["valid_to"], "valid_to"),
    )
    if valid_from > row.valid_from or valid_to < row.valid_to:
        raise InvalidInput(
            "guarantee.validity.short",
            "保函有效期 {a} 至 {b} 未覆盖要求的 {c} 至 {d}",
            a=str(valid_from),
            b=str(valid_to),
            c=str(row.valid_from),
            d=str(row.valid_to),
        )
    try:
        pdf = base64.b64decode(str(body.get("pdf_base64", "")), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("guarantee.pdf", "保函 PDF 不是合法的 base64") from None
    digest = hashlib.sha256(pdf).hexdigest()
    if not pdf.startswith(b"%PDF-") or not hmac.compare_digest(digest, str(doc["pdf_sha256"])):
        raise InvalidInput("guarantee.pdf.hash", "保函 PDF 与签名信息中的哈希不符")
    dup = db.scalar(
        select(Application.id).where(
            Application.institution_id == inst.id,
            Application.guarantee_no == str(doc["guarantee_no"]),
        )
    )
    if dup is not None:
        raise Conflict(
            "guarantee.number.taken", "保函编号 {no} 已用于其他申请", no=doc["guarantee_no"]
        )
    key = f"guarantees/{row.id}/{digest}.pdf"
    put_bytes(blobs, key, pdf)
    row.guarantee_no = str(doc["guarantee_no"])[:64]
    row.guarantee_form = doc["form"]
    row.guarantee_amount = amount
    row.guarantee_valid_from, row.guarantee_valid_to = valid_from, valid_to
    row.beneficiary = str(doc["beneficiary"])[:300]
    row.document = doc
    row.document_signature = base64.b64encode(signature).decode()
    row.signer_key_id = p.key_id
    row.signer_public_key = p.public_key_pem
    row.pdf_blob_key = key
    row.pdf_sha256 = digest
    row.verification_code = "".join(secrets.choice(VERIFY_ALPHABET) for _ in range(8))
    row.issued_at = _instant(doc["issued_at"], "issued_at")
    _transition(row, AppAction.ISSUE)
    audit.record(
        db,
        msg.actor,
        "guarantee.issued",
        "guarantee_application",
        row.id,
        {"order_no": row.order_no, "guarantee_no": row.guarantee_no, "pdf_sha256": digest},
    )
    return msg.answer(db, _status_answer(row, verification_code=row.verification_code))


# --- after the opening: 解密还原 --------------------------------------------------------------


@use_case
def reveal_section(db: Session, section_id: str) -> int:
    """Send 解密还原 for every issued guarantee of a section whose opening has begun.

    Called by the app's scheduler once the opening session has started (the platform's
    clock must be past the bid deadline). Returns how many guarantees were revealed.
    """
    section = project_queries.section_by_id(db, section_id)
    if section is None or section.bid_deadline is None or clock.now() < section.bid_deadline:
        raise Conflict("guarantee.reveal.early", "开标前不能解密还原")
    rows = list(
        db.scalars(
            select(Application).where(
                Application.section_id == section_id,
                Application.status == AppStatus.ISSUED.value,
            )
        )
    )
    tenderer = identity_queries.organization_summary(db, section.tender_project.tenderer_org_id)
    details = sealed_details(section, tenderer)
    for row in rows:
        inst = db.get(Institution, row.institution_id)
        assert inst is not None
        _transition(row, AppAction.REVEAL)
        row.revealed_at = clock.now()
        partner.enqueue(
            db,
            inst.partner_id,
            "guarantee.reveal",
            "/reveals",
            {
                "order_no": row.order_no,
                "guarantee_no": row.guarantee_no,
                "commitment": row.commitment,
                "salt": row.salt,
                "details": details,
                "opened_at": clock.now().isoformat(),
            },
            ref_type="guarantee_application",
            ref_id=row.id,
            idempotency_key=f"reveal-{row.order_no}",
        )
    audit.record(
        db,
        system_actor("guarantee-reveal"),
        "guarantee.revealed",
        "section",
        section_id,
        {"orders": [r.order_no for r in rows]},
    )
    return len(rows)


# --- release (退保) and expiry ------------------------------------------------------------


def _release(db: Session, row: Application, reason: str) -> None:
    inst = db.get(Institution, row.institution_id)
    assert inst is not None
    _transition(row, AppAction.RELEASE)
    row.released_at = clock.now()
    row.release_reason = reason
    partner.enqueue(
        db,
        inst.partner_id,
        "guarantee.release",
        "/releases",
        {
            "order_no": row.order_no,
            "guarantee_no": row.guarantee_no,
            "reason": reason,
            "reason_text": RELEASE_REASONS[reason],
            "released_at": row.released_at.isoformat(),
        },
        ref_type="guarantee_application",
        ref_id=row.id,
        idempotency_key=f"release-{row.order_no}",
    )


@use_case
def release_section(db: Session, actor: Actor, section_id: str, reason: str) -> int:
    """Release (退保) every live guarantee of a section, e.g. after the contract is signed.

    Guarantees under an open claim stay until the claim is decided.
    """
    _require(actor, "guarantee.release")
    orders = release_step(db, section_id, reason)
    audit.record(
        db,
        actor,
        "guarantee.released",
        "section",
        section_id,
        {"reason": reason, "orders": orders},
    )
    return len(orders)


def release_step(
    db: Session, section_id: str, reason: str, keep_org_ids: Sequence[str] = ()
) -> list[str]:
    """The release without its audit event, for a use case of a later stage (the award's
    release of bid securities after the contract) to run in its own transaction. Guarantees
    of ``keep_org_ids`` (bidders whose security the tenderer may claim) stay live. Returns the
    released order numbers."""
    if reason not in RELEASE_REASONS or reason == "expired":
        raise InvalidInput("guarantee.release.reason", "退保原因不正确：{reason}", reason=reason)
    rows = list(
        db.scalars(
            select(Application).where(
                Application.section_id == section_id,
                Application.status.in_([AppStatus.ISSUED.value, AppStatus.REVEALED.value]),
                Application.org_id.not_in(list(keep_org_ids)),
            )
        )
    )
    for row in rows:
        _release(db, row, reason)
    return [r.order_no for r in rows]


@use_case
def release_expired(db: Session) -> int:
    """Release guarantees whose validity has ended (the app's daily job)."""
    today = clock.today()
    rows = list(
        db.scalars(
            select(Application).where(
                Application.status.in_([AppStatus.ISSUED.value, AppStatus.REVEALED.value]),
                Application.guarantee_valid_to < today,
            )
        )
    )
    for row in rows:
        _release(db, row, "expired")
    audit.record(
        db,
        system_actor("guarantee-expiry"),
        "guarantee.expired",
        "guarantee_application",
        None,
        {"orders": [r.order_no for r in rows]},
    )
    return len(rows)


# --- claims (索赔 / 理赔) ---------------------------------------------------------------------


class ClaimIn(BaseModel):
    amount: str
    ground: str = Field(description="索赔事由代码，见 GROUNDS")
    statement: str = Field(max_length=4000, description="事实与理由")
    payee_account_no: str = Field(max_length=64)
    payee_account_name: str = Field(max_length=200)
    payee_bank: str = Field(max_length=200)


@dataclass(frozen=True)
class Evidence:
    name: str
    content: bytes


@use_case
def file_claim(
    db: Session,
    actor: Actor,
    blobs: BlobStore,
    application_id: str,
    data: ClaimIn,
    evidence: list[Evidence],
) -> Claim:
    """The tenderer (beneficiary) or its agency claims on a guarantee, with ground and evidence."""
    row = db.get(Application, application_id)
    section = project_queries.section_by_id(db, row.section_id) if row else None
    tender = section.tender_project if section else None
    if row is None or tender is None or not POLICY.allows(actor, "guarantee.claim", tender):
        raise not_found("保函")
    if data.ground not in GROUNDS:
        raise InvalidInput(
            "guarantee.claim.ground",
            "索赔须注明法定事由（如投标截止后撤销投标文件、中标后拒签合同）",
        )
    if not data.statement.strip():
        raise InvalidInput("guarantee.claim.statement", "请填写索赔的事实与理由")
    if not evidence or any(not e.content for e in evidence):
        raise InvalidInput("guarantee.claim.evidence", "索赔须附证明材料")
    amount = _money(data.amount, "索赔金额")
    if amount <= 0 or row.guarantee_amount is None or amount > row.guarantee_amount:
        raise InvalidInput(
            "guarantee.claim.amount",
            "索赔金额须大于 0 且不超过担保金额 {max} 元",
            max=str(row.guarantee_amount),
        )
    if not _account(data.payee_account_no):
        raise InvalidInput("guarantee.claim.account", "请填写收款账户")
    _transition(row, AppAction.CLAIM)
    stored = []
    for e in evidence:
        digest = hashlib.sha256(e.content).hexdigest()
        key = f"guarantee-claims/{row.id}/{digest}"
        put_bytes(blobs, key, e.content)
        stored.append({"name": e.name[:200], "sha256": digest, "size": len(e.content), "key": key})
    claim = Claim(
        id=new_id(),
        claim_no="SP" + clock.now().strftime("%Y%m%d") + secrets.token_hex(5).upper(),
        application_id=row.id,
        claimant_org_id=actor.org_id or tender.tenderer_org_id,
        amount=amount,
        ground=data.ground,
        statement=data.statement.strip(),
        evidence=stored,
        payee_account_no=_account(data.payee_account_no),
        payee_account_name=data.payee_account_name,
        payee_bank=data.payee_bank,
        status=ClaimStatus.FILED.value,
        filed_at=clock.now(),
    )
    db.add(claim)
    inst = db.get(Institution, row.institution_id)
    assert inst is not None
    claimant = identity_queries.organization_summary(db, claim.claimant_org_id)
    partner.enqueue(
        db,
        inst.partner_id,
        "guarantee.claim",
        "/claims",
        {
            "claim_no": claim.claim_no,
            "order_no": row.order_no,
            "guarantee_no": row.guarantee_no,
            "claimant": {
                "name": claimant.name if claimant else "",
                "credit_code": claimant.credit_code if claimant else "",
            },
            "amount": str(amount),
            "ground": data.ground,
            "ground_text": GROUNDS[data.ground],
            "statement": claim.statement,
            "payee": {
                "account_no": claim.payee_account_no,
                "account_name": claim.payee_account_name,
                "bank": claim.payee_bank,
            },
            "evidence": [
                {
                    "name": s["name"],
                    "sha256": s["sha256"],
                    "content_base64": base64.b64encode(e.content).decode(),
                }
                for s, e in zip(stored, evidence, strict=True)
            ],
            "filed_at": claim.filed_at.isoformat(),
        },
        ref_type="guarantee_claim",
        ref_id=claim.id,
        idempotency_key=claim.claim_no,
    )
    audit.record(
        db,
        actor,
        "guarantee.claim.filed",
        "guarantee_claim",
        claim.id,
        {"order_no": row.order_no, "ground": data.ground, "amount": str(amount)},
    )
    return claim


@use_case
def fi_claim_result(db: Session, msg: FiMessage, body: dict[str, Any]) -> partner.StoredAnswer:
    """The FI's handling of a claim: acknowledged, paid (理赔) or refused (拒赔)."""
    claim = db.scalar(select(Claim).where(Claim.claim_no == str(body.get("claim_no"))))
    row = db.get(Application, claim.application_id) if claim else None
    if claim is None or row is None or row.institution_id != msg.institution_id:
        raise NotFound("guarantee.claim.unknown", "未知的索赔：{no}", no=str(body.get("claim_no")))
    decision = body.get("decision")
    actions = {
        "acknowledged": ClaimAction.ACKNOWLEDGE,
        "paid": ClaimAction.PAY,
        "refused": ClaimAction.REFUSE,
    }
    if decision not in actions:
        raise InvalidInput(
            "guarantee.claim.decision", "decision 须为 acknowledged、paid 或 refused"
        )
    targets = {
        "acknowledged": ClaimStatus.UNDER_REVIEW,
        "paid": ClaimStatus.PAID,
        "refused": ClaimStatus.REFUSED,
    }
    if claim.status == targets[decision].value:
        audit.record(db, msg.actor, "guarantee.claim.repeated", "guarantee_claim", claim.id, {})
        return msg.answer(
            db, {"claim_no": claim.claim_no, "status": claim.status, "duplicate": True}
        )
    paid: Decimal | None = None
    if decision == "paid":
        paid = _money(body.get("paid_amount"), "paid_amount")
        if paid <= 0 or paid > claim.amount:
            raise InvalidInput("guarantee.claim.paid_amount", "赔付金额须大于 0 且不超过索赔金额")
    claim.status = CLAIM.apply(ClaimStatus(claim.status), actions[decision]).value
    claim.fi_remark = str(body.get("remark") or "")[:2000]
    if decision != "acknowledged":
        claim.decided_at = clock.now()
        claim.paid_amount = paid
        _transition(row, AppAction.COMPENSATE if decision == "paid" else AppAction.CLAIM_REFUSED)
    audit.record(
        db,
        msg.actor,
        f"guarantee.claim.{decision}",
        "guarantee_claim",
        claim.id,
        {"paid_amount": str(paid) if paid is not None else None},
    )
    return msg.answer(db, {"claim_no": claim.claim_no, "status": claim.status})


def _on_claim_delivered(
    db: Session, message: partner.OutboxMessage, status: int, answer: dict[str, Any]
) -> None:
    claim = db.get(Claim, message.ref_id)
    if claim is not None and claim.status == ClaimStatus.FILED.value:
        claim.status = CLAIM.apply(ClaimStatus.FILED, ClaimAction.ACKNOWLEDGE).value


partner.register_handler("guarantee.claim", delivered=_on_claim_delivered)


# --- risk alerts ------------------------------------------------------------------------------


def _trace_alerts(db: Session, section: Any, kind: str, trace: str) -> None:
    """Raise or extend an alert when two or more bidders of a section share a trace."""
    if not trace:
        return
    column = {
        "payer_account": Application.payer_account_no,
        "client_ip": Application.client_ip,
        "machine_id": Application.machine_id,
    }[kind]
    db.flush()
    rows = list(
        db.scalars(
            select(Application)
            .where(Application.section_id == section.id, column == trace)
            .order_by(Application.created_at)
        )
    )
    orgs = sorted({r.org_id for r in rows})
    if len(orgs) < 2:
        return
    names: dict[str, tuple[str, str]] = {}
    for o in orgs:
        summary = identity_queries.organization_summary(db, o)
        names[o] = (summary.name, summary.credit_code) if summary else ("", "")
    evidence = [
        {
            "order_no": r.order_no,
            "org_id": r.org_id,
            "org_name": names[r.org_id][0],
            "credit_code": names[r.org_id][1],
            "applied_at": r.created_at.isoformat(),
            "paid_at": r.paid_at.isoformat() if r.paid_at else None,
            kind: trace,
        }
        for r in rows
    ]
    now = clock.now()
    alert = db.scalar(
        select(Alert).where(
            Alert.section_id == section.id, Alert.kind == kind, Alert.trace == trace
        )
    )
    if alert is None:
        db.add(
            Alert(
                id=new_id(),
                section_id=section.id,
                kind=kind,
                trace=trace,
                org_ids=orgs,
                evidence=evidence,
                visible_after=section.bid_deadline,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        alert.org_ids, alert.evidence, alert.updated_at = orgs, evidence, now


# --- reconciliation ---------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    orders: int = 0
    applied: int = 0
    unchanged: int = 0
    refused: list[str] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.refused is None:
            self.refused = []


def reconcile_institution(
    database: Database,
    identity: partner.Identity,
    institution_id: str,
    blobs: BlobStore,
    *,
    since: dt.datetime | None = None,
    timeout: float = 10.0,
) -> ReconcileReport:
    """Pull the FI's records (signed GET /reconcile) and apply what the platform lacks.

    Each record goes through the same use case as the callback it stands for, so a fact the
    platform already has changes nothing and a missing one is applied exactly once.
    """
    with database.session_scope() as s:
        inst = s.get(Institution, institution_id)
        if inst is None:
            raise not_found("金融机构")
        p = partner.get_partner(s, inst.partner_id)
        base_url, name = p.base_url, inst.name
        actor = Actor(name=name, org_name=name, auth_method="partner")
    path = "/reconcile" + (f"?since={since.isoformat()}" if since else "")
    with partner.PartnerClient(base_url, identity, timeout=timeout) as client:
        r = client.get(path.replace("+", "%2B"))
    if r.status_code != 200:
        raise DomainError(
            "guarantee.reconcile.failed", "对账查询失败：{status}", status=r.status_code
        )
    report = ReconcileReport()
    msg = FiMessage(institution_id, actor)
    for order in r.json().get("orders", []):
        report.orders += 1
        changed = False
        if order.get("decision"):
            changed |= _apply_quietly(database, report, fi_decision, msg, order["decision"])
        if order.get("payment"):
            changed |= _apply_quietly(database, report, fi_payment, msg, order["payment"])
        if order.get("issuance"):
            changed |= _apply_quietly(database, report, fi_issuance, msg, order["issuance"], blobs)
        for result in order.get("claim_results", []):
            changed |= _apply_quietly(database, report, fi_claim_result, msg, result)
        if changed:
            report.applied += 1
        else:
            report.unchanged += 1
    return report


def _apply_quietly(database: Database, report: ReconcileReport, fn: Any, *args: Any) -> bool:
    with database.session_scope() as s:
        try:
            answer = fn(s, *args)
        except DomainError as exc:
            report.refused.append(exc.code)
            return False
    return not answer.response.get("duplicate", False)


def platform_view_row(r: Application) -> dict[str, Any]:
    return {
        "order_no": r.order_no,
        "status": r.status,
        "fi_order_no": r.fi_order_no,
        "premium": str(r.premium) if r.premium is not None else None,
        "payer_account_no": r.payer_account_no,
        "guarantee_no": r.guarantee_no,
        "pdf_sha256": r.pdf_sha256,
        "refusal_code": r.refusal_code,
        "refusal_reason": r.refusal_reason,
        "revealed": r.revealed_at is not None,
        "released": r.released_at is not None,
        "updated_at": r.updated_at.isoformat(),
    }


def platform_view(
    db: Session, inst: Institution, since: dt.datetime | None
) -> list[dict[str, Any]]:
    """The platform's record of an FI's orders, for the FI's reconciliation."""
    stmt = select(Application).where(Application.institution_id == inst.id)
    if since is not None:
        stmt = stmt.where(Application.updated_at >= since)
    return [platform_view_row(r) for r in db.scalars(stmt.order_by(Application.created_at))]


def premium_for(product: Product, amount: Decimal) -> Decimal:
    """The premium at the product's rate (at least the minimum premium)."""
    p = (amount * product.rate).quantize(CENT, rounding=ROUND_HALF_UP)
    return max(p, product.min_premium)


def sections_to_reveal(db: Session, opened_section_ids: list[str]) -> list[str]:
    """Of the sections whose opening has started, those with guarantees not yet revealed."""
    if not opened_section_ids:
        return []
    return sorted(
        set(
            db.scalars(
                select(Application.section_id).where(
                    Application.section_id.in_(opened_section_ids),
                    Application.status == AppStatus.ISSUED.value,
                )
            )
        )
    )


def expired_exist(db: Session) -> bool:
    return (
        db.scalar(
            select(Application.id)
            .where(
                Application.status.in_([AppStatus.ISSUED.value, AppStatus.REVEALED.value]),
                Application.guarantee_valid_to < clock.today(),
            )
            .limit(1)
        )
        is not None
    )
