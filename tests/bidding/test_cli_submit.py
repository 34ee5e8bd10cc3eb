"""`sunlit bid submit / receipt / verify-receipt` against a live server over loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from sunlit.cli import app as cli
from tests.browser.conftest import ServerThread, _free_port
from tests.opening.test_end_to_end import _seal

from .test_submission import SQLITE_ONLY, bids, open_section

runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(cli, [str(a) for a in args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


@SQLITE_ONLY
def test_submit_receipt_verify(client: Any, app: Any, db: Session, tmp_path: Path) -> None:
    s = open_section(client, db, tmp_path, 2)
    bidder, other = s.bidders
    bid = tmp_path / "bid.sealed"
    bid.write_bytes(_seal(s.world, bidder, s.keys, "2345678.00", tmp_path / "b"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with ServerThread(app, port):
        server = ("--server", url, "--section", s.sid)
        code, out = run("bid", "submit", bid, *server, "--token", bidder.token)
        assert code == 0, out
        assert "已成功递交" in out
        saved = tmp_path / "bid.sealed.receipt.json"
        doc = json.loads(saved.read_text())
        (row,) = bids(db)
        assert doc["receipt"]["bid_digest"] == row.bid_digest and row.bid_digest in out
        pem = tmp_path / "platform-public.pem"
        pem.write_text(httpx.get(f"{url}/api/v1/transparency/key.pem").text)

        code, out = run(
            "bid", "receipt", *server, "--token", bidder.token, "--out", tmp_path / "r.json"
        )
        assert code == 0, out
        assert json.loads((tmp_path / "r.json").read_text())["receipt"] == doc["receipt"]

        # Refusals: another bidder's file, a bad token, a missing receipt.
        code, out = run("bid", "submit", bid, *server, "--token", other.token)
        assert code == 1 and "bid.not_own_bid" in out
        code, out = run("bid", "submit", bid, *server, "--token", "not-a-token")
        assert code == 1 and "(" in out
        code, out = run("bid", "receipt", *server, "--token", other.token)
        assert code == 1 and "bid.no_valid_bid" in out
        assert len(bids(db)) == 1

    # Offline: no server, no database.
    code, out = run("bid", "verify-receipt", saved, "--key", pem, "--bid", bid)
    assert code == 0, out
    assert "回执签名有效" in out and "摘要与回执一致" in out
    doc["receipt"]["size"] += 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    code, out = run("bid", "verify-receipt", forged, "--key", pem)
    assert code == 1 and "bid.bad_receipt" in out
    other_bid = tmp_path / "other.sealed"
    other_bid.write_bytes(_seal(s.world, bidder, s.keys, "1.00", tmp_path / "c"))
    code, out = run("bid", "verify-receipt", saved, "--key", pem, "--bid", other_bid)
    assert code == 1 and "bid.receipt_mismatch" in out


def test_submit_unreachable_server(tmp_path: Path) -> None:
    bid = tmp_path / "bid.sealed"
    bid.write_bytes(b"not sealed")
    port = _free_port()
    code, out = run(
        "bid",
        "submit",
        bid,
        "--server",
        f"http://127.0.0.1:{port}",
        "--section",
        "x",
        "--token",
        "t",
    )
    assert code == 1 and "bid." in out
    _ = pytest
