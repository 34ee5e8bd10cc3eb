"""Deposit JSON API: the bank's signed callbacks (docs/spec/deposit-bank-api.md) and the
platform users' routes under /api/v1."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from sunlit.kernel import partner
from sunlit.kernel.authz import Actor
from sunlit.kernel.db import Database
from sunlit.kernel.errors import InvalidInput, ServiceUnavailable
from sunlit.kernel.web import get_db, require_actor

from . import export, queries, service
from .models import DepositBank
from .schemas import (
    BankIn,
    PaymentNoticeIn,
    RateIn,
    RefundIn,
    RefundResultIn,
    ReleaseIn,
    StatementIn,
)

router = APIRouter(tags=["deposits 投标保证金"])

Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]
Signed = Annotated[partner.SignedRequest, Depends(partner.signed_request)]


def _parse(model: Any, signed: partner.SignedRequest) -> Any:
    try:
        return model.model_validate(signed.json())
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        raise InvalidInput("deposits.message.invalid", "报文字段不正确", errors=errors) from None


# --- bank → platform (signed) ----------------------------------------------------------------


@router.post("/api/v1/deposit-bank/notices", summary="来账通知（银行 → 平台，签名）")
async def payment_notice(request: Request, signed: Signed) -> JSONResponse:
    database: Database = request.app.state.db

    def run(s: Session) -> partner.StoredAnswer:
        data = _parse(PaymentNoticeIn, signed)
        bank = service.bank_for_partner(s, signed.partner_id)
        s.rollback()
        result = service.receive_payment(s, signed.actor, bank.id, data, "notice", signed)
        return partner.StoredAnswer(200, result.answer(), False)

    return await run_in_threadpool(partner.answer_once, database, signed, run)


@router.post("/api/v1/deposit-bank/refund-results", summary="退款结果通知（银行 → 平台，签名）")
async def refund_result(request: Request, signed: Signed) -> JSONResponse:
    database: Database = request.app.state.db

    def run(s: Session) -> partner.StoredAnswer:
        data = _parse(RefundResultIn, signed)
        bank = service.bank_for_partner(s, signed.partner_id)
        s.rollback()
        answer = service.refund_result(s, signed.actor, bank.id, data, "callback", signed)
        return partner.StoredAnswer(200, answer, False)

    return await run_in_threadpool(partner.answer_once, database, signed, run)


# --- banks (center staff) --------------------------------------------------------------------


@router.get("/api/v1/deposit-banks", summary="保证金开户行")
def list_banks(db: Db, actor: LoggedIn) -> list[dict[str, Any]]:
    return queries.banks(db, actor)


@router.post("/api/v1/deposit-banks", status_code=201, summary="准入保证金开户行")
def admit_bank(body: BankIn, db: Db, actor: LoggedIn) -> dict[str, Any]:
    bank = service.admit_bank(db, actor, body)
    return {"id": bank.id, "code": bank.code, "name": bank.name, "status": bank.status}


@router.post("/api/v1/deposit-banks/{bank_id}/rates", status_code=201, summary="登记活期利率")
def add_rate(bank_id: str, body: RateIn, db: Db, actor: LoggedIn) -> dict[str, Any]:
    row = service.set_rate(db, actor, bank_id, body)
    return {"effective_from": row.effective_from, "annual_rate": str(row.annual_rate)}


def statement_fetcher(request: Request) -> Any:
    """Fetch a day's statement from the bank over a signed GET (the spec's statement query)."""
    identity: partner.Identity = request.app.state.partner_identity
    database: Database = request.app.state.db

    def fetch(bank: DepositBank, day: dt.date) -> StatementIn:
        with database.session_scope() as s:
            p = partner.get_partner(s, bank.partner_id)
            base_url = p.base_url
        try:
            with partner.PartnerClient(base_url, identity) as client:
                r = client.get(f"/v1/statements?day={day.isoformat()}")
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                "deposits.bank.unreachable", "保证金开户行暂时无法连接：{error}", error=str(exc)
            ) from None
        if r.status_code != 200:
            raise ServiceUnavailable(
                "deposits.bank.unavailable",
                "保证金开户行未返回对账单（HTTP {status}）",
                status=r.status_code,
            )
        return StatementIn.model_validate(r.json())

    return fetch


@router.post("/api/v1/deposit-banks/{bank_id}/reconcile", summary="日对账（从银行取对账单）")
def reconcile(
    bank_id: str, day: dt.date, request: Request, db: Db, actor: LoggedIn
) -> dict[str, Any]:
    report = service.reconcile(db, actor, bank_id, day, statement_fetcher(request))
    return {
        **export.reconciliation_json(report.reconciliation),
        "results": report.recovered_results,
    }


@router.get("/api/v1/deposit-reconciliations/{rec_id}.xlsx", summary="对账报告（Excel）")
def reconciliation_xlsx(rec_id: str, db: Db, actor: LoggedIn) -> Response:
    row = queries.reconciliation(db, actor, rec_id)
    data = export.reconciliation_xlsx(db, row)
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="reconciliation-{row.day}.xlsx"'},
    )


@router.get("/api/v1/deposit-reconciliations/{rec_id}.pdf", summary="对账报告（PDF）")
def reconciliation_pdf(rec_id: str, db: Db, actor: LoggedIn) -> Response:
    row = queries.reconciliation(db, actor, rec_id)
    return Response(export.reconciliation_pdf(db, row), media_type="application/pdf")


# --- sections and sub-accounts ---------------------------------------------------------------


@router.post(
    "/api/v1/sections/{section_id}/deposit-account",
    status_code=201,
    summary="申请保证金虚拟子账号（投标人）",
)
def request_account(section_id: str, db: Db, actor: LoggedIn) -> dict[str, Any]:
    account = service.request_account(db, actor, section_id)
    return queries.my_account(db, actor, account.section_id)


@router.get("/api/v1/sections/{section_id}/deposit-account", summary="本单位的保证金子账号")
def my_account(section_id: str, db: Db, actor: LoggedIn) -> dict[str, Any]:
    return queries.my_account(db, actor, section_id)


@router.get("/api/v1/sections/{section_id}/deposits", summary="标段保证金（截止前仅数量）")
def section_deposits(section_id: str, db: Db, actor: LoggedIn) -> dict[str, Any]:
    return queries.section_overview(db, actor, section_id)


@router.post("/api/v1/sections/{section_id}/deposits/release", summary="合同签订后退还保证金")
def release(section_id: str, body: ReleaseIn, db: Db, actor: LoggedIn) -> dict[str, Any]:
    refunds = service.release_section(
        db, actor, section_id, body.contract_signed_on, body.reason, body.forfeit_org_ids
    )
    return {
        "refunds": [
            {
                "instruction_id": r.instruction_id,
                "account_id": r.account_id,
                "principal": str(r.principal),
                "interest": str(r.interest),
                "due_by": r.due_by,
                "interest_detail": r.interest_detail,
            }
            for r in refunds
        ]
    }


@router.post("/api/v1/deposit-accounts/{account_id}/refund", summary="退还单个子账号")
def refund_one(account_id: str, body: RefundIn, db: Db, actor: LoggedIn) -> dict[str, Any]:
    r = service.refund_account(
        db, actor, account_id, body.reason, body.payee_account_no, body.payee_account_name
    )
    return {
        "instruction_id": r.instruction_id,
        "principal": str(r.principal),
        "interest": str(r.interest),
    }


@router.get("/api/v1/deposit-alerts", summary="保证金同一账户缴纳预警（行政监督）")
def alerts(db: Db, actor: LoggedIn) -> list[dict[str, Any]]:
    return queries.alerts(db, actor)
