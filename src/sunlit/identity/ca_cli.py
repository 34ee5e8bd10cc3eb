"""``sunlit ca``: the development CA and the platform trust store."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import select

from sunlit.identity import service
from sunlit.identity.devca import DevCA, write_credential
from sunlit.identity.models import TrustedCA
from sunlit.kernel import clock
from sunlit.kernel.authz import system_actor
from sunlit.kernel.cliutil import console, open_database
from sunlit.kernel.crypto.x509 import SubjectInfo
from sunlit.kernel.errors import DomainError

ca_app = typer.Typer(help="CA 证书 (development CA and trust store)", no_args_is_help=True)
CLI = system_actor("cli")


@ca_app.command("init")
def ca_init(
    name: str = typer.Argument(..., help="CA 名称，如“阳光演示CA”"),
    folder: Path = typer.Option(..., "--dir", help="CA 文件目录"),
    suite: str = typer.Option("gm", help="gm (SM2) 或 intl (ECDSA P-256)"),
    trust: bool = typer.Option(True, help="同时加入平台信任列表并发布吊销列表"),
) -> None:
    """创建开发用根 CA."""
    ca = DevCA.create(folder, name, suite, clock.now())
    console.print(f"[green]已创建[/green] {name} ({suite}) → {folder}")
    if trust:
        _trust_and_publish(ca, name)


def _trust_and_publish(ca: DevCA, name: str) -> None:
    database = open_database()
    with database.session_scope() as db:
        try:
            row = service.add_trusted_ca(db, CLI, name, ca.certificate.to_pem().decode())
            service.update_crl(db, CLI, row.id, ca.crl(clock.now()).der)
        except DomainError as exc:
            console.print(f"[red]{exc.detail}[/red]")
            raise typer.Exit(1) from None
    console.print("[green]已加入平台信任列表，吊销列表已发布[/green]")


@ca_app.command("issue")
def ca_issue(
    folder: Path = typer.Option(..., "--dir", help="CA 文件目录"),
    credit_code: str = typer.Option(..., help="单位统一社会信用代码"),
    organization: str = typer.Option(..., help="单位名称"),
    name: str = typer.Option(..., help="持证人姓名"),
    out: Path = typer.Option(..., help="输出目录（生成 NAME.cert.pem 与 NAME.key.pem）"),
    file_name: str = typer.Option("cert", help="文件名前缀"),
    role: str | None = typer.Option(None, help="职务，如“投标人授权代表”"),
    days: int = typer.Option(730, help="有效天数"),
) -> None:
    """签发证书（本机生成密钥对）."""
    ca = DevCA.load(folder)
    cred = ca.issue(SubjectInfo(name, organization, credit_code, role), clock.now(), days=days)
    cert_path, key_path = write_credential(out, file_name, cred)
    console.print(f"证书 {cert_path}\n私钥 {key_path}\n序列号 {cred.certificate.serial_number:x}")


@ca_app.command("revoke")
def ca_revoke(
    serial: str = typer.Argument(..., help="证书序列号（十六进制）"),
    folder: Path = typer.Option(..., "--dir", help="CA 文件目录"),
) -> None:
    """吊销证书并向平台发布新的吊销列表."""
    ca = DevCA.load(folder)
    ca.revoke(int(serial, 16), clock.now())
    database = open_database()
    with database.session_scope() as db:
        fingerprint = ca.certificate.fingerprint.hex()
        row = db.scalar(select(TrustedCA).where(TrustedCA.fingerprint == fingerprint))
        if row is None:
            console.print("[yellow]该 CA 不在平台信任列表中，仅更新了 CA 状态[/yellow]")
            return
        service.update_crl(db, CLI, row.id, ca.crl(clock.now()).der)
    console.print(f"[green]已吊销[/green] {serial}，吊销列表已发布")


@ca_app.command("trust")
def ca_trust(
    certificate: Path = typer.Argument(..., help="CA 根证书 PEM"),
    name: str = typer.Option(..., help="CA 名称"),
) -> None:
    """把一家 CA 机构的根证书加入平台信任列表（多CA互认）."""
    database = open_database()
    with database.session_scope() as db:
        try:
            row = service.add_trusted_ca(db, CLI, name, certificate.read_text())
        except DomainError as exc:
            console.print(f"[red]{exc.detail}[/red]")
            raise typer.Exit(1) from None
        console.print(f"[green]已信任[/green] {row.name} {row.fingerprint[:16]}…")
