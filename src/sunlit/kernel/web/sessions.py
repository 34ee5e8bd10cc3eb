"""Server-side login sessions for the web (cookie) and the API (bearer token).

The client holds a random 256-bit token; the database holds only its SHA-256, so a leaked
database does not yield usable sessions. Logging out deletes the row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from sqlalchemy import String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from sunlit.kernel import clock
from sunlit.kernel.db import Base


class WebSession(Base):
    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(32), index=True)
    auth_method: Mapped[str] = mapped_column(String(20))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    data: Mapped[dict[str, Any]]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    db: Session, subject_id: str, auth_method: str, hours: int, data: dict[str, Any] | None = None
) -> tuple[str, WebSession]:
    """Add a session row to ``db`` (the caller's use case commits it); return the token."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    row = WebSession(
        token_hash=_hash(token),
        subject_id=subject_id,
        auth_method=auth_method,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + dt.timedelta(hours=hours),
        data=data or {},
    )
    db.add(row)
    return token, row


def find_session(db: Session, token: str | None) -> WebSession | None:
    if not token:
        return None
    row = db.get(WebSession, _hash(token))
    if row is None or row.expires_at <= clock.now():
        return None
    return row


def close_session(db: Session, token: str) -> bool:
    result = db.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))
    return bool(getattr(result, "rowcount", 0))


def close_sessions_of(db: Session, subject_id: str) -> None:
    db.execute(delete(WebSession).where(WebSession.subject_id == subject_id))


def sessions_of(db: Session, subject_id: str) -> list[WebSession]:
    return list(db.scalars(select(WebSession).where(WebSession.subject_id == subject_id)))
