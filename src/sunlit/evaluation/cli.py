"""``sunlit evaluation``: recompute a published evaluation report offline; show a section's
evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from sunlit.kernel.authz import system_actor
from sunlit.kernel.cliutil import console, fail, open_database
from sunlit.kernel.errors import DomainError

from . import calc, queries
from .service import report_digest

evaluation_app = typer.Typer(help="评标 (evaluation)", no_args_is_help=True)
CLI = system_actor("cli")


@evaluation_app.command("verify-report")
def verify_report(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="评标报告 JSON 文档"),
) -> None:
    """重新计算评标报告（依据其中的评分标准、有效投标、专家评分、系数与同分抽取种子），
    与报告中的结果比对；并输出报告摘要（SHA-256），供核对成员签名所签内容。"""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if "document" in doc:  # the API's report view
        doc = doc["document"]
    try:
        problems = calc.verify(doc)
    except DomainError as exc:
        raise fail(exc) from None
    console.print(f"报告摘要 sha256:{report_digest(doc)}")
    if problems:
        console.print(f"[red]重新计算结果与报告不一致：{'、'.join(problems)}[/red]")
        raise typer.Exit(1)
    table = Table("排名", "投标人", "报价", "评标价/得分", title="重新计算一致")
    for r in doc["result"]["ranking"]:
        score = r["score"] if r["score"] is not None else r["evaluated_price"]
        table.add_row(str(r["rank"]), r["name"] or r["bidder_id"], r["price"], score)
    console.print(table)


@evaluation_app.command("show")
def show(section_id: str = typer.Argument(..., help="标段 id")) -> None:
    """评标进度与结果."""
    database = open_database()
    with database.session_scope() as db:
        try:
            v = queries.overview(db, CLI, section_id)
        except DomainError as exc:
            raise fail(exc) from None
        console.print(f"{v['section_code']} {v['section_name']} · {v['method_label']}")
        console.print(f"状态：{v['status_label']}")
        table = Table("成员", "类别", "签到", "承诺", "回避", "组长", "已提交")
        for m in v["members"]:
            table.add_row(
                m["name"],
                m["source_label"],
                "✓" if m["signed_in"] else "",
                "✓" if m["committed"] else "",
                m["recusal_reason"] if m["recused"] else "",
                "✓" if m["leader"] else "",
                "✓" if m["submitted"] else "",
            )
        console.print(table)
        if v["report"]:
            doc = v["report"]["document"]
            for c in doc["candidates"]:
                console.print(f"第{c['rank']}名 {c['name']} {c['price']} 元")


def register(app: typer.Typer) -> None:
    app.add_typer(evaluation_app, name="evaluation")
