"""Audit events, written in the same transaction as the change they record.

Every use case records exactly one event (enforced by ``kernel.db.use_case``). Each event
becomes a leaf of the transparency log (``kernel.tlog``) in the same transaction, when it
commits. A confidential event passes ``sealed=`` and ``reveal_after=``: its leaf then carries
only a salted commitment to the sealed object, opened after ``reveal_after``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from sunlit.kernel import clock, tlog
from sunlit.kernel.authz import Actor
from sunlit.kernel.db import Base, new_id, note_audit_event


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    occurred_at: Mapped[dt.datetime]
    action: Mapped[str] = mapped_column(String(100))
    actor_user_id: Mapped[str | None] = mapped_column(String(32))
    actor_org_id: Mapped[str | None] = mapped_column(String(32))
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    auth_method: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    # Sealed events: base64 H(salt || canonical(sealed)), set when the leaf is appended.
    sealed_commitment: Mapped[str | None] = mapped_column(String(100))
    reveal_after: Mapped[dt.datetime | None]


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | None,
    data: dict[str, Any] | None = None,
    *,
    sealed: Mapping[str, Any] | None = None,
    reveal_after: dt.datetime | None = None,
) -> AuditEvent:
    """Add the audit event of the current use case to ``session`` (not yet committed).

    The event becomes the next leaf of the transparency log when the transaction commits.
    With ``sealed``, the leaf holds only a commitment to it; the sealed object is served
    (``kernel.tlog.open_sealed``) once the clock reaches ``reveal_after``, which is required.
    """
    if (sealed is None) != (reveal_after is None):
        raise ValueError("sealed and reveal_after go together")
    if reveal_after is not None and reveal_after.tzinfo is None:
        raise ValueError("reveal_after must be timezone-aware")
    event = AuditEvent(
        id=new_id(),
        occurred_at=clock.now(),
        action=action,
        actor_user_id=actor.user_id,
        actor_org_id=actor.org_id,
        actor_name=actor.name,
        auth_method=actor.auth_method,
        ip=actor.ip,
        object_type=object_type,
        object_id=object_id,
        data=data or {},
        reveal_after=reveal_after,
    )
    tlog.stage(session, event, sealed)
    session.add(event)
    note_audit_event(session)
    return event


def events_for(session: Session, object_type: str, object_id: str) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
        .order_by(AuditEvent.occurred_at)
    )
    return list(session.scalars(stmt))
