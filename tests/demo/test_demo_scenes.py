"""The demo data past the opening: one section contracted (experts drawn, report signed, award
publicity on the portal, award letters, contract), one in evaluation with some scores in; each
demo role sees it on its pages. Built over the real API inside the demo history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.award.models import AwardLetter, AwardProcess
from sunlit.demo.loader import DemoPaths, load
from sunlit.evaluation.models import EvaluationMember, EvaluationSession, ScoreSheet
from sunlit.identity.models import User
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.db import Database
from sunlit.kernel.tlog import LogLeaf
from sunlit.kernel.web import sessions
from sunlit.projects.models import Section


def _as(db: Session, name: str) -> dict[str, str]:
    user = db.scalar(select(User).where(User.name == name))
    assert user is not None, name
    token, _ = sessions.open_session(db, user.id, "certificate", 2)
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_demo_holds_an_awarded_section_and_one_in_evaluation(
    database: Database, db: Session, tmp_path: Path, client: Any
) -> None:
    load(database, DemoPaths(tmp_path / "demo"), password="Demo-Passw0rd!")
    db.rollback()
    # The history stays in time order, scenes over the API included; no demo token survives.
    times = list(
        db.scalars(
            select(AuditEvent.occurred_at)
            .join(LogLeaf, LogLeaf.event_id == AuditEvent.id)
            .order_by(LogLeaf.leaf_index)
        )
    )
    assert len(times) > 300 and times == sorted(times)
    assert db.scalar(select(sessions.WebSession)) is None

    rows = {r.status: r for r in db.scalars(select(EvaluationSession))}
    assert set(rows) == {"signed", "started"}
    awarded = db.get(Section, rows["signed"].section_id)
    evaluating = db.get(Section, rows["started"].section_id)
    assert awarded is not None and evaluating is not None
    (process,) = db.scalars(select(AwardProcess))
    assert process.status == "contracted" and process.section_id == awarded.id
    letters = list(db.scalars(select(AwardLetter)))
    assert sum(1 for x in letters if x.number.endswith("-ZB")) == 1 and len(letters) == 4

    # In evaluation: five members, two have handed in, the leader and two others have not.
    members = list(
        db.scalars(
            select(EvaluationMember).where(EvaluationMember.session_id == rows["started"].id)
        )
    )
    assert len(members) == 5
    assert sum(1 for m in members if m.submitted_at is not None) == 2
    sheets = db.scalars(select(ScoreSheet).where(ScoreSheet.session_id == rows["started"].id))
    assert len(list(sheets)) == 2 * 3
    pending = next(m for m in members if m.submitted_at is None)

    # Each role's pages.
    expert = _as(db, pending.name)
    page = client.get("/expert", headers=expert)
    assert page.status_code == 200 and f'href="/evaluation/{evaluating.id}"' in page.text
    page = client.get(f"/evaluation/{evaluating.id}", headers=expert)
    assert page.status_code == 200 and 'data-state="started"' in page.text
    page = client.get(f"/evaluation/{evaluating.id}/sheets", headers=expert)
    assert page.status_code == 200
    staff = _as(db, "王敏")
    page = client.get("/staff/awards", headers=staff)
    assert page.status_code == 200 and awarded.code in page.text
    page = client.get("/staff/experts", headers=staff)
    assert page.status_code == 200 and pending.name in page.text
    tenderer = _as(db, "李建国")
    page = client.get(f"/award/{awarded.id}", headers=tenderer)
    assert page.status_code == 200 and "SGHT-2026-018" in page.text
    winner = next(x for x in letters if x.number.endswith("-ZB"))
    bidder = db.scalar(select(User).where(User.organization_id == winner.org_id))
    assert bidder is not None
    page = client.get("/bidder/award-letters", headers=_as(db, bidder.name))
    assert page.status_code == 200 and winner.number in page.text
    # The candidate publicity is on the public portal.
    found = client.get("/api/v1/notices", params={"kind": "candidate_publicity"}).json()
    assert len(found) == 1
    assert client.get(f"/notices/{found[0]['id']}").status_code == 200
