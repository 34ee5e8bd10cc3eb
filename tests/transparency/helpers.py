"""Shared helpers for transparency tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from sunlit.kernel import audit, tlog
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.crypto import get_suite
from sunlit.kernel.db import Database, use_case
from sunlit.kernel.errors import InvalidInput
from sunlit.transparency.keys import PlatformKey

BIDDER = Actor(
    user_id="u-bidder",
    org_id="o-bidder",
    roles=frozenset({Role.BIDDER}),
    name="周强",
    auth_method="certificate",
    ip="10.0.0.8",
)


@use_case
def note_something(db: Session, actor: Actor, n: int, data: dict[str, Any] | None = None) -> str:
    """A minimal use case: one audit event, nothing else."""
    ev = audit.record(db, actor, "test.noted", "thing", f"t{n}", data or {"n": n})
    return ev.id


@use_case
def note_then_fail(db: Session, actor: Actor, n: int) -> None:
    audit.record(db, actor, "test.noted", "thing", f"t{n}", {"n": n})
    db.flush()
    raise InvalidInput("test.bad", "输入有误")


def make_key(suite: str = "gm") -> PlatformKey:
    return PlatformKey(get_suite(suite).generate_keypair())


def leaf_rows(db: Session) -> list[tlog.LogLeaf]:
    return list(db.scalars(select(tlog.LogLeaf).order_by(tlog.LogLeaf.leaf_index)))


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def sql(database: Database, statement: str, **params: Any) -> None:
    """Plain SQL straight into the database, as an intruder with database access would."""
    with database.engine.begin() as conn:
        conn.execute(text(statement), params)


def write_json(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
