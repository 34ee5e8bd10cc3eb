"""Signed receipts (回执) of sealed-bid submissions (DESIGN S5, ADR 0010).

A receipt is an RFC 8785 canonical JSON document signed by the platform key; it verifies
offline (``sunlit bid verify-receipt``) with the platform's public key, and against the sealed
file itself (its bid digest). The document is a pure function of stored facts, so a receipt
downloaded again later carries the same document (the signature may differ: SM2 and ECDSA
signatures are randomized; every one verifies).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Final

import rfc8785

from sunlit.kernel.crypto import InvalidSignature, PrivateKey, PublicKey, get_suite, verify_any

from .errors import InvalidBidInput

RECEIPT_FORMAT: Final = "sunlit-bid-receipt"
RECEIPT_VERSION: Final = 1
_FIELDS: Final = {
    "format",
    "version",
    "section_id",
    "section_code",
    "bidder_credit_code",
    "bidder_name",
    "bid_id",
    "bid_digest",
    "size",
    "received_at",
    "log_leaf_index",
    "platform_key_id",
    "suite",
}


@dataclass(frozen=True)
class SignedReceipt:
    document: dict[str, Any]
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {"receipt": self.document, "signature": base64.b64encode(self.signature).decode()}

    def dumps(self) -> bytes:
        return (json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n").encode()


def receipt_bytes(document: dict[str, Any]) -> bytes:
    return bytes(rfc8785.dumps(document))


def sign_receipt(document: dict[str, Any], key: PrivateKey) -> SignedReceipt:
    if set(document) != _FIELDS:
        raise ValueError(f"receipt fields: {sorted(set(document) ^ _FIELDS)}")
    signature = get_suite(key.suite_name).sign(key, receipt_bytes(document))
    return SignedReceipt(dict(document), signature)


def load_receipt(data: bytes | str) -> SignedReceipt:
    try:
        doc = json.loads(data)
        document, signature = doc["receipt"], base64.b64decode(doc["signature"], validate=True)
    except (ValueError, KeyError, TypeError):
        raise InvalidBidInput("bad receipt", what="回执文件格式无效") from None
    if not isinstance(document, dict) or set(document) != _FIELDS:
        raise InvalidBidInput("bad receipt fields", what="回执字段不符合规范")
    if document["format"] != RECEIPT_FORMAT or document["version"] != RECEIPT_VERSION:
        raise InvalidBidInput("bad receipt format", what="不支持的回执格式或版本")
    return SignedReceipt(document, signature)


def verify_receipt(receipt: SignedReceipt, platform_key: PublicKey) -> None:
    """Raise ``bid.bad_receipt`` unless the platform key signed exactly this document."""
    if platform_key.key_id().hex() != receipt.document.get("platform_key_id"):
        raise BadReceipt("key id")
    try:
        verify_any(platform_key, receipt_bytes(receipt.document), receipt.signature)
    except InvalidSignature:
        raise BadReceipt("signature") from None


class BadReceipt(InvalidBidInput):
    CODE = "bid.bad_receipt"
    MESSAGE = "回执签名无效：不是该平台签发的回执，或回执内容已被修改"
