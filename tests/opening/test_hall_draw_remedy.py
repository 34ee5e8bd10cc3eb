"""The coefficient draw and the bidder's remedy on the hall page: the supervisor enters its
value, the host reveals the center's committed value and draws, everyone sees the record and
downloads it for ``sunlit draw verify``; a bidder whose bid failed to decrypt uploads the key
file ``sunlit bid remedy --keys-out`` wrote."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from sunlit.bidding import sealed
from sunlit.cli import app as cli
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from sunlit.opening import service
from tests.browser.conftest import ServerThread, _free_port
from tests.opening.hall_helpers import prepare
from tests.projects.helpers import World, _party, build_world

runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(cli, [str(a) for a in args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def _upload(client: Any, sid: str, party: Any, data: bytes) -> Any:
    return client.post(
        f"/opening/{sid}/remedy",
        data={"csrf_token": "tok"},
        files={"keys_file": ("remedy-keys.json", data, "application/json")},
        headers=party.headers,
    )


def test_remedy_and_draw_on_the_page(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    p = prepare(client, db, world, clock, tmp_path, n=3, broken=frozenset({0}))
    broken, other = p.bidders[0], p.bidders[1]
    client.follow_redirects = False
    client.cookies.set("sunlit_csrf", "tok")
    form = {"csrf_token": "tok"}
    assert client.post(f"/opening/{p.sid}/start", data=form, headers=world.staff.headers)
    for role, party in (("tenderer", world.agency), ("center", world.staff)):
        r = client.post(
            f"/opening/{p.sid}/decrypt",
            data={**form, "role": role, "passphrase": p.passes[role]},
            headers=party.headers,
        )
        assert r.status_code == 303, r.text

    # Only the bidder whose bid failed sees the remedy form, with its window.
    page = client.get(f"/opening/{p.sid}", headers=broken.headers).text
    assert 'data-testid="remedy-form"' in page and 'data-testid="remedy-until"' in page
    for party in (other, world.tenderer, world.staff):
        page = client.get(f"/opening/{p.sid}", headers=party.headers).text
        assert 'data-testid="remedy-form"' not in page

    # The bidder's tool: sunlit bid remedy --keys-out, offline, with its certificate key.
    assert broken.cred is not None and other.cred is not None
    bid_file, key_file = tmp_path / "bid.sealed", tmp_path / "bidder.key.pem"
    bid_file.write_bytes(p.sealed[broken.credit_code])
    key_file.write_bytes(broken.cred.private_key.to_pem())
    keys_file = tmp_path / "remedy-keys.json"
    code, out = run("bid", "remedy", bid_file, "--key", key_file, "--keys-out", keys_file)
    assert code == 0, out
    assert "补救密钥文件已写出" in out
    code, out = run("bid", "remedy", bid_file, "--key", key_file, "--keys-out", keys_file)
    assert code == 1 and "bid.output_exists" in out

    # Bad uploads: not a key file; another bidder's keys; nothing changes.
    r = _upload(client, p.sid, broken, b"PK\x03\x04 not json")
    assert r.status_code == 422 and "不是有效的补救密钥文件" in r.text
    others = sealed.remedy_decrypt(io.BytesIO(p.sealed[other.credit_code]), other.cred.private_key)
    r = _upload(client, p.sid, broken, sealed.remedy_keys_document(others))
    assert r.status_code == 422 and "不属于本单位" in r.text
    wrong = json.loads(keys_file.read_text())
    wrong["files_key"] = "00" * (len(wrong["files_key"]) // 2)
    r = _upload(client, p.sid, broken, json.dumps(wrong).encode())
    assert r.status_code == 422, r.text
    view = client.get(f"/api/v1/sections/{p.sid}/opening", headers=broken.headers).json()
    mine = next(b for b in view["bids"] if b["own"])
    assert mine["status"] == "failed" and mine["price"] is None
    until = dt.datetime.fromisoformat(view["confirm_until"])

    # Late in the confirmation window: the remedied price gives everyone time to react.
    clock.advance(dt.timedelta(minutes=25))
    r = _upload(client, p.sid, broken, keys_file.read_bytes())
    assert r.status_code == 303 and r.headers["location"].endswith("done=remedy"), r.text
    view = client.get(f"/api/v1/sections/{p.sid}/opening", headers=other.headers).json()
    fixed = {b["credit_code"]: b for b in view["bids"]}[broken.credit_code]
    assert fixed["status"] == "remedied" and fixed["price"] == p.prices[broken.credit_code]
    extended = dt.datetime.fromisoformat(view["confirm_until"])
    assert extended == clock.now() + service.REMEDY_CONFIRM_GRACE and extended > until
    page = client.get(f"/opening/{p.sid}", headers=broken.headers).text
    assert 'data-testid="remedy-form"' not in page and "补救解密" in page
    r = _upload(client, p.sid, broken, keys_file.read_bytes())
    assert r.status_code == 409 and "无需补救" in r.text

    # The draw: no form before the supervisor's value; the supervisor enters it on the page.
    page = client.get(f"/opening/{p.sid}", headers=world.staff.headers).text
    assert 'data-testid="draw-form"' not in page and "等待监督人录入随机数" in page
    sup = _party(db, None, 699, "监督科", [Role.SUPERVISOR], "孙红")
    r = client.post(
        f"/opening/{p.sid}/supervisor-value",
        data={**form, "value": "20261123"},
        headers=sup.headers,
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/opening/{p.sid}", headers=world.staff.headers).text
    assert 'data-testid="draw-form"' in page and "20261123" in page
    for party in (broken, world.tenderer, sup):
        page = client.get(f"/opening/{p.sid}", headers=party.headers).text
        assert 'data-testid="draw-form"' not in page
    # Only the host draws; a wrong revealed value is refused and nothing is drawn.
    center = {"center_value": p.center.value.hex(), "center_salt": p.center.salt.hex()}
    r = client.post(f"/opening/{p.sid}/draw", data={**form, **center}, headers=sup.headers)
    assert r.status_code == 403
    bad = {**center, "center_value": "11" * len(p.center.value)}
    r = client.post(f"/opening/{p.sid}/draw", data={**form, **bad}, headers=world.staff.headers)
    assert r.status_code in (409, 422), r.text
    r = client.get(f"/opening/{p.sid}/draw.json", headers=broken.headers)
    assert r.status_code == 404
    r = client.post(f"/opening/{p.sid}/draw", data={**form, **center}, headers=world.staff.headers)
    assert r.status_code == 303 and r.headers["location"].endswith("done=draw"), r.text

    # Everyone sees the outcome and downloads the record; sunlit draw verify accepts it.
    page = client.get(f"/opening/{p.sid}", headers=broken.headers).text
    assert 'data-testid="draw-outputs"' in page and 'data-testid="draw-json"' in page
    r = client.get(f"/opening/{p.sid}/draw.json", headers=broken.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert "attachment" in r.headers["content-disposition"]
    api = client.get(f"/api/v1/sections/{p.sid}/opening/draw-record", headers=other.headers)
    assert api.status_code == 200 and api.json() == r.json()
    record = r.json()
    for output in record["outputs"]:
        assert f"{output['name']} = <strong>{output['value']}</strong>" in page
    path = tmp_path / "draw-record.json"
    path.write_bytes(r.content)
    commitment = p.center.commitment.hex()
    code, out = run("draw", "verify", path, "--commitment", commitment)
    assert code == 0, out
    record["outputs"][0]["value"] = "9.99"
    path.write_text(json.dumps(record))
    code, out = run("draw", "verify", path)
    assert code == 1, out


def test_cli_remedy_against_a_live_server(
    app: Any, client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    """``sunlit bid remedy --server`` over loopback against uvicorn; a hall client listening
    on the live server's SSE stream sees the remedy announced."""
    p = prepare(client, db, world, clock, tmp_path, n=3, broken=frozenset({1}))
    broken, fine = p.bidders[1], p.bidders[0]
    base = f"/api/v1/sections/{p.sid}/opening"
    assert client.post(f"{base}/start", headers=world.staff.headers).status_code == 200
    for role, party in (("tenderer", world.agency), ("center", world.staff)):
        r = client.post(
            f"{base}/decrypt",
            json={"role": role, "passphrase": p.passes[role]},
            headers=party.headers,
        )
        assert r.status_code == 200, r.text
    files = {}
    for party in (broken, fine):
        assert party.cred is not None
        bid, key = tmp_path / f"{party.credit_code}.sealed", tmp_path / f"{party.credit_code}.pem"
        bid.write_bytes(p.sealed[party.credit_code])
        key.write_bytes(party.cred.private_key.to_pem())
        files[party.credit_code] = (bid, key)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    seen: list[str] = []
    listening = threading.Event()

    def listen() -> None:
        headers = {**fine.headers, "Accept": "text/event-stream"}
        with httpx.stream("GET", f"{url}/opening/{p.sid}/events", headers=headers, timeout=20) as r:
            for line in r.iter_lines():
                if line.startswith(": subscribed"):
                    listening.set()
                if line.startswith("event: "):
                    seen.append(line[7:])
                    if line == "event: remedied":
                        return

    with ServerThread(app, port):
        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert listening.wait(10)
        server = ("--server", url, "--section", p.sid)
        bid, key = files[broken.credit_code]
        code, out = run("bid", "remedy", bid, "--key", key, *server, "--token", "bad-token")
        assert code == 1, out
        code, out = run("bid", "remedy", bid, "--key", key, *server, "--token", broken.token)
        assert code == 0, out
        assert "补救已提交" in out and "remedied" in out
        listener.join(10)
        assert seen == ["remedied"]
        code, out = run("bid", "remedy", bid, "--key", key, *server, "--token", broken.token)
        assert code == 1 and "opening.remedy.not_failed" in out
        # A bidder whose bid opened has nothing to remedy.
        bid, key = files[fine.credit_code]
        code, out = run("bid", "remedy", bid, "--key", key, *server, "--token", fine.token)
        assert code == 1 and "opening.remedy.not_failed" in out
    view = client.get(base, headers=world.staff.headers).json()
    statuses = {b["credit_code"]: (b["status"], b["price"]) for b in view["bids"]}
    assert statuses[broken.credit_code] == ("remedied", p.prices[broken.credit_code])
