"""The expert pages through real HTML forms (cookie session + CSRF), without a browser."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sunlit.draws import CenterSecret
from sunlit.experts import service
from sunlit.kernel import clock as kclock
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from tests.experts.helpers import at, expert_in
from tests.experts.test_pool import _row, _workbook
from tests.identity.helpers import csrf_headers
from tests.projects.helpers import Party, World, _party, accepted_tender, build_world


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def _as(client: Any, party: Party) -> dict[str, str]:
    client.cookies.set("sunlit_session", party.token)
    return {"csrf_token": csrf_headers(client)["X-CSRF-Token"]}


def test_pool_draw_and_workbench_pages(
    client: Any, db: Session, world: World, clock: ManualClock
) -> None:
    tender = accepted_tender(client, world)  # through the API with bearer tokens, no cookies
    section = tender["sections"][0]
    client.follow_redirects = False
    form = _as(client, world.staff)
    bad = _workbook([_row(1), _row(2, region_code="99")])
    r = client.post("/staff/experts/import", data=form, files={"file": ("e.xlsx", bad)})
    assert r.status_code == 422, r.text[r.text.find("<main") :][:1500]
    assert 'data-testid="import-errors"' in r.text and "所在地区代码" in r.text
    good = _workbook([_row(n) for n in range(1, 4)])
    r = client.post("/staff/experts/import", data=form, files={"file": ("e.xlsx", good)})
    assert r.status_code == 303
    page = client.get("/staff/experts?specialty=A03")
    assert page.status_code == 200 and "专家003" in page.text

    p = _party(db, None, 150, "苏州科技大学", [Role.EXPERT], "专家009")
    service.register_expert(
        db,
        world.staff.actor,
        expert_in(9, "A030101", employer_credit_code=p.credit_code, user_id=p.user_id),
    )
    center = CenterSecret.new("gm", committed_at=kclock.now())
    form = _as(client, world.staff)
    r = client.post(
        "/staff/expert-draws",
        data={
            **form,
            "section_id": section["id"],
            "evaluation_starts_at": at(27, 9).strftime("%Y-%m-%dT%H:%M"),
            "evaluation_ends_at": at(27, 17).strftime("%Y-%m-%dT%H:%M"),
            "strata": "A0301,4,0",
            "cooldown_days": "0",
            "commitment": center.commitment.hex(),
        },
    )
    assert r.status_code == 303, r.text
    url = r.headers["location"].split("?")[0]
    clock.set(dt.datetime.fromisoformat(section["bid_deadline"]) + dt.timedelta(minutes=1))
    world.refresh_crl(db)
    form = _as(client, world.staff)
    assert client.post(f"{url}/fix", data=form).status_code == 303
    form = _as(client, world.supervisor)
    assert client.post(f"{url}/supervise", data={**form, "value": "4455"}).status_code == 303
    form = _as(client, world.staff)
    r = client.post(
        f"{url}/draw", data={**form, "center_value": "00" * 32, "center_salt": "11" * 32}
    )
    assert r.status_code == 422 and 'data-testid="draw-error"' in r.text
    r = client.post(
        f"{url}/draw",
        data={**form, "center_value": center.value.hex(), "center_salt": center.salt.hex()},
    )
    assert r.status_code == 303
    page = client.get(url)
    assert "通知确认中" in page.text and "专家00" not in page.text  # double-blind

    form = _as(client, p)
    page = client.get("/expert")
    assert "确认参加" in page.text and "评标开始后公布" in page.text
    inv = page.text.split('action="/expert/invitations/')[1].split('"')[0]
    r = client.post(f"/expert/invitations/{inv}", data={**form, "answer": "confirm"})
    assert r.status_code == 303
    assert "确认参加" in client.get("/expert").text
    r = client.post(
        "/expert/leaves",
        data={
            **form,
            "starts_at": at(40, 9).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": at(41, 9).strftime("%Y-%m-%dT%H:%M"),
            "reason": "出差",
        },
    )
    assert r.status_code == 303
    assert "出差" in client.get("/expert").text
