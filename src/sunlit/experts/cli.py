"""``sunlit experts``: import, export and list the pool; export a draw record for
``sunlit draw verify``; make the center's commitment for a draw."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from sunlit.draws import CenterSecret
from sunlit.kernel import clock
from sunlit.kernel.authz import system_actor
from sunlit.kernel.cliutil import console, fail, open_database
from sunlit.kernel.errors import DomainError

from . import excel, queries, service
from .catalog import full_name

experts_app = typer.Typer(help="专家库与专家抽取 (experts)", no_args_is_help=True)
CLI = system_actor("cli")


@experts_app.command("import")
def import_(
    path: Path = typer.Argument(..., help="Excel 文件（.xlsx），表头见 sunlit experts export"),
) -> None:
    """从Excel导入专家（任一行有误则全部不导入，并逐行列出错误）."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        console.print(f"[red]无法读取 {path}：{exc.strerror}[/red]")
        raise typer.Exit(1) from None
    database = open_database()
    try:
        rows = excel.parse(content)
        with database.session_scope() as db:
            result = service.import_experts(db, CLI, rows)
    except DomainError as exc:
        for e in exc.errors:
            console.print(f"  第{e['row']}行 {e['column']}：{e['message']}", markup=False)
        raise fail(exc) from None
    console.print(
        f"[green]导入完成[/green]：新增 {result['added']} 人，更新 {result['updated']} 人"
    )


@experts_app.command("export")
def export(
    path: Path = typer.Argument(..., help="输出 Excel 文件"),
    full_ids: bool = typer.Option(False, "--full-ids", help="导出完整身份证号码（谨慎）"),
) -> None:
    """导出专家库到Excel."""
    database = open_database()
    with database.session_scope() as db:
        experts = queries.all_experts(db, CLI)
        path.write_bytes(excel.export(experts, full_ids=full_ids))
    console.print(f"已导出 {len(experts)} 名专家到 {path}")


@experts_app.command("list")
def list_(
    specialty: str = typer.Option("", help="专业代码（含下级专业）"),
    q: str = typer.Option("", help="姓名或工作单位"),
    limit: int = typer.Option(50, help="最多显示"),
) -> None:
    """列出专家库."""
    database = open_database()
    with database.session_scope() as db:
        rows, total = queries.search_experts(db, CLI, q, specialty, "", limit)
        table = Table("姓名", "主评专业", "工作单位", "地区", "状态", title=f"共 {total} 名专家")
        for e in rows:
            table.add_row(
                e.name,
                f"{e.main_specialty} {full_name(e.main_specialty).split(' / ')[-1]}",
                e.employer_name,
                e.region_code,
                "正常" if e.status == "active" else "暂停",
            )
        console.print(table)


@experts_app.command("record")
def record(
    draw_code: str = typer.Argument(..., help="抽取编号（如 expert-<标段编号>-1）或 id"),
    out: Path = typer.Option(Path("expert-draw.json"), "-o", "--out", help="抽取记录输出文件"),
) -> None:
    """导出专家抽取记录（及评标开始后的披露文件），供 sunlit draw verify 离线验证."""
    from sqlalchemy import or_, select

    from .models import ExpertDraw

    database = open_database()
    with database.session_scope() as db:
        d = db.scalar(
            select(ExpertDraw).where(or_(ExpertDraw.code == draw_code, ExpertDraw.id == draw_code))
        )
        if d is None or d.record is None:
            console.print(f"[red]没有已完成的抽取 {draw_code}[/red]")
            raise typer.Exit(1)
        out.write_text(json.dumps(d.record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        console.print(f"抽取记录：{out}（定义哈希 {d.definition_hash}，承诺 {d.commitment}）")
        if d.disclosure is not None:
            dis = out.with_name(out.stem + ".disclosure.json")
            dis.write_text(
                json.dumps(d.disclosure, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
            console.print(f"披露文件：{dis}")
        console.print(
            f"验证：sunlit draw verify {out} --definition-hash {d.definition_hash} "
            f"--commitment {d.commitment}",
            markup=False,
        )


@experts_app.command("commitment")
def commitment(suite: str = typer.Option("gm", help="gm 或 intl")) -> None:
    """生成交易中心的抽取秘密值与承诺值：提交承诺值，秘密值与盐由中心保管至抽取时揭示."""
    secret = CenterSecret.new(suite, committed_at=clock.now())
    console.print(f"承诺值 commitment: {secret.commitment.hex()}", markup=False)
    console.print(f"秘密值 center_value: {secret.value.hex()}", markup=False)
    console.print(f"盐 center_salt: {secret.salt.hex()}", markup=False)
    console.print("[yellow]秘密值与盐请离线保管，抽取时（监督人录入随机数之后）再揭示。[/yellow]")


def register(app: typer.Typer) -> None:
    app.add_typer(experts_app, name="experts")
