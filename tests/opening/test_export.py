"""开标记录表 export: PDF with the built-in CID font and Excel with prices and 大写 amounts."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sunlit.kernel.crypto import get_suite
from sunlit.opening import export
from sunlit.opening.record import record_bytes, sign_record

DOC = {
    "section_code": "S-1",
    "section_name": "一标段",
    "tender_code": "T-1",
    "tender_name": "道路工程",
    "opening_time": "2026-12-18T09:30:00+08:00",
    "bid_count": 2,
    "min_bidders": 3,
    "bids": [
        {
            "bidder_name": "甲建设",
            "credit_code": "91X",
            "price": "48000007.52",
            "duration_days": 540,
            "quality": "合格",
            "status": "opened",
            "status_label": "已解密",
        },
        {
            "bidder_name": "乙建设",
            "credit_code": "91Y",
            "price": None,
            "duration_days": None,
            "quality": None,
            "status": "withdrawn",
            "status_label": "视为撤回",
        },
    ],
    "draw": {"outputs": [{"name": "K", "index": 1, "value": "0.97"}]},
    "generated_at": "2026-12-18T10:00:00+08:00",
    "platform_key_id": "k1",
}


def test_amount_in_words() -> None:
    assert export.amount_in_words("48000007.52") == "肆仟捌佰万零柒元伍角贰分"
    assert export.amount_in_words(None) == "" and export.amount_in_words("x") == ""
    assert export.format_amount("48000007.5") == "48,000,007.50"


def test_pdf_uses_builtin_cid_font() -> None:
    data = export.record_pdf(DOC)
    assert data.startswith(b"%PDF") and b"STSong-Light" in data


def test_xlsx_reads_back() -> None:
    ws = load_workbook(io.BytesIO(export.record_xlsx(DOC))).active
    assert ws is not None
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    flat = [c for row in values for c in row if c is not None]
    assert "48,000,007.52" in flat and "肆仟捌佰万零柒元伍角贰分" in flat
    assert "视为撤回" in flat and "K=0.97" in flat


DOC2 = {
    **DOC,
    "version": 2,
    "confirm_until": "2026-12-18T10:00:00+08:00",
    "confirmations": [
        {
            "bidder_name": "甲建设",
            "credit_code": "91X",
            "response": "confirmed",
            "response_label": "确认无误",
            "confirmed_by": "张三",
            "confirmed_at": "2026-12-18T09:41:05.123+08:00",
        },
        {
            "bidder_name": "乙建设",
            "credit_code": "91Y",
            "response": "deemed",
            "response_label": "视为认可（确认期内未确认也未提出异议）",
            "confirmed_by": None,
            "confirmed_at": None,
        },
    ],
    "objections": [
        {
            "bidder_name": "乙建设",
            "credit_code": "91Y",
            "raised_by": "李四",
            "raised_at": "2026-12-18T09:35:00+08:00",
            "content": '=HYPERLINK("http://x","<b>点我</b>")',
            "answer": "已当场核对 & 答复",
            "answered_by": "某代理公司 王五",
            "answered_at": "2026-12-18T09:38:00+08:00",
        }
    ],
}


def test_confirmations_and_objections_in_both_exports() -> None:
    ws = load_workbook(io.BytesIO(export.record_xlsx(DOC2))).active
    assert ws is not None
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    values = [c.value for c in cells]
    assert "确认无误（张三 2026-12-18 09:41:05）" in values
    assert "视为认可（确认期内未确认也未提出异议）" in values
    assert "开标异议及答复" in values and "乙建设 李四" in values
    assert "已当场核对 & 答复" in values and "2026-12-18 09:38:00" in values
    # A bidder's text that looks like a formula stays text.
    (formula,) = [c for c in cells if str(c.value).startswith("=HYPERLINK")]
    assert formula.data_type == "s"
    pdf = export.record_pdf(DOC2)
    assert pdf.startswith(b"%PDF")
    assert export.objection_rows(DOC) == []


@pytest.mark.parametrize("suite", ["gm", "intl"])
def test_record_signature_verifies_with_openssl(suite: str, tmp_path: Path) -> None:
    """docs/spec/opening-record.md: the OpenSSL 3 commands verify a signed v2 record."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key = get_suite(suite).generate_keypair()
    (tmp_path / "record.json").write_bytes(record_bytes(DOC2))
    (tmp_path / "sig").write_bytes(sign_record(DOC2, key))
    (tmp_path / "platform.pub.pem").write_bytes(key.public_key().to_pem())
    if suite == "intl":
        cmd = ["openssl", "dgst", "-sha256", "-verify", "platform.pub.pem", "-signature", "sig"]
        cmd.append("record.json")
    else:
        cmd = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "platform.pub.pem"]
        cmd += ["-rawin", "-digest", "sm3", "-in", "record.json", "-sigfile", "sig"]
        cmd += ["-pkeyopt", "distid:1234567812345678"]
    ok = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    forged = {**DOC2, "objections": [{**DOC2["objections"][0], "answer": "改写"}]}  # type: ignore[index]
    (tmp_path / "record.json").write_bytes(record_bytes(forged))
    bad = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0
