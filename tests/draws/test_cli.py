"""``sunlit draw verify``: offline, Chinese output with English codes, exit code 0/1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sunlit.cli import app
from sunlit.draws import DrawRecord, make_disclosure

from .helpers import coefficient_inputs, expert_inputs, expert_salted_ids

SUNLIT = Path(sys.executable).parent / "sunlit"


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["draw", "verify", *args], terminal_width=200)


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def test_a_genuine_coefficient_record_verifies(tmp_path: Path) -> None:
    record = coefficient_inputs().run()
    result = run(str(write(tmp_path / "r.json", record.to_json())))
    assert result.exit_code == 0, result.output
    assert "抽取记录 DRAW-2026-000123-K · 系数抽取 (coefficient) · 套件 gm (SM3)" in result.output
    assert "✓ 种子 (seed)" in result.output and "✓ 抽取结果 (outputs)" in result.output
    assert "验证通过 (OK)" in result.output
    for outcome in record.to_json()["outputs"]:
        assert outcome["name"] in result.output and outcome["value"] in result.output


def test_a_tampered_record_fails_with_code_and_path(tmp_path: Path) -> None:
    document = expert_inputs(hashed_ids=False).run().to_json()
    document["contributions"]["supervisor"]["value"] = "00000000"
    result = run(str(write(tmp_path / "r.json", document)))
    assert result.exit_code == 1
    assert "✗ 种子 (seed)" in result.output
    assert "种子与记录中的贡献值不一致" in result.output
    assert "[draws.seed_mismatch /seed]" in result.output
    assert "验证失败 (FAILED)：发现 1 处问题" in result.output


def test_a_confidential_draw_with_its_disclosure(tmp_path: Path) -> None:
    record = expert_inputs().run()
    disclosure = make_disclosure(record, expert_salted_ids("gm"))
    r = write(tmp_path / "r.json", record.to_json())
    d = write(tmp_path / "d.json", disclosure.to_json())
    result = run(str(r), "--disclosure", str(d))
    assert result.exit_code == 0, result.output
    assert "✓ 匿名编号披露 (disclosure)" in result.output
    assert "全部候选人已披露" in result.output
    names = {e.hashed: e.candidate for e in disclosure.candidates}
    first = record.outputs[0].selected[0]  # type: ignore[union-attr]
    assert f"{names[first]} ({first[:12]}…)" in result.output


def test_published_anchors(tmp_path: Path) -> None:
    record = coefficient_inputs().run()
    path = write(tmp_path / "r.json", record.to_json())
    good = run(
        str(path),
        "--definition-hash",
        record.definition_hash.hex(),
        "--commitment",
        record.center.commitment.hex(),
    )
    assert good.exit_code == 0, good.output
    bad = run(str(path), "--commitment", "00" * 32)
    assert bad.exit_code == 1 and "draws.commitment_mismatch" in bad.output
    malformed = run(str(path), "--definition-hash", "xyz")
    assert malformed.exit_code == 1 and "--definition-hash 应为 64 位十六进制" in malformed.output


def test_json_output(tmp_path: Path) -> None:
    document = coefficient_inputs().run().to_json()
    document["outputs"][0]["value"] = "0.99"
    result = run(str(write(tmp_path / "r.json", document)), "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    assert [f["code"] for f in report["findings"]] == ["draws.output_mismatch"]
    assert report["findings"][0]["path"] == "/outputs/0/value"


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    missing = run(str(tmp_path / "nope.json"))
    assert missing.exit_code == 1 and "无法读取抽取记录" in missing.output
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json", encoding="utf-8")
    result = run(str(garbage))
    assert result.exit_code == 1
    assert "✗ 记录格式 (format)" in result.output and "不是有效的 JSON 文本" in result.output
    assert "未检查" in result.output


@pytest.mark.skipif(not SUNLIT.exists(), reason="the sunlit entry point is not installed")
def test_verify_runs_as_a_separate_process_without_any_database(tmp_path: Path) -> None:
    record: DrawRecord = coefficient_inputs("intl").run()
    path = write(tmp_path / "r.json", record.to_json())
    env = dict(os.environ)
    env["SUNLIT_DATABASE_URL"] = "postgresql+psycopg://nobody:x@127.0.0.1:1/none"  # unreachable
    env["SUNLIT_DATA_DIR"] = str(tmp_path / "no-data")
    done = subprocess.run(
        [str(SUNLIT), "draw", "verify", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "验证通过" in done.stdout
    assert not (tmp_path / "no-data").exists()


def test_untrusted_text_is_printed_literally(tmp_path: Path) -> None:
    document = coefficient_inputs().run().to_json()
    document["outputs"][0]["value"] = "[red]0.99[/red] \ud800"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(document), encoding="utf-8")  # the surrogate stays escaped
    result = run(str(path))
    assert result.exit_code == 1
    assert "[red]0.99[/red] \\ud800" in result.output
