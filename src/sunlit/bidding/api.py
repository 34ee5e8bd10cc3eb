"""Bidding JSON API: opening keys, section-keys.json, the draw commitment, bid upload,
withdrawal, receipts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import anyio.from_thread
from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from sunlit.kernel.authz import Actor
from sunlit.kernel.storage import BlobStore
from sunlit.kernel.web import current_actor, get_db, require_actor
from sunlit.transparency import keys as platform_keys

from . import queries, service
from .schemas import (
    BidCountOut,
    BidOut,
    DrawCommitmentIn,
    DrawCommitmentOut,
    OpeningKeyIn,
    OpeningKeyOut,
    SubmissionOut,
)

router = APIRouter(prefix="/api/v1", tags=["bidding 投标"])

Db = Annotated[Session, Depends(get_db)]
AnyActor = Annotated[Actor, Depends(current_actor)]
LoggedIn = Annotated[Actor, Depends(require_actor)]


def blob_store(request: Request) -> BlobStore:
    store: BlobStore = request.app.state.blobs
    return store


Blobs = Annotated[BlobStore, Depends(blob_store)]


@router.post(
    "/sections/{section_id}/opening-keys",
    response_model=OpeningKeyOut,
    status_code=201,
    summary="登记开标密钥（公告发布前）",
)
def register_opening_key(
    section_id: str, body: OpeningKeyIn, db: Db, actor: LoggedIn
) -> OpeningKeyOut:
    row = service.register_opening_key(
        db, actor, section_id, body.role, body.public_key, body.encrypted_private_key
    )
    return OpeningKeyOut.model_validate(row)


@router.get(
    "/sections/{section_id}/section-keys.json",
    summary="下载标段开标公钥（section-keys.json，加密投标文件用）",
    response_class=Response,
)
def section_keys_json(section_id: str, db: Db) -> Response:
    return Response(
        queries.section_keys_json(db, section_id),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="section-keys.json"'},
    )


@router.post(
    "/sections/{section_id}/draw-commitment",
    response_model=DrawCommitmentOut,
    status_code=201,
    summary="登记系数抽取承诺值（交易中心，投标截止前）",
)
def register_draw_commitment(
    section_id: str, body: DrawCommitmentIn, db: Db, actor: LoggedIn
) -> DrawCommitmentOut:
    row = service.register_draw_commitment(db, actor, section_id, body.commitment)
    return DrawCommitmentOut.model_validate(row)


def _submission(db: Session, actor: Actor, bid: Any) -> SubmissionOut:
    key = platform_keys.platform_key().private_key
    out = queries.receipt(db, actor, bid.id, key).to_json()
    return SubmissionOut(
        bid=BidOut.model_validate(bid), receipt=out["receipt"], signature=out["signature"]
    )


BATCH = 1024 * 1024  # body bytes handed to the worker thread per hop


async def _next(stream: AsyncIterator[bytes]) -> bytes:
    """The next ~1 MiB of the body (b"" at its end). The server delivers it in small pieces
    (64 KiB or less); handing each to the worker thread would cost one event-loop round trip
    per piece, so they are gathered here, in the event loop, first."""
    parts: list[bytes] = []
    size = 0
    while size < BATCH:
        try:
            chunk = await stream.__anext__()
        except StopAsyncIteration:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


@router.put(
    "/sections/{section_id}/bid",
    response_model=SubmissionOut,
    status_code=201,
    summary="上传加密投标文件（原始请求体，流式；返回签名回执）",
    description=(
        "请求体为按《加密投标文件格式》加密的投标文件本身（application/octet-stream）。"
        "平台逐块写入存储并校验结构、签名、标段与证书，截止时间以提交事务时的可信时钟为准；"
        "同一投标人以最后一次有效提交为准。"
    ),
)
async def submit_bid(
    section_id: str, request: Request, db: Db, actor: LoggedIn, blobs: Blobs
) -> SubmissionOut:
    stream: AsyncIterator[bytes] = request.stream().__aiter__()

    def chunks() -> Iterator[bytes]:
        while True:
            chunk: bytes = anyio.from_thread.run(_next, stream)
            if not chunk:
                return
            yield chunk

    def work() -> SubmissionOut:
        bid = service.receive_bid(db, actor, blobs, section_id, chunks())
        return _submission(db, actor, bid)

    return await anyio.to_thread.run_sync(work)


@router.get("/bids", response_model=list[BidOut], summary="本单位的投标文件（含已替换、已撤回）")
def my_bids(db: Db, actor: LoggedIn, section_id: str | None = None) -> list[BidOut]:
    return [BidOut.model_validate(b) for b in queries.my_bids(db, actor, section_id)]


@router.get("/bids/{bid_id}/receipt", summary="下载投标回执（可离线验证）")
def bid_receipt(bid_id: str, db: Db, actor: LoggedIn) -> Response:
    key = platform_keys.platform_key().private_key
    signed = queries.receipt(db, actor, bid_id, key)
    return Response(
        signed.dumps(),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="receipt-{bid_id}.json"'},
    )


@router.post("/bids/{bid_id}/withdraw", response_model=BidOut, summary="撤回投标文件（截止前）")
def withdraw_bid(bid_id: str, db: Db, actor: LoggedIn) -> BidOut:
    return BidOut.model_validate(service.withdraw_bid(db, actor, bid_id))


@router.get(
    "/sections/{section_id}/bid-count",
    response_model=BidCountOut,
    summary="有效投标文件数量（仅交易中心；开标前不显示投标人）",
)
def bid_count(section_id: str, db: Db, actor: LoggedIn) -> BidCountOut:
    return BidCountOut(section_id=section_id, valid_bids=queries.bid_count(db, actor, section_id))
