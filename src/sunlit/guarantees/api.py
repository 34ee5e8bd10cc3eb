"""Guarantee JSON API: platform users under /api/v1/guarantee, FIs under /api/v1/guarantee/fi.

The FI routes accept only signed partner messages (docs/spec/partner-messaging.md); their
bodies are specified in docs/spec/guarantee-api.md and published in the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from sunlit.kernel import partner
from sunlit.kernel.authz import Actor
from sunlit.kernel.db import Database
from sunlit.kernel.errors import InvalidInput, not_found
from sunlit.kernel.storage import BlobStore
from sunlit.kernel.web import client_ip, get_db, require_actor

from . import queries, service
from .models import Application, Claim, Institution, Product
from .policies import POLICY

router = APIRouter(prefix="/api/v1/guarantee", tags=["guarantee 电子投标保函"])
fi_router = APIRouter(prefix="/api/v1/guarantee/fi", tags=["guarantee FI 金融机构接口"])

Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]


def blob_store(request: Request) -> BlobStore:
    store: BlobStore = request.app.state.blobs
    return store


Blobs = Annotated[BlobStore, Depends(blob_store)]


# --- views ---------------------------------------------------------------------------------


def institution_view(i: Institution) -> dict[str, Any]:
    return {
        "id": i.id,
        "name": i.name,
        "credit_code": i.credit_code,
        "kind": i.kind,
        "instant": i.instant,
        "status": i.status,
        "admission_ref": i.admission_ref,
    }


def product_view(p: Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "institution_id": p.institution_id,
        "code": p.code,
        "name": p.name,
        "form": p.form,
        "form_label": service.FORMS.get(p.form, p.form),
        "rate": str(p.rate),
        "min_premium": str(p.min_premium),
        "min_amount": str(p.min_amount),
        "max_amount": str(p.max_amount),
        "categories": p.categories,
        "status": p.status,
    }


def application_view(a: Application) -> dict[str, Any]:
    return {
        "id": a.id,
        "order_no": a.order_no,
        "section_id": a.section_id,
        "institution_id": a.institution_id,
        "product_id": a.product_id,
        "status": a.status,
        "status_label": queries.status_label(a.status),
        "amount": str(a.amount),
        "valid_from": a.valid_from.isoformat(),
        "valid_to": a.valid_to.isoformat(),
        "premium": str(a.premium) if a.premium is not None else None,
        "payer_account_no": a.payer_account_no,
        "refusal_code": a.refusal_code,
        "refusal_reason": a.refusal_reason,
        "guarantee_no": a.guarantee_no,
        "guarantee_amount": str(a.guarantee_amount) if a.guarantee_amount is not None else None,
        "guarantee_valid_to": a.guarantee_valid_to.isoformat() if a.guarantee_valid_to else None,
        "pdf_sha256": a.pdf_sha256,
        "verification_code": a.verification_code,
        "commitment": a.commitment,
        "issued_at": a.issued_at.isoformat() if a.issued_at else None,
        "revealed_at": a.revealed_at.isoformat() if a.revealed_at else None,
        "released_at": a.released_at.isoformat() if a.released_at else None,
        "release_reason": a.release_reason,
    }


def claim_view(c: Claim) -> dict[str, Any]:
    return {
        "id": c.id,
        "claim_no": c.claim_no,
        "application_id": c.application_id,
        "amount": str(c.amount),
        "ground": c.ground,
        "status": c.status,
        "status_label": queries.claim_label(c.status),
        "paid_amount": str(c.paid_amount) if c.paid_amount is not None else None,
        "evidence": [{k: e[k] for k in ("name", "sha256", "size")} for e in c.evidence],
        "fi_remark": c.fi_remark,
    }


# --- staff: admission, products, centers -----------------------------------------------------


@router.post("/institutions", status_code=201)
def admit(data: service.AdmitIn, db: Db, actor: LoggedIn) -> dict[str, Any]:
    """准入：登记金融机构及其接口公钥。"""
    return institution_view(service.admit_institution(db, actor, data))


@router.get("/institutions")
def list_institutions(db: Db, actor: LoggedIn) -> list[dict[str, Any]]:
    return [institution_view(i) for i in queries.institutions(db)]


class ActionIn(BaseModel):
    action: str = Field(description="suspend 暂停 / restore 恢复")


@router.post("/institutions/{inst_id}/status")
def institution_status(inst_id: str, data: ActionIn, db: Db, actor: LoggedIn) -> dict[str, Any]:
    return institution_view(service.change_institution(db, actor, inst_id, data.action))


@router.post("/institutions/{inst_id}/products", status_code=201)
def add_product(inst_id: str, data: service.ProductIn, db: Db, actor: LoggedIn) -> dict[str, Any]:
    return product_view(service.add_product(db, actor, inst_id, data))


@router.post("/institutions/{inst_id}/reconcile")
def reconcile(inst_id: str, request: Request, db: Db, actor: LoggedIn) -> dict[str, Any]:
    """对账：向金融机构查询其订单记录，补齐平台缺少的审核、支付、出函、理赔结果。"""
    POLICY.require(actor, "guarantee.admit")
    db.close()
    report = service.reconcile_institution(
        request.app.state.db, request.app.state.partner_identity, inst_id, request.app.state.blobs
    )
    return {
        "orders": report.orders,
        "applied": report.applied,
        "unchanged": report.unchanged,
        "refused": report.refused,
    }


class ProductActionIn(BaseModel):
    action: str = Field(description="approve / reject / suspend / restore")


@router.post("/products/{product_id}/status")
def product_status(
    product_id: str, data: ProductActionIn, db: Db, actor: LoggedIn
) -> dict[str, Any]:
    return product_view(service.change_product(db, actor, product_id, data.action))


class ChoiceIn(BaseModel):
    region_code: str = Field(description="（分）中心的行政区划代码")
    institution_id: str
    chosen: bool = True


@router.post("/center-choices")
def choose(data: ChoiceIn, db: Db, actor: LoggedIn) -> dict[str, str]:
    service.choose_institution(db, actor, data.region_code, data.institution_id, data.chosen)
    return {"status": "ok"}


# --- bidders ---------------------------------------------------------------------------------


@router.get("/sections/{section_id}/products")
def section_products(section_id: str, db: Db, actor: LoggedIn) -> list[dict[str, Any]]:
    """本标段可选的保函产品（已准入、本中心选用、适用项目类别）。"""
    return [product_view(p) for p in service.eligible_products(db, section_id)]


@router.post("/applications", status_code=201)
def apply(data: service.ApplyIn, request: Request, db: Db, actor: LoggedIn) -> dict[str, Any]:
    """投标人申请电子投标保函：标段与招标人信息加密，金融机构开标前无从得知。"""
    row = service.apply(
        db,
        actor,
        data,
        client_ip=client_ip(request) or "",
        base_url=request.app.state.settings.base_url,
    )
    return application_view(row)


@router.get("/applications")
def my_applications(db: Db, actor: LoggedIn) -> list[dict[str, Any]]:
    return [application_view(a) for a in queries.my_applications(db, actor)]


@router.get("/applications/{application_id}")
def get_application(application_id: str, db: Db, actor: LoggedIn) -> dict[str, Any]:
    return application_view(queries.get_own(db, actor, application_id))


@router.post("/applications/{application_id}/cancel")
def cancel(application_id: str, db: Db, actor: LoggedIn) -> dict[str, Any]:
    return application_view(service.cancel(db, actor, application_id))


# --- tenderers: securities, claims, release ------------------------------------------------


@router.get("/sections/{section_id}/securities")
def securities(section_id: str, db: Db, actor: LoggedIn) -> list[dict[str, Any]]:
    """开标时各投标人的投标保证金（保函）验真结果（投标截止后可见）。"""
    return [s.as_dict() for s in queries.securities_for(db, actor, section_id)]


@router.post("/applications/{application_id}/claims", status_code=201)
def file_claim(
    application_id: str,
    db: Db,
    actor: LoggedIn,
    blobs: Blobs,
    amount: Annotated[str, Form()],
    payee_account_no: Annotated[str, Form()],
    payee_account_name: Annotated[str, Form()],
    payee_bank: Annotated[str, Form()],
    ground: Annotated[str, Form()] = "",
    statement: Annotated[str, Form()] = "",
    evidence: Annotated[list[UploadFile] | None, File()] = None,
) -> dict[str, Any]:
    """招标人索赔：须注明法定事由并附证明材料。"""
    files = [
        service.Evidence(f.filename or "证明材料", f.file.read(10 * 1024 * 1024 + 1))
        for f in evidence or []
    ]
    if any(len(f.content) > 10 * 1024 * 1024 for f in files):
        raise InvalidInput("guarantee.claim.evidence_size", "单个证明材料不能超过 10 MB")
    data = service.ClaimIn(
        amount=amount,
        ground=ground,
        statement=statement,
        payee_account_no=payee_account_no,
        payee_account_name=payee_account_name,
        payee_bank=payee_bank,
    )
    return claim_view(service.file_claim(db, actor, blobs, application_id, data, files))


class ReleaseIn(BaseModel):
    reason: str = Field(description="contract_signed / awarded_other / terminated / …")


@router.post("/sections/{section_id}/release")
def release(section_id: str, data: ReleaseIn, db: Db, actor: LoggedIn) -> dict[str, int]:
    return {"released": service.release_section(db, actor, section_id, data.reason)}


@router.get("/alerts")
def alerts(db: Db, actor: LoggedIn) -> list[dict[str, Any]]:
    """围标串标风险预警（标段投标截止后可见）。"""
    return [
        {
            "id": a.id,
            "section_id": a.section_id,
            "kind": a.kind,
            "trace": a.trace,
            "org_ids": a.org_ids,
            "evidence": a.evidence,
            "created_at": a.created_at.isoformat(),
        }
        for a in queries.alerts(db, actor)
    ]


@router.get("/verify")
def verify(
    db: Db, no: str = Query(max_length=64), code: str = Query(max_length=16)
) -> dict[str, Any]:
    """公开验真：保函编号 + 验证码。"""
    v = queries.verify_public(db, no, code)
    if not v.found or v.row is None:
        raise not_found("保函")
    row = v.row
    return {
        "guarantee_no": row.guarantee_no,
        "institution": v.institution,
        "form": row.guarantee_form,
        "amount": str(row.guarantee_amount),
        "valid_from": row.guarantee_valid_from.isoformat() if row.guarantee_valid_from else None,
        "valid_to": row.guarantee_valid_to.isoformat() if row.guarantee_valid_to else None,
        "status": row.status,
        "status_label": v.status,
        "pdf_sha256": row.pdf_sha256,
        "signature_valid": not v.problems,
        "problems": list(v.problems),
        "document": row.document,
        "document_signature": row.document_signature,
        "signer_public_key": row.signer_public_key,
    }


# --- the FI interface (signed partner messages) ----------------------------------------------


FiCall = Callable[[Session, service.FiMessage, dict[str, Any]], partner.StoredAnswer]


def _serve(request: Request, signed: partner.SignedRequest, call: FiCall) -> JSONResponse:
    database: Database = request.app.state.db
    body = signed.json()
    if not isinstance(body, dict):
        raise InvalidInput("partner.body.object", "报文内容须为 JSON 对象")
    if signed.idempotency_key is None:
        raise InvalidInput("partner.idempotency.required", "此接口要求 Idempotency-Key")
    return partner.answer_once(
        database, signed, lambda s: call(s, service.FiMessage.of(s, signed), body)
    )


async def _fi(request: Request, call: FiCall) -> JSONResponse:
    signed = await partner.signed_request(request)
    return await run_in_threadpool(_serve, request, signed, call)


@fi_router.post("/products", status_code=201)
async def fi_products(request: Request) -> JSONResponse:
    """金融机构登记保函产品（待交易中心准入）。Body: ProductIn."""

    def call(s: Session, msg: service.FiMessage, body: dict[str, Any]) -> partner.StoredAnswer:
        assert msg.signed is not None
        return service.propose_product(s, msg.signed, service.ProductIn(**body))

    return await _fi(request, call)


@fi_router.post("/decisions")
async def fi_decisions(request: Request) -> JSONResponse:
    """审核结果：approved（附保费）或 declined（附原因）。"""
    return await _fi(request, service.fi_decision)


@fi_router.post("/payments")
async def fi_payments(request: Request) -> JSONResponse:
    """保费支付结果：平台核对付款账户是否为投标人基本户、是否在投标截止前。"""
    return await _fi(request, service.fi_payment)


@fi_router.post("/issuances")
async def fi_issuances(request: Request) -> JSONResponse:
    """出函结果：签名保函信息 + PDF（base64）+ SHA-256。"""
    blobs: BlobStore = request.app.state.blobs
    return await _fi(request, lambda s, m, b: service.fi_issuance(s, m, b, blobs))


@fi_router.post("/claim-results")
async def fi_claim_results(request: Request) -> JSONResponse:
    """理赔结果：acknowledged / paid / refused。"""
    return await _fi(request, service.fi_claim_result)


def _signed_read(request: Request, signed: partner.SignedRequest, build: Callable[..., Any]) -> Any:
    database: Database = request.app.state.db
    with database.session_scope() as s:
        inst = queries.institution_by_partner(s, signed.partner_id)
        if inst is None:
            raise not_found("金融机构")
        return build(s, inst)


@fi_router.get("/orders/{order_no}")
async def fi_order(order_no: str, request: Request) -> dict[str, Any]:
    """订单状态查询。"""
    signed = await partner.signed_request(request)

    def build(s: Session, inst: Institution) -> dict[str, Any]:
        row = queries.fi_order(s, inst, order_no)
        if row is None:
            raise not_found("保函申请")
        return service.platform_view_row(row)

    out: dict[str, Any] = await run_in_threadpool(_signed_read, request, signed, build)
    return out


@fi_router.get("/reconcile")
async def fi_reconcile(request: Request, since: str | None = None) -> dict[str, Any]:
    """对账：平台记录的本机构订单（可按更新时间筛选）。"""
    signed = await partner.signed_request(request)
    when = None
    if since:
        try:
            when = dt.datetime.fromisoformat(since)
        except ValueError:
            raise InvalidInput("guarantee.since", "since 不是 ISO 8601 时间") from None

    def build(s: Session, inst: Institution) -> dict[str, Any]:
        return {"orders": service.platform_view(s, inst, when)}

    out: dict[str, Any] = await run_in_threadpool(_signed_read, request, signed, build)
    return out
