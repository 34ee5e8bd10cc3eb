"""``sunlit log``: checkpoints, proof export, offline verification and the full audit.

``sunlit log verify`` needs no database and no platform configuration: only the exported
files and the platform public key (from ``/api/v1/transparency/key.pem`` or
``sunlit log export-key``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from sunlit.kernel.authz import system_actor
from sunlit.kernel.cliutil import console, fail, open_database
from sunlit.kernel.crypto import PublicKey, load_public_key_any
from sunlit.kernel.crypto.errors import CryptoError
from sunlit.kernel.errors import DomainError

log_app = typer.Typer(help="透明日志 (transparency log)", no_args_is_help=True)
CLI = system_actor("cli")


def _configure() -> None:
    from sunlit.kernel import tlog
    from sunlit.settings import get_settings
    from sunlit.transparency import keys

    settings = get_settings()
    tlog.set_default_suite(settings.crypto_suite)
    keys.configure(settings)


def _load_key(path: Path) -> PublicKey:
    try:
        return load_public_key_any(path.read_bytes())
    except OSError as exc:
        console.print(f"[red]无法读取公钥文件 {path}：{exc.strerror}[/red]")
        raise typer.Exit(2) from None
    except (CryptoError, ValueError):
        console.print(f"[red]{path} 不是有效的 PEM/DER 公钥（SubjectPublicKeyInfo）[/red]")
        raise typer.Exit(2) from None


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@log_app.command("checkpoint")
def checkpoint(reason: str = typer.Option("定时签发", help="签发原因")) -> None:
    """签发检查点（对当前日志的大小和树根签名）."""
    from sunlit.transparency import service

    _configure()
    database = open_database()
    with database.session_scope() as db:
        try:
            cp = service.issue_checkpoint(db, CLI, reason)
        except DomainError as exc:
            raise fail(exc) from None
        console.print(f"[green]已签发检查点[/green] 树大小 {cp.tree_size}")
        console.print(cp.body, end="", markup=False, highlight=False)


@log_app.command("status")
def status() -> None:
    """日志概况：大小、算法、最新检查点."""
    from sunlit.kernel import tlog
    from sunlit.transparency import queries

    _configure()
    database = open_database()
    with database.session_scope() as db:
        meta = tlog.get_log(db)
        if meta is None:
            console.print("透明日志尚无记录")
            return
        console.print(f"日志 {meta.origin}  套件 {meta.suite}（{meta.hash_algorithm}）")
        console.print(f"记录数 {tlog.tree_size(db)}")
        latest = queries.latest_checkpoint(db)
        if latest:
            console.print(
                f"最新检查点：树大小 {latest.tree_size}，{latest.issued_at:%Y-%m-%d %H:%M:%S}"
            )


@log_app.command("export-proof")
def export_proof(
    event_id: str = typer.Argument(..., help="审计事件编号"),
    out: Path = typer.Option(..., "--out", help="导出文件"),
    size: int | None = typer.Option(None, help="树大小（默认：最新检查点）"),
) -> None:
    """导出一条记录的存在性证明（含叶子内容与签名检查点）."""
    from sunlit.transparency import queries

    _configure()
    database = open_database()
    with database.session_scope() as db:
        try:
            bundle = queries.inclusion(db, CLI, event_id=event_id, tree_size=size)
        except DomainError as exc:
            raise fail(exc) from None
    _write_json(out, bundle)
    console.print(
        f"[green]已导出[/green] 叶子 {bundle['leafIdx']} / 树大小 {bundle['treeSize']} → {out}"
    )


@log_app.command("export-consistency")
def export_consistency(
    size1: int = typer.Option(..., "--from", help="旧树大小"),
    size2: int | None = typer.Option(None, "--to", help="新树大小（默认：最新检查点）"),
    out: Path = typer.Option(..., "--out", help="导出文件"),
) -> None:
    """导出两个检查点之间的一致性证明."""
    from sunlit.transparency import queries

    _configure()
    database = open_database()
    with database.session_scope() as db:
        try:
            bundle = queries.consistency(db, size1, size2)
        except DomainError as exc:
            raise fail(exc) from None
    _write_json(out, bundle)
    console.print(f"[green]已导出[/green] {bundle['size1']} → {bundle['size2']} → {out}")


@log_app.command("export-checkpoint")
def export_checkpoint(
    out: Path = typer.Option(..., "--out", help="导出文件（签名检查点文本）"),
    size: int | None = typer.Option(None, help="树大小（默认：最新）"),
) -> None:
    """导出签名检查点."""
    from sunlit.transparency import queries

    _configure()
    database = open_database()
    with database.session_scope() as db:
        try:
            cp = (
                queries.require_latest_checkpoint(db)
                if size is None
                else queries.checkpoint_by_size(db, size)
            )
        except DomainError as exc:
            raise fail(exc) from None
        out.write_text(queries.signed_note(cp), encoding="utf-8")
    console.print(f"[green]已导出[/green] 检查点（树大小 {cp.tree_size}） → {out}")


@log_app.command("export-key")
def export_key(out: Path = typer.Option(..., "--out", help="公钥 PEM 文件")) -> None:
    """导出平台检查点签名公钥."""
    from sunlit.transparency import keys

    _configure()
    try:
        key = keys.platform_key()
    except DomainError as exc:
        raise fail(exc) from None
    out.write_text(key.public_pem(), encoding="ascii")
    console.print(f"[green]已导出[/green] 公钥（密钥标识 {key.key_id}） → {out}")


@log_app.command("verify")
def verify(
    files: list[Path] = typer.Argument(
        ..., help="导出文件：检查点、存在性证明、一致性证明或密封公开"
    ),
    key: Path = typer.Option(..., "--key", help="平台公钥 PEM 文件"),
    origin: str | None = typer.Option(None, help="只接受该日志标识的检查点"),
) -> None:
    """离线验证导出文件（不连接数据库）."""
    from sunlit.transparency import bundles

    public_key = _load_key(key)
    failed = 0
    for path in files:
        try:
            content = path.read_bytes()
        except OSError as exc:
            console.print(f"[red]✗ {path}：无法读取（{exc.strerror}）[/red]")
            failed += 1
            continue
        try:
            result = bundles.verify_document(bundles.load_document(content), public_key, origin)
        except DomainError as exc:
            console.print(
                f"✗ {path}：验证失败：{exc.detail} ({exc.code})",
                style="red",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            failed += 1
            continue
        console.print(f"✓ {path}", style="green", markup=False, highlight=False, soft_wrap=True)
        for line in result.lines:
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


@log_app.command("audit")
def audit(
    key: Path | None = typer.Option(None, "--key", help="平台公钥（默认：本机配置的平台密钥）"),
) -> None:
    """全量审计：由审计事件重算整棵树，与叶子、子树哈希和每个检查点比对."""
    from sunlit.transparency import auditor, keys
    from sunlit.transparency.auditor import KIND_LABELS

    _configure()
    public_key: PublicKey | None
    if key is not None:
        public_key = _load_key(key)
    else:
        from sunlit.settings import get_settings

        try:  # never generate a key here: an audit checks the key that signed
            public_key = keys.load_platform_key(get_settings(), create=False).public_key
        except DomainError as exc:
            console.print(f"[yellow]未核验检查点签名：{exc.detail}[/yellow]")
            public_key = None
    database = open_database()
    with database.session_scope() as db, console.status("正在重算透明日志…"):
        report = auditor.audit_log(db, public_key)
    console.print(
        f"日志记录 {report.tree_size} 条，审计事件 {report.events} 条，"
        f"检查点 {report.checkpoints} 个（{report.hash_algorithm or '-'}）"
    )
    if report.ok:
        console.print("[green]审计通过：所有记录与日志及检查点一致[/green]")
        return
    console.print(f"[red]发现 {len(report.findings)} 处问题：[/red]")
    for f in report.findings:
        where = "-" if f.position is None else str(f.position)
        console.print(
            f"  位置 {where}  {KIND_LABELS.get(f.kind, f.kind)}  {f.event_id or '-'}  {f.detail}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(log_app, name="log")
