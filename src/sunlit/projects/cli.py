"""``sunlit projects``: venues, the acceptance queue and code checks from the command line."""

from __future__ import annotations

import typer
from rich.table import Table

from sunlit.kernel.authz import system_actor
from sunlit.kernel.cliutil import console, fail, open_database
from sunlit.kernel.errors import DomainError
from sunlit.projects import codes, queries, service
from sunlit.projects.catalog import RoomKind
from sunlit.projects.schemas import RoomIn
from sunlit.projects.states import TENDER_LIFECYCLE, TenderStatus

projects_app = typer.Typer(help="项目、受理与场地 (projects)", no_args_is_help=True)
CLI = system_actor("cli")


@projects_app.command("check-code")
def check_code(code: str = typer.Argument(..., help="项目、招标项目或标段编号")) -> None:
    """校验项目编号（17位）、招标项目编号（20位）或标段编号（23位）."""
    parser = {17: codes.parse_project_code, 20: codes.parse_tender_project_code}.get(
        len(code.strip()), codes.parse_section_code
    )
    try:
        parsed = parser(code)
    except DomainError as exc:
        raise fail(exc) from None
    console.print(f"[green]有效[/green] {parsed}（行政区划 {parsed[1:7]}）")


@projects_app.command("queue")
def queue(status: str = typer.Option("submitted", help="状态，如 submitted / accepted")) -> None:
    """受理队列."""
    database = open_database()
    with database.session_scope() as db:
        rows, total = queries.search_tender_projects(db, CLI, status, limit=200)
        table = Table("招标项目编号", "名称", "状态", "提交时间", title=f"共 {total} 个")
        for t in rows:
            table.add_row(
                t.code,
                t.name,
                TENDER_LIFECYCLE.label(TenderStatus(t.status)),
                t.submitted_at.strftime("%Y-%m-%d %H:%M") if t.submitted_at else "",
            )
        console.print(table)


@projects_app.command("rooms")
def rooms() -> None:
    """开标室、评标室."""
    database = open_database()
    with database.session_scope() as db:
        table = Table("名称", "类型", "交易中心", "席位", "远程", "id")
        for r in queries.rooms(db, CLI, include_inactive=True):
            table.add_row(
                r.name,
                RoomKind(r.kind).label,
                r.center_name,
                str(r.seats),
                "是" if r.remote else "",
                r.id,
            )
        console.print(table)


@projects_app.command("add-room")
def add_room(
    name: str = typer.Option(..., help="名称，如 第一开标室"),
    kind: RoomKind = typer.Option(RoomKind.OPENING, help="opening 开标室 | evaluation 评标室"),
    center: str = typer.Option(..., help="所在交易中心"),
    seats: int = typer.Option(0, help="席位数"),
    remote: bool = typer.Option(False, help="异地交易中心的远程场地"),
) -> None:
    """登记场地."""
    database = open_database()
    with database.session_scope() as db:
        try:
            room = service.create_room(
                db,
                CLI,
                RoomIn(name=name, kind=kind, center_name=center, seats=seats, remote=remote),
            )
        except DomainError as exc:
            raise fail(exc) from None
        console.print(f"[green]已登记[/green] {room.center_name}{room.name} id={room.id}")


def register(app: typer.Typer) -> None:
    app.add_typer(projects_app, name="projects")
