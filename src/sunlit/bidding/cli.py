"""``sunlit bid``: the bidder's offline sealing tool and the opening-key tools.

Nothing here needs the database or the platform: sealing, verification, opening-key
generation and decryption all run offline on files (``docs/spec/sealed-bid.md``).
Passphrases are never taken on the command line (they would show in ``ps``): they are read
from the environment variables named below or prompted for.
"""

from __future__ import annotations

import json
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

from . import opening_keys, receipts, sealed
from .errors import BidError, IncompleteShares

KEY_PASSWORD_ENV = "SUNLIT_KEY_PASSWORD"  # noqa: S105 - the name of a variable
PASSPHRASE_ENV: dict[sealed.Role, str] = {
    "tenderer": "SUNLIT_TENDERER_PASSPHRASE",
    "center": "SUNLIT_CENTER_PASSPHRASE",
}
ROLE_ZH: dict[sealed.Role, str] = {"tenderer": "招标人（代理）", "center": "交易中心"}
SERVER_ENV = "SUNLIT_SERVER"
TOKEN_ENV = "SUNLIT_TOKEN"  # noqa: S105 - the name of a variable
UPLOAD_CHUNK = 256 * 1024

bid_app = typer.Typer(
    help=(
        "投标文件加密与解密 (sealed bids)：seal 加密、verify 校验、open-summary / open / remedy "
        "解密、keygen / section-keys 开标密钥；submit 上传、receipt 下载回执、"
        "verify-receipt 离线验证回执。"
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
    out: Path | None = typer.Option(None, "--out", help="输出文件夹（须不存在或为空）"),
    server: str | None = typer.Option(
        None, "--server", envvar=SERVER_ENV, help="平台地址：给出时向开标提交恢复的密钥"
    ),
    token: str | None = typer.Option(None, "--token", envvar=TOKEN_ENV, help="登录令牌"),
    section: str | None = typer.Option(None, "--section", help="标段 ID（向平台提交时）"),
    keys_out: Path | None = typer.Option(
        None, "--keys-out", help="写出补救密钥文件，在开标大厅页面上传（补救）"
    ),
) -> None:
    """投标人用自己的证书私钥解密（解密失败时的补救，电子招标投标办法第三十一条）.

    给出 --server/--token/--section 时，在本机恢复两把密钥并提交给开标（补救）；
    给出 --keys-out 时写出补救密钥文件，供在开标大厅页面上传；
    给出 --out 时在本机解密全部文件。"""
    if out is None and server is None and keys_out is None:
        console.print(
            "[red]请给出 --out（本机解密）、--keys-out（写出补救密钥文件）"
            "或 --server（向平台提交补救）[/red]"
        )
        raise typer.Exit(2)
    if keys_out is not None and keys_out.exists():
        console.print(f"[red]文件已存在，不会覆盖：{keys_out}[/red] (bid.output_exists)")
        raise typer.Exit(1)
    private = _load_private_key(key, KEY_PASSWORD_ENV, "投标人私钥")
    with _open_stream(bid) as handle:
        try:
            keys = sealed.remedy_decrypt(handle, private)
        except BidError as exc:
            raise _fail(exc) from None
    with _open_stream(bid) as handle:
        try:
            summary = sealed.open_summary(handle, keys.summary_key)
            handle.seek(0)
            header = sealed.inspect(handle)
        except BidError as exc:
            raise _fail(exc) from None
    _show_summary(summary)
    if keys_out is not None:
        keys_out.write_bytes(sealed.remedy_keys_document(keys))
        keys_out.chmod(0o600)
        console.print(f"补救密钥文件已写出：{keys_out}（请在开标大厅“解密补救”处上传）")
    if server is not None:
        _submit_remedy(server, token, section, header.bidder_credit_code, keys)
    if out is not None:
        _open_files(bid, keys.files_key, out)


def _submit_remedy(
    server: str,
    token: str | None,
    section: str | None,
    credit_code: str,
    keys: sealed.RecoveredKeys,
) -> None:
    if section is None:
        console.print("[red]向平台提交补救须给出 --section[/red]")
        raise typer.Exit(2)
    with _client(server, token) as http:
        view = _call(http, "GET", f"/api/v1/sections/{section}/opening")
        mine = [
            b
            for b in view.get("bids", [])
            if b.get("credit_code") == credit_code and b.get("status") == "failed"
        ]
        if not mine:
            console.print(
                "[red]开标中没有本单位解密失败的投标文件，无需补救[/red] "
                "(opening.remedy.not_failed)"
            )
            raise typer.Exit(1)
        view = _call(
            http,
            "POST",
            f"/api/v1/sections/{section}/opening/remedy",
            json={
                "opened_bid_id": mine[0]["id"],
                "summary_key": keys.summary_key.hex(),
                "files_key": keys.files_key.hex(),
            },
        )
    mine = [b for b in view.get("bids", []) if b.get("credit_code") == credit_code]
    status = mine[0]["status"] if mine else "?"
    console.print(f"[green]补救已提交[/green]，投标文件状态 {status}")


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


# --- talking to the platform ------------------------------------------------------------------


def _client(server: str, token: str | None) -> Any:
    import httpx

    if not token:
        console.print(f"[red]请用 --token 或环境变量 {TOKEN_ENV} 给出登录令牌[/red]")
        raise typer.Exit(2)
    return httpx.Client(
        base_url=server.rstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(60.0, connect=10.0),
    )


def _refused(response: Any) -> typer.Exit:
    try:
        body = response.json()
        detail, code = body.get("detail"), body.get("code")
    except ValueError:
        detail, code = None, None
    if not isinstance(detail, str) or not code:
        detail, code = f"平台返回错误 HTTP {response.status_code}", f"http.{response.status_code}"
    console.print(f"[red]{detail}[/red] ({code})")
    return typer.Exit(1)


def _unreachable(server: str, exc: Exception) -> typer.Exit:
    console.print(f"[red]无法连接平台 {server}：{exc}[/red] (net.unreachable)")
    return typer.Exit(1)


def _call(http: Any, method: str, url: str, **kwargs: Any) -> Any:
    import httpx

    try:
        response = http.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise _unreachable(str(http.base_url), exc) from None
    if response.status_code >= 400:
        raise _refused(response)
    return response.json()


def _save_receipt(path: Path, signed: receipts.SignedReceipt) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(signed.dumps())
    partial.replace(path)


def _show_receipt(signed: receipts.SignedReceipt) -> None:
    doc = signed.document
    console.print(
        f"标段 {doc['section_code']}  投标人 {doc['bidder_name']} {doc['bidder_credit_code']}"
    )
    console.print(f"投标文件编号 {doc['bid_id']}  大小 {doc['size']} 字节")
    console.print(f"投标文件摘要 {doc['bid_digest']}", soft_wrap=True)
    console.print(f"接收时间 {doc['received_at']}  透明日志序号 {doc['log_leaf_index']}")
    console.print(f"平台密钥标识 {doc['platform_key_id']}  ({doc['suite']})", soft_wrap=True)


@bid_app.command("submit")
def submit(
    bid: Path = typer.Argument(..., help="加密投标文件（sunlit bid seal 的输出）"),
    section: str = typer.Option(..., "--section", help="标段 ID"),
    server: str = typer.Option(..., "--server", envvar=SERVER_ENV, help="平台地址"),
    token: str | None = typer.Option(
        None, "--token", envvar=TOKEN_ENV, help=f"登录令牌（也可用环境变量 {TOKEN_ENV}）"
    ),
) -> None:
    """上传加密投标文件（流式），打印并保存签名回执 FILE.receipt.json."""
    import httpx

    try:
        size = bid.stat().st_size
        with bid.open("rb") as handle:
            local_digest = sealed.inspect(handle).digest.hex()
    except OSError as exc:
        console.print(f"[red]无法读取投标文件 {bid}：{exc.strerror}[/red]")
        raise typer.Exit(2) from None
    except BidError as exc:
        raise _fail(exc) from None
    with (
        _client(server, token) as http,
        _open_stream(bid) as handle,
        _progress("上传中") as progress,
    ):

        def body() -> Iterator[bytes]:
            done = 0
            while block := handle.read(UPLOAD_CHUNK):
                done += len(block)
                progress(done, size)
                yield block

        try:
            response = http.put(
                f"/api/v1/sections/{section}/bid",
                content=body(),
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(size),
                },
                timeout=httpx.Timeout(None, connect=10.0),
            )
        except httpx.HTTPError as exc:
            raise _unreachable(server, exc) from None
    if response.status_code >= 400:
        raise _refused(response)
    out = response.json()
    try:
        signed = receipts.load_receipt(json.dumps(out))
    except BidError as exc:
        raise _fail(exc) from None
    if signed.document["bid_digest"] != local_digest:
        console.print("[red]回执中的投标文件摘要与本地文件不一致[/red] (bid.receipt_mismatch)")
        raise typer.Exit(1)
    path = bid.with_name(bid.name + ".receipt.json")
    _save_receipt(path, signed)
    console.print("[green]投标文件已成功递交[/green]")
    _show_receipt(signed)
    console.print(f"回执已保存 {path}（可用 sunlit bid verify-receipt 离线验证）")


@bid_app.command("receipt")
def receipt(
    section: str = typer.Option(..., "--section", help="标段 ID"),
    server: str = typer.Option(..., "--server", envvar=SERVER_ENV, help="平台地址"),
    token: str | None = typer.Option(None, "--token", envvar=TOKEN_ENV, help="登录令牌"),
    out: Path | None = typer.Option(None, "--out", help="保存位置（默认 receipt-<编号>.json）"),
) -> None:
    """重新下载本单位在该标段有效投标文件的回执."""
    with _client(server, token) as http:
        bids = _call(http, "GET", "/api/v1/bids", params={"section_id": section})
        valid = [b for b in bids if b.get("status") == "valid"]
        if not valid:
            console.print("[red]本单位在该标段没有有效的投标文件[/red] (bid.no_valid_bid)")
            raise typer.Exit(1)
        document = _call(http, "GET", f"/api/v1/bids/{valid[0]['id']}/receipt")
    try:
        signed = receipts.load_receipt(json.dumps(document))
    except BidError as exc:
        raise _fail(exc) from None
    path = out or Path(f"receipt-{valid[0]['id']}.json")
    _save_receipt(path, signed)
    _show_receipt(signed)
    console.print(f"回执已保存 {path}")


@bid_app.command("verify-receipt")
def verify_receipt(
    receipt_file: Path = typer.Argument(..., help="回执 JSON 文件"),
    key: Path = typer.Option(
        ..., "--key", help="平台公钥 PEM（平台 /api/v1/transparency/key 公布）"
    ),
    bid: Path | None = typer.Option(None, "--bid", help="同时核对该加密投标文件的摘要"),
) -> None:
    """离线验证回执：平台签名有效，且（可选）与加密投标文件一致."""
    from sunlit.kernel.crypto import load_public_key_any

    try:
        public = load_public_key_any(_read(key, "平台公钥"))
    except (CryptoError, ValueError):
        console.print(f"[red]{key} 不是有效的公钥文件[/red] (crypto.bad_key)")
        raise typer.Exit(1) from None
    try:
        signed = receipts.load_receipt(_read(receipt_file, "回执"))
        receipts.verify_receipt(signed, public)
    except BidError as exc:
        raise _fail(exc) from None
    if bid is not None:
        with _open_stream(bid) as handle:
            try:
                digest = sealed.inspect(handle).digest.hex()
            except BidError as exc:
                raise _fail(exc) from None
        if digest != signed.document["bid_digest"]:
            console.print(
                "[red]回执中的投标文件摘要与该文件不一致：不是回执所对应的投标文件[/red] "
                "(bid.receipt_mismatch)"
            )
            raise typer.Exit(1)
        console.print("投标文件摘要与回执一致")
    console.print("[green]回执签名有效[/green]（平台签发，内容未被修改）")
    _show_receipt(signed)
