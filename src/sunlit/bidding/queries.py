"""Bidding reads, scoped to the actor: section keys are public; a bid is visible to its own
bidder only; staff see the count of bids of a section, never who bid (before the opening).

Functions marked *unscoped* serve the opening service, which enforces its own rules.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.identity import queries as identity_queries
from sunlit.kernel import tlog
from sunlit.kernel.authz import Actor
from sunlit.kernel.crypto import PrivateKey, PublicKey, load_public_key_any
from sunlit.kernel.errors import not_found
from sunlit.projects import queries as project_queries

from .models import Bid, DrawCommitment, OpeningKeyRecord
from .policies import POLICY
from .receipts import RECEIPT_FORMAT, RECEIPT_VERSION, SignedReceipt, sign_receipt
from .sealed import SectionKeys


def opening_key_records(db: Session, section_id: str) -> list[OpeningKeyRecord]:
    """Unscoped: the registered opening keys of a section (public keys are public)."""
    return list(
        db.scalars(
            select(OpeningKeyRecord)
            .where(OpeningKeyRecord.section_id == section_id)
            .order_by(OpeningKeyRecord.role)
        )
    )


@functools.lru_cache(maxsize=256)
def _public_key(pem: str) -> PublicKey:
    """Parsed opening public keys by their PEM text (a pure function; keys are immutable)."""
    return load_public_key_any(pem)


def section_keys(db: Session, section_id: str) -> SectionKeys | None:
    """The sealing parameters of a section once both opening keys are registered."""
    section = project_queries.section_gate(db, section_id)
    if section is None:
        return None
    return section_keys_of(db, section)


def section_keys_of(db: Session, section: project_queries.SectionGate) -> SectionKeys | None:
    """:func:`section_keys` for a section already read."""
    section_id = section.id
    rows = {r.role: r for r in opening_key_records(db, section_id)}
    if set(rows) != {"tenderer", "center"}:
        return None
    return SectionKeys(
        section.code,
        rows["tenderer"].suite,
        _public_key(rows["tenderer"].public_pem),
        _public_key(rows["center"].public_pem),
    )


def section_keys_json(db: Session, section_id: str) -> bytes:
    """``section-keys.json`` (public; 404 until both keys are registered)."""
    keys = section_keys(db, section_id)
    if keys is None:
        raise not_found("标段开标公钥")
    return keys.to_json()


def encrypted_opening_key(db: Session, section_id: str, role: str) -> OpeningKeyRecord | None:
    """Unscoped, for the opening service."""
    return db.scalar(
        select(OpeningKeyRecord).where(
            OpeningKeyRecord.section_id == section_id, OpeningKeyRecord.role == role
        )
    )


def draw_commitment(db: Session, section_id: str) -> DrawCommitment | None:
    """Public once registered (the commitment reveals nothing)."""
    return db.get(DrawCommitment, section_id)


def valid_bids(db: Session, section_id: str) -> list[Bid]:
    """Unscoped, for the opening service (after the deadline): the bids that count."""
    return list(
        db.scalars(
            select(Bid)
            .where(Bid.section_id == section_id, Bid.status == "valid")
            .order_by(Bid.submitted_at, Bid.id)
        )
    )


def bid_by_id(db: Session, bid_id: str) -> Bid | None:
    """Unscoped, for the opening service."""
    return db.get(Bid, bid_id)


def my_bids(db: Session, actor: Actor, section_id: str | None = None) -> list[Bid]:
    """The actor's organization's own submissions (every status), newest first."""
    if actor.org_id is None or not POLICY.allows(actor, "bid.submit"):
        return []
    stmt = select(Bid).where(Bid.org_id == actor.org_id)
    if section_id is not None:
        stmt = stmt.where(Bid.section_id == section_id)
    return list(db.scalars(stmt.order_by(Bid.submitted_at.desc())))


def get_own_bid(db: Session, actor: Actor, bid_id: str) -> Bid:
    row = db.get(Bid, bid_id)
    POLICY.require_visible(actor, "bid.view_own", row, "投标文件")
    assert row is not None
    return row


def bid_count(db: Session, actor: Actor, section_id: str) -> int:
    """Staff only: how many bids count now (no identities). Anyone else: 404."""
    if not POLICY.allows(actor, "bid.count"):
        raise not_found("标段")
    if project_queries.section_by_id(db, section_id) is None:
        raise not_found("标段")
    return (
        db.scalar(
            select(func.count())
            .select_from(Bid)
            .where(Bid.section_id == section_id, Bid.status == "valid")
        )
        or 0
    )


def receipt_document(db: Session, bid: Bid, platform_key_id: str) -> dict[str, Any]:
    section = project_queries.section_gate(db, bid.section_id)
    org = identity_queries.organization_summary(db, bid.org_id)
    keys = section_keys_of(db, section) if section is not None else None
    assert section is not None and org is not None and keys is not None
    leaf = tlog.leaf_for_event(db, bid.audit_event_id)
    return {
        "format": RECEIPT_FORMAT,
        "version": RECEIPT_VERSION,
        "section_id": section.id,
        "section_code": section.code,
        "bidder_credit_code": org.credit_code,
        "bidder_name": org.name,
        "bid_id": bid.header_bid_id,
        "bid_digest": bid.bid_digest,
        "size": bid.size,
        "received_at": bid.submitted_at.isoformat(timespec="microseconds"),
        "log_leaf_index": leaf.leaf_index if leaf is not None else None,
        "platform_key_id": platform_key_id,
        "suite": keys.suite,
    }


def receipt(db: Session, actor: Actor, bid_id: str, key: PrivateKey) -> SignedReceipt:
    """回执 of the actor's own submission, signed by the platform key."""
    bid = get_own_bid(db, actor, bid_id)
    return sign_receipt(receipt_document(db, bid, key.public_key().key_id().hex()), key)
