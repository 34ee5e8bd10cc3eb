"""A section whose opening is over (record confirmed), ready for the award, via the real API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from sunlit.award import service
from sunlit.award.rules import RankedCandidate
from sunlit.award.service import EvaluationResult
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.errors import DomainError
from tests.opening.hall_helpers import Prepared, prepare
from tests.projects.helpers import World, _party


def opening(sid: str, tail: str = "") -> str:
    return f"/api/v1/sections/{sid}/opening{tail}"


def award(sid: str, tail: str = "") -> str:
    return f"/api/v1/sections/{sid}/award{tail}"


def closed_opening(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path, n: int = 4
) -> Prepared:
    """Bids sealed and uploaded, both decryptions, 唱标, the draw, the confirmed record."""
    p = prepare(client, db, world, clock, tmp_path, n=n)
    r = client.post(opening(p.sid, "/start"), headers=world.staff.headers)
    assert r.status_code == 200, r.text
    for role, party in (("tenderer", world.agency), ("center", world.staff)):
        r = client.post(
            opening(p.sid, "/decrypt"),
            json={"role": role, "passphrase": p.passes[role]},
            headers=party.headers,
        )
        assert r.status_code == 200, r.text
    sup = _party(db, None, 797, "监督科", [Role.SUPERVISOR], "孙红")
    r = client.post(opening(p.sid, "/supervisor-value"), json={"value": "7"}, headers=sup.headers)
    assert r.status_code == 200, r.text
    r = client.post(
        opening(p.sid, "/draw"),
        json={"center_value": p.center.value.hex(), "center_salt": p.center.salt.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 200, r.text
    # Bidders' confirmation window (ADR 0011): silence until it closes counts as 视为认可.
    view = client.get(opening(p.sid), headers=world.staff.headers).json()
    clock.set(dt.datetime.fromisoformat(view["confirm_until"]) + dt.timedelta(seconds=1))
    for path, party in (("/record", world.staff), ("/confirm", world.tenderer)):
        r = client.post(opening(p.sid, path), headers=party.headers)
        assert r.status_code == 200, r.text
    return p


def ranked_from_opening(
    client: Any, world: World, p: Prepared, order: list[int]
) -> list[dict[str, Any]]:
    """Candidates as an evaluation report would rank them: ``order`` indexes the opened bids
    (sorted by credit code) from first to last; prices and durations are the 唱标 values."""
    view = client.get(opening(p.sid), headers=world.staff.headers).json()
    bids = view["bids"]
    return [
        {
            "rank": rank,
            "credit_code": bids[i]["credit_code"],
            "price": bids[i]["price"],
            "score": f"{95 - rank * 2.5:.2f}",
            "duration_days": bids[i]["duration_days"],
            "quality": bids[i]["quality"],
        }
        for rank, i in enumerate(order, start=1)
    ]


def result_of(ranked: list[dict[str, Any]], report_id: str = "report-0001") -> EvaluationResult:
    """A stand-in for a signed evaluation report's hand-over (the lifecycle tests run the real
    evaluation; the award tests start from a ranking of their own)."""
    return EvaluationResult(
        report_id=report_id,
        report_digest="sm3:" + "ab" * 32,
        candidates=[
            RankedCandidate(
                org_id=c.get("org_id", ""),
                credit_code=c["credit_code"],
                name=c.get("name", ""),
                price=Decimal(str(c["price"])),
                score=c.get("score", ""),
                rank=c["rank"],
                duration_days=c.get("duration_days"),
                quality=c.get("quality") or "",
            )
            for c in ranked
        ],
    )


def try_open(
    db: Session, actor: Actor, sid: str, ranked: list[dict[str, Any]]
) -> tuple[int, str, str]:
    """Open the award from ``ranked`` through the service; (status, code, detail) of the refusal,
    or (201, "", "") when it opened."""
    try:
        service.open_award_from(db, actor, sid, result_of(ranked))
    except DomainError as exc:
        return exc.status, exc.code, exc.detail
    return 201, "", ""


def open_award(
    client: Any, db: Session, world: World, p: Prepared, order: list[int]
) -> dict[str, Any]:
    ranked = ranked_from_opening(client, world, p, order)
    assert try_open(db, world.staff.actor, p.sid, ranked) == (201, "", "")
    r = client.get(award(p.sid), headers=world.staff.headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out
