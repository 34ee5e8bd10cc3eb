"""The ``sunlit`` command. Each domain adds its own group."""

from __future__ import annotations

import sys

import typer

from sunlit import __version__
from sunlit.kernel.cliutil import console, open_database
from sunlit.kernel.db import DatabaseUnavailable

app = typer.Typer(
    name="sunlit",
    help="阳光交易 Sunlit — 公共资源交易平台命令行",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="数据库 (database)", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
def version() -> None:
    """版本 (version)."""
    console.print(f"sunlit {__version__}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """迁移数据库到最新版本 (migrate to head)."""
    open_database(migrate=True)
    console.print("[green]数据库已是最新版本[/green]")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址"),
    port: int = typer.Option(8000, help="端口"),
    workers: int = typer.Option(1, help="进程数"),
) -> None:
    """启动平台 (run the web server)."""
    import uvicorn

    open_database(migrate=True)
    uvicorn.run(
        "sunlit.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


def _register_domains() -> None:
    from sunlit.award import cli as award_cli
    from sunlit.bidding import cli as bidding_cli
    from sunlit.demo import cli as demo_cli
    from sunlit.draws import cli as draws_cli
    from sunlit.evaluation import cli as evaluation_cli
    from sunlit.experts import cli as experts_cli
    from sunlit.identity import cli as identity_cli
    from sunlit.notices import cli as notices_cli
    from sunlit.projects import cli as projects_cli
    from sunlit.signer import cli as signer_cli
    from sunlit.sim import cli as sim_cli
    from sunlit.transparency import cli as transparency_cli

    identity_cli.register(app)
    signer_cli.register(app)
    transparency_cli.register(app)
    projects_cli.register(app)
    notices_cli.register(app)
    draws_cli.register(app)
    bidding_cli.register(app)
    award_cli.register(app)
    evaluation_cli.register(app)
    experts_cli.register(app)
    demo_cli.register(app)
    sim_cli.register(app)


_register_domains()


def main() -> None:
    try:
        app()
    except DatabaseUnavailable as exc:
        console.print(f"[red]{exc}[/red]")
        sys.exit(2)
