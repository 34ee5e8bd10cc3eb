"""Opening JSON API under /api/v1/sections/{section_id}/opening."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from sunlit.kernel.authz import Actor
from sunlit.kernel.storage import BlobStore
from sunlit.kernel.web import get_db, require_actor

from . import queries, service

router = APIRouter(prefix="/api/v1/sections/{section_id}/opening", tags=["opening 开标"])

Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]


def blob_store(request: Request) -> BlobStore:
    store: BlobStore = request.app.state.blobs
    return store


Blobs = Annotated[BlobStore, Depends(blob_store)]
View = dict[str, Any]


class DecryptIn(BaseModel):
    role: str = Field(description="tenderer 或 center")
    passphrase: str = Field(description="开标密钥口令（仅在开标时间后于内存中使用，不保存）")


class RemedyIn(BaseModel):
    opened_bid_id: str
    summary_key: str
    files_key: str


class ValueIn(BaseModel):
    value: str


class DrawIn(BaseModel):
    center_value: str
    center_salt: str


class ReasonIn(BaseModel):
    reason: str


class ObjectionIn(BaseModel):
    content: str = Field(description="异议内容（不超过2000字）")


class AnswerIn(BaseModel):
    answer: str = Field(description="答复内容（不超过2000字）")


@router.get("", summary="开标情况（唱标后显示报价）")
def view(section_id: str, db: Db, actor: LoggedIn) -> View:
    return queries.session_view(db, actor, section_id)


@router.post("/start", summary="开始开标（主持人，开标时间后）")
def start(section_id: str, db: Db, actor: LoggedIn) -> View:
    service.start(db, actor, section_id)
    return queries.session_view(db, actor, section_id)


@router.post("/sign-in", summary="投标人签到（开标开始后）")
def sign_in(section_id: str, db: Db, actor: LoggedIn) -> View:
    service.sign_in(db, actor, section_id)
    return queries.session_view(db, actor, section_id)


@router.post("/continue", summary="投标人不足时决定继续开标")
def continue_opening(section_id: str, db: Db, actor: LoggedIn) -> View:
    service.continue_opening(db, actor, section_id)
    return queries.session_view(db, actor, section_id)


@router.post("/terminate", summary="终止开标")
def terminate(section_id: str, body: ReasonIn, db: Db, actor: LoggedIn) -> View:
    service.terminate(db, actor, section_id, body.reason)
    return queries.session_view(db, actor, section_id)


@router.post("/decrypt", summary="解密（招标人或交易中心，一次完成全部投标文件）")
def decrypt(section_id: str, body: DecryptIn, db: Db, actor: LoggedIn, blobs: Blobs) -> View:
    service.decrypt(db, actor, blobs, section_id, body.role, body.passphrase)
    return queries.session_view(db, actor, section_id)


@router.post("/remedy", summary="投标人解密补救（提交以本人证书私钥恢复的密钥）")
def remedy(section_id: str, body: RemedyIn, db: Db, actor: LoggedIn, blobs: Blobs) -> View:
    service.remedy(
        db, actor, blobs, section_id, body.opened_bid_id, body.summary_key, body.files_key
    )
    return queries.session_view(db, actor, section_id)


@router.post("/confirm-results", summary="投标人确认唱标结果无误（确认期内，一次）")
def confirm_results(section_id: str, db: Db, actor: LoggedIn) -> View:
    service.confirm_results(db, actor, section_id)
    return queries.session_view(db, actor, section_id)


@router.get(
    "/draw-record",
    summary="系数抽取记录（JSON，可用 sunlit draw verify 离线验证）",
    response_class=JSONResponse,
)
def draw_record(section_id: str, db: Db, actor: LoggedIn) -> Response:
    return draw_record_response(queries.draw_record(db, actor, section_id))


def draw_record_response(doc: dict[str, Any]) -> Response:
    """The stored record as a download, byte for byte what ``sunlit draw verify`` reads."""
    name = f"draw-record-{doc.get('draw_id', 'opening')}.json"
    body = json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/supervisor-value", summary="监督人录入随机数")
def supervisor_value(section_id: str, body: ValueIn, db: Db, actor: LoggedIn) -> View:
    service.enter_supervisor_value(db, actor, section_id, body.value)
    return queries.session_view(db, actor, section_id)


@router.post("/draw", summary="抽取系数（交易中心揭示承诺值）")
def draw(section_id: str, body: DrawIn, db: Db, actor: LoggedIn) -> View:
    return service.draw_coefficients(db, actor, section_id, body.center_value, body.center_salt)


@router.post("/record", summary="生成并签名开标记录")
def seal_record(section_id: str, db: Db, actor: LoggedIn) -> View:
    service.seal_record(db, actor, section_id)
    return queries.session_view(db, actor, section_id)


@router.post("/confirm", summary="招标人确认开标记录")
def confirm(section_id: str, db: Db, actor: LoggedIn) -> View:
    service.confirm(db, actor, section_id)
    return queries.session_view(db, actor, section_id)


@router.get("/objections", summary="开标异议（投标人仅见本单位的异议）")
def objections(section_id: str, db: Db, actor: LoggedIn) -> list[View]:
    return queries.objections(db, actor, section_id)


@router.post("/objections", status_code=201, summary="投标人当场提出开标异议（唱标后）")
def raise_objection(section_id: str, body: ObjectionIn, db: Db, actor: LoggedIn) -> View:
    row = service.raise_objection(db, actor, section_id, body.content)
    return {"id": row.id, "objections": queries.objections(db, actor, section_id)}


@router.post("/objections/{objection_id}/answer", summary="招标人当场答复开标异议")
def answer_objection(
    section_id: str, objection_id: str, body: AnswerIn, db: Db, actor: LoggedIn
) -> View:
    row = service.answer_objection(db, actor, section_id, objection_id, body.answer)
    return {"id": row.id, "objections": queries.objections(db, actor, section_id)}
