"""The demo data: tenders in every phase, a chronological history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.demo.loader import DemoPaths, load
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.db import Database
from sunlit.notices import queries
from sunlit.notices.models import Download, Notice
from sunlit.projects.models import TenderProject


def test_demo_has_tenders_in_every_phase(database: Database, db: Session, tmp_path: Path) -> None:
    load(database, DemoPaths(tmp_path / "demo"), password="Demo-Passw0rd!")
    db.rollback()
    statuses = set(db.scalars(select(TenderProject.status)))
    assert statuses == {"draft", "submitted", "returned", "accepted", "tendering", "terminated"}
    kinds = set(db.scalars(select(Notice.kind)))
    assert kinds >= {
        "tender_notice",
        "invitation",
        "procurement_notice",
        "clarification",
        "termination",
    }
    public = {
        queries.public_status(n).value for n in db.scalars(select(Notice).where(Notice.public))
    }
    assert public == {"open", "closed", "terminated"}
    assert (db.scalar(select(func.count()).select_from(Download)) or 0) >= 10
    times = list(db.scalars(select(AuditEvent.occurred_at).order_by(AuditEvent.id)))
    assert times and max(times) - min(times) > dt.timedelta(days=40)
