"""``sunlit demo``: run the platform with demo data on embedded SQLite."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import typer

demo_app = typer.Typer(help="演示 (demo)", no_args_is_help=True)
DEFAULT_DIR = Path("var/demo")


def _prepare(folder: Path, reset: bool):  # type: ignore[no-untyped-def]
    from sunlit.demo.loader import DemoPaths, load, refresh_crls
    from sunlit.kernel.db import Database
    from sunlit.migrate import upgrade

    paths = DemoPaths(folder.resolve())
    if reset and folder.exists():
        shutil.rmtree(folder)
    fresh = not (folder / "demo.json").exists()
    if fresh and folder.exists():
        shutil.rmtree(folder)  # a half-built demo from an interrupted run
    folder.mkdir(parents=True, exist_ok=True)
    database = Database(f"sqlite:///{paths.root / 'sunlit.db'}")
    upgrade(database)
    if fresh:
        creds = load(database, paths)
    else:
        refresh_crls(database, paths)
        creds = {}
    return paths, database, creds


@demo_app.command("load")
def demo_load(
    folder: Path = typer.Option(DEFAULT_DIR, "--dir", help="演示数据目录"),
    reset: bool = typer.Option(False, help="删除后重建"),
) -> None:
    """生成演示数据（不启动服务）."""
    from sunlit.kernel.cliutil import console

    paths, database, _ = _prepare(folder, reset)
    database.dispose()
    console.print(f"[green]演示数据已就绪[/green]：{paths.root}")


@demo_app.command("run")
def demo_run(
    folder: Path = typer.Option(DEFAULT_DIR, "--dir", help="演示数据目录"),
    reset: bool = typer.Option(False, help="删除演示数据后重建"),
    port: int = typer.Option(8000, help="平台端口"),
    signer_port: int = typer.Option(18443, help="证书助手端口"),
) -> None:
    """用演示数据启动平台（http://127.0.0.1:8000）和本机证书助手."""
    import uvicorn

    from sunlit.app import create_app
    from sunlit.kernel.cliutil import console
    from sunlit.settings import Settings
    from sunlit.signer.server import create_signer_app, load_folder

    paths, database, creds = _prepare(folder, reset)
    base_url = f"http://127.0.0.1:{port}"
    signer_url = f"http://127.0.0.1:{signer_port}"
    settings = Settings(
        data_dir=paths.root, database_url=database.url, base_url=base_url, signer_url=signer_url
    )
    signer = uvicorn.Server(
        uvicorn.Config(
            create_signer_app(load_folder(paths.keys), base_url),
            host="127.0.0.1",
            port=signer_port,
            log_level="warning",
        )
    )
    threading.Thread(target=signer.run, daemon=True).start()

    console.rule("阳光交易演示平台 Sunlit demo")
    console.print(f"平台 platform:        [bold]{base_url}[/bold]")
    count = len(list(paths.keys.glob("*.cert.pem")))
    console.print(f"证书助手 signer:      {signer_url}（{count} 张演示证书）")
    console.print(f"数据 data:            {paths.root}")
    console.print("数字证书登录：打开 /login，选择任一演示证书即可扮演对应角色。")
    if creds:
        console.print(
            f"交易中心管理员口令登录：admin / [bold]{creds['password']}[/bold]，"
            "动态口令：.venv/bin/sunlit demo totp admin"
        )
    else:
        console.print(f"交易中心管理员口令见 {paths.credentials}")
    console.rule()
    os.environ.setdefault("SUNLIT_DATA_DIR", str(paths.root))
    uvicorn.run(create_app(settings, database), host="127.0.0.1", port=port, log_level="info")


@demo_app.command("totp")
def demo_totp(
    username: str = typer.Argument("admin"),
    folder: Path = typer.Option(DEFAULT_DIR, "--dir", help="演示数据目录"),
) -> None:
    """显示演示账号当前的动态口令（代替身份验证器应用，仅限演示）."""
    import pyotp
    from sqlalchemy import select

    from sunlit.identity.models import User
    from sunlit.kernel.cliutil import console
    from sunlit.kernel.db import Database

    database = Database(f"sqlite:///{(folder / 'sunlit.db').resolve()}")
    with database.session_scope() as db:
        user = db.scalar(select(User).where(User.username == username))
        if user is None or not user.totp_secret:
            console.print("[red]该账号没有动态口令[/red]")
            raise typer.Exit(1)
        console.print(pyotp.TOTP(user.totp_secret).now())


@demo_app.command("tender")
def demo_tender(
    bidders: int = typer.Option(3, "--bidders", min=1, max=200, help="投标人数量"),
    suite: str = typer.Option("gm", "--suite", help="密码套件：gm（国密）或 intl"),
    json_out: Path | None = typer.Option(None, "--json-out", help="另存 JSON 摘要到文件"),
    through: str = typer.Option(
        "opening",
        "--through",
        help="走到哪一步：opening（开标记录）或 award（专家抽取、评标、定标、合同）",
    ),
) -> None:
    """在临时数据库上走完一个标段：公告 → 加密投标 → 开标 → 签名的开标记录（JSON 摘要）；
    --through award 继续专家抽取 → 评标 → 签署评标报告 → 定标 → 中标通知书 → 合同."""
    import json

    from rich.console import Console

    from sunlit.demo.tender import SUITES, THROUGH, DemoFailed, run

    err = Console(stderr=True)
    if suite not in SUITES:
        err.print(f"[red]未知的密码套件[/red] {suite!r}（gm 或 intl）")
        raise typer.Exit(2)
    if through not in THROUGH:
        err.print(f"[red]未知的步骤[/red] {through!r}（opening 或 award）")
        raise typer.Exit(2)
    err.rule(f"演示标段 demo tender · {bidders} 家投标人 · {suite}")
    try:
        summary = run(bidders, suite, lambda msg: err.print(f"[cyan]•[/cyan] {msg}"), through)
    except DemoFailed as exc:
        err.print(f"[red]演示失败[/red]：{exc}")
        raise typer.Exit(1) from exc
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    if json_out is not None:
        json_out.write_text(text + "\n", encoding="utf-8")
    err.rule("完成 done")
    typer.echo(text)


def register(app: typer.Typer) -> None:
    app.add_typer(demo_app, name="demo")
