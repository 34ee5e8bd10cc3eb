"""The opening record (开标记录): structured JSON, RFC 8785 canonical, platform-signed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Final

import rfc8785

from sunlit.kernel.crypto import PrivateKey, PublicKey, get_suite, verify_any

RECORD_FORMAT: Final = "sunlit-opening-record"
# 3: bid security per bid (验真); 2: bidders' confirmations and objections; 1: the first.
RECORD_VERSION: Final = 3
STATUS_LABELS: Final = {
    "opened": "已解密",
    "remedied": "补救解密",
    "revoked": "视为撤销（投标人原因未解密）",
    "withdrawn": "视为撤回（投标人之外原因未解密）",
    "failed": "解密失败",
    "pending": "未解密",
}


RESPONSE_LABELS: Final = {
    "confirmed": "确认无误",
    "deemed": "视为认可（确认期内未确认也未提出异议）",
    "objected": "提出异议",
}


def record_bytes(doc: dict[str, Any]) -> bytes:
    return bytes(rfc8785.dumps(doc))


def _t(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def responses(obs: list[Any], confirmations: list[Any], objections: list[Any]) -> list[Any]:
    """Each bidder's answer to the announced results: confirmed (who, when), objected (and
    never confirmed), or deemed (silent until the window closed: 视为认可)."""
    confirmed = {c.org_id: c for c in confirmations}
    objected = {o.org_id for o in objections}
    out = []
    for ob in obs:
        c = confirmed.get(ob.org_id)
        response = "confirmed" if c else "objected" if ob.org_id in objected else "deemed"
        out.append(
            {
                "bidder_name": ob.bidder_name,
                "credit_code": ob.credit_code,
                "response": response,
                "response_label": RESPONSE_LABELS[response],
                "confirmed_by": c.user_name if c else None,
                "confirmed_at": _t(c.confirmed_at) if c else None,
            }
        )
    return out


def build_record(
    section: Any,
    row: Any,
    obs: list[Any],
    now: dt.datetime,
    key_id: str,
    *,
    objections: list[Any],
    confirmations: list[Any],
    securities: dict[str, dict[str, Any]] | None = None,
    bid_security: Any = None,
) -> dict[str, Any]:
    """Version 3: each bid carries its verified ``security`` (ADR 0017, 验真 at the opening)."""
    t = _t
    secs = securities or {}
    credit = {ob.org_id: ob.credit_code for ob in obs}

    return {
        "format": RECORD_FORMAT,
        "version": RECORD_VERSION,
        "section_id": section.id,
        "section_code": section.code,
        "section_name": section.name,
        "tender_code": section.tender_project.code,
        "tender_name": section.tender_project.name,
        "opening_time": t(section.opening_time),
        "started_at": t(row.started_at),
        "min_bidders": row.min_bidders,
        "bid_count": row.bid_count,
        "insufficient": row.insufficient,
        "decision": row.decision,
        "bid_security": str(Decimal(bid_security or 0).quantize(Decimal("0.01"))),
        "bids": [
            {
                "bidder_name": ob.bidder_name,
                "credit_code": ob.credit_code,
                "status": ob.status,
                "status_label": STATUS_LABELS.get(ob.status, ob.status),
                "price": ob.price,
                "duration_days": ob.duration_days,
                "quality": ob.quality,
                "items": ob.items,
                "failure_code": ob.failure_code,
                "failure_reason": ob.failure_reason,
                "security": secs.get(ob.org_id),
            }
            for ob in obs
        ],
        "confirm_until": t(row.confirm_until),
        "confirmations": responses(obs, confirmations, objections),
        "objections": [
            {
                "bidder_name": o.bidder_name,
                "credit_code": credit.get(o.org_id, ""),
                "raised_by": o.user_name,
                "raised_at": t(o.raised_at),
                "content": o.content,
                "answer": o.answer,
                "answered_by": o.answered_by_name,
                "answered_at": t(o.answered_at),
            }
            for o in objections
        ],
        "draw": row.draw_record,
        "generated_at": now.isoformat(),
        "platform_key_id": key_id,
    }


def sign_record(doc: dict[str, Any], key: PrivateKey) -> bytes:
    return get_suite(key.suite_name).sign(key, record_bytes(doc))


def verify_record_signature(doc: dict[str, Any], signature: bytes, key: PublicKey) -> None:
    """Raises ``InvalidSignature`` unless ``key`` signed ``doc``."""
    verify_any(key, record_bytes(doc), signature)
