"""``sunlit award``: offline verification of award letters, and the monitoring list.

``sunlit award verify LETTER.json --key platform.pem [--pdf LETTER.pdf]`` needs no database
and no network: the signed letter (as served by ``/api/v1/award-letters/{id}``), the platform
public key (``/api/v1/transparency/key.pem``) and optionally the PDF. Exit code 0 when every
signature verifies, 1 otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from sunlit.kernel.authz import system_actor
from sunlit.kernel.cliutil import console, open_database
from sunlit.kernel.crypto import CryptoError, InvalidSignature, load_public_key_any

from . import letters, queries

award_app = typer.Typer(help="定标与中标通知书 (award)", no_args_is_help=True)


def _fail(message: str) -> None:
    console.print(f"✗ {message}", style="red", markup=False)
    raise typer.Exit(1)


@award_app.command("verify")
def verify(
    letter: Path = typer.Argument(..., help="通知书签名数据 JSON（/api/v1/award-letters/{id}）"),
    key: Path = typer.Option(..., "--key", help="平台公钥 PEM（/api/v1/transparency/key.pem）"),
    pdf: Path | None = typer.Option(None, "--pdf", help="通知书 PDF 文件"),
) -> None:
    """离线核验中标通知书 / 中标结果通知书的平台签名."""
    try:
        bundle = json.loads(letter.read_text(encoding="utf-8"))
        doc, signature = bundle["letter"], bundle["signature"]
        number = doc["number"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _fail(f"无法读取通知书签名数据 {letter}：{exc}")
        return
    try:
        public_key = load_public_key_any(key.read_bytes())
    except (OSError, CryptoError, ValueError) as exc:
        _fail(f"无法读取平台公钥 {key}：{exc}")
        return
    try:
        letters.verify_letter(doc, signature, public_key)
    except (InvalidSignature, ValueError):
        _fail(f"通知书 {number} 的签名无效：内容被改动或并非该平台签发")
    console.print(f"✓ {doc.get('title', '')} {number} 签名有效", style="green", markup=False)
    console.print(
        f"  {doc.get('recipient_name', '')}；中标人 {doc.get('winner_name', '')}；"
        f"中标价 ¥{doc.get('amount', '')}（{doc.get('amount_words', '')}）；"
        f"发出时间 {doc.get('issued_at', '')}",
        markup=False,
    )
    if pdf is not None:
        try:
            data = pdf.read_bytes()
        except OSError as exc:
            _fail(f"无法读取 PDF {pdf}：{exc.strerror}")
            return
        try:
            letters.verify_pdf(number, data, bundle.get("pdf_signature", ""), public_key)
        except (InvalidSignature, ValueError):
            _fail(f"PDF 文件 {pdf.name} 不是通知书 {number} 的平台签名文件")
        console.print(
            f"✓ PDF {pdf.name} 与通知书 {number} 一致，签名有效", style="green", markup=False
        )


@award_app.command("monitor")
def monitor() -> None:
    """定标监督：各标段定标状态与提示."""
    database = open_database()
    with database.session_scope() as db:
        table = Table("标段", "状态", "中标人", "异议", "提示")
        for r in queries.monitor(db, system_actor("cli")):
            table.add_row(
                r["section_code"],
                r["status_label"],
                r["winner"],
                str(r["objections"]),
                "；".join(r["flags"]),
            )
        console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(award_app, name="award")
