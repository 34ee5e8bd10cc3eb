"""``sunlit draw``: offline verification of published draw records.

``sunlit draw verify RECORD.json`` needs no database, no network and no platform
configuration: only the record (and, for a confidential expert draw, the disclosure published
when evaluation started). Exit code 0 when everything recomputes, 1 otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from sunlit.kernel.cliutil import console

from .engine import HASHED_ID_PATTERN
from .records import PURPOSE_LABELS, ParameterOutcome, StratumOutcome
from .verify import VerificationResult, verify_record

draw_app = typer.Typer(help="随机抽取 (verifiable draws)", no_args_is_help=True)

_HEX32 = re.compile(r"[0-9a-fA-F]{64}")
_HASH_NAMES = {"gm": "SM3", "intl": "SHA-256"}
_TITLE = "记录中的抽取结果 (recorded outputs)"


def _read(path: Path, what: str) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as exc:
        console.print(f"✗ 无法读取{what} {path}：{exc.strerror}", style="red", markup=False)
        return None


def _digest_option(value: str | None, name: str) -> bytes | None:
    if value is None:
        return None
    if not _HEX32.fullmatch(value):
        console.print(f"✗ {name} 应为 64 位十六进制（32 字节）", style="red", markup=False)
        raise typer.Exit(1)
    return bytes.fromhex(value)


@draw_app.command("verify")
def verify(
    record: Path = typer.Argument(..., help="抽取记录 JSON 文件 (draw record)"),
    disclosure: Path | None = typer.Option(
        None, "--disclosure", help="匿名编号披露文件（专家抽取，评标开始后公布）"
    ),
    definition_hash: str | None = typer.Option(
        None, "--definition-hash", help="抽取定义固定时公布的哈希（十六进制），与记录比对"
    ),
    commitment: str | None = typer.Option(
        None, "--commitment", help="投标截止前公布的中心承诺（十六进制），与记录比对"
    ),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出验证结果"),
) -> None:
    """离线重算并验证抽取记录（承诺、种子、抽取结果），不连接数据库."""
    published_definition = _digest_option(definition_hash, "--definition-hash")
    published_commitment = _digest_option(commitment, "--commitment")
    content = _read(record, "抽取记录")
    if content is None:
        raise typer.Exit(1)
    disclosed = None
    if disclosure is not None:
        disclosed = _read(disclosure, "披露文件")
        if disclosed is None:
            raise typer.Exit(1)
    result = verify_record(
        content,
        disclosed,
        published_definition_hash=published_definition,
        published_commitment=published_commitment,
    )
    if as_json:
        _print_json(result)
    else:
        _print(record, result)
    if not result.ok:
        raise typer.Exit(1)


def _print_json(result: VerificationResult) -> None:
    document = {
        "ok": result.ok,
        "checks": [
            {"name": c.name, "ok": c.ok, "skipped": c.skipped, "title": c.title}
            for c in result.checks
        ],
        "findings": [f.to_json() for f in result.findings],
    }
    console.print_json(_clean(json.dumps(document, ensure_ascii=False)))


def _clean(text: str) -> str:
    """Text safe to print: a record may carry lone surrogates (escaped, not crashing)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _line(text: str, style: str | None = None) -> None:
    """One line of plain text: never interpreted as Rich markup (records are untrusted)."""
    console.print(_clean(text), style=style, markup=False, highlight=False, soft_wrap=True)


def _print(path: Path, result: VerificationResult) -> None:
    r = result.record
    if r is not None:
        _line(
            f"抽取记录 {r.draw_id} · {PURPOSE_LABELS.get(r.purpose, r.purpose)} ({r.purpose}) · "
            f"套件 {r.suite} ({_HASH_NAMES.get(r.suite, '?')}) · 抽取时间 {r.drawn_at}"
        )
    else:
        _line(f"抽取记录 {path}")
    for check in result.checks:
        if check.skipped:
            _line(f"  - {check.title}：未检查 (skipped: {check.name})", "yellow")
        elif check.ok:
            _line(f"  ✓ {check.title} ({check.name})", "green")
        else:
            _line(f"  ✗ {check.title} ({check.name})", "red")
            for f in check.findings:
                where = f" {f.path}" if f.path else ""
                _line(f"      {f.detail} [{f.code}{where}]", "red")
    if r is not None and any(c.name == "outputs" and not c.skipped for c in result.checks):
        _print_outputs(result)
    if result.ok:
        _line("验证通过 (OK)：种子与抽取结果均可由记录中的输入重算", "bold green")
    else:
        _line(f"验证失败 (FAILED)：发现 {len(result.findings)} 处问题", "bold red")


def _print_outputs(result: VerificationResult) -> None:
    r = result.record
    assert r is not None
    if not r.outputs:
        return
    names = result.disclosed
    if isinstance(r.outputs[0], ParameterOutcome):
        table = Table("参数 (parameter)", "抽取结果 (value)", "序号 (index)", title=_TITLE)
        for o in r.outputs:
            if isinstance(o, ParameterOutcome):
                table.add_row(_cell(o.name), _cell(o.value), str(o.index))
    else:
        table = Table("分层 (stratum)", "正式 (selected)", "替补 (alternates)", title=_TITLE)
        for o in r.outputs:
            if isinstance(o, StratumOutcome):
                table.add_row(
                    _cell(o.stratum),
                    _cell("\n".join(_show(c, names) for c in o.selected)),
                    _cell("\n".join(_show(c, names) for c in o.alternates) or "-"),
                )
    console.print(table)
    if result.disclosed:
        state = "全部候选人已披露" if result.disclosure_complete else "部分候选人已披露"
        _line(f"匿名编号披露：{len(result.disclosed)} 人，{state}")


def _cell(text: str) -> Text:
    return Text(_clean(text))


def _show(candidate: str, names: Mapping[str, str]) -> str:
    if candidate in names:
        return f"{names[candidate]} ({candidate[:12]}…)"
    if HASHED_ID_PATTERN.fullmatch(candidate):
        return candidate[:16] + "…"
    return candidate


def register(app: typer.Typer) -> None:
    app.add_typer(draw_app, name="draw")
