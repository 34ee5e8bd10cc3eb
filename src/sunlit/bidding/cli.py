"""``sunlit bid``: the bidder's offline sealing tool and the opening-key tools.

Nothing here needs the database or the platform: sealing, verification, opening-key
generation and decryption all run offline on files (``docs/spec/sealed-bid.md``).
Passphrases are never taken on the command line (they would show in ``ps``): they are read
from the environment variables named below or prompted for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from sunlit.kernel.cliutil import console
from sunlit.kernel.crypto import CryptoError, PrivateKey, load_private_key_any
from sunlit.kernel.crypto.x509 import Certificate, load_certificate
from sunlit.kernel.errors import DomainError

from . import opening_keys, sealed
from .errors import BidError, IncompleteShares

KEY_PASSWORD_ENV = "SUNLIT_KEY_PASSWORD"  # noqa: S105 - the name of a variable
PASSPHRASE_ENV: dict[sealed.Role, str] = {
    "tenderer": "SUNLIT_TENDERER_PASSPHRASE",
    "center": "SUNLIT_CENTER_PASSPHRASE",
}
ROLE_ZH: dict[sealed.Role, str] = {"tenderer": "招标人（代理）", "center": "交易中心"}

bid_app = typer.Typer(
    help=(
        "投标文件加密与解密 (sealed bids)：seal 加密、verify 校验、open-summary / open / remedy "
        "解密、keygen / section-keys 开标密钥。"
        "TODO：上传命令 `sunlit bid submit` 尚未实现，将随平台的投标文件上传接口一起提供。"
    ),
    short_help="投标文件加密与解密 (sealed bids)",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(bid_app, name="bid")


# --- helpers ----------------------------------------------------------------------------------


def _fail(exc: DomainError) -> typer.Exit:
    console.print(f"[red]{exc.detail}[/red] ({exc.code})")
    return typer.Exit(1)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        console.print(f"[red]无法读取{what} {path}：{exc.strerror}[/red]")
        raise typer.Exit(2) from None


def _secret(env: str, prompt: str) -> str:
    value = os.environ.get(env)
    if value is not None:
        return value
    return str(typer.prompt(prompt, hide_input=True))


def _load_private_key(path: Path, env: str, what: str) -> PrivateKey:
    data = _read(path, what)
    password = None
    if b"ENCRYPTED PRIVATE KEY" in data:
        password = _secret(env, f"{what}口令").encode("utf-8")
    try:
        return load_private_key_any(data, password)
    except CryptoError as exc:
        if exc.code == "crypto.decryption_failed":
            console.print(f"[red]{what}口令错误[/red] ({exc.code})")
        else:
            console.print(f"[red]{path} 不是有效的私钥文件[/red] ({exc.code})")
        raise typer.Exit(2) from None


def _load_cert(path: Path) -> Certificate:
    try:
        return load_certificate(_read(path, "证书"))
    except CryptoError as exc:
        console.print(f"[red]{path} 不是有效的证书[/red] ({exc.code})")
        raise typer.Exit(2) from None


def _load_section(path: Path) -> sealed.SectionKeys:
    try:
        return sealed.SectionKeys.from_json(_read(path, "标段开标公钥文件"))
    except BidError as exc:
        raise _fail(exc) from None


def _opening_key(path: Path, role: sealed.Role) -> PrivateKey:
    data = _read(path, f"{ROLE_ZH[role]}开标私钥")
    passphrase = _secret(PASSPHRASE_ENV[role], f"{ROLE_ZH[role]}开标密钥口令")
    try:
        return opening_keys.unlock_opening_key(data, passphrase)
    except BidError as exc:
        raise _fail(exc) from None


def _key_id(value: bytes) -> str:
    text = value.hex()
    return " ".join(text[i : i + 8] for i in range(0, len(text), 8))


def _show_section(section: sealed.SectionKeys) -> None:
    console.print(f"标段编号 [bold]{section.section_code}[/bold]  密码套件 {section.suite}")
    for role in sealed.ROLES:
        console.print(
            f"  {ROLE_ZH[role]}开标公钥标识 {_key_id(section.key_id(role))}", soft_wrap=True
        )
    console.print("  请与招标文件中公布的开标公钥标识逐位核对。", style="dim")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, 1))

        yield update


def _open_stream(path: Path) -> Any:
    try:
        return path.open("rb")
    except OSError as exc:
        console.print(f"[red]无法读取投标文件 {path}：{exc.strerror}[/red]")
        raise typer.Exit(2) from None


def _show_summary(summary: sealed.OpenedSummary) -> None:
    console.print(f"投标报价 [bold]{summary.price}[/bold] 元")
    if summary.duration_days is not None:
        console.print(f"工期 {summary.duration_days} 天")
    if summary.quality is not None:
        console.print(f"质量 {summary.quality}")
    for key, value in summary.items.items():
        console.print(f"{key} {value}")
    console.print(f"投标人随机数 {summary.random.hex()}", soft_wrap=True)
    machine = summary.machine
    console.print(
        f"制作机器 机器码 {machine.machine_code}  MAC {machine.mac or '未知'}  {machine.tool}"
    )


# --- commands ---------------------------------------------------------------------------------


@bid_app.command("seal")
def seal(
    folder: Path = typer.Argument(..., help="投标文件所在文件夹（或单个文件）"),
    summary: Path = typer.Option(..., "--summary", help="唱标内容 summary.json"),
    section: Path = typer.Option(..., "--section", help="标段开标公钥文件 section-keys.json"),
    key: Path = typer.Option(
        ..., "--key", help=f"投标人签名私钥（加密时口令取自 {KEY_PASSWORD_ENV}）"
    ),
    cert: Path = typer.Option(..., "--cert", help="投标人签名证书"),
    out: Path = typer.Option(..., "--out", help="输出的加密投标文件，如 bid.sealed"),
) -> None:
    """加密投标文件（离线，在投标人本机完成）."""
    section_keys = _load_section(section)
    try:
        bid_summary = sealed.BidSummary.from_json(_read(summary, "唱标内容"))
    except BidError as exc:
        raise _fail(exc) from None
    certificate = _load_cert(cert)
    private = _load_private_key(key, KEY_PASSWORD_ENV, "投标人私钥")
    if out.exists():
        console.print(f"[red]输出文件已存在，不会覆盖：{out}[/red] (bid.output_exists)")
        raise typer.Exit(1)
    _show_section(section_keys)
    partial = out.with_name(out.name + ".partial")
    try:
        with partial.open("wb") as handle, _progress("加密中") as progress:
            result = sealed.seal_bid(
                folder, bid_summary, section_keys, private, certificate, handle, progress
            )
        partial.replace(out)
    except BidError as exc:
        partial.unlink(missing_ok=True)
        raise _fail(exc) from None
    except OSError as exc:
        partial.unlink(missing_ok=True)
        console.print(f"[red]写入失败：{exc}[/red]")
        raise typer.Exit(2) from None
    header = result.header
    console.print(f"[green]已加密[/green] {len(header.files)} 个文件 → {out}")
    console.print(
        f"投标文件摘要（回执核对用，{header.suite}）{result.bid_digest.hex()}", soft_wrap=True
    )
    console.print(f"大小 {result.size} 字节")


@bid_app.command("verify")
def verify(
    bid: Path = typer.Argument(..., help="加密投标文件"),
    section: Path = typer.Option(..., "--section", help="标段开标公钥文件 section-keys.json"),
) -> None:
    """校验加密投标文件的结构、完整性与投标人签名（无需私钥）."""
    section_keys = _load_section(section)
    with _open_stream(bid) as handle:
        try:
            with _progress("校验中") as progress:
                result = sealed.verify_structure(handle, section_keys, progress)
        except BidError as exc:
            raise _fail(exc) from None
    header = result.header
    cert = header.bidder_certificate
    console.print("[green]结构、完整性与签名均有效[/green]")
    console.print(f"标段编号 {header.section_code}  密码套件 {header.suite}")
    console.print(f"投标人 {cert.subject_text}")
    console.print(f"统一社会信用代码 {header.bidder_credit_code}  制作时间 {header.created_at}")
    for entry in header.files:
        console.print(f"  {entry.name}  {entry.size} 字节")
    console.print(
        f"投标文件摘要 {result.bid_digest.hex()}  大小 {result.size} 字节", soft_wrap=True
    )
    console.print("证书链与吊销状态未在此检查，由平台按信任列表核验。", style="dim")


def _summary_key(bid: Path, key: Path | None, tenderer: Path | None, center: Path | None) -> bytes:
    with _open_stream(bid) as handle:
        try:
            if key is not None:
                return sealed.remedy_decrypt(
                    handle, _load_private_key(key, KEY_PASSWORD_ENV, "投标人私钥")
                ).summary_key
            header = _collective_header(handle, tenderer, center)
            return _collective_key(header, "summary", tenderer, center)
        except BidError as exc:
            raise _fail(exc) from None


def _collective_header(
    handle: Any, tenderer: Path | None, center: Path | None
) -> sealed.SealedHeader:
    if tenderer is None or center is None:
        console.print(
            "[red]请给出投标人私钥 --key，或同时给出 --tenderer-key 与 --center-key[/red]"
        )
        raise typer.Exit(2)
    return sealed.inspect(handle)


def _collective_key(
    header: sealed.SealedHeader, part: sealed.Part, tenderer: Path | None, center: Path | None
) -> bytes:
    """Each holder's share computed locally (as the holder's client would), then combined."""
    paths: dict[sealed.Role, Path | None] = {"tenderer": tenderer, "center": center}
    shares = []
    for role in sealed.ROLES:
        path = paths[role]
        if path is None:
            raise IncompleteShares(f"no {role} key")
        shares.append(
            sealed.partial_decrypt(
                header.wrapped_share(part, role),
                _opening_key(path, role),
                role,
                section_code=header.section_code,
            )
        )
    return sealed.combine(header, part, shares)


@bid_app.command("open-summary")
def open_summary(
    bid: Path = typer.Argument(..., help="加密投标文件"),
    key: Path | None = typer.Option(None, "--key", help="投标人私钥（补救解密）"),
    tenderer_key: Path | None = typer.Option(
        None, "--tenderer-key", help=f"招标人开标私钥（口令取自 {PASSPHRASE_ENV['tenderer']}）"
    ),
    center_key: Path | None = typer.Option(
        None, "--center-key", help=f"交易中心开标私钥（口令取自 {PASSPHRASE_ENV['center']}）"
    ),
) -> None:
    """解密唱标内容（投标人私钥，或招标人与交易中心两把开标密钥）."""
    summary_key = _summary_key(bid, key, tenderer_key, center_key)
    with _open_stream(bid) as handle:
        try:
            summary = sealed.open_summary(handle, summary_key)
        except BidError as exc:
            raise _fail(exc) from None
    _show_summary(summary)


def _open_files(bid: Path, files_key: bytes, out: Path) -> None:
    with _open_stream(bid) as handle:
        try:
            with _progress("解密中") as progress:
                opened = sealed.open_files(handle, files_key, out, progress)
        except BidError as exc:
            raise _fail(exc) from None
    console.print(f"[green]已解密[/green] {len(opened)} 个文件 → {out}")
    for item in opened:
        console.print(f"  {item.name}  {item.size} 字节")


@bid_app.command("open")
def open_bid(
    bid: Path = typer.Argument(..., help="加密投标文件"),
    tenderer_key: Path = typer.Option(..., "--tenderer-key", help="招标人开标私钥"),
    center_key: Path = typer.Option(..., "--center-key", help="交易中心开标私钥"),
    out: Path = typer.Option(..., "--out", help="输出文件夹（须不存在或为空）"),
) -> None:
    """用招标人与交易中心两把开标密钥解密全部文件（两方联合解密）."""
    with _open_stream(bid) as handle:
        try:
            header = sealed.inspect(handle)
            files_key = _collective_key(header, "files", tenderer_key, center_key)
        except BidError as exc:
            raise _fail(exc) from None
    _open_files(bid, files_key, out)


@bid_app.command("remedy")
def remedy(
    bid: Path = typer.Argument(..., help="加密投标文件"),
    key: Path = typer.Option(..., "--key", help="投标人签名私钥"),
    out: Path = typer.Option(..., "--out", help="输出文件夹（须不存在或为空）"),
) -> None:
    """投标人用自己的证书私钥解密（解密失败时的补救，电子招标投标办法第三十一条）."""
    private = _load_private_key(key, KEY_PASSWORD_ENV, "投标人私钥")
    with _open_stream(bid) as handle:
        try:
            keys = sealed.remedy_decrypt(handle, private)
        except BidError as exc:
            raise _fail(exc) from None
    with _open_stream(bid) as handle:
        try:
            summary = sealed.open_summary(handle, keys.summary_key)
        except BidError as exc:
            raise _fail(exc) from None
    _show_summary(summary)
    _open_files(bid, keys.files_key, out)


@bid_app.command("keygen")
def keygen(
    section_code: str = typer.Option(..., "--section-code", help="标段编号"),
    role: str = typer.Option(..., "--role", help="tenderer（招标人/代理）或 center（交易中心）"),
    suite: str = typer.Option("gm", "--suite", help="gm (SM2) 或 intl (ECDSA P-256)"),
    out: Path = typer.Option(..., "--out", help="输出目录"),
) -> None:
    """在本机生成开标密钥对；私钥只以口令加密形式写出."""
    if role not in sealed.ROLES:
        console.print("[red]--role 必须是 tenderer 或 center[/red]")
        raise typer.Exit(2)
    holder: sealed.Role = role
    passphrase = os.environ.get(PASSPHRASE_ENV[holder])
    if passphrase is None:
        suggestion = opening_keys.generate_passphrase()
        console.print(f"建议口令（请抄写并妥善保管，平台不保存口令）：[bold]{suggestion}[/bold]")
        passphrase = str(
            typer.prompt(
                "开标密钥口令", default=suggestion, hide_input=True, confirmation_prompt=True
            )
        )
    try:
        generated = opening_keys.generate_opening_key(section_code, holder, suite, passphrase)
    except BidError as exc:
        raise _fail(exc) from None
    except CryptoError as exc:
        console.print(f"[red]未知的密码套件 {suite}[/red] ({exc.code})")
        raise typer.Exit(2) from None
    out.mkdir(parents=True, exist_ok=True)
    private_path = out / f"{section_code}.{role}.key.pem"
    public_path = out / f"{section_code}.{role}.pub.pem"
    for path in (private_path, public_path):
        if path.exists():
            console.print(f"[red]文件已存在，不会覆盖：{path}[/red] (bid.output_exists)")
            raise typer.Exit(1)
    private_path.write_bytes(generated.encrypted_private_pem)
    private_path.chmod(0o600)
    public_path.write_bytes(generated.public_pem)
    console.print(f"[green]已生成[/green] {ROLE_ZH[holder]}开标密钥 {suite}")
    console.print(f"  加密私钥 {private_path}")
    console.print(f"  公钥 {public_path}")
    console.print(f"  公钥标识 {_key_id(generated.key_id)}", soft_wrap=True)


@bid_app.command("section-keys")
def section_keys(
    section_code: str = typer.Option(..., "--section-code", help="标段编号"),
    suite: str = typer.Option("gm", "--suite", help="gm 或 intl"),
    tenderer: Path = typer.Option(..., "--tenderer", help="招标人（代理）开标公钥 PEM"),
    center: Path = typer.Option(..., "--center", help="交易中心开标公钥 PEM"),
    out: Path = typer.Option(..., "--out", help="输出 section-keys.json"),
) -> None:
    """由两把开标公钥生成标段开标公钥文件 section-keys.json."""
    from sunlit.kernel.crypto import load_public_key_any

    try:
        keys = sealed.SectionKeys(
            section_code,
            suite,
            load_public_key_any(_read(tenderer, "招标人开标公钥")),
            load_public_key_any(_read(center, "交易中心开标公钥")),
        )
    except BidError as exc:
        raise _fail(exc) from None
    except CryptoError as exc:
        console.print(f"[red]不是有效的公钥文件[/red] ({exc.code})")
        raise typer.Exit(2) from None
    out.write_bytes(keys.to_json())
    console.print(f"[green]已写出[/green] {out}")
    _show_section(keys)
