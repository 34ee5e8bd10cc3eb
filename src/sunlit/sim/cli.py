"""`sunlit sim ...`: run a simulator as its own process."""

from __future__ import annotations

from pathlib import Path

import typer

from sunlit.kernel.cliutil import console

sim_app = typer.Typer(help="模拟器（银行、金融机构），通过公开接口与平台交互", no_args_is_help=True)


@sim_app.command("fi")
def fi(
    platform: str = typer.Option("http://127.0.0.1:8000", help="平台地址"),
    folder: Path = typer.Option(Path("var/sim-fi"), "--dir", help="密钥与状态目录"),
    code: str = typer.Option("sim-bank", help="接入方代码"),
    name: str = typer.Option("模拟银行股份有限公司", help="机构名称"),
    credit_code: str = typer.Option("9132050070000001X4", help="机构统一社会信用代码"),
    suite: str = typer.Option("gm", help="密码套件 gm | intl"),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8600),
    decision: str = typer.Option("approve", help="approve | decline"),
    delay: float = typer.Option(0.0, help="审核延迟（秒）"),
    duplicate: bool = typer.Option(False, help="每个回调发送两次"),
    reorder: bool = typer.Option(False, help="先发出函结果再发支付结果"),
    wrong_account: bool = typer.Option(False, help="保费从非基本户支付"),
    down: bool = typer.Option(False, help="启动即处于宕机状态（503）"),
    callbacks: bool = typer.Option(True, help="是否回调平台（否则只能对账）"),
    claims: str = typer.Option("pay", help="pay | refuse"),
) -> None:
    """金融机构模拟器：实现《电子投标保函接口规范》的金融机构一侧。"""
    import uvicorn

    from sunlit.sim.fi import Behaviour, FiSimulator, create_app

    behaviour = Behaviour(
        decision=decision,
        delay=delay,
        duplicate=duplicate,
        reorder=reorder,
        wrong_account=wrong_account,
        down=down,
        callbacks=callbacks,
        claims=claims,
    )
    sim = FiSimulator(
        folder,
        code=code,
        name=name,
        credit_code=credit_code,
        platform_url=platform,
        suite=suite,
        behaviour=behaviour,
    )
    console.print(f"[green]金融机构模拟器[/green] {name} ({code}) http://{host}:{port}")
    console.print(sim.public_pem)
    uvicorn.run(create_app(sim), host=host, port=port, log_level="warning")


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

    from sunlit.sim.bank import SimBank, create_sim_app, load_or_create_key

    bank = SimBank(code, name, load_or_create_key(key, suite), platform_url, master_account)
    bank.start()
    try:
        uvicorn.run(create_sim_app(bank), host=host, port=port, log_level="warning")
    finally:
        bank.stop()


def register(app: typer.Typer) -> None:
    app.add_typer(sim_app, name="sim")
