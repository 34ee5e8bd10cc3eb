"""The opening record (开标记录): structured JSON, RFC 8785 canonical, platform-signed."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import rfc8785

from sunlit.kernel.crypto import PrivateKey, PublicKey, get_suite, verify_any

RECORD_FORMAT: Final = "sunlit-opening-record"
STATUS_LABELS: Final = {
    "opened": "已解密",
    "remedied": "补救解密",
    "revoked": "视为撤销（投标人原因未解密）",
    "withdrawn": "视为撤回（投标人之外原因未解密）",
    "failed": "解密失败",
    "pending": "未解密",
}


def record_bytes(doc: dict[str, Any]) -> bytes:
    return bytes(rfc8785.dumps(doc))


def build_record(
    section: Any, row: Any, obs: list[Any], now: dt.datetime, key_id: str
) -> dict[str, Any]:
    def t(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "format": RECORD_FORMAT,
        "version": 1,
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
            }
            for ob in obs
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
