"""End to end over the real HTTP API: register → submit → accept → book venues → publish →
clarify (one forced extension, one refused) → bidders download → portal and feeds."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.clock import ManualClock
from sunlit.notices.models import Download, Notice
from sunlit.projects.models import Booking, Section
from tests.identity.helpers import csrf_headers
from tests.projects.helpers import (
    World,
    build_world,
    count,
    deadline,
    register_payload,
    section_payload,
    upload,
)

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=4)


def test_tender_from_registration_to_portal(
    client: Any, db: Session, world: World, clock: ManualClock
) -> None:
    agency, staff, tenderer = world.agency, world.staff, world.tenderer
    b1, b2, b3, b4 = world.bidders

    # 1. The agency registers the project and its tender project for the tenderer.
    r = client.post("/api/v1/tender-projects", json=register_payload(world), headers=agency.headers)
    assert r.status_code == 201, r.text
    tender = r.json()
    assert len(tender["code"]) == 20 and tender["code"].startswith("E320500")
    assert tender["status"] == "draft"
    assert tender["entrustment"]["contract_no"] == "ZX-2026-118"
    assert tender["agency_org_id"] == agency.org_id
    assert tender["tenderer_org_id"] == tenderer.org_id
    tid = tender["id"]

    # 2. Two sections; the first draws its coefficients at opening (合理低价法).
    sections = []
    for i, method in enumerate(["reasonable_low_price", "comprehensive"]):
        body = section_payload(25, name=f"第{i + 1}标段", evaluation_method=method)
        if method == "comprehensive":
            body["coefficients"] = []
        r = client.post(
            f"/api/v1/tender-projects/{tid}/sections", json=body, headers=agency.headers
        )
        assert r.status_code == 201, r.text
        sections.append(r.json())
    assert [s["code"] for s in sections] == [tender["code"] + "001", tender["code"] + "002"]
    assert sections[0]["coefficients"][0] == {
        "name": "下浮系数K",
        "values": ["0.95", "0.96", "0.97", "0.98"],
    }
    assert sections[0]["opening_time"] == sections[0]["bid_deadline"]

    # 3. The signed tender document, then submission and acceptance (受理).
    r = upload(client, agency, tender)
    assert r.status_code == 201, r.text
    assert r.json()["signed_digest"].startswith("sha256:")
    r = client.post(f"/api/v1/tender-projects/{tid}/submit", headers=agency.headers)
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    queue = client.get(
        "/api/v1/tender-projects?scope=all&status=submitted", headers=staff.headers
    ).json()
    assert [t["id"] for t in queue] == [tid]
    r = client.post(
        f"/api/v1/tender-projects/{tid}/accept", json={"note": "材料齐全"}, headers=staff.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "accepted"

    # 4. Venues: an opening room covering the opening, an evaluation room with a remote
    #    sub-venue; an overlapping booking is refused and names the booking it clashes with.
    rooms = {}
    for name, kind, remote, center in [
        ("第一开标室", "opening", False, "苏州市公共资源交易中心"),
        ("第一评标室", "evaluation", False, "苏州市公共资源交易中心"),
        ("远程评标室", "evaluation", True, "南京市公共资源交易中心"),
    ]:
        r = client.post(
            "/api/v1/venues/rooms",
            json={"name": name, "kind": kind, "remote": remote, "center_name": center, "seats": 20},
            headers=staff.headers,
        )
        assert r.status_code == 201, r.text
        rooms[name] = r.json()["id"]
    opening = dt.datetime.fromisoformat(sections[0]["bid_deadline"])
    r = client.post(
        f"/api/v1/tender-projects/{tid}/bookings",
        json={
            "purpose": "opening",
            "room_id": rooms["第一开标室"],
            "section_id": sections[0]["id"],
            "starts_at": (opening - dt.timedelta(minutes=30)).isoformat(),
            "ends_at": (opening + dt.timedelta(hours=2)).isoformat(),
        },
        headers=staff.headers,
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"/api/v1/tender-projects/{tid}/bookings",
        json={
            "purpose": "evaluation",
            "room_id": rooms["第一评标室"],
            "branch_room_ids": [rooms["远程评标室"]],
            "section_id": sections[0]["id"],
            "starts_at": (opening + dt.timedelta(hours=3)).isoformat(),
            "ends_at": (opening + dt.timedelta(hours=8)).isoformat(),
        },
        headers=staff.headers,
    )
    assert r.status_code == 201, r.text
    bookings = count(db, Booking)
    assert bookings == 3
    r = client.post(
        f"/api/v1/tender-projects/{tid}/bookings",
        json={
            "purpose": "opening",
            "room_id": rooms["第一开标室"],
            "section_id": sections[1]["id"],
            "starts_at": (opening - dt.timedelta(hours=1)).isoformat(),
            "ends_at": (opening + dt.timedelta(hours=3)).isoformat(),
        },
        headers=staff.headers,
    )
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "projects.booking.conflict"
    assert "第一开标室" in body["detail"] and tender["code"] in body["detail"]
    assert "开标" in body["detail"] and "重叠" in body["detail"]
    assert count(db, Booking) == bookings

    # 5. Draft the tender notice and publish it; a published notice cannot be edited.
    r = client.post(
        f"/api/v1/tender-projects/{tid}/notices",
        json={"content": "苏州市轨道交通8号线车辆段土建施工招标公告正文"},
        headers=agency.headers,
    )
    assert r.status_code == 201, r.text
    nid = r.json()["id"]
    assert r.json()["status"] == "draft" and r.json()["kind"] == "tender_notice"
    assert client.get(f"/api/v1/notices/{nid}").status_code == 404  # drafts are not public
    r = client.post(f"/api/v1/notices/{nid}/publish", headers=agency.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "published" and r.json()["public_status"] == "open"
    t = client.get(f"/api/v1/tender-projects/{tid}", headers=agency.headers).json()
    assert t["status"] == "tendering"
    assert {s["status"] for s in t["sections"]} == {"published"}
    events = count(db, AuditEvent)
    r = client.put(
        f"/api/v1/notices/{nid}", json={"content": "偷偷修改正文"}, headers=agency.headers
    )
    assert r.status_code == 409
    assert r.json()["code"] == "notices.notice.published_readonly"
    assert "澄清" in r.json()["detail"]
    r = client.put(
        f"/api/v1/sections/{sections[0]['id']}",
        json=section_payload(25, coefficients=[{"name": "下浮系数K", "candidates": ["0.9", "1"]}]),
        headers=agency.headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "projects.section.frozen"
    assert count(db, AuditEvent) == events
    assert client.get(f"/api/v1/notices/{nid}").json()["content"].endswith("招标公告正文")

    # 6. Bidders obtain the documents. A restricted bidder and an anonymous visitor cannot.
    r = client.post(
        "/api/v1/restrictions",
        json={
            "credit_code": b3.credit_code,
            "reason": "串通投标",
            "authority": "苏州市住房和城乡建设局",
            "document_no": "苏建罚〔2026〕12号",
        },
        headers=world.supervisor.headers,
    )
    assert r.status_code == 201, r.text
    detail = client.get(f"/api/v1/notices/{nid}").json()
    doc_id = detail["documents"][0]["id"]
    for bidder in (b1, b2):
        r = client.get(f"/api/v1/documents/{doc_id}/download", headers=bidder.headers)
        assert r.status_code == 200, r.text
        assert r.content.startswith(b"%PDF")
    downloads = count(db, Download)
    assert downloads == 2
    r = client.get(f"/api/v1/documents/{doc_id}/download", headers=b3.headers)
    assert r.status_code == 403
    assert r.json()["code"] == "notices.download.restricted"
    assert "苏建罚〔2026〕12号" in r.json()["detail"]
    r = client.get(f"/api/v1/documents/{doc_id}/download")
    assert r.status_code == 401 and r.json()["code"] == "notices.download.login_required"
    r = client.get(f"/api/v1/documents/{doc_id}/download", headers=world.other_tenderer.headers)
    assert r.status_code == 403 and r.json()["code"] == "notices.download.not_registered"
    assert count(db, Download) == downloads
    # The issuer reads its own document without being counted.
    assert (
        client.get(f"/api/v1/documents/{doc_id}/download", headers=agency.headers).status_code
        == 200
    )
    assert count(db, Download) == downloads

    # Before the deadline nobody but the downloader learns who or how many downloaded.
    for party in (agency, tenderer, staff, world.supervisor):
        r = client.get(f"/api/v1/tender-projects/{tid}/downloads", headers=party.headers)
        assert r.status_code == 409, party.name
        assert r.json()["code"] == "notices.downloads.sealed"
    mine = client.get("/api/v1/me/downloads", headers=b1.headers).json()
    assert [d["org_id"] for d in mine] == [b1.org_id]
    assert client.get("/api/v1/me/downloads", headers=b4.headers).json() == []
    obtained = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "notices.document.obtained")
    ).all()
    assert len(obtained) == 2
    for e in obtained:  # the log names neither the bidder nor the document
        assert e.actor_org_id is None and e.actor_user_id is None and e.data == {}
        assert e.sealed_commitment and e.reveal_after is not None

    # 7. Ten days before the deadline: a clarification must extend the deadline.
    clock.advance(dt.timedelta(days=15))
    world.refresh_crl(db)
    events, notices = count(db, AuditEvent), count(db, Notice)
    r = client.post(
        f"/api/v1/notices/{nid}/clarifications",
        json={"content": "第3章工程量清单修改"},
        headers=agency.headers,
    )
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "notices.clarification.extension_required"
    earliest = (clock.now().date() + dt.timedelta(days=15)).isoformat()
    assert earliest in body["detail"] and "15日" in body["detail"]
    r = client.post(
        f"/api/v1/notices/{nid}/clarifications",
        json={"content": "第3章工程量清单修改", "new_deadline": deadline(12).isoformat()},
        headers=agency.headers,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "notices.clarification.extension_too_short"
    assert earliest in r.json()["detail"]
    assert (count(db, AuditEvent), count(db, Notice)) == (events, notices)

    r = upload(
        client, agency, tender, b"%PDF-1.7 clarification\n", "clarification_document", "澄清.pdf"
    )
    assert r.status_code == 201, r.text
    new_deadline = deadline(16)
    r = client.post(
        f"/api/v1/notices/{nid}/clarifications",
        json={
            "content": "第3章工程量清单修改，投标截止时间顺延。",
            "new_deadline": new_deadline.isoformat(),
        },
        headers=agency.headers,
    )
    assert r.status_code == 201, r.text
    clarification = r.json()
    assert clarification["kind"] == "clarification" and clarification["parent_id"] == nid
    assert dt.datetime.fromisoformat(clarification["new_deadline"]) == new_deadline
    assert dt.datetime.fromisoformat(clarification["previous_deadline"]) == deadline(10)
    db.rollback()
    assert {s.bid_deadline for s in db.scalars(select(Section))} == {new_deadline}
    parent = client.get(f"/api/v1/notices/{nid}").json()
    assert dt.datetime.fromisoformat(parent["deadline"]) == new_deadline
    assert [n["id"] for n in parent["related"]] == [clarification["id"]]
    # A bidder who obtained the documents also obtains the clarification document.
    cdoc = client.get(f"/api/v1/notices/{clarification['id']}").json()["documents"][0]
    assert (
        client.get(f"/api/v1/documents/{cdoc['id']}/download", headers=b1.headers).status_code
        == 200
    )

    # 8. The portal: list, filters, detail, openings calendar, Atom and the change feed.
    listed = client.get("/api/v1/notices?category=engineering&region=320000&status=open").json()
    assert {n["id"] for n in listed} == {nid, clarification["id"]}
    assert client.get("/api/v1/notices?method=inquiry").json() == []
    assert client.get("/api/v1/notices?q=车辆段&kind=tender_notice").json()[0]["id"] == nid
    detail = client.get(f"/api/v1/notices/{nid}").json()
    assert detail["sections"][0]["coefficients"][0]["values"] == ["0.95", "0.96", "0.97", "0.98"]
    assert detail["sections"][0]["opening_places"] == []  # the old booking no longer covers it
    page = client.get("/notices?q=车辆段")
    assert page.status_code == 200 and "车辆段土建施工" in page.text
    html = client.get(f"/notices/{nid}")
    assert "下浮系数K" in html.text and "招标文件.pdf" in html.text and "澄清" in html.text
    openings = client.get("/api/v1/openings").json()
    assert {o["section_code"] for o in openings} == {s["code"] for s in sections}
    assert "车辆段" in client.get("/openings").text

    feed = client.get("/api/v1/feed/notices").json()
    assert feed["items"] == [] and feed["settle_seconds"] == 10.0  # not settled yet
    clock.advance(dt.timedelta(seconds=11))
    feed = client.get("/api/v1/feed/notices?limit=1").json()
    assert [n["id"] for n in feed["items"]] == [clarification["id"]] and feed["has_more"]
    rest = client.get(f"/api/v1/feed/notices?after={feed['next_cursor']}").json()
    assert [n["id"] for n in rest["items"]] == [nid] and not rest["has_more"]
    again = client.get(f"/api/v1/feed/notices?after={rest['next_cursor']}").json()
    assert again["items"] == [] and again["next_cursor"] == rest["next_cursor"]
    atom = client.get("/feeds/notices.atom")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(atom.content)
    titles = [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
    assert any("车辆段" in (t or "") for t in titles) and len(titles) == 2

    # 9. After the deadline: documents can no longer be obtained; the parties see who did.
    clock.set(new_deadline + dt.timedelta(minutes=1))
    r = client.get(f"/api/v1/documents/{doc_id}/download", headers=b4.headers)
    assert r.status_code == 409 and r.json()["code"] == "notices.download.closed"
    for party in (agency, staff):
        rows = client.get(f"/api/v1/tender-projects/{tid}/downloads", headers=party.headers).json()
        assert sorted({d["org_name"] for d in rows}) == sorted({b1.name, b2.name})
    r = client.get(f"/api/v1/tender-projects/{tid}/downloads", headers=b1.headers)
    assert r.status_code == 404  # bidders never see the tender's list
    assert client.get("/api/v1/notices?status=closed").json()[0]["public_status"] == "closed"


def test_web_session_needs_csrf_for_api_writes(client: Any, world: World) -> None:
    client.cookies.set("sunlit_session", world.agency.token)
    r = client.post("/api/v1/tender-projects", json=register_payload(world))
    assert r.status_code == 403 and r.json()["code"] == "csrf.invalid"
    r = client.post(
        "/api/v1/tender-projects", json=register_payload(world), headers=csrf_headers(client)
    )
    assert r.status_code == 201, r.text
