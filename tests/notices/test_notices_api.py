"""Documents, notices, statutory periods, invitations, termination: the rules and refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.identity import service as identity_service
from sunlit.identity.schemas import UserIn
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.web import sessions
from sunlit.notices.models import Document, Download, Notice
from sunlit.projects.models import Section
from tests.identity.helpers import SYSTEM
from tests.projects.helpers import (
    World,
    accepted_tender,
    build_world,
    count,
    deadline,
    publish,
    register_payload,
    section_payload,
    signed_upload,
    upload,
)


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=4)


def _counts(db: Session) -> tuple[int, ...]:
    return tuple(count(db, m) for m in (Notice, Document, Download, AuditEvent))


def _refused(r: Any, status: int, code: str, *words: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    for w in words:
        assert w in body["detail"], body["detail"]
    return body


def _draft(client: Any, world: World, tender: dict[str, Any], **body: Any) -> Any:
    payload = {"content": "公告正文"}
    payload.update(body)
    return client.post(
        f"/api/v1/tender-projects/{tender['id']}/notices",
        json=payload,
        headers=world.agency.headers,
    )


def test_document_signatures(client: Any, db: Session, world: World, tmp_path: Path) -> None:
    r = client.post(
        "/api/v1/tender-projects",
        json=register_payload(world),
        headers=world.agency.headers,
    )
    tender = r.json()
    _refused(upload(client, world.agency, tender), 409, "notices.document.no_sections")
    r = client.post(
        f"/api/v1/tender-projects/{tender['id']}/sections",
        json=section_payload(25),
        headers=world.agency.headers,
    )
    assert r.status_code == 201
    before = _counts(db)
    blobs = list((tmp_path / "var").rglob("*"))
    # A signature over other content (the file was changed after signing) is refused.
    sig = signed_upload(world.agency, tender["code"], b"original")
    _refused(
        upload(client, world.agency, tender, b"tampered", signature=sig),
        422,
        "notices.document.bad_signature",
        "签名",
    )
    _refused(
        upload(client, world.agency, tender, signature="not base64!"),
        422,
        "notices.document.signature_encoding",
    )
    _refused(upload(client, world.agency, tender, b""), 422, "notices.document.empty")
    # Signed by someone else (the tenderer's key, uploaded by the agency) is refused too.
    other = signed_upload(world.tenderer, tender["code"], b"content")
    _refused(
        upload(client, world.agency, tender, b"content", signature=other),
        422,
        "notices.document.bad_signature",
    )
    # A signature for another tender project does not transfer.
    moved = signed_upload(world.agency, "E3205002026999999001", b"content")
    _refused(
        upload(client, world.agency, tender, b"content", signature=moved),
        422,
        "notices.document.bad_signature",
    )
    assert _counts(db) == before
    assert [p for p in (tmp_path / "var").rglob("*") if p.is_file()] == [
        p for p in blobs if p.is_file()
    ]
    # A user of the agency without a bound certificate cannot sign at all.
    user = identity_service.add_user(
        db, SYSTEM, world.agency.org_id, UserIn(name="新人", roles=[Role.AGENCY])
    )
    token, _ = sessions.open_session(db, user.id, "certificate", 8)
    db.commit()
    r = client.post(
        f"/api/v1/tender-projects/{tender['id']}/documents",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("a.pdf", b"x", "application/pdf")},
        data={"signature": sig},
    )
    _refused(r, 403, "notices.document.no_certificate")
    # SM3 digests are accepted as well as SHA-256.
    content = "国密摘要".encode()
    sm3 = signed_upload(world.agency, tender["code"], content, "sm3")
    r = client.post(
        f"/api/v1/tender-projects/{tender['id']}/documents",
        headers=world.agency.headers,
        files={"file": ("国密.pdf", content, "application/pdf")},
        data={"signature": sm3, "digest_algorithm": "sm3"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["signed_digest"].startswith("sm3:")
    listed = client.get(
        f"/api/v1/tender-projects/{tender['id']}/documents", headers=world.staff.headers
    ).json()
    assert [d["file_name"] for d in listed] == ["国密.pdf"]


def test_publication_needs_acceptance_documents_and_the_statutory_period(
    client: Any, db: Session, world: World, clock: ManualClock
) -> None:
    tender = client.post(
        "/api/v1/tender-projects", json=register_payload(world), headers=world.agency.headers
    ).json()
    client.post(
        f"/api/v1/tender-projects/{tender['id']}/sections",
        json=section_payload(19),
        headers=world.agency.headers,
    )
    _refused(_draft(client, world, tender), 409, "notices.notice.not_accepted", "草稿")
    client.post(f"/api/v1/tender-projects/{tender['id']}/submit", headers=world.agency.headers)
    client.post(
        f"/api/v1/tender-projects/{tender['id']}/accept", json={}, headers=world.staff.headers
    )
    draft = _draft(client, world, tender).json()
    before = _counts(db)
    _refused(
        client.post(f"/api/v1/notices/{draft['id']}/publish", headers=world.agency.headers),
        409,
        "notices.publish.period_too_short",
        "20日",
        "第二十四条",
        "2026-12-13",
    )
    assert _counts(db) == before
    # ... and a tender document must be issued with the notice.
    tid = tender["id"]
    assert (
        client.post(
            f"/api/v1/tender-projects/{tid}/withdraw", headers=world.agency.headers
        ).status_code
        == 200
    )
    sid = client.get(f"/api/v1/tender-projects/{tid}", headers=world.agency.headers).json()[
        "sections"
    ][0]["id"]
    r = client.put(
        f"/api/v1/sections/{sid}", json=section_payload(20), headers=world.agency.headers
    )
    assert r.status_code == 200, r.text
    client.post(f"/api/v1/tender-projects/{tid}/submit", headers=world.agency.headers)
    client.post(f"/api/v1/tender-projects/{tid}/accept", json={}, headers=world.staff.headers)
    _refused(
        client.post(f"/api/v1/notices/{draft['id']}/publish", headers=world.agency.headers),
        409,
        "notices.publish.no_documents",
    )
    assert upload(client, world.agency, tender).status_code == 201
    r = client.post(f"/api/v1/notices/{draft['id']}/publish", headers=world.agency.headers)
    assert r.status_code == 200, r.text
    # A second publication of the same notice is an illegal transition.
    _refused(
        client.post(f"/api/v1/notices/{draft['id']}/publish", headers=world.agency.headers),
        409,
        "notices.notice.illegal_transition",
        "已发布",
    )


@pytest.mark.parametrize(
    ("method", "evaluation", "days", "earliest", "words"),
    [
        # START is Monday 2026-11-23.
        (
            "competitive_negotiation",
            "gp_lowest_price_deal",
            2,
            "2026-11-26",
            ("3个工作日", "第二十九条"),
        ),
        ("inquiry", "gp_lowest_price_deal", 2, "2026-11-26", ("3个工作日", "第四十五条")),
        ("single_source", "gp_negotiated", 6, "2026-11-30", ("5个工作日", "单一来源")),
        ("competitive_consultation", "gp_comprehensive_scoring", 9, "2026-12-03", ("10日",)),
        ("open", "gp_comprehensive_scoring", 19, "2026-12-13", ("20日", "政府采购法")),
    ],
)
def test_government_procurement_periods(
    client: Any,
    db: Session,
    world: World,
    method: str,
    evaluation: str,
    days: int,
    earliest: str,
    words: tuple[str, ...],
) -> None:
    gp = {
        "_section": {
            "evaluation_method": evaluation,
            "coefficients": [],
            "min_bidders": 1 if method == "single_source" else 3,
        },
    }
    body = register_payload(world, method=method)
    body["project"]["category"] = "government_procurement"
    t = client.post("/api/v1/tender-projects", json=body, headers=world.agency.headers).json()
    section = section_payload(days, **gp["_section"])
    r = client.post(
        f"/api/v1/tender-projects/{t['id']}/sections", json=section, headers=world.agency.headers
    )
    assert r.status_code == 201, r.text
    upload(client, world.agency, t)
    client.post(f"/api/v1/tender-projects/{t['id']}/submit", headers=world.agency.headers)
    client.post(f"/api/v1/tender-projects/{t['id']}/accept", json={}, headers=world.staff.headers)
    draft = _draft(client, world, t).json()
    body_ = _refused(
        client.post(f"/api/v1/notices/{draft['id']}/publish", headers=world.agency.headers),
        409,
        "notices.publish.period_too_short",
        earliest,
        *words,
    )
    assert body_["detail"]
    # Moving the deadline to the earliest day makes it publishable.
    client.post(f"/api/v1/tender-projects/{t['id']}/withdraw", headers=world.agency.headers)
    deadline_day = dt.date.fromisoformat(earliest)
    section["bid_deadline"] = dt.datetime.combine(
        deadline_day, dt.time(9, 30), dt.timezone(dt.timedelta(hours=8))
    ).isoformat()
    sid = client.get(f"/api/v1/tender-projects/{t['id']}", headers=world.agency.headers).json()[
        "sections"
    ][0]["id"]
    assert (
        client.put(
            f"/api/v1/sections/{sid}", json=section, headers=world.agency.headers
        ).status_code
        == 200
    )
    client.post(f"/api/v1/tender-projects/{t['id']}/submit", headers=world.agency.headers)
    client.post(f"/api/v1/tender-projects/{t['id']}/accept", json={}, headers=world.staff.headers)
    r = client.post(f"/api/v1/notices/{draft['id']}/publish", headers=world.agency.headers)
    assert r.status_code == 200, r.text
    kind = {"open": "tender_notice", "single_source": "single_source"}.get(
        method, "procurement_notice"
    )
    assert r.json()["kind"] == kind


def test_non_mandatory_engineering_tenders_have_no_twenty_day_rule(
    client: Any, world: World
) -> None:
    tender = accepted_tender(client, world, days=5, must_tender=False)
    assert publish(client, world, tender)["status"] == "published"


def test_invitations_are_seen_only_by_the_invited(client: Any, db: Session, world: World) -> None:
    b1, b2, b3, b4 = world.bidders
    tender = accepted_tender(client, world, method="invited")
    _refused(
        _draft(client, world, tender, invitee_credit_codes=[world.agency.credit_code]),
        422,
        "notices.invitation.unknown_bidder",
    )
    draft = _draft(
        client, world, tender, invitee_credit_codes=[b1.credit_code, b2.credit_code]
    ).json()
    assert draft["kind"] == "invitation" and draft["public"] is False
    _refused(
        client.post(f"/api/v1/notices/{draft['id']}/publish", headers=world.agency.headers),
        409,
        "notices.invitation.too_few",
        "3个以上",
        "第十七条",
    )
    r = client.put(
        f"/api/v1/notices/{draft['id']}",
        json={
            "content": "投标邀请书",
            "invitee_credit_codes": [b1.credit_code, b2.credit_code, b3.credit_code],
        },
        headers=world.agency.headers,
    )
    assert r.status_code == 200, r.text
    notice = client.post(
        f"/api/v1/notices/{draft['id']}/publish", headers=world.agency.headers
    ).json()
    assert notice["status"] == "published"
    assert client.get("/api/v1/notices").json() == []  # not on the public portal
    assert client.get(f"/api/v1/notices/{notice['id']}").status_code == 404
    assert client.get(f"/api/v1/notices/{notice['id']}", headers=b4.headers).status_code == 404
    detail = client.get(f"/api/v1/notices/{notice['id']}", headers=b1.headers).json()
    doc = detail["documents"][0]["id"]
    assert client.get(f"/api/v1/documents/{doc}/download", headers=b1.headers).status_code == 200
    _refused(client.get(f"/api/v1/documents/{doc}/download", headers=b4.headers), 404, "not_found")
    page = client.get("/bidder/notices", headers=b1.headers)
    assert tender["name"] in page.text
    assert tender["name"] not in client.get("/bidder/notices", headers=b4.headers).text


def test_termination(client: Any, db: Session, world: World) -> None:
    tender = accepted_tender(client, world, sections=2)
    notice = publish(client, world, tender)
    b1 = world.bidders[0]
    doc = client.get(f"/api/v1/notices/{notice['id']}").json()["documents"][0]["id"]
    _refused(
        client.post(
            f"/api/v1/tender-projects/{tender['id']}/terminate",
            json={"reason": "x"},
            headers=world.agency.headers,
        ),
        422,
        "request.invalid",
    )
    # Terminate one section: the tender goes on with the other.
    first = tender["sections"][0]["id"]
    r = client.post(
        f"/api/v1/tender-projects/{tender['id']}/terminate",
        json={"reason": "第1标段因规划调整终止招标", "section_ids": [first]},
        headers=world.agency.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "termination" and r.json()["public"] is True
    t = client.get(f"/api/v1/tender-projects/{tender['id']}", headers=world.agency.headers).json()
    assert t["status"] == "tendering"
    assert [s["status"] for s in t["sections"]] == ["terminated", "published"]
    assert client.get(f"/api/v1/notices/{notice['id']}").json()["status"] == "published"
    assert client.get(f"/api/v1/documents/{doc}/download", headers=b1.headers).status_code == 200
    # Then the rest: the whole tender project is terminated and so is its notice.
    r = client.post(
        f"/api/v1/tender-projects/{tender['id']}/terminate",
        json={"reason": "项目取消，终止招标"},
        headers=world.agency.headers,
    )
    assert r.status_code == 201, r.text
    t = client.get(f"/api/v1/tender-projects/{tender['id']}", headers=world.agency.headers).json()
    assert t["status"] == "terminated"
    n = client.get(f"/api/v1/notices/{notice['id']}").json()
    assert n["status"] == "terminated" and n["public_status"] == "terminated"
    assert {x["kind"] for x in n["related"]} == {"termination"}
    _refused(
        client.get(f"/api/v1/documents/{doc}/download", headers=world.bidders[1].headers),
        409,
        "notices.download.terminated",
    )
    terminated = client.get("/api/v1/notices?status=terminated").json()
    assert {x["kind"] for x in terminated} == {"tender_notice", "termination"}
    _refused(
        client.post(
            f"/api/v1/notices/{notice['id']}/clarifications",
            json={"content": "x"},
            headers=world.agency.headers,
        ),
        409,
        "notices.notice.illegal_transition",
        "已终止",
    )


def test_clarification_rules(client: Any, db: Session, world: World, clock: ManualClock) -> None:
    tender = accepted_tender(client, world, days=40)
    notice = publish(client, world, tender)
    url = f"/api/v1/notices/{notice['id']}/clarifications"
    # Early enough: no extension needed.
    r = client.post(url, json={"content": "答疑：图纸编号更正"}, headers=world.agency.headers)
    assert r.status_code == 201 and r.json()["new_deadline"] is None
    _refused(
        client.post(
            url,
            json={"content": "提前截止", "new_deadline": deadline(39).isoformat()},
            headers=world.agency.headers,
        ),
        422,
        "notices.clarification.shorten",
    )
    _refused(
        client.post(
            f"/api/v1/notices/{r.json()['id']}/clarifications",
            json={"content": "x"},
            headers=world.agency.headers,
        ),
        409,
        "notices.clarification.parent",
    )
    _refused(
        client.post(url, json={"content": "x"}, headers=world.bidders[0].headers), 404, "not_found"
    )
    clock.advance(dt.timedelta(days=41))
    _refused(
        client.post(url, json={"content": "截止后澄清"}, headers=world.agency.headers),
        409,
        "notices.clarification.after_deadline",
    )


def test_feed_and_portal_inputs(client: Any) -> None:
    _refused(client.get("/api/v1/feed/notices?after=%%%"), 422, "notices.feed.cursor")
    _refused(client.get("/api/v1/notices?region=32"), 422, "code.region.invalid")
    assert client.get("/notices?region=32").status_code == 422
    assert client.get("/notices?date_from=2026-13-01").status_code == 422
    assert client.get("/notices").status_code == 200
    assert client.get("/openings").status_code == 200
    assert client.get("/feeds/notices.atom").status_code == 200


def test_draft_documents_cannot_be_obtained(client: Any, db: Session, world: World) -> None:
    tender = accepted_tender(client, world)
    doc = client.get(
        f"/api/v1/tender-projects/{tender['id']}/documents", headers=world.agency.headers
    ).json()[0]
    _refused(
        client.get(f"/api/v1/documents/{doc['id']}/download", headers=world.bidders[0].headers),
        404,
        "not_found",
    )
    assert count(db, Download) == 0
    db.rollback()
    assert db.scalar(select(Section.status)) == "draft"


def test_listing_count_is_capped_and_deep_pages_refused(
    client: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sunlit.notices import queries

    tender = accepted_tender(client, world, sections=2)
    publish(client, world, tender)
    r = client.post(
        f"/api/v1/tender-projects/{tender['id']}/terminate",
        json={"reason": "第1标段因规划调整终止招标", "section_ids": [tender["sections"][0]["id"]]},
        headers=world.agency.headers,
    )
    assert r.status_code == 201, r.text
    full = client.get("/api/v1/notices")
    assert full.headers["x-total-count"] == "2" and full.headers["x-total-count-exact"] == "true"
    monkeypatch.setattr(queries, "COUNT_CAP", 1)
    capped = client.get("/api/v1/notices")
    assert capped.headers["x-total-count"] == "1"
    assert capped.headers["x-total-count-exact"] == "false"
    assert len(capped.json()) == 2  # the page itself is not cut by the count cap
    _refused(client.get("/api/v1/notices?offset=1"), 422, "notices.filter.too_deep", "超过1条")
    page = client.get("/notices")
    assert "超过 1 条" in page.text
