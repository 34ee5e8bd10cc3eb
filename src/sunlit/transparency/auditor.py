"""``sunlit log audit``: recompute the whole log from the stored audit events (T4, spec §6.4).

What is checked, in one snapshot of the database:

1. every leaf row: its hash is ``H(0x00 || leaf)``, its bytes name its own position and event;
2. every audit event is re-encoded at its leaf's position and compared byte for byte with the
   stored leaf: a difference is an *edited* event (with the fields that differ), or a
   *reordered* one when its content is that of another position; a leaf whose event is gone is
   a *deleted* event; an event without a leaf is an *inserted* one;
3. the tree is recomputed twice, from the re-encoded events and from the stored leaf hashes,
   and both roots are compared with every stored checkpoint, whose signatures are verified;
   a checkpoint larger than the log means the log was truncated;
4. every stored subtree node (what proofs are served from) is compared with the recomputed one;
5. sealed openings still open their commitments.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from sunlit.kernel import tlog
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.crypto import PublicKey, load_public_key_any
from sunlit.kernel.crypto.errors import CryptoError
from sunlit.kernel.merkle import (
    CompactRange,
    HashFunction,
    InMemoryTree,
    NodeNotFoundError,
    empty_root,
    leaf_hash,
)
from sunlit.transparency import note
from sunlit.transparency.models import Checkpoint
from sunlit.transparency.queries import signed_note

KIND_LABELS: Final = {
    "edited": "事件被修改",
    "deleted": "事件被删除",
    "inserted": "事件被插入",
    "reordered": "事件被重排",
    "leaf_tampered": "叶子被篡改",
    "leaf_missing": "叶子缺失",
    "node_mismatch": "子树哈希不符",
    "sealed_mismatch": "密封内容不符",
    "checkpoint_mismatch": "检查点不符",
    "checkpoint_beyond_log": "日志被截断",
    "checkpoint_signature": "检查点签名无效",
    "checkpoint_record": "检查点记录被改动",
}
_STREAM: Final = 5000
_MAX_NODE_FINDINGS: Final = 20


@dataclass(frozen=True)
class Finding:
    kind: str
    position: int | None
    event_id: str | None
    detail: str

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass
class AuditReport:
    tree_size: int = 0
    events: int = 0
    checkpoints: int = 0
    hash_algorithm: str | None = None
    signatures_checked: bool = False
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, kind: str, position: int | None, event_id: str | None, detail: str) -> None:
        self.findings.append(Finding(kind, position, event_id, detail))


@dataclass(frozen=True)
class _EventRow:
    """An audit event as read back from the table (satisfies ``tlog.LoggedEvent``)."""

    id: str
    occurred_at: dt.datetime
    action: str
    actor_user_id: str | None
    actor_org_id: str | None
    actor_name: str
    auth_method: str
    ip: str | None
    object_type: str
    object_id: str | None
    data: dict[str, Any]
    sealed_commitment: str | None
    reveal_after: dt.datetime | None


_EVENT_COLUMNS: Final = (
    AuditEvent.id,
    AuditEvent.occurred_at,
    AuditEvent.action,
    AuditEvent.actor_user_id,
    AuditEvent.actor_org_id,
    AuditEvent.actor_name,
    AuditEvent.auth_method,
    AuditEvent.ip,
    AuditEvent.object_type,
    AuditEvent.object_id,
    AuditEvent.data,
    AuditEvent.sealed_commitment,
    AuditEvent.reveal_after,
)


def _content_fingerprint(doc: dict[str, Any]) -> bytes:
    """Hash of a leaf document without its position and id: what an event *says*."""
    rest = {k: v for k, v in doc.items() if k not in ("index", "id")}
    return hashlib.sha256(tlog.canonical_json(rest)).digest()


def _parse(leaf: bytes) -> dict[str, Any] | None:
    try:
        doc = json.loads(leaf)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _changed_fields(stored: dict[str, Any] | None, now: dict[str, Any]) -> list[str]:
    if stored is None:
        return ["(叶子无法解析)"]
    out = []
    for key, value in now.items():
        if key in ("index",):
            continue
        old = stored.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and key == "actor":
            out += [f"actor.{k}" for k in value if value.get(k) != old.get(k)]
        elif tlog.canonical_json(value) != tlog.canonical_json(old):
            out.append(key)
    return out


def _snapshot(db: Session) -> None:
    """One consistent snapshot for the whole audit (PostgreSQL: REPEATABLE READ)."""
    if db.get_bind().dialect.name == "postgresql" and not db.in_transaction():
        db.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _verify_checkpoint_rows(
    report: AuditReport, cps: list[Checkpoint], public_key: PublicKey | None
) -> None:
    for cp in cps:
        try:
            body = note.Checkpoint.parse(cp.body)
        except note.VerificationFailed as exc:
            report.add(
                "checkpoint_record",
                None,
                None,
                f"检查点（树大小 {cp.tree_size}）正文无效：{exc.detail}",
            )
            continue
        if (body.size, body.root, body.origin, body.hash_algorithm) != (
            cp.tree_size,
            bytes(cp.root_hash),
            cp.origin,
            cp.hash_algorithm,
        ):
            report.add(
                "checkpoint_record",
                None,
                None,
                f"检查点（树大小 {cp.tree_size}）的记录字段与其签名正文不一致",
            )
        if public_key is not None:
            try:
                note.verify_checkpoint(signed_note(cp), public_key)
            except note.VerificationFailed as exc:
                report.add(
                    "checkpoint_signature",
                    None,
                    None,
                    f"检查点（树大小 {cp.tree_size}）：{exc.detail}",
                )
        for co in cp.cosignatures:
            try:
                witness_key = load_public_key_any(co.public_key_pem)
                note.verify_witness(signed_note(cp), co.key_name, witness_key)
            except (note.VerificationFailed, CryptoError, ValueError):
                report.add(
                    "checkpoint_signature",
                    None,
                    None,
                    f"检查点（树大小 {cp.tree_size}）上见证人 {co.signer_name} 的联署签名无效",
                )


class _CheckpointTracker:
    """Compares recomputed roots with checkpoints as the recomputation reaches their sizes."""

    def __init__(self, report: AuditReport, cps: list[Checkpoint], hash_fn: HashFunction) -> None:
        self.report = report
        self.pending = sorted(cps, key=lambda c: c.tree_size)
        self.pos = 0
        self.last_good = 0
        self.empty = empty_root(hash_fn)

    def reached(self, size: int, events_root: bytes, leaves_root: bytes) -> None:
        while self.pos < len(self.pending) and self.pending[self.pos].tree_size <= size:
            cp = self.pending[self.pos]
            self.pos += 1
            if cp.tree_size != size:
                continue  # only possible for size 0 handled by the caller
            want = bytes(cp.root_hash)
            if events_root == want:
                self.last_good = size
                continue
            leaves_note = (
                "叶子表与检查点一致，被改动的是审计事件表"
                if leaves_root == want
                else "叶子表本身也已被改写"
            )
            self.report.add(
                "checkpoint_mismatch",
                self.last_good,
                None,
                f"按现存审计事件重算，大小为 {size} 的树根与已签发的检查点不符："
                f"位置 {self.last_good} 至 {size - 1} 之间的记录被改动（{leaves_note}）",
            )

    def remaining(self) -> Iterator[Checkpoint]:
        yield from self.pending[self.pos :]


def audit_log(db: Session, public_key: PublicKey | None = None) -> AuditReport:
    """Audit the whole log; see the module docstring. Use a fresh session (read-only)."""
    _snapshot(db)
    report = AuditReport()
    meta = tlog.get_log(db)
    cps = list(db.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)))
    report.checkpoints = len(cps)
    report.signatures_checked = public_key is not None
    _verify_checkpoint_rows(report, cps, public_key)
    if meta is None:
        for ev_id, action in db.execute(select(AuditEvent.id, AuditEvent.action)):
            report.events += 1
            report.add("inserted", None, ev_id, f"事件（{action}）不在透明日志中")
        return report
    hash_fn = tlog.hash_function(meta)
    report.hash_algorithm = hash_fn.name
    events_tree = CompactRange(hash_fn)
    leaves_tree = InMemoryTree(hash_fn)
    tracker = _CheckpointTracker(report, cps, hash_fn)
    tracker.reached(0, tracker.empty, tracker.empty)
    placeholder = bytes(hash_fn.digest_size)
    wanted: dict[bytes, list[tuple[int | None, str]]] = {}  # content -> (position, event id)

    stmt = (
        select(
            tlog.LogLeaf.leaf_index,
            tlog.LogLeaf.event_id,
            tlog.LogLeaf.leaf_hash,
            tlog.LogLeaf.leaf,
            tlog.SealedOpening.salt,
            tlog.SealedOpening.payload,
            *_EVENT_COLUMNS,
        )
        .outerjoin(AuditEvent, AuditEvent.id == tlog.LogLeaf.event_id)
        .outerjoin(tlog.SealedOpening, tlog.SealedOpening.event_id == tlog.LogLeaf.event_id)
        .order_by(tlog.LogLeaf.leaf_index)
        .execution_options(yield_per=_STREAM)
    )
    expected = 0
    for row in db.execute(stmt):
        pos = int(row[0])
        while expected < pos:
            report.add("leaf_missing", expected, None, f"位置 {expected} 的叶子记录不存在")
            events_tree.append(placeholder)
            leaves_tree.append_hash(placeholder)
            expected += 1
            tracker.reached(expected, events_tree.root(), leaves_tree.root())
        event_id, stored_hash, leaf = row[1], bytes(row[2]), bytes(row[3])
        if leaf_hash(hash_fn, leaf) != stored_hash:
            report.add("leaf_tampered", pos, event_id, f"位置 {pos} 的叶子内容与其存储的哈希不符")
        doc = _parse(leaf)
        if doc is None:
            report.add("leaf_tampered", pos, event_id, f"位置 {pos} 的叶子不是有效的 JSON")
        else:
            if doc.get("index") != pos:
                report.add(
                    "reordered",
                    pos,
                    event_id,
                    f"位置 {pos} 的叶子声明自己是第 {doc.get('index')} 条：叶子被移动",
                )
            if doc.get("id") != event_id:
                report.add(
                    "leaf_tampered", pos, event_id, f"位置 {pos} 的叶子中的事件编号与叶子表不一致"
                )
        ev_hash = stored_hash
        if row[6] is None:
            report.add("deleted", pos, event_id, f"位置 {pos} 的审计事件 {event_id} 已不存在")
        else:
            report.events += 1
            ev = _EventRow(*row[6:])
            ev_hash = _check_event(report, hash_fn, pos, ev, leaf, doc, wanted)
            if ev.sealed_commitment is not None:
                _check_sealed(report, hash_fn, pos, ev, row[4], row[5])
        events_tree.append(ev_hash)
        leaves_tree.append_hash(stored_hash)
        expected = pos + 1
        tracker.reached(expected, events_tree.root(), leaves_tree.root())
    report.tree_size = expected

    for cp in tracker.remaining():
        report.add(
            "checkpoint_beyond_log",
            expected,
            None,
            f"检查点覆盖 {cp.tree_size} 条记录，而日志只有 {expected} 条：日志末尾的记录被删除",
        )
    inserted = select(AuditEvent.id, *_EVENT_COLUMNS[1:]).where(
        ~exists().where(tlog.LogLeaf.event_id == AuditEvent.id)
    )
    for row in db.execute(inserted):
        report.events += 1
        ev = _EventRow(*row)
        try:
            fp = _content_fingerprint(tlog.leaf_document(0, ev))
        except ValueError:
            fp = b""
        wanted.setdefault(fp, []).append((None, ev.id))
    if wanted:
        _resolve_moved(db, report, wanted)
    _check_nodes(db, report, leaves_tree)
    report.findings.sort(key=lambda f: (f.position is None, f.position or 0, f.kind))
    return report


def _check_event(
    report: AuditReport,
    hash_fn: HashFunction,
    pos: int,
    ev: _EventRow,
    leaf: bytes,
    stored: dict[str, Any] | None,
    wanted: dict[bytes, list[tuple[int | None, str]]],
) -> bytes:
    try:
        now_doc = tlog.leaf_document(pos, ev)
        encoded = tlog.canonical_json(now_doc)
    except ValueError as exc:
        report.add("edited", pos, ev.id, f"位置 {pos} 的事件无法重新编码：{exc}")
        return bytes(hash_fn.digest_size)
    if encoded != leaf:
        wanted.setdefault(_content_fingerprint(now_doc), []).append((pos, ev.id))
        fields = "、".join(_changed_fields(stored, now_doc)) or "编码"
        # Classified as edited unless _resolve_moved finds the content at another position.
        report.add("edited", pos, ev.id, f"位置 {pos} 的事件与日志记录不符，改动的字段：{fields}")
    return leaf_hash(hash_fn, encoded)


def _check_sealed(
    report: AuditReport,
    hash_fn: HashFunction,
    pos: int,
    ev: _EventRow,
    salt: bytes | None,
    payload: bytes | None,
) -> None:
    ok = False
    if salt is not None and payload is not None and ev.sealed_commitment is not None:
        try:
            want = note.unb64(ev.sealed_commitment, "承诺值")
        except note.VerificationFailed:
            want = b""
        ok = hash_fn.digest(bytes(salt) + bytes(payload)) == want
    if not ok:
        report.add("sealed_mismatch", pos, ev.id, f"位置 {pos} 的密封内容或盐值与承诺值不符")


def _resolve_moved(
    db: Session, report: AuditReport, wanted: dict[bytes, list[tuple[int | None, str]]]
) -> None:
    """Second pass: an 'edited' event whose content is another leaf's was moved (reordered)."""
    moved: dict[tuple[int | None, str], int] = {}
    stmt = (
        select(tlog.LogLeaf.leaf_index, tlog.LogLeaf.leaf)
        .order_by(tlog.LogLeaf.leaf_index)
        .execution_options(yield_per=_STREAM)
    )
    for index, leaf in db.execute(stmt):
        doc = _parse(bytes(leaf))
        if doc is None:
            continue
        try:
            fp = _content_fingerprint(doc)
        except ValueError:
            continue
        for key in wanted.get(fp, ()):
            if key[0] != index:
                moved.setdefault(key, int(index))
    findings = []
    for f in report.findings:
        key = (f.position, f.event_id or "")
        if f.kind == "edited" and key in moved:
            src = moved[key]
            findings.append(
                Finding(
                    "reordered",
                    f.position,
                    f.event_id,
                    f"位置 {f.position} 的事件内容是位置 {src} 的原始记录：记录被调换或重排",
                )
            )
        else:
            findings.append(f)
    report.findings = findings
    for fp_list in wanted.values():
        for pos, ev_id in fp_list:
            if pos is None:
                origin = moved.get((None, ev_id))
                if origin is not None:
                    report.add(
                        "inserted",
                        origin,
                        ev_id,
                        f"事件 {ev_id} 不在日志中，其内容与位置 {origin} 的记录相同"
                        "（事件编号被改动或被复制）",
                    )
                else:
                    report.add(
                        "inserted", None, ev_id, f"事件 {ev_id} 不在透明日志中（日志之外插入）"
                    )


def _check_nodes(db: Session, report: AuditReport, tree: InMemoryTree) -> None:
    """Stored subtree hashes (levels >= 1) against the tree recomputed from the leaf hashes."""
    size = tree.size
    count = 0
    seen: dict[int, int] = {}
    stmt = (
        select(tlog.LogNode.level, tlog.LogNode.node_index, tlog.LogNode.hash)
        .order_by(tlog.LogNode.level, tlog.LogNode.node_index)
        .execution_options(yield_per=_STREAM)
    )
    for level, index, h in db.execute(stmt):
        seen[level] = seen.get(level, 0) + 1
        try:
            good = tree.get_node(level, index) == bytes(h)
        except NodeNotFoundError:
            good = False
        if not good:
            count += 1
            if count <= _MAX_NODE_FINDINGS:
                report.add(
                    "node_mismatch",
                    index << level,
                    None,
                    f"子树（第 {level} 层第 {index} 个，覆盖位置 {index << level} 起"
                    f" {1 << level} 条）的存储哈希与重算结果不符，据此生成的证明将无法验证",
                )
    level = 1
    while size >> level:
        if seen.get(level, 0) != size >> level:
            count += 1
            report.add(
                "node_mismatch",
                None,
                None,
                f"第 {level} 层应有 {size >> level} 个子树哈希，实存 {seen.get(level, 0)} 个",
            )
        level += 1
    if count > _MAX_NODE_FINDINGS:
        report.add(
            "node_mismatch",
            None,
            None,
            f"共 {count} 处子树哈希不符（仅列出前 {_MAX_NODE_FINDINGS} 处）",
        )
