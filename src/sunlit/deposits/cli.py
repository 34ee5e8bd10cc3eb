"""``sunlit sim bank``: run the deposit-bank simulator in its own process."""

from __future__ import annotations

from pathlib import Path

import typer

sim_app = typer.Typer(help="模拟器（银行、金融机构），通过公开接口与平台交互", no_args_is_help=True)


@sim_app.command("bank")
def sim_bank(
    platform_url: str = typer.Option("http://127.0.0.1:8000", help="平台地址"),
    host: str = typer.Option("127.0.0.1", help="监听地址"),
    port: int = typer.Option(18600, help="端口"),
    code: str = typer.Option("simbank", help="银行接入编号（平台登记的 partner code）"),
    name: str = typer.Option("模拟保证金银行", help="银行名称"),
    key: Path | None = typer.Option(None, help="银行签名私钥 PEM（不存在则生成并保存）"),
    suite: str = typer.Option("gm", help="密码套件 gm | intl"),
    master_account: str = typer.Option("32050188000000000001", help="保证金专户账号"),
) -> None:
    """启动保证金银行模拟器 (docs/spec/deposit-bank-api.md)."""
    import uvicorn

    from .simbank import SimBank, create_sim_app, load_or_create_key

    bank = SimBank(code, name, load_or_create_key(key, suite), platform_url, master_account)
    bank.start()
    try:
        uvicorn.run(create_sim_app(bank), host=host, port=port, log_level="warning")
    finally:
        bank.stop()


def register(app: typer.Typer) -> None:
    app.add_typer(sim_app, name="sim")
