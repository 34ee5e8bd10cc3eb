"""Award JSON API: /api/v1/sections/{section_id}/award, /api/v1/award-letters, /api/v1/awards."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from sunlit.kernel.authz import Actor
from sunlit.kernel.crypto import InvalidSignature
from sunlit.kernel.errors import InvalidInput
from sunlit.kernel.web import get_db, require_actor
from sunlit.projects.api import Calendar
from sunlit.transparency import keys as platform_keys

from . import letters, queries, service
from .rules import PassOver

router = APIRouter(tags=["award 定标"])
Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]
View = dict[str, Any]
BASE = "/api/v1/sections/{section_id}/award"


class PublicityIn(BaseModel):
    days: int = Field(3, description="公示天数（不少于3日）")
    objection_channel: str = ""


class ObjectionIn(BaseModel):
    content: str = Field(description="异议内容（不超过2000字）")
    contact: str = ""


class AnswerIn(BaseModel):
    answer: str


class PassOverIn(BaseModel):
    candidate_id: str
    reason_code: str = Field(description="gave_up | force_majeure | no_security | unlawful")
    explanation: str
    evidence_name: str
    evidence_base64: str = Field(description="证明材料文件（Base64）")


class DecisionIn(BaseModel):
    winner_id: str
    pass_overs: list[PassOverIn] = []
    note: str = ""


class NotifyIn(BaseModel):
    project_lead: str = ""
    project_lead_certificate: str = ""


class ContractBody(BaseModel):
    contract_code: str
    name: str
    price: str
    content: str
    signed_at: dt.datetime
    limit_time: str = ""
    quality: str = ""
    late_reason: str = ""


class ReasonIn(BaseModel):
    reason: str


def _evidence(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            "award.decision.evidence_encoding", "证明材料须为Base64编码", field="pass_overs"
        ) from None


@router.get(BASE, summary="定标情况")
def view(section_id: str, db: Db, actor: LoggedIn) -> View:
    return queries.process_view(db, actor, section_id)


@router.post(BASE + "/open", status_code=201, summary="依已签署的评标报告进入定标")
def open_award(section_id: str, db: Db, actor: LoggedIn) -> View:
    service.open_award(db, actor, section_id)
    return queries.process_view(db, actor, section_id)


@router.post(BASE + "/publicity", summary="发布中标候选人公示（不少于3日）")
def publicity(section_id: str, body: PublicityIn, db: Db, actor: LoggedIn) -> View:
    service.publish_publicity(db, actor, section_id, body.days, body.objection_channel)
    return queries.process_view(db, actor, section_id)


@router.post(BASE + "/objections", status_code=201, summary="投标人在公示期间对评标结果提出异议")
def raise_objection(section_id: str, body: ObjectionIn, db: Db, actor: LoggedIn) -> View:
    row = service.raise_objection(db, actor, section_id, body.content, body.contact)
    return {"id": row.id, "award": queries.process_view(db, actor, section_id)}


@router.post(BASE + "/objections/{objection_id}/answer", summary="招标人答复异议（3日内）")
def answer_objection(
    section_id: str, objection_id: str, body: AnswerIn, db: Db, actor: LoggedIn
) -> View:
    service.answer_objection(db, actor, section_id, objection_id, body.answer)
    return queries.process_view(db, actor, section_id)


@router.post(BASE + "/decision", summary="确定中标人（实施条例第五十五条）")
def decide(section_id: str, body: DecisionIn, db: Db, actor: LoggedIn) -> View:
    pass_overs = {
        p.candidate_id: PassOver(
            p.reason_code, p.explanation, p.evidence_name, _evidence(p.evidence_base64)
        )
        for p in body.pass_overs
    }
    service.decide(db, actor, section_id, body.winner_id, pass_overs, body.note)
    return queries.process_view(db, actor, section_id)


@router.post(BASE + "/notify", summary="发出中标通知书和中标结果通知，发布中标结果公告")
def notify(section_id: str, body: NotifyIn, db: Db, actor: LoggedIn) -> View:
    service.notify(db, actor, section_id, body.project_lead, body.project_lead_certificate)
    return queries.process_view(db, actor, section_id)


@router.post(BASE + "/contract", summary="登记合同并公示")
def contract(
    section_id: str, body: ContractBody, db: Db, actor: LoggedIn, calendar: Calendar
) -> View:
    service.record_contract(
        db, actor, section_id, service.ContractIn(**body.model_dump()), calendar
    )
    return queries.process_view(db, actor, section_id)


@router.post(BASE + "/cancel", summary="终止定标")
def cancel(section_id: str, body: ReasonIn, db: Db, actor: LoggedIn) -> View:
    service.cancel(db, actor, section_id, body.reason)
    return queries.process_view(db, actor, section_id)


@router.get(BASE + "/evidence/{candidate_id}", summary="未确定为中标人的理由的证明材料")
def evidence(section_id: str, candidate_id: str, db: Db, actor: LoggedIn) -> Response:
    po = queries.evidence(db, actor, section_id, candidate_id)
    return Response(
        po.evidence,
        media_type="application/octet-stream",
        headers={"Content-Disposition": "attachment; filename=evidence.bin"},
    )


@router.get(BASE + "/data-spec", summary="数据规范记录（510/511/513/9018/512/9019）")
def data_spec(section_id: str, db: Db, actor: LoggedIn) -> dict[str, list[View]]:
    return queries.data_spec(db, actor, section_id)


@router.get("/api/v1/award-letters/{letter_id}", summary="通知书（已签名的结构化数据）")
def letter(letter_id: str, db: Db, actor: LoggedIn) -> View:
    return queries.letter_bundle(queries.letter(db, actor, letter_id))


@router.get("/api/v1/award-letters/{letter_id}/pdf", summary="通知书 PDF（平台签名）")
def letter_pdf(letter_id: str, db: Db, actor: LoggedIn) -> Response:
    row = queries.letter(db, actor, letter_id)
    return Response(
        row.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{row.number}.pdf"',
            "X-Sunlit-Signature": row.pdf_signature,
        },
    )


@router.get("/api/v1/award-letters/{letter_id}/verify", summary="用平台公钥核验通知书签名")
def verify_letter(letter_id: str, db: Db, actor: LoggedIn) -> View:
    row = queries.letter(db, actor, letter_id)
    key = platform_keys.platform_key()
    out = {"number": row.number, "key_id": row.key_id, "letter": False, "pdf": False}
    try:
        letters.verify_letter(row.doc, row.signature, key.public_key)
        out["letter"] = True
        letters.verify_pdf(row.number, row.pdf, row.pdf_signature, key.public_key)
        out["pdf"] = True
    except (InvalidSignature, ValueError):
        pass
    return out


@router.get("/api/v1/awards", summary="定标监督（交易中心、监督部门）")
def monitor(db: Db, actor: LoggedIn) -> list[View]:
    return queries.monitor(db, actor)


@router.get("/api/v1/my/award-letters", summary="本单位收到的中标通知书和中标结果通知书")
def my_letters(db: Db, actor: LoggedIn) -> list[View]:
    return queries.my_awards(db, actor)
