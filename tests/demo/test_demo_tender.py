"""``sunlit demo tender``: a whole section, notice to confirmed opening record, on a fresh
temporary database, for both cipher suites; JSON on stdout, progress on stderr."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sunlit.cli import app
from sunlit.draws import verify_record

runner = CliRunner()


@pytest.mark.parametrize("suite", ["gm", "intl"])
def test_demo_tender_runs_a_section_to_its_signed_record(suite: str, tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    result = runner.invoke(
        app, ["demo", "tender", "--bidders", "3", "--suite", suite, "--json-out", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert json.loads(out.read_text(encoding="utf-8")) == summary
    assert "唱标" in result.stderr and "开标记录已签名" in result.stderr
    assert summary["suite"] == suite and summary["section_code"].startswith("E320500")
    assert summary["bids"] == 3
    sealed, announced = summary["sealed_prices"], summary["announced_prices"]
    assert len(sealed) == 3 and set(announced) == set(sealed)
    for name, price in sealed.items():
        assert isinstance(announced[name], str)
        assert Decimal(announced[name]) == Decimal(price)
    assert summary["prices_match"] is True
    assert summary["receipts_verified"] == 3
    assert summary["record_signature_verified"] is True
    assert summary["draw_verified"] is True and verify_record(summary["draw"]).ok
    assert summary["draw"]["suite"] == suite and summary["status"] == "closed"


def test_demo_tender_refuses_an_unknown_suite() -> None:
    result = runner.invoke(app, ["demo", "tender", "--suite", "rsa"])
    assert result.exit_code == 2
    assert result.stdout == ""


@pytest.mark.parametrize("suite", ["gm", "intl"])
def test_demo_tender_through_award(suite: str) -> None:
    result = runner.invoke(
        app, ["demo", "tender", "--bidders", "3", "--suite", suite, "--through", "award"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert "专家抽取完成" in result.stderr and "评标报告已由 5 位专家签署" in result.stderr
    assert summary["status"] == "closed" and summary["expert_draw"]["record_verified"] is True
    # Reasonable low price (合理低价法): the ranking follows the sealed prices, lowest first.
    sealed = summary["sealed_prices"]
    by_price = sorted(sealed, key=lambda name: Decimal(sealed[name]))
    assert [r["name"] for r in summary["ranking"]] == by_price
    assert [r["rank"] for r in summary["ranking"]] == [1, 2, 3]
    assert all(Decimal(r["price"]) == Decimal(sealed[r["name"]]) for r in summary["ranking"])
    awarded = summary["award"]
    assert awarded["winner"] == by_price[0]
    assert Decimal(awarded["amount"]) == Decimal(sealed[by_price[0]])
    assert awarded["award_letter"]["number"].startswith(summary["section_code"])
    assert awarded["award_letter"]["signature_verified"] is True
    assert awarded["status"] == "contracted"
    assert len(summary["report_digest"]) == 64


def test_demo_tender_refuses_an_unknown_stage() -> None:
    result = runner.invoke(app, ["demo", "tender", "--through", "contract"])
    assert result.exit_code == 2
    assert result.stdout == ""
