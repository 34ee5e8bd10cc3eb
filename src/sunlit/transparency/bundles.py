"""Export bundles and their offline verification (spec §8): what ``sunlit log verify`` runs.

No database: everything needed is in the files and the platform public key given by the user.
Four kinds of file, told apart by ``"format"`` (a bare signed checkpoint text is accepted too):

* ``sunlit-tlog-checkpoint/1``: a signed checkpoint;
* ``sunlit-tlog-inclusion/1``: one leaf (bytes or hash), its index, a tree size, the audit path
  and the signed checkpoint of that size;
* ``sunlit-tlog-consistency/1``: two sizes, the proof between them and both signed checkpoints;
* ``sunlit-tlog-opening/1``: a sealed commitment with its salt and sealed content.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Final

from sunlit.kernel.crypto import PublicKey
from sunlit.kernel.merkle import (
    HashFunction,
    ProofError,
    hash_function_for_suite,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from sunlit.transparency.note import (
    HASH_NAMES,
    Checkpoint,
    VerificationFailed,
    b64,
    unb64,
    verify_checkpoint,
)

CHECKPOINT_FORMAT: Final = "sunlit-tlog-checkpoint/1"
INCLUSION_FORMAT: Final = "sunlit-tlog-inclusion/1"
CONSISTENCY_FORMAT: Final = "sunlit-tlog-consistency/1"
OPENING_FORMAT: Final = "sunlit-tlog-opening/1"
FORMATS: Final = (CHECKPOINT_FORMAT, INCLUSION_FORMAT, CONSISTENCY_FORMAT, OPENING_FORMAT)
_HASH_FUNCTIONS: Final = {name: hash_function_for_suite(s) for s, name in HASH_NAMES.items()}


def _fail(code: str, message: str, **params: Any) -> VerificationFailed:
    return VerificationFailed(f"transparency.verify.{code}", message, **params)


@dataclass
class Verified:
    """What a successful verification established, for the user to read."""

    kind: str
    checkpoint: Checkpoint | None = None
    lines: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Building bundles (server side)
# --------------------------------------------------------------------------------------------


def checkpoint_bundle(note: str) -> dict[str, Any]:
    return {"format": CHECKPOINT_FORMAT, "checkpoint": note}


def inclusion_bundle(
    *,
    hash_algorithm: str,
    origin: str,
    event_id: str,
    index: int,
    size: int,
    leaf_hash_: bytes,
    leaf: bytes | None,
    proof: list[bytes],
    root: bytes,
    checkpoint: str | None,
) -> dict[str, Any]:
    return {
        "format": INCLUSION_FORMAT,
        "hash": hash_algorithm,
        "origin": origin,
        "eventId": event_id,
        "leafIdx": index,
        "treeSize": size,
        "leafHash": b64(leaf_hash_),
        "leaf": b64(leaf) if leaf is not None else None,
        "proof": [b64(p) for p in proof],
        "root": b64(root),
        "checkpoint": checkpoint,
    }


def consistency_bundle(
    *,
    hash_algorithm: str,
    origin: str,
    size1: int,
    size2: int,
    root1: bytes,
    root2: bytes,
    proof: list[bytes],
    checkpoint1: str | None,
    checkpoint2: str | None,
) -> dict[str, Any]:
    return {
        "format": CONSISTENCY_FORMAT,
        "hash": hash_algorithm,
        "origin": origin,
        "size1": size1,
        "size2": size2,
        "root1": b64(root1),
        "root2": b64(root2),
        "proof": [b64(p) for p in proof],
        "checkpoint1": checkpoint1,
        "checkpoint2": checkpoint2,
    }


def opening_bundle(
    *,
    hash_algorithm: str,
    event_id: str,
    commitment: bytes,
    salt: bytes,
    payload: bytes,
    reveal_after: str,
) -> dict[str, Any]:
    return {
        "format": OPENING_FORMAT,
        "hash": hash_algorithm,
        "eventId": event_id,
        "commitment": b64(commitment),
        "salt": b64(salt),
        "sealed": b64(payload),
        "revealAfter": reveal_after,
    }


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


def load_document(content: bytes) -> dict[str, Any]:
    """Parse an exported file: a JSON bundle, or a bare signed checkpoint text."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail("not_utf8", "文件不是 UTF-8 文本") from None
    if not text.strip():
        raise _fail("empty_file", "文件为空")
    if not text.lstrip().startswith("{"):
        return checkpoint_bundle(text)  # a signed note as published
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(
            "truncated",
            "文件不完整或不是有效的 JSON（第 {line} 行第 {col} 列：{msg}），请重新导出",
            line=exc.lineno,
            col=exc.colno,
            msg=exc.msg,
        ) from None
    if not isinstance(doc, dict):
        raise _fail("bad_bundle", "导出文件应为 JSON 对象")
    if doc.get("format") not in FORMATS:
        raise _fail(
            "unknown_format", "无法识别的导出文件格式：{fmt}", fmt=str(doc.get("format"))[:60]
        )
    return doc


def _get(doc: dict[str, Any], key: str, kind: type, what: str) -> Any:
    if key not in doc:
        raise _fail(
            "missing_field", "导出文件缺少字段“{key}”（{what}），文件可能被截断", key=key, what=what
        )
    value = doc[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise _fail("bad_field", "字段“{key}”应为非负整数", key=key)
    if kind is not int and not isinstance(value, kind):
        raise _fail("bad_field", "字段“{key}”类型不正确", key=key)
    return value


def _hash_fn(doc: dict[str, Any]) -> HashFunction:
    name = _get(doc, "hash", str, "哈希算法")
    fn = _HASH_FUNCTIONS.get(name)
    if fn is None:
        raise _fail("bad_hash", "不支持的哈希算法：{name}", name=name[:20])
    return fn


def _proof(doc: dict[str, Any], size: int) -> list[bytes]:
    items = _get(doc, "proof", list, "证明路径")
    return [unb64(p, f"证明第 {i + 1} 项", size) for i, p in enumerate(items)]


def _checkpoint(
    doc: dict[str, Any], key: str, public_key: PublicKey, origin: str | None
) -> Checkpoint:
    note = doc.get(key)
    if not isinstance(note, str) or not note:
        raise _fail(
            "no_checkpoint",
            "导出文件没有附带签名检查点（字段“{key}”），无法确认根哈希来自平台",
            key=key,
        )
    return verify_checkpoint(note, public_key, origin)


def _proof_error(exc: ProofError) -> VerificationFailed:
    return _fail("proof", "证明验证失败：{reason}", reason=str(exc))


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


def verify_document(
    doc: dict[str, Any], public_key: PublicKey, origin: str | None = None
) -> Verified:
    """Verify any exported document; raises :class:`VerificationFailed` with the reason."""
    fmt = doc.get("format")
    if fmt == CHECKPOINT_FORMAT:
        cp = _checkpoint(doc, "checkpoint", public_key, origin)
        return Verified(
            "checkpoint",
            cp,
            [f"检查点签名有效：日志 {cp.origin}，树大小 {cp.size}，根哈希 {b64(cp.root)}"],
        )
    if fmt == INCLUSION_FORMAT:
        return verify_inclusion_bundle(doc, public_key, origin)
    if fmt == CONSISTENCY_FORMAT:
        return verify_consistency_bundle(doc, public_key, origin)
    if fmt == OPENING_FORMAT:
        return verify_opening_bundle(doc)
    raise _fail("unknown_format", "无法识别的导出文件格式：{fmt}", fmt=str(fmt)[:60])


def _same_log(doc: dict[str, Any], cp: Checkpoint, hash_fn: HashFunction) -> None:
    if cp.hash_algorithm != hash_fn.name:
        raise _fail(
            "hash_mismatch",
            "导出文件声明的哈希算法 {got} 与检查点的 {want} 不一致",
            got=hash_fn.name,
            want=cp.hash_algorithm,
        )
    if "origin" in doc and doc["origin"] != cp.origin:
        raise _fail("origin_mismatch", "导出文件所属日志与检查点的日志不一致")


def verify_inclusion_bundle(
    doc: dict[str, Any], public_key: PublicKey, origin: str | None = None
) -> Verified:
    """Leaf ``leafIdx`` is in the tree of ``treeSize`` signed by the platform's checkpoint."""
    hash_fn = _hash_fn(doc)
    index = _get(doc, "leafIdx", int, "叶子序号")
    size = _get(doc, "treeSize", int, "树大小")
    proof = _proof(doc, hash_fn.digest_size)
    cp = _checkpoint(doc, "checkpoint", public_key, origin)
    _same_log(doc, cp, hash_fn)
    if size != cp.size:
        raise _fail(
            "size_mismatch",
            "证明针对的树大小为 {size}，而所附检查点的树大小为 {cp}：证明与检查点不对应",
            size=size,
            cp=cp.size,
        )
    if "root" in doc and unb64(doc["root"], "根哈希", hash_fn.digest_size) != cp.root:
        raise _fail("root_mismatch", "导出文件中的根哈希与签名检查点的根哈希不一致")
    leaf_b64 = doc.get("leaf")
    lines = []
    if leaf_b64 is not None:
        leaf = unb64(leaf_b64, "叶子内容")
        lh = leaf_hash(hash_fn, leaf)
        if "leafHash" in doc and doc["leafHash"] is not None:
            stated = unb64(doc["leafHash"], "叶子哈希", hash_fn.digest_size)
            if not hmac.compare_digest(stated, lh):
                raise _fail("leaf_hash_mismatch", "叶子内容的哈希与导出文件中的叶子哈希不一致")
        _check_leaf_document(leaf, index, doc.get("eventId"))
        lines.append("叶子内容与叶子哈希一致，且声明的序号与事件编号相符")
    else:
        lh = unb64(_get(doc, "leafHash", str, "叶子哈希"), "叶子哈希", hash_fn.digest_size)
        lines.append("导出文件只含叶子哈希（无权查看事件内容），仅验证哈希的存在性")
    try:
        verify_inclusion(hash_fn, index, size, lh, proof, cp.root)
    except ProofError as exc:
        raise _proof_error(exc) from None
    lines.insert(
        0,
        f"存在性证明有效：叶子 {index} 在日志 {cp.origin} 大小为 {size} 的树中"
        f"（检查点签名有效，根哈希 {b64(cp.root)}）",
    )
    return Verified("inclusion", cp, lines)


def _check_leaf_document(leaf: bytes, index: int, event_id: object) -> None:
    try:
        parsed = json.loads(leaf)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _fail("bad_leaf", "叶子内容不是有效的 JSON") from None
    if not isinstance(parsed, dict):
        raise _fail("bad_leaf", "叶子内容不是 JSON 对象")
    if parsed.get("index") != index:
        raise _fail(
            "leaf_index_mismatch",
            "叶子内容声明的序号 {got} 与证明的序号 {want} 不一致",
            got=parsed.get("index"),
            want=index,
        )
    if event_id is not None and parsed.get("id") != event_id:
        raise _fail("leaf_event_mismatch", "叶子内容中的事件编号与导出文件的事件编号不一致")


def verify_consistency_bundle(
    doc: dict[str, Any], public_key: PublicKey, origin: str | None = None
) -> Verified:
    """The tree of ``size2`` extends the tree of ``size1``; both checkpoints signed."""
    hash_fn = _hash_fn(doc)
    size1 = _get(doc, "size1", int, "旧树大小")
    size2 = _get(doc, "size2", int, "新树大小")
    proof = _proof(doc, hash_fn.digest_size)
    cp1 = _checkpoint(doc, "checkpoint1", public_key, origin)
    cp2 = _checkpoint(doc, "checkpoint2", public_key, origin)
    _same_log(doc, cp1, hash_fn)
    _same_log(doc, cp2, hash_fn)
    if cp1.origin != cp2.origin:
        raise _fail("origin_mismatch", "两个检查点属于不同的日志")
    for name, size, cp in (("size1", size1, cp1), ("size2", size2, cp2)):
        if size != cp.size:
            raise _fail(
                "size_mismatch",
                "字段“{name}”为 {size}，而对应检查点的树大小为 {cp}：证明与检查点不对应",
                name=name,
                size=size,
                cp=cp.size,
            )
    try:
        verify_consistency(hash_fn, size1, size2, proof, cp1.root, cp2.root)
    except ProofError as exc:
        raise _proof_error(exc) from None
    return Verified(
        "consistency",
        cp2,
        [
            f"一致性证明有效：日志 {cp2.origin} 大小 {size2} 的树是大小 {size1} 的树的延续，"
            "此前的记录没有被改动、删除或重排",
        ],
    )


def verify_opening_bundle(doc: dict[str, Any]) -> Verified:
    """``H(salt || sealed) == commitment``."""
    hash_fn = _hash_fn(doc)
    commitment = unb64(_get(doc, "commitment", str, "承诺值"), "承诺值", hash_fn.digest_size)
    salt = unb64(_get(doc, "salt", str, "盐值"), "盐值")
    payload = unb64(_get(doc, "sealed", str, "密封内容"), "密封内容")
    if not hmac.compare_digest(hash_fn.digest(salt + payload), commitment):
        raise _fail("commitment_mismatch", "密封内容与承诺值不符：内容或盐值被改动")
    return Verified(
        "opening",
        None,
        [f"密封内容与承诺值相符（{hash_fn.name}）：{payload.decode('utf-8', 'replace')[:200]}"],
    )
