"""The award pages through real HTML forms (each role sees its own actions), the monitoring
and letters pages, and ``sunlit award verify`` in a separate process on the downloaded files."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sunlit.kernel.clock import ManualClock
from tests.award.helpers import award, closed_opening, open_award
from tests.projects.helpers import World, build_world

CSRF = {"csrf_token": "tok"}


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def _post(client: Any, url: str, party: Any, **data: Any) -> Any:
    return client.post(url, data={**CSRF, **data}, headers=party.headers)


def _sunlit(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("sunlit")
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def test_award_pages_and_offline_verification(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    p = closed_opening(client, db, world, clock, tmp_path, n=3)
    sid = p.sid
    hall = client.get(f"/opening/{sid}", headers=world.agency.headers).text
    assert f'href="/award/{sid}"' in hall
    waiting = client.get(f"/award/{sid}", headers=world.agency.headers)
    assert waiting.status_code == 200 and "尚未收到评标报告" in waiting.text
    assert client.get(f"/award/{sid}", headers=p.bidders[0].headers).status_code == 404
    view = open_award(client, db, world, p, [0, 1, 2])
    first, second = view["candidates"][0], view["candidates"][1]
    by_code = {b.credit_code: b for b in p.bidders}
    loser, winner = by_code[first["credit_code"]], by_code[second["credit_code"]]
    client.follow_redirects = False
    client.cookies.set("sunlit_csrf", "tok")

    page = client.get(f"/award/{sid}", headers=world.agency.headers).text
    assert 'data-testid="publicity-form"' in page and "待公示" in page
    assert 'data-testid="decision-form"' not in page  # publicity first (依法必须招标)
    bidder_page = client.get(f"/award/{sid}", headers=loser.headers).text
    assert (
        "中标候选人公示前不对外显示" in bidder_page and 'data-testid="actions"' not in bidder_page
    )
    r = _post(client, f"/award/{sid}/publicity", world.agency, days="2")
    assert r.status_code == 422 and "不得少于3日" in r.text
    r = _post(
        client, f"/award/{sid}/publicity", world.agency, days="3", channel="书面递交至招标代理"
    )
    assert r.status_code == 303, r.text
    bidder_page = client.get(f"/award/{sid}", headers=loser.headers).text
    assert "公示中" in bidder_page and first["name"] in bidder_page
    assert 'data-testid="objection-form"' in bidder_page and "书面递交至招标代理" in bidder_page

    r = _post(client, f"/award/{sid}/objections", loser, content="评分有误", contact="13800000000")
    assert r.status_code == 303, r.text
    page = client.get(f"/award/{sid}", headers=world.tenderer.headers).text
    assert "评分有误" in page and 'data-testid="answer-form"' in page
    oid = client.get(award(sid), headers=world.tenderer.headers).json()["objections"][0]["id"]
    r = _post(client, f"/award/{sid}/objections/{oid}/answer", world.tenderer, answer="经复核无误")
    assert r.status_code == 303, r.text

    clock.advance(dt.timedelta(days=3, minutes=1))
    page = client.get(f"/award/{sid}", headers=world.agency.headers).text
    assert 'data-testid="decision-form"' in page and "放弃中标" in page
    # The second-ranked without a reason: refused on the page, with the statute's words.
    r = client.post(
        f"/award/{sid}/decision",
        data={**CSRF, "winner_id": second["id"], f"reason_{first['id']}": ""},
        headers=world.agency.headers,
    )
    assert r.status_code == 422 and "第五十五条" in r.text
    r = client.post(
        f"/award/{sid}/decision",
        data={
            **CSRF,
            "winner_id": second["id"],
            f"reason_{first['id']}": "no_security",
            f"explanation_{first['id']}": "中标通知书发出前明确表示不提交履约保证金",
        },
        files={f"evidence_{first['id']}": ("说明.pdf", b"%PDF-1.4 statement", "application/pdf")},
        headers=world.agency.headers,
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/award/{sid}", headers=world.supervisor.headers).text
    assert "未按照招标文件要求提交履约保证金" in page and "说明.pdf" in page

    r = _post(client, f"/award/{sid}/notify", world.agency, project_lead="王工")
    assert r.status_code == 303, r.text
    page = client.get(f"/award/{sid}", headers=winner.headers).text
    assert 'data-testid="letters"' in page
    assert "<td>中标通知书</td>" in page and "<td>中标结果通知书</td>" not in page
    mine = client.get("/bidder/award-letters", headers=loser.headers).text
    assert "中标结果通知书" in mine
    monitor = client.get("/staff/awards", headers=world.supervisor.headers).text
    assert "确定排名第2的候选人为中标人" in monitor
    assert client.get("/staff/awards", headers=loser.headers).status_code == 403

    # Offline verification of the downloaded files, in a separate process.
    (letter,) = client.get(award(sid), headers=winner.headers).json()["letters"]
    bundle = client.get(f"/api/v1/award-letters/{letter['id']}", headers=winner.headers).json()
    pdf = client.get(f"/api/v1/award-letters/{letter['id']}/pdf", headers=winner.headers).content
    files = tmp_path / "letter"
    files.mkdir()
    (files / "letter.json").write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    (files / "letter.pdf").write_bytes(pdf)
    (files / "key.pem").write_text(client.get("/api/v1/transparency/key.pem").text)
    key = str(files / "key.pem")
    ok = _sunlit(
        "award",
        "verify",
        str(files / "letter.json"),
        "--key",
        key,
        "--pdf",
        str(files / "letter.pdf"),
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "签名有效" in ok.stdout and second["amount_words"] in ok.stdout
    bundle["letter"]["amount"] = "1.00"
    (files / "forged.json").write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    bad = _sunlit("award", "verify", str(files / "forged.json"), "--key", key)
    assert bad.returncode == 1 and "签名无效" in bad.stdout
    (files / "other.pdf").write_bytes(pdf.replace(b"%PDF-1.4", b"%PDF-1.5", 1))
    bad = _sunlit(
        "award",
        "verify",
        str(files / "letter.json"),
        "--key",
        key,
        "--pdf",
        str(files / "other.pdf"),
    )
    assert bad.returncode == 1 and "不是通知书" in bad.stdout

    notified = dt.datetime.fromisoformat(
        client.get(award(sid), headers=winner.headers).json()["notified_at"]
    )
    clock.advance(dt.timedelta(days=2))
    r = _post(
        client,
        f"/award/{sid}/contract",
        world.agency,
        contract_code="HT-001",
        name="施工合同",
        price=second["price"],
        content="土建施工",
        signed_at=(notified + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/award/{sid}", headers=loser.headers).text
    assert 'data-testid="contract"' in page and "HT-001" in page and "已签订合同" in page
