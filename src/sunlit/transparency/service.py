"""Transparency use cases: issuing checkpoints and witness co-signatures.

Ordering of a checkpoint issue (spec §5.3): inside one transaction the use case takes the log
lock, reads the size ``n`` and root of the committed log, signs the checkpoint over
``[0, n)``, stores it, and records its own audit event. That event is appended when the
transaction commits, as leaf ``n``: a checkpoint never covers the event of its own issue;
the next checkpoint does. Call :func:`issue_checkpoint` as a use case of its own, right after
the use case it follows (a deadline, an opening, an award) has committed, so that its
checkpoint covers that event.
"""

from __future__ import annotations

import base64
import binascii

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.identity import queries as identity_queries
from sunlit.kernel import audit, clock, tlog
from sunlit.kernel.authz import Actor, system_actor
from sunlit.kernel.crypto import InvalidSignature, verify_any
from sunlit.kernel.crypto.errors import CryptoError
from sunlit.kernel.crypto.x509 import load_certificate
from sunlit.kernel.db import new_id, use_case
from sunlit.kernel.errors import Conflict, InvalidInput, Unauthenticated, not_found
from sunlit.transparency import keys, note, queries
from sunlit.transparency.models import Checkpoint, Cosignature
from sunlit.transparency.policies import POLICY

MAX_REASON = 200


@use_case
def issue_checkpoint(
    db: Session, actor: Actor, reason: str, *, key: keys.PlatformKey | None = None
) -> Checkpoint:
    """签发检查点: sign (size, root, time) of the log as committed now.

    ``reason`` says why (e.g. "投标截止 项目 X 标段 1", "定时"). ``key`` defaults to the
    platform key (:func:`sunlit.transparency.keys.platform_key`). Center staff issue by hand;
    a domain issuing at a deadline, opening or award passes the platform's
    ``kernel.authz.system_actor(...)``, in a use case of its own after its event committed.
    """
    POLICY.require(actor, "checkpoint.issue")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(
            "transparency.reason", "请填写签发原因（不超过{n}个字）", field="reason", n=MAX_REASON
        )
    key = key or keys.platform_key()
    tlog.lock(db)  # the size and root below stay the committed ones until we commit
    meta = tlog.ensure_log(db, key.suite)
    size = tlog.tree_size(db)
    if db.scalar(select(Checkpoint.id).where(Checkpoint.tree_size == size)):
        raise Conflict(
            "transparency.checkpoint.exists", "树大小为{size}的检查点已经签发", size=size
        )
    root = tlog.root_at(db, meta, size)
    now = clock.now().replace(microsecond=0)
    cp = note.Checkpoint(meta.origin, size, root, meta.hash_algorithm, now)
    text = cp.text()
    sig = note.sign(text, meta.origin, key.private_key)
    row = Checkpoint(
        id=new_id(),
        tree_size=size,
        root_hash=root,
        origin=meta.origin,
        hash_algorithm=meta.hash_algorithm,
        issued_at=now,
        body=text,
        key_name=sig.key_name,
        key_hash=sig.key_hash,
        key_id=key.key_id,
        signature=sig.signature,
        reason=reason,
        issued_by=actor.user_id,
    )
    db.add(row)
    audit.record(
        db,
        actor,
        "transparency.checkpoint.issued",
        "checkpoint",
        row.id,
        {"tree_size": size, "root": note.b64(root), "reason": reason, "key_id": key.key_id},
    )
    return row


SCHEDULED_REASON = "定时签发"


def scheduled_checkpoint(db: Session, *, key: keys.PlatformKey | None = None) -> Checkpoint | None:
    """Issue a checkpoint if anything but the last checkpoint's own event was logged since.

    Run by the app's scheduler in every process; when two processes race, the loser's
    ``transparency.checkpoint.exists`` conflict means the work is done.
    """
    last = queries.latest_checkpoint(db)
    size = tlog.tree_size(db)
    db.rollback()  # end the read; issue_checkpoint takes the log lock and re-reads
    if size == 0 or (last is not None and size <= last.tree_size + 1):
        return None
    try:
        return issue_checkpoint(db, system_actor("scheduler"), SCHEDULED_REASON, key=key)
    except Conflict:
        return None


def _decode_signature(value: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not raw:
        raise InvalidInput(
            "transparency.witness.encoding",
            "联署签名应为 base64 编码的 DER 签名",
            field="signature",
        )
    return raw


@use_case
def cosign_checkpoint(
    db: Session,
    actor: Actor,
    tree_size: int,
    signature: str,
    certificate_id: str | None = None,
) -> Cosignature:
    """见证联署: a supervisor co-signs a checkpoint's note text with their certificate key.

    The signature (DER, base64) must verify with the public key of one of the supervisor's
    bound, active, unexpired certificates (``certificate_id`` picks one).
    """
    POLICY.require(actor, "checkpoint.cosign")
    if actor.user_id is None:
        raise Unauthenticated("auth.required", "请先登录")
    cp = db.scalar(select(Checkpoint).where(Checkpoint.tree_size == tree_size))
    if cp is None:
        raise not_found("检查点")
    raw = _decode_signature(signature)
    now = clock.now()
    certificates = [
        c
        for c in identity_queries.certificates_of(db, actor, actor.user_id)
        if c.status == "active"
        and c.not_before <= now <= c.not_after
        and (certificate_id is None or c.id == certificate_id)
    ]
    if not certificates:
        raise InvalidInput(
            "transparency.witness.no_certificate",
            "您的账号没有可用的已绑定数字证书，无法联署检查点",
        )
    message = cp.body.encode()
    for cert in certificates:
        public_key = load_certificate(cert.der).public_key
        try:
            verify_any(public_key, message, raw)
        except (InvalidSignature, CryptoError, ValueError):
            continue
        break
    else:
        raise InvalidInput(
            "transparency.witness.bad_signature",
            "联署签名无法用您绑定的证书验证，请确认签署的是树大小为{size}的检查点原文",
            field="signature",
            size=tree_size,
        )
    if any(c.certificate_fingerprint == cert.fingerprint for c in cp.cosignatures):
        raise Conflict("transparency.witness.duplicate", "您已使用该证书联署过此检查点")
    key_name = f"sunlit-witness/{cert.fingerprint[:16]}"
    row = Cosignature(
        id=new_id(),
        checkpoint=cp,
        user_id=actor.user_id,
        org_id=actor.org_id,
        signer_name=actor.name,
        certificate_id=cert.id,
        certificate_fingerprint=cert.fingerprint,
        key_name=key_name,
        key_hash=note.key_hash(key_name, public_key),
        public_key_pem=public_key.to_pem().decode("ascii"),
        signature=raw,
        signed_at=now,
    )
    db.add(row)
    audit.record(
        db,
        actor,
        "transparency.checkpoint.cosigned",
        "checkpoint",
        cp.id,
        {"tree_size": tree_size, "witness": key_name, "certificate": cert.fingerprint},
    )
    return row
