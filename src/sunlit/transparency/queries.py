"""Transparency reads: checkpoints, proofs, leaves and sealed openings.

Checkpoints, proofs and leaf hashes are public; leaf bytes follow ``policies.can_see_leaf``.
Every proof is generated from the stored subtree hashes in one query (O(log n)).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.kernel import tlog
from sunlit.kernel.authz import Actor
from sunlit.kernel.errors import InvalidInput, NotFound, not_found
from sunlit.transparency import bundles, note
from sunlit.transparency.models import Checkpoint
from sunlit.transparency.policies import can_see_leaf


def signed_note(cp: Checkpoint) -> str:
    """The checkpoint as a signed note: platform signature, then witness co-signatures."""
    sigs = [note.NoteSignature(cp.key_name, cp.key_hash, cp.signature)]
    sigs += [note.NoteSignature(c.key_name, c.key_hash, c.signature) for c in cp.cosignatures]
    return note.format_note(cp.body, sigs)


def log_meta(db: Session) -> tlog.LogMeta | None:
    return tlog.get_log(db)


def _require_log(db: Session) -> tlog.LogMeta:
    meta = tlog.get_log(db)
    if meta is None:
        raise NotFound("transparency.empty", "透明日志尚无记录")
    return meta


def latest_checkpoint(db: Session) -> Checkpoint | None:
    return db.scalar(select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(1))


def require_latest_checkpoint(db: Session) -> Checkpoint:
    cp = latest_checkpoint(db)
    if cp is None:
        raise NotFound("transparency.no_checkpoint", "平台尚未签发任何检查点")
    return cp


def checkpoint_by_size(db: Session, size: int) -> Checkpoint:
    cp = db.scalar(select(Checkpoint).where(Checkpoint.tree_size == size))
    if cp is None:
        raise not_found("检查点")
    return cp


def list_checkpoints(db: Session, limit: int = 50, offset: int = 0) -> list[Checkpoint]:
    stmt = select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(limit).offset(offset)
    return list(db.scalars(stmt))


def _checkpoint_note(db: Session, size: int) -> str | None:
    cp = db.scalar(select(Checkpoint).where(Checkpoint.tree_size == size))
    return signed_note(cp) if cp is not None else None


def _check_size(size: int, current: int) -> None:
    if size < 0 or size > current:
        raise InvalidInput(
            "transparency.size_out_of_range",
            "树大小{size}超出范围：日志当前共有{current}条记录",
            field="tree_size",
            size=size,
            current=current,
        )


def _leaf(db: Session, event_id: str | None, leaf_index: int | None) -> tlog.LogLeaf:
    if (event_id is None) == (leaf_index is None):
        raise InvalidInput(
            "transparency.leaf_selector", "请指定事件编号（event_id）或叶子序号（leaf_index）之一"
        )
    leaf = (
        tlog.leaf_for_event(db, event_id)
        if event_id is not None
        else tlog.leaf_at(db, leaf_index or 0)
    )
    if leaf is None:
        raise NotFound("transparency.leaf_not_found", "透明日志中没有该事件或叶子")
    return leaf


def _leaf_document(leaf: tlog.LogLeaf) -> dict[str, Any]:
    try:
        doc = json.loads(leaf.leaf)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _visible(actor: Actor, leaf: tlog.LogLeaf) -> bool:
    doc = _leaf_document(leaf)
    who = doc.get("actor")
    action = doc.get("action")
    if not isinstance(who, dict) or not isinstance(action, str):
        return False
    return can_see_leaf(actor, who.get("user_id"), action)


@dataclass(frozen=True)
class LeafView:
    index: int
    event_id: str
    leaf_hash: bytes
    leaf: bytes | None  # None when the actor may not see the event
    hash_algorithm: str


def leaf_view(
    db: Session, actor: Actor, *, event_id: str | None = None, leaf_index: int | None = None
) -> LeafView:
    meta = _require_log(db)
    leaf = _leaf(db, event_id, leaf_index)
    return LeafView(
        leaf.leaf_index,
        leaf.event_id,
        bytes(leaf.leaf_hash),
        bytes(leaf.leaf) if _visible(actor, leaf) else None,
        meta.hash_algorithm,
    )


def inclusion(
    db: Session,
    actor: Actor,
    *,
    event_id: str | None = None,
    leaf_index: int | None = None,
    tree_size: int | None = None,
) -> dict[str, Any]:
    """Inclusion bundle of a leaf against ``tree_size`` (default: the latest checkpoint)."""
    meta = _require_log(db)
    leaf = _leaf(db, event_id, leaf_index)
    current = tlog.tree_size(db)
    if tree_size is None:
        latest = require_latest_checkpoint(db)
        if leaf.leaf_index >= latest.tree_size:
            raise InvalidInput(
                "transparency.not_yet_checkpointed",
                "该记录（叶子{index}）尚未被检查点覆盖（最新检查点树大小为{size}），"
                "请在下一个检查点签发后再获取证明",
                index=leaf.leaf_index,
                size=latest.tree_size,
            )
        tree_size = latest.tree_size
    _check_size(tree_size, current)
    if leaf.leaf_index >= tree_size:
        raise InvalidInput(
            "transparency.index_beyond_size",
            "叶子{index}不在大小为{size}的树中（叶子序号须小于树大小）",
            field="tree_size",
            index=leaf.leaf_index,
            size=tree_size,
        )
    proof = tlog.inclusion_proof_at(db, meta, leaf.leaf_index, tree_size)
    return bundles.inclusion_bundle(
        hash_algorithm=meta.hash_algorithm,
        origin=meta.origin,
        event_id=leaf.event_id,
        index=leaf.leaf_index,
        size=tree_size,
        leaf_hash_=bytes(leaf.leaf_hash),
        leaf=bytes(leaf.leaf) if _visible(actor, leaf) else None,
        proof=proof,
        root=tlog.root_at(db, meta, tree_size),
        checkpoint=_checkpoint_note(db, tree_size),
    )


def consistency(db: Session, size1: int, size2: int | None = None) -> dict[str, Any]:
    """Consistency bundle from ``size1`` to ``size2`` (default: the latest checkpoint)."""
    meta = _require_log(db)
    current = tlog.tree_size(db)
    if size2 is None:
        size2 = require_latest_checkpoint(db).tree_size
    _check_size(size1, current)
    _check_size(size2, current)
    if not 0 < size1 <= size2:
        raise InvalidInput(
            "transparency.consistency_sizes",
            "一致性证明要求 0 < 旧树大小 ≤ 新树大小，收到 {size1} 与 {size2}",
            size1=size1,
            size2=size2,
        )
    return bundles.consistency_bundle(
        hash_algorithm=meta.hash_algorithm,
        origin=meta.origin,
        size1=size1,
        size2=size2,
        root1=tlog.root_at(db, meta, size1),
        root2=tlog.root_at(db, meta, size2),
        proof=tlog.consistency_proof_at(db, meta, size1, size2),
        checkpoint1=_checkpoint_note(db, size1),
        checkpoint2=_checkpoint_note(db, size2),
    )


def opening(db: Session, event_id: str) -> dict[str, Any]:
    """The opening of a sealed event, public once its reveal time has passed.

    The commitment is taken from the event's *leaf*, so the opening is checked against what
    the log holds, not against a row that could have been edited since.
    """
    leaf = tlog.leaf_for_event(db, event_id)
    sealed = _leaf_document(leaf).get("sealed") if leaf is not None else None
    commitment = sealed.get("commitment") if isinstance(sealed, dict) else None
    opened = tlog.open_sealed(db, event_id, commitment if isinstance(commitment, str) else None)
    return bundles.opening_bundle(
        hash_algorithm=opened.hash_algorithm,
        event_id=event_id,
        commitment=opened.commitment,
        salt=opened.salt,
        payload=opened.payload,
        reveal_after=tlog.timestamp(opened.reveal_after),
    )
