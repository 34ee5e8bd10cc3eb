"""Guarantees over real HTTP: platform and FI simulator on loopback, signed messages both ways.

apply (sealed) → FI approves → premium from the basic account → signed issuance bound →
bids → securities verified after the deadline → 解密还原 → public 验真 → release; a claim;
and every failure case of the issue."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.guarantees import service as gservice
from sunlit.guarantees.models import Alert, Application
from sunlit.kernel import audit, partner
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto import get_suite
from sunlit.kernel.db import Database
from sunlit.kernel.errors import DomainError
from tests.guarantees.helpers import Market, after_deadline, basic_account, open_market
from tests.projects.helpers import World, build_world


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


@pytest.fixture
def market(
    app: Any,
    client: Any,
    db: Session,
    database: Database,
    world: World,
    clock: ManualClock,
    tmp_path: Path,
) -> Iterator[Market]:
    m = open_market(app, client, db, database, world, clock, tmp_path)
    yield m
    m.close()


def _events(db: Session, action: str) -> int:
    db.rollback()
    return (
        db.scalar(
            select(func.count())
            .select_from(audit.AuditEvent)
            .where(audit.AuditEvent.action == action)
        )
        or 0
    )


def _outbox_bodies(db: Session, topic: str) -> list[dict[str, Any]]:
    db.rollback()
    rows = db.scalars(select(partner.OutboxMessage).where(partner.OutboxMessage.topic == topic))
    return [json.loads(r.body) for r in rows]


def test_apply_pay_issue_verify_reveal_release(
    market: Market, db: Session, clock: ManualClock, tmp_path: Path
) -> None:
    m = market
    a, b, c = m.bidders
    app_a = m.apply(a, machine_id="machine-A")
    assert app_a["status"] == "submitted" and app_a["amount"] == "800000.00"

    # What travels to the FI: underwriting facts, not the section or the tenderer.
    (sent,) = _outbox_bodies(db, "guarantee.application")
    text = json.dumps(sent, ensure_ascii=False)
    assert sent["applicant"]["credit_code"] == a.credit_code
    assert sent["amount"] == "800000.00" and sent["category"] == "engineering"
    for secret in (m.code, m.sid, m.world.tenderer.name, m.world.tenderer.credit_code, "土建施工"):
        assert secret not in text
    # The envelope opens only with the platform key, and matches the commitment.
    details = gservice.open_sealed(sent["sealed"]["envelope"])
    assert details["section_code"] == m.code

    assert m.deliver().delivered == 1
    assert m.status(a, app_a["id"])["status"] == "underwriting"
    assert m.pump() == 3  # decision, payment, issuance
    got = m.status(a, app_a["id"])
    assert got["status"] == "issued", got
    assert got["premium"] == "1200.00"  # 800,000 × 0.15 %
    assert got["payer_account_no"] == basic_account(a.org_id)
    assert got["guarantee_no"].startswith("BH-SIM-BANK-") and len(got["verification_code"]) == 8
    assert got["guarantee_amount"] == "800000.00"

    # B applies too but its FI declines nothing: it never pays (stays awaiting payment)...
    m.sim_config(decision="decline")
    app_c = m.apply(c)
    m.deliver()
    m.pump()
    refused = m.status(c, app_c["id"])
    assert refused["status"] == "refused" and refused["refusal_code"] == "guarantee.fi.declined"
    m.sim_config(decision="approve")

    # Bids; the deadline passes; the opening record's securities (验真 at opening).
    for bidder, price in ((a, "12345000.00"), (b, "12346000.00")):
        m.upload_bid(bidder, tmp_path, price)
    r = m.client.get(
        f"/api/v1/guarantee/sections/{m.sid}/securities", headers=m.world.agency.headers
    )
    assert r.status_code == 200 and r.json() == []  # nothing before the deadline
    after_deadline(m, clock, db)
    r = m.client.get(
        f"/api/v1/guarantee/sections/{m.sid}/securities", headers=m.world.agency.headers
    )
    assert r.status_code == 200, r.text
    by_code = {s["credit_code"]: s for s in r.json()}
    assert by_code[a.credit_code]["verified"] is True
    assert by_code[a.credit_code]["guarantee_no"] == got["guarantee_no"]
    assert by_code[b.credit_code]["verified"] is False
    assert by_code[b.credit_code]["problems"] == ["未提交投标保证金或保函"]
    assert c.credit_code not in by_code  # no bid, not in the opening record
    r = m.client.get(f"/api/v1/guarantee/sections/{m.sid}/securities", headers=c.headers)
    assert r.status_code == 404  # a bidder does not see the others' securities

    # 解密还原 after the opening: the FI checks the plain details against the commitment.
    with m.database.session_scope() as s:
        assert gservice.sections_to_reveal(s, [m.sid]) == [m.sid]
        assert gservice.reveal_section(s, m.sid) == 1
    assert m.deliver().delivered == 1
    order = m.sim.state.orders[app_a["order_no"]]
    assert order["revealed"]["section_code"] == m.code
    assert order["revealed"]["tenderer_credit_code"] == m.world.tenderer.credit_code
    assert m.status(a, app_a["id"])["status"] == "revealed"

    # Public 验真 by number + code: the FI's signature and the platform record.
    no, vcode = got["guarantee_no"], got["verification_code"]
    r = httpx.get(f"{m.url}/api/v1/guarantee/verify", params={"no": no, "code": vcode})
    assert r.status_code == 200 and r.json()["signature_valid"] is True
    doc, sig = r.json()["document"], base64.b64decode(r.json()["document_signature"])
    get_suite("gm").verify(
        get_suite("gm").load_public_key(m.sim.public_pem), partner.canonical_json(doc), sig
    )
    assert (
        httpx.get(
            f"{m.url}/api/v1/guarantee/verify", params={"no": no, "code": "WRONG123"}
        ).status_code
        == 404
    )
    page = httpx.get(f"{m.url}/guarantees/verify", params={"no": no, "code": vcode})
    assert "验真通过" in page.text and "<svg" in page.text
    pdf = httpx.get(f"{m.url}/guarantees/verify/pdf", params={"no": no, "code": vcode})
    assert pdf.content.startswith(b"%PDF-") and doc["pdf_sha256"] in page.text

    # Release after the contract: notified to the FI.
    r = m.client.post(
        f"/api/v1/guarantee/sections/{m.sid}/release",
        json={"reason": "contract_signed"},
        headers=m.world.staff.headers,
    )
    assert r.status_code == 200 and r.json() == {"released": 1}
    assert m.deliver().delivered == 1
    assert m.sim.state.orders[app_a["order_no"]]["status"] == "released"
    assert m.status(a, app_a["id"])["status"] == "released"
    page = httpx.get(f"{m.url}/guarantees/verify", params={"no": no, "code": vcode})
    assert "已退保" in page.text
    assert _events(db, "guarantee.issued") == 1


def test_claim_with_ground_and_evidence_is_paid(
    market: Market, db: Session, clock: ManualClock, tmp_path: Path
) -> None:
    m = market
    a = m.bidders[0]
    app_a = m.apply(a)
    m.deliver()
    m.pump()
    m.upload_bid(a, tmp_path, "12345000.00")
    after_deadline(m, clock, db)
    with m.database.session_scope() as s:
        gservice.reveal_section(s, m.sid)
    m.deliver()
    form = {
        "amount": "800000.00",
        "ground": "refuse_contract",
        "statement": "中标通知书发出后，中标人书面拒绝签订合同。",
        "payee_account_no": "3205 0000 1111",
        "payee_account_name": m.world.tenderer.name,
        "payee_bank": "中国建设银行苏州分行",
    }
    url = f"/api/v1/guarantee/applications/{app_a['id']}/claims"
    files = [("evidence", ("拒签函.pdf", b"%PDF-1.7 refusal", "application/pdf"))]
    # Without ground, without evidence, over the amount, by a stranger: refused, nothing kept.
    for change, code in (
        ({"ground": ""}, "guarantee.claim.ground"),
        ({"amount": "900000.00"}, "guarantee.claim.amount"),
    ):
        r = m.client.post(url, data={**form, **change}, files=files, headers=m.world.agency.headers)
        assert r.status_code == 422 and r.json()["code"] == code
    r = m.client.post(url, data=form, headers=m.world.agency.headers)
    assert r.status_code == 422 and r.json()["code"] == "guarantee.claim.evidence"
    r = m.client.post(url, data=form, files=files, headers=m.world.other_tenderer.headers)
    assert r.status_code == 404
    r = m.client.post(url, data=form, files=files, headers=m.world.agency.headers)
    assert r.status_code == 201, r.text
    claim = r.json()
    assert claim["status"] == "filed"
    assert m.status(a, app_a["id"])["status"] == "claimed"
    assert m.deliver().delivered == 1
    sim_claim = m.sim.state.orders[app_a["order_no"]]["claims"][claim["claim_no"]]["claim"]
    assert sim_claim["ground"] == "refuse_contract" and len(sim_claim["evidence"]) == 1
    assert m.pump() == 1
    assert m.status(a, app_a["id"])["status"] == "compensated"
    db.rollback()
    row = db.scalar(select(Application).where(Application.id == app_a["id"]))
    assert row is not None
    from sunlit.guarantees.models import Claim

    c = db.scalar(select(Claim))
    assert c is not None and c.status == "paid" and str(c.paid_amount) == "800000.00"
    # Release leaves a compensated guarantee alone.
    r = m.client.post(
        f"/api/v1/guarantee/sections/{m.sid}/release",
        json={"reason": "contract_signed"},
        headers=m.world.staff.headers,
    )
    assert r.json() == {"released": 0}


def test_wrong_account_is_refused_with_reason_and_raises_alert(
    market: Market, db: Session, clock: ManualClock
) -> None:
    m = market
    a, b, _ = m.bidders
    m.sim_config(wrong_account=True)
    ids = [m.apply(a, machine_id="same-pc")["id"], m.apply(b, machine_id="same-pc")["id"]]
    assert m.deliver().delivered == 2
    m.pump()
    for bidder, i in zip((a, b), ids, strict=True):
        got = m.status(bidder, i)
        assert got["status"] == "payment_refused"
        assert got["refusal_code"] == "guarantee.payment.not_basic_account"
        assert "不是该投标人登记的基本户" in got["refusal_reason"]
        assert got["guarantee_no"] is None
    # The FI learnt the reason in the answer and did not issue.
    for order in m.sim.state.orders.values():
        assert order["status"] == "payment_refused"
        assert order["refusal"]["code"] == "guarantee.payment.not_basic_account"
    assert _events(db, "guarantee.issued") == 0
    # Risk alerts: same machine, same address (both applied from this test client).
    r = m.client.get("/api/v1/guarantee/alerts", headers=m.world.supervisor.headers)
    assert r.status_code == 200 and r.json() == []  # secret until the deadline
    after_deadline(m, clock, db)
    r = m.client.get("/api/v1/guarantee/alerts", headers=m.world.supervisor.headers)
    kinds = {x["kind"]: x for x in r.json()}
    assert set(kinds) >= {"machine_id", "client_ip"}
    assert sorted(kinds["machine_id"]["org_ids"]) == sorted([a.org_id, b.org_id])
    assert {e["credit_code"] for e in kinds["machine_id"]["evidence"]} == {
        a.credit_code,
        b.credit_code,
    }
    r = m.client.get("/api/v1/guarantee/alerts", headers=a.headers)
    assert r.status_code == 403
    page = m.client.get("/supervisor/guarantee-alerts", headers=m.world.supervisor.headers)
    assert "同一台计算机" in page.text and a.name in page.text


def test_one_payer_account_for_two_bidders_raises_alert(
    market: Market, db: Session, clock: ManualClock
) -> None:
    m = market
    a, b, _ = m.bidders
    for bidder in (a, b):
        m.apply(bidder)
    m.deliver()
    shared = "6222 0000 9999 0001"
    for order in m.sim.state.orders.values():  # both premiums paid from one account
        order["payment"]["payer_account_no"] = shared
    for cb in m.sim.state.outbox:
        if cb.kind == "payment":
            cb.body["payer_account_no"] = shared
    m.pump()
    with m.database.session_scope() as s:
        alert = s.scalar(select(Alert).where(Alert.kind == "payer_account"))
        assert alert is not None and alert.trace == "6222000099990001"
        assert sorted(alert.org_ids) == sorted([a.org_id, b.org_id])


def test_duplicate_and_reordered_callbacks_are_idempotent(market: Market, db: Session) -> None:
    m = market
    m.sim_config(duplicate=True, reorder=True)
    a = m.bidders[0]
    app_a = m.apply(a)
    m.deliver()
    for _ in range(10):  # issuance first is answered 425 (too early) and retried
        m.pump()
        for cb in m.sim.state.outbox:
            cb.not_before = 0
    statuses = [(cb.kind, cb.status) for cb in m.sim.state.outbox]
    assert ("issuance", 425) not in statuses or all(cb.done for cb in m.sim.state.outbox)
    assert all(cb.done for cb in m.sim.state.outbox), statuses
    assert len(m.sim.state.outbox) == 6  # every callback twice
    got = m.status(a, app_a["id"])
    assert got["status"] == "issued"
    assert _events(db, "guarantee.issued") == 1
    assert _events(db, "guarantee.payment.accepted") == 1
    answers = [cb.answer for cb in m.sim.state.outbox if cb.kind == "issuance"]
    assert answers[0] == answers[1]  # the same stored answer, verification code included


def test_fi_message_failures(market: Market, db: Session, clock: ManualClock) -> None:
    m = market
    a = m.bidders[0]
    app_a = m.apply(a)
    m.deliver()
    key = m.sim.key
    fi = partner.PartnerClient(m.url, partner.Identity("sim-bank", key))
    # Unknown application.
    r = fi.post(
        "/api/v1/guarantee/fi/decisions",
        {"order_no": "BH-NOPE", "decision": "approved", "premium": "1.00"},
        idempotency_key="d-unknown",
    )
    assert r.status_code == 404 and r.json()["code"] == "guarantee.application.unknown"
    # Unsigned; replayed.
    r = httpx.post(f"{m.url}/api/v1/guarantee/fi/decisions", json={"order_no": app_a["order_no"]})
    assert r.status_code == 401 and r.json()["code"] == "partner.signature.missing"
    body = partner.canonical_json(
        {"order_no": app_a["order_no"], "decision": "approved", "premium": "1200.00"}
    )
    headers = partner.sign_request(
        key, "sim-bank", "POST", "/api/v1/guarantee/fi/decisions", body, idempotency_key="d-1"
    )
    assert (
        httpx.post(
            f"{m.url}/api/v1/guarantee/fi/decisions", content=body, headers=headers
        ).status_code
        == 200
    )
    r = httpx.post(f"{m.url}/api/v1/guarantee/fi/decisions", content=body, headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "partner.replay"
    # Issuance before payment: too early (425), nothing stored.
    order = m.sim.state.orders[app_a["order_no"]]
    r = fi.post("/api/v1/guarantee/fi/issuances", order["issuance"], idempotency_key="i-early")
    assert r.status_code == 425 and r.json()["code"] == "guarantee.out_of_order"
    assert (
        fi.post("/api/v1/guarantee/fi/payments", order["payment"], idempotency_key="p-1").json()[
            "result"
        ]
        == "accepted"
    )
    # Amount below the required security, properly signed by the FI: refused.
    low = json.loads(json.dumps(order["issuance"]))
    low["guarantee"]["amount"] = "700000.00"
    low["document_signature"] = base64.b64encode(
        get_suite("gm").sign(key, partner.canonical_json(low["guarantee"]))
    ).decode()
    r = fi.post("/api/v1/guarantee/fi/issuances", low, idempotency_key="i-low")
    assert r.status_code == 422 and r.json()["code"] == "guarantee.amount.below_required"
    # A document not signed by the FI.
    forged = json.loads(json.dumps(order["issuance"]))
    forged["document_signature"] = base64.b64encode(
        get_suite("gm").sign(
            get_suite("gm").generate_keypair(), partner.canonical_json(forged["guarantee"])
        )
    ).decode()
    r = fi.post("/api/v1/guarantee/fi/issuances", forged, idempotency_key="i-forged")
    assert r.status_code == 422 and r.json()["code"] == "guarantee.document.signature"
    # A PDF that is not the one hashed in the signed document.
    tampered = dict(order["issuance"], pdf_base64=base64.b64encode(b"%PDF-1.7 other").decode())
    r = fi.post("/api/v1/guarantee/fi/issuances", tampered, idempotency_key="i-pdf")
    assert r.status_code == 422 and r.json()["code"] == "guarantee.pdf.hash"
    assert m.status(a, app_a["id"])["status"] == "paid"
    # Same idempotency key, other body: refused.
    r = fi.post("/api/v1/guarantee/fi/issuances", order["issuance"], idempotency_key="i-low")
    assert r.status_code == 201 or r.status_code == 200, r.text  # i-low was refused: not stored
    r = fi.post("/api/v1/guarantee/fi/issuances", low, idempotency_key="i-low")
    assert r.status_code == 409 and r.json()["code"] == "partner.idempotency.mismatch"
    assert m.status(a, app_a["id"])["status"] == "issued"
    fi.close()


def test_payment_after_deadline_is_refused(market: Market, db: Session, clock: ManualClock) -> None:
    m = market
    a = m.bidders[0]
    app_a = m.apply(a)
    m.deliver()
    after_deadline(m, clock, db)
    m.pump()
    got = m.status(a, app_a["id"])
    assert got["status"] == "payment_refused" and got["refusal_code"] == "guarantee.payment.late"


def test_fi_outage_recovered_by_reconciliation(
    market: Market, db: Session, clock: ManualClock
) -> None:
    m = market
    a, b, _ = m.bidders
    m.sim_config(down=True)
    ids = {a.org_id: m.apply(a)["id"], b.org_id: m.apply(b)["id"]}
    # Down for an hour: every attempt fails, the applications wait in the outbox with backoff.
    attempts = 0
    end = clock.now() + dt.timedelta(hours=1)
    while clock.now() < end:
        attempts += m.deliver().failed
        clock.advance(dt.timedelta(minutes=5))
    assert attempts >= 4
    with m.database.session_scope() as s:
        pending = partner.pending_messages(s)
        assert len(pending) == 2 and all(p.attempts >= 2 for p in pending)
    r = m.client.get("/staff/guarantees", headers=m.world.staff.headers)
    assert 'data-testid="pending">2<' in r.text
    # Back, but its callbacks do not reach the platform: only reconciliation can recover.
    m.sim_config(down=False, callbacks=False)
    clock.advance(dt.timedelta(minutes=15))
    assert m.deliver().delivered == 2
    assert m.pump() == 0
    assert {m.status(p, ids[p.org_id])["status"] for p in (a, b)} == {"underwriting"}
    assert m.identity is not None
    with m.database.session_scope():
        pass
    blobs = m.client.app.state.blobs
    report = gservice.reconcile_institution(m.database, m.identity, m.inst_id, blobs)
    assert (report.orders, report.applied, report.refused) == (2, 2, [])
    assert {m.status(p, ids[p.org_id])["status"] for p in (a, b)} == {"issued"}
    again = gservice.reconcile_institution(m.database, m.identity, m.inst_id, blobs)
    assert (again.applied, again.unchanged) == (0, 2)
    # The FI's own queued callbacks finally arrive: answered, nothing counted twice.
    m.sim_config(callbacks=True)
    assert m.pump() == 6
    assert _events(db, "guarantee.issued") == 2
    assert _events(db, "guarantee.payment.accepted") == 2
    db.rollback()
    assert (
        db.scalar(
            select(func.count())
            .select_from(Application)
            .where(Application.guarantee_no.is_not(None))
        )
        == 2
    )


def test_admission_choice_and_suspension(market: Market, db: Session) -> None:
    m = market
    a = m.bidders[0]
    r = m.client.get(f"/api/v1/guarantee/sections/{m.sid}/products", headers=a.headers)
    assert [p["id"] for p in r.json()] == [m.product_id]
    # Suspended FI: no products, its key no longer works.
    r = m.client.post(
        f"/api/v1/guarantee/institutions/{m.inst_id}/status",
        json={"action": "suspend"},
        headers=m.world.staff.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    assert (
        m.client.get(f"/api/v1/guarantee/sections/{m.sid}/products", headers=a.headers).json() == []
    )
    r = m.client.post(
        "/api/v1/guarantee/applications",
        json={"section_id": m.sid, "product_id": m.product_id},
        headers=a.headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "guarantee.product.unavailable"
    with partner.PartnerClient(m.url, partner.Identity("sim-bank", m.sim.key)) as fi:
        r = fi.post("/api/v1/partner/ping", {})
        assert r.status_code == 403 and r.json()["code"] == "partner.suspended"
    m.client.post(
        f"/api/v1/guarantee/institutions/{m.inst_id}/status",
        json={"action": "restore"},
        headers=m.world.staff.headers,
    )
    # A county sub-center that chose its own FIs does not inherit the city's choice.
    with m.database.session_scope() as s:
        assert [p.id for p in gservice.eligible_products(s, m.sid)] == [m.product_id]
    # The FI proposes a product over the interface; staff admit it.
    with partner.PartnerClient(m.url, partner.Identity("sim-bank", m.sim.key)) as fi:
        r = fi.post(
            "/api/v1/guarantee/fi/products",
            {
                "code": "EBG-02",
                "name": "保证保险",
                "form": "insurance_policy",
                "rate": "0.001",
                "max_amount": "3000000.00",
            },
            idempotency_key="prod-2",
        )
    assert r.status_code == 201 and r.json()["status"] == "proposed"
    pid = r.json()["product_id"]
    r = m.client.post(
        f"/api/v1/guarantee/products/{pid}/status",
        json={"action": "approve"},
        headers=m.world.staff.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "active"
    r = m.client.post(
        f"/api/v1/guarantee/products/{pid}/status",
        json={"action": "approve"},
        headers=m.world.staff.headers,
    )
    assert r.status_code == 409
    # Only staff admit.
    r = m.client.post(
        f"/api/v1/guarantee/products/{pid}/status", json={"action": "suspend"}, headers=a.headers
    )
    assert r.status_code == 403
    page = m.client.get("/staff/guarantees", headers=m.world.staff.headers)
    assert "已准入金融机构" in page.text and "保证保险" in page.text


def test_pages_in_chinese(market: Market, db: Session) -> None:
    m = market
    a = m.bidders[0]
    r = m.client.get(f"/bidder/guarantees?section_id={m.sid}", headers=a.headers)
    assert r.status_code == 200 and "申请保函" in r.text and "电子投标保函（银行）" in r.text
    assert "1200.00" in r.text  # the expected premium at the product's rate
    app_a = m.apply(a)
    r = m.client.get("/bidder/guarantees", headers=a.headers)
    assert app_a["order_no"] in r.text and "已提交" in r.text
    # The FI's own users see its queue: sealed commitments, no section.
    from sunlit.kernel.authz import Role
    from tests.projects.helpers import _party

    fi_user = _party(db, None, 9, m.sim.name, [Role.FINANCIAL], "信贷员")
    assert fi_user.credit_code != ""
    r = m.client.get("/fi/guarantees", headers=fi_user.headers)
    assert r.status_code == 200 and "本单位不是已准入的金融机构" in r.text  # another organization
    r = m.client.get("/fi/guarantees", headers=a.headers)
    assert r.status_code == 403
    r = m.client.get("/staff/guarantees", headers=m.world.staff.headers)
    assert "运行监测" in r.text and m.sim.name in r.text
    r = m.client.get("/guarantees/verify", params={"no": "X", "code": "Y"})
    assert "未找到该保函" in r.text


def test_release_step_keeps_the_guarantees_of_forfeiting_bidders(
    market: Market, db: Session, clock: ManualClock, tmp_path: Path
) -> None:
    """The award's release after the contract (ADR 0018) releases every live guarantee except
    those of candidates passed over for giving up (the tenderer may claim on them)."""
    m = market
    a, b, _c = m.bidders
    apps = {p.org_id: m.apply(p) for p in (a, b)}
    assert m.deliver().delivered == 2
    for _ in range(10):  # the FI's callbacks (decision, payment, issuance) for both
        if all(m.status(p, apps[p.org_id]["id"])["status"] == "issued" for p in (a, b)):
            break
        m.pump()
    assert [m.status(p, apps[p.org_id]["id"])["status"] for p in (a, b)] == ["issued"] * 2
    for p in (a, b):
        m.upload_bid(p, tmp_path, "12345000.00")
    after_deadline(m, clock, db)
    with m.database.session_scope() as s:
        with pytest.raises(DomainError) as refused:
            gservice.release_step(s, m.sid, "expired")
        assert refused.value.code == "guarantee.release.reason"
        released = gservice.release_step(s, m.sid, "contract_signed", keep_org_ids=[b.org_id])
        s.commit()
    assert released == [apps[a.org_id]["order_no"]]
    assert m.status(a, apps[a.org_id]["id"])["status"] == "released"
    assert m.status(b, apps[b.org_id]["id"])["status"] == "issued"
    assert m.deliver().delivered == 1  # the release notice reaches the FI
    assert m.sim.state.orders[apps[a.org_id]["order_no"]]["status"] == "released"
    assert m.sim.state.orders[apps[b.org_id]["order_no"]]["status"] != "released"
