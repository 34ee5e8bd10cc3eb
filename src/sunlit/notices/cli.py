"""``sunlit notices``: list public notices and read the change feed from the command line."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from sunlit.kernel.cliutil import console, open_database
from sunlit.notices import queries
from sunlit.notices.states import kind_label

notices_app = typer.Typer(help="公告与变更订阅 (notices)", no_args_is_help=True)


@notices_app.command("list")
def list_notices(
    q: str = typer.Option("", help="关键字"),
    status: str = typer.Option("", help="open 正在招标 | closed 已截止 | terminated 已终止"),
    limit: int = typer.Option(20, help="条数"),
) -> None:
    """公开公告."""
    database = open_database()
    with database.session_scope() as db:
        rows, total = queries.search_public(
            db, queries.NoticeFilter(q=q, status=status), limit=limit
        )
        table = Table("发布时间", "类型", "标题", "招标项目编号", title=f"共 {total} 条")
        for n in rows:
            when = n.published_at.strftime("%Y-%m-%d %H:%M") if n.published_at else ""
            table.add_row(when, kind_label(n.kind), n.title, n.tender_project_code)
        console.print(table)


@notices_app.command("feed")
def feed(
    after: str = typer.Option("", help="游标（上次输出的 next_cursor）"),
    limit: int = typer.Option(100, help="条数"),
    settle: float = typer.Option(queries.DEFAULT_SETTLE_SECONDS, help="稳定延迟（秒）"),
) -> None:
    """变更订阅的一页（JSON，与 /api/v1/feed/notices 相同的游标）."""
    database = open_database()
    with database.session_scope() as db:
        page = queries.change_feed(db, after or None, limit, settle)
        out = {
            "items": [
                {
                    "id": n.id,
                    "kind": n.kind,
                    "title": n.title,
                    "modified_at": n.modified_at.isoformat(),
                }
                for n in page.items
            ],
            "next_cursor": page.next_cursor,
            "has_more": page.has_more,
        }
        console.print_json(json.dumps(out, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.add_typer(notices_app, name="notices")
