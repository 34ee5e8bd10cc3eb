"""``sunlit org``, ``sunlit user``, ``sunlit ca``: identity administration."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import select

from sunlit.identity import queries, service
from sunlit.identity.models import Organization, User
from sunlit.identity.schemas import OrganizationIn, UserIn
from sunlit.kernel.authz import Role, system_actor
from sunlit.kernel.cliutil import console, fail, open_database
from sunlit.kernel.errors import DomainError

org_app = typer.Typer(help="市场主体 (organizations)", no_args_is_help=True)
user_app = typer.Typer(help="人员与账号 (users)", no_args_is_help=True)
CLI = system_actor("cli")


@org_app.command("register")
def org_register(
    name: str = typer.Option(..., help="单位名称"),
    credit_code: str = typer.Option(..., help="统一社会信用代码"),
    role: list[Role] = typer.Option(..., help="主体角色，可多次指定"),
    contact: str = typer.Option("经办人", help="经办人姓名"),
    mobile: str = typer.Option("", help="经办人手机"),
) -> None:
    """登记一个市场主体（交易中心操作，直接生效）."""
    database = open_database()
    with database.session_scope() as db:
        try:
            org = service.register_organization(
                db,
                CLI,
                OrganizationIn(
                    name=name,
                    credit_code=credit_code,
                    roles=role,
                    contact_name=contact,
                    contact_phone=mobile,
                    admin=UserIn(name=contact, mobile=mobile, roles=role),
                ),
            )
        except DomainError as exc:
            raise fail(exc) from None
        console.print(f"[green]已登记[/green] {org.name} {org.credit_code} id={org.id}")


@org_app.command("list")
def org_list(q: str = typer.Option("", help="名称或代码关键字")) -> None:
    """列出市场主体."""
    database = open_database()
    with database.session_scope() as db:
        rows, total = queries.search_organizations(db, CLI, q, limit=200)
        table = Table("单位名称", "统一社会信用代码", "角色", "状态", "id", title=f"共 {total} 家")
        for o in rows:
            table.add_row(o.name, o.credit_code, ",".join(o.role_names), o.status, o.id)
        console.print(table)


@org_app.command("review")
def org_review(
    credit_code: str,
    action: str = typer.Argument(..., help="approve|reject|suspend|reinstate"),
    note: str = typer.Option("", help="意见"),
) -> None:
    """审核市场主体."""
    database = open_database()
    with database.session_scope() as db:
        org = db.scalar(select(Organization).where(Organization.credit_code == credit_code))
        if org is None:
            console.print("[red]单位不存在[/red]")
            raise typer.Exit(1)
        try:
            org = service.review_organization(db, CLI, org.id, action, note)
        except DomainError as exc:
            raise fail(exc) from None
        console.print(f"{org.name}: {org.status}")


@user_app.command("add")
def user_add(
    credit_code: str = typer.Argument(..., help="所在单位统一社会信用代码"),
    name: str = typer.Option(..., help="姓名"),
    role: list[Role] = typer.Option([], help="角色"),
    username: str | None = typer.Option(None, help="登录名（口令登录）"),
    mobile: str = typer.Option(""),
) -> None:
    """为单位添加人员."""
    database = open_database()
    with database.session_scope() as db:
        org = db.scalar(select(Organization).where(Organization.credit_code == credit_code))
        if org is None:
            console.print("[red]单位不存在[/red]")
            raise typer.Exit(1)
        try:
            user = service.add_user(
                db, CLI, org.id, UserIn(name=name, roles=role, username=username, mobile=mobile)
            )
        except DomainError as exc:
            raise fail(exc) from None
        console.print(f"[green]已添加[/green] {user.name} id={user.id}")


@user_app.command("set-password")
def user_set_password(
    username: str,
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """设置工作人员口令并登记动态口令（TOTP）密钥."""
    database = open_database()
    with database.session_scope() as db:
        user = db.scalar(select(User).where(User.username == username))
        if user is None:
            console.print("[red]用户不存在[/red]")
            raise typer.Exit(1)
        try:
            secret = service.set_password(db, CLI, user.id, password)
        except DomainError as exc:
            raise fail(exc) from None
        import pyotp

        uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Sunlit 阳光交易")
        console.print(f"动态口令密钥（请录入身份验证器，仅显示一次）: [bold]{secret}[/bold]\n{uri}")


@user_app.command("unlock")
def user_unlock(username: str) -> None:
    """解除账号锁定."""
    database = open_database()
    with database.session_scope() as db:
        user = db.scalar(select(User).where(User.username == username))
        if user is None:
            console.print("[red]用户不存在[/red]")
            raise typer.Exit(1)
        service.unlock_user(db, CLI, user.id)
        console.print("[green]已解锁[/green]")


@user_app.command("bind-cert")
def user_bind_cert(user_id: str, certificate: Path) -> None:
    """窗口绑定：工作人员核验身份后为用户绑定证书."""
    database = open_database()
    with database.session_scope() as db:
        try:
            cert = service.bind_certificate_for(db, CLI, user_id, certificate.read_text())
        except DomainError as exc:
            raise fail(exc) from None
        console.print(f"[green]已绑定[/green] {cert.subject} ({cert.fingerprint[:16]}…)")


def register(app: typer.Typer) -> None:
    from sunlit.identity import ca_cli

    app.add_typer(org_app, name="org")
    app.add_typer(user_app, name="user")
    app.add_typer(ca_cli.ca_app, name="ca")
