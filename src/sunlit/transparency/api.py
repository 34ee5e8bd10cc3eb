"""Transparency JSON API under /api/v1/transparency (T3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session

from sunlit.kernel.authz import Actor
from sunlit.kernel.web import current_actor, get_db, require_actor
from sunlit.transparency import keys, queries, service
from sunlit.transparency.note import b64
from sunlit.transparency.schemas import (
    CheckpointOut,
    ConsistencyOut,
    CosignatureOut,
    CosignIn,
    InclusionOut,
    IssueIn,
    KeyOut,
    LeafOut,
    OpeningOut,
)

router = APIRouter(prefix="/api/v1/transparency", tags=["transparency 透明日志"])

Db = Annotated[Session, Depends(get_db)]
AnyActor = Annotated[Actor, Depends(current_actor)]
LoggedIn = Annotated[Actor, Depends(require_actor)]
MAX_INDEX = 2**63 - 1  # BIGINT


def platform_key(request: Request) -> keys.PlatformKey:
    """The app's platform key (generated at first use under the app's data directory)."""
    return keys.platform_key(request.app.state.settings)


Key = Annotated[keys.PlatformKey, Depends(platform_key)]


@router.get("/key", response_model=KeyOut, summary="平台检查点签名公钥")
def get_key(db: Db, key: Key) -> KeyOut:
    meta = queries.log_meta(db)
    return KeyOut.of(key, meta.origin if meta else None, meta.hash_algorithm if meta else None)


@router.get("/key.pem", response_class=PlainTextResponse, summary="平台公钥（PEM 下载）")
def get_key_pem(key: Key) -> PlainTextResponse:
    return PlainTextResponse(
        key.public_pem(),
        media_type="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="sunlit-platform.pub.pem"'},
    )


@router.get("/checkpoints/latest", response_model=CheckpointOut, summary="最新检查点")
def latest_checkpoint(db: Db) -> CheckpointOut:
    return CheckpointOut.of(queries.require_latest_checkpoint(db))


@router.get(
    "/checkpoints/latest.txt", response_class=PlainTextResponse, summary="最新检查点（签名文本）"
)
def latest_checkpoint_note(db: Db) -> PlainTextResponse:
    return PlainTextResponse(queries.signed_note(queries.require_latest_checkpoint(db)))


@router.get("/checkpoints", response_model=list[CheckpointOut], summary="检查点列表（新到旧）")
def list_checkpoints(
    db: Db,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CheckpointOut]:
    return [CheckpointOut.of(c) for c in queries.list_checkpoints(db, limit, offset)]


@router.post(
    "/checkpoints", response_model=CheckpointOut, status_code=201, summary="签发检查点（交易中心）"
)
def issue_checkpoint(data: IssueIn, db: Db, actor: LoggedIn, key: Key) -> CheckpointOut:
    return CheckpointOut.of(service.issue_checkpoint(db, actor, data.reason, key=key))


@router.get("/checkpoints/{size}", response_model=CheckpointOut, summary="指定树大小的检查点")
def checkpoint_by_size(size: Annotated[int, Path(ge=0, le=MAX_INDEX)], db: Db) -> CheckpointOut:
    return CheckpointOut.of(queries.checkpoint_by_size(db, size))


@router.post(
    "/checkpoints/{size}/cosignatures",
    response_model=CosignatureOut,
    status_code=201,
    summary="见证联署检查点（行政监督）",
)
def cosign_checkpoint(
    size: Annotated[int, Path(ge=0, le=MAX_INDEX)], data: CosignIn, db: Db, actor: LoggedIn
) -> CosignatureOut:
    row = service.cosign_checkpoint(db, actor, size, data.signature, data.certificate_id)
    return CosignatureOut.of(row)


@router.get(
    "/proofs/inclusion",
    response_model=InclusionOut,
    response_model_by_alias=True,
    summary="存在性证明（可直接保存为导出文件）",
)
def inclusion_proof(
    db: Db,
    actor: AnyActor,
    event_id: str | None = None,
    leaf_index: Annotated[int | None, Query(ge=0, le=MAX_INDEX)] = None,
    tree_size: Annotated[int | None, Query(ge=0, le=MAX_INDEX)] = None,
) -> InclusionOut:
    bundle = queries.inclusion(
        db, actor, event_id=event_id, leaf_index=leaf_index, tree_size=tree_size
    )
    return InclusionOut.model_validate(bundle)


@router.get(
    "/proofs/consistency",
    response_model=ConsistencyOut,
    summary="一致性证明（可直接保存为导出文件）",
)
def consistency_proof(
    db: Db,
    size1: Annotated[int, Query(alias="from", ge=0, le=MAX_INDEX)],
    size2: Annotated[int | None, Query(alias="to", ge=0, le=MAX_INDEX)] = None,
) -> ConsistencyOut:
    return ConsistencyOut.model_validate(queries.consistency(db, size1, size2))


@router.get("/leaves/{index}", response_model=LeafOut, summary="叶子（按序号）")
def leaf_by_index(
    index: Annotated[int, Path(ge=0, le=MAX_INDEX)], db: Db, actor: AnyActor
) -> LeafOut:
    return _leaf_out(queries.leaf_view(db, actor, leaf_index=index))


@router.get("/events/{event_id}/leaf", response_model=LeafOut, summary="叶子（按事件编号）")
def leaf_by_event(event_id: str, db: Db, actor: AnyActor) -> LeafOut:
    return _leaf_out(queries.leaf_view(db, actor, event_id=event_id))


@router.get(
    "/events/{event_id}/opening",
    response_model=OpeningOut,
    response_model_by_alias=True,
    summary="密封内容的公开（到期后）",
)
def sealed_opening(event_id: str, db: Db) -> OpeningOut:
    return OpeningOut.model_validate(queries.opening(db, event_id))


def _leaf_out(view: queries.LeafView) -> LeafOut:
    return LeafOut(
        index=view.index,
        event_id=view.event_id,
        hash_algorithm=view.hash_algorithm,
        leaf_hash=b64(view.leaf_hash),
        leaf=b64(view.leaf) if view.leaf is not None else None,
        visible=view.leaf is not None,
    )
