"""Content checks shared by :func:`sunlit.draws.run_draw` (which refuses to draw) and
:func:`sunlit.draws.verify_record` (which reports): one set of rules, two uses.

Each function returns a list of :class:`~sunlit.draws.errors.Finding` (empty: nothing wrong),
with a stable code, a Chinese message and the JSON Pointer of the offending field.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Sequence
from typing import Final

from sunlit.kernel.crypto import get_suite
from sunlit.kernel.crypto.errors import UnknownSuite

from .engine import (
    HASHED_ID_PATTERN,
    SALT_SIZE,
    VALUE_SIZE,
    candidates_hash,
    commitment,
    commitment_matches,
    label_problem,
    labels_problem,
)
from .errors import Finding, finding
from .records import (
    ID_MODES,
    PURPOSES,
    BeaconContribution,
    BeaconSpec,
    BidderContribution,
    CenterContribution,
    Definition,
    Parameter,
    StratumDefinition,
    SupervisorContribution,
    json_pointer,
)

__all__ = [
    "MAX_BEACON_VALUE",
    "MAX_CONTEXT_ENTRIES",
    "MAX_WEIGHT_TOTAL",
    "check_contributions",
    "check_definition",
    "check_header",
    "check_timeline",
    "safe_candidates_hash",
    "short_hex",
]

MAX_CONTEXT_ENTRIES: Final = 32
MAX_WEIGHT_TOTAL: Final = 2**53 - 1  # integers stay exact in every JSON implementation
MAX_BEACON_VALUE: Final = 1024

_M_LABEL: Final = "{what}「{value}」{reason}"
_M_LABEL_AT: Final = "{what}第 {position} 个{reason}"


def short_hex(digest: bytes) -> str:
    """The first 16 hex digits of a digest, for messages."""
    return digest.hex()[:16] + "…" if digest else "（空）"


def safe_candidates_hash(suite: str, ids: Sequence[str]) -> bytes:
    """:func:`candidates_hash`, or ``b""`` when an id cannot be encoded (reported elsewhere)."""
    try:
        return candidates_hash(suite, ids)
    except UnicodeEncodeError:
        return b""


def _label(what: str, value: str, path: str) -> list[Finding]:
    reason = label_problem(value)
    if reason is None:
        return []
    return [finding("draws.label", _M_LABEL, path, what=what, value=value[:40], reason=reason)]


def check_header(suite: str, draw_id: str) -> list[Finding]:
    """The suite is known and the draw id is a valid label."""
    findings: list[Finding] = []
    try:
        get_suite(suite)
    except UnknownSuite:
        findings.append(
            finding(
                "draws.unsupported",
                "不支持的密码套件「{suite}」（应为 gm 或 intl）",
                "/suite",
                suite=suite[:20],
            )
        )
    return findings + _label("抽取编号", draw_id, "/draw_id")


# --------------------------------------------------------------------------------------------
# Definition
# --------------------------------------------------------------------------------------------


def check_definition(suite: str, definition: Definition) -> list[Finding]:
    """Everything wrong with a definition, including its candidate lists against their hashes
    and counts, and strata too small for ``count + alternates``."""
    findings = _check_context(definition)
    if definition.purpose not in PURPOSES:
        return [
            *findings,
            finding(
                "draws.unsupported",
                "不支持的抽取用途「{purpose}」",
                "/definition/purpose",
                purpose=str(definition.purpose)[:40],
            ),
        ]
    if definition.is_sample:
        return findings + _check_strata(suite, definition)
    return findings + _check_parameters(definition)


def _check_context(definition: Definition) -> list[Finding]:
    findings: list[Finding] = []
    if len(definition.context) > MAX_CONTEXT_ENTRIES:
        findings.append(
            finding(
                "draws.context",
                "上下文信息最多 {max} 项",
                "/definition/context",
                max=MAX_CONTEXT_ENTRIES,
            )
        )
    for key, value in definition.context.items():
        path = json_pointer("definition", "context", key)
        findings += _label("上下文字段名", key, path)
        findings += _label("上下文字段值", value, path)
    if definition.beacon is not None:
        findings += _label("信标来源", definition.beacon.source, "/definition/beacon/source")
        findings += _label("信标轮次", definition.beacon.round, "/definition/beacon/round")
    return findings


def _check_parameters(definition: Definition) -> list[Finding]:
    if definition.strata:
        return [finding("draws.format", "系数抽取不应有候选分层", "/definition/strata")]
    if not definition.parameters:
        return [finding("draws.empty", "系数抽取至少需要一个参数", "/definition/parameters")]
    findings: list[Finding] = []
    names: set[str] = set()
    for i, p in enumerate(definition.parameters):
        base = f"/definition/parameters/{i}"
        findings += _label("参数名", p.name, f"{base}/name")
        if p.name in names:
            findings.append(
                finding("draws.duplicate", "参数「{name}」重复", f"{base}/name", name=p.name)
            )
        names.add(p.name)
        if not p.values:
            findings.append(
                finding("draws.empty", "参数「{name}」没有候选值", f"{base}/values", name=p.name)
            )
            continue
        seen: set[str] = set()
        for j, v in enumerate(p.values):
            findings += _label(f"参数「{p.name}」的候选值", v, f"{base}/values/{j}")
            if v in seen:
                findings.append(
                    finding(
                        "draws.duplicate",
                        "参数「{name}」的候选值「{value}」重复（概率不同请用权重表示）",
                        f"{base}/values/{j}",
                        name=p.name,
                        value=v,
                    )
                )
            seen.add(v)
        if p.weights is not None:
            findings += _check_weights(p, base)
    return findings


def _check_weights(p: Parameter, base: str) -> list[Finding]:
    weights = p.weights or ()
    if len(weights) != len(p.values):
        return [
            finding(
                "draws.weights",
                "参数「{name}」有 {values} 个候选值，却有 {weights} 个权重",
                f"{base}/weights",
                name=p.name,
                values=len(p.values),
                weights=len(weights),
            )
        ]
    for k, w in enumerate(weights):
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            return [
                finding(
                    "draws.weights",
                    "参数「{name}」的权重必须是正整数（第 {position} 个为 {weight}）",
                    f"{base}/weights/{k}",
                    name=p.name,
                    position=k + 1,
                    weight=w,
                )
            ]
    if sum(weights) > MAX_WEIGHT_TOTAL:
        return [
            finding(
                "draws.weights",
                "参数「{name}」的权重之和超过 2^53 - 1",
                f"{base}/weights",
                name=p.name,
            )
        ]
    return []


def _check_strata(suite: str, definition: Definition) -> list[Finding]:
    if definition.parameters:
        return [finding("draws.format", "专家或入围抽取不应有系数参数", "/definition/parameters")]
    if definition.candidate_ids not in ID_MODES:
        return [
            finding(
                "draws.unsupported",
                "候选编号方式「{mode}」不受支持（应为 plain 或 hashed）",
                "/definition/candidate_ids",
                mode=str(definition.candidate_ids)[:20],
            )
        ]
    if not definition.strata:
        return [finding("draws.empty", "至少需要一个抽取分层", "/definition/strata")]
    findings: list[Finding] = []
    names: set[str] = set()
    seen: set[str] = set()
    for i, s in enumerate(definition.strata):
        base = f"/definition/strata/{i}"
        findings += _label("分层名称", s.name, f"{base}/name")
        if s.name in names:
            findings.append(
                finding("draws.duplicate", "分层「{name}」重复", f"{base}/name", name=s.name)
            )
        names.add(s.name)
        findings += _check_counts(s, base)
        findings += _check_candidate_list(suite, definition.candidate_ids, s, i)
        if len(definition.strata) == 1:
            break
        members = set(s.candidates)
        overlap = members & seen
        if overlap:
            c = min(overlap)
            first = next(t.name for t in definition.strata if c in t.candidates)
            findings.append(
                finding(
                    "draws.duplicate",
                    "候选人 {id} 同时出现在分层「{first}」和「{second}」中",
                    json_pointer("candidates", s.name, s.candidates.index(c)),
                    id=c,
                    first=first,
                    second=s.name,
                )
            )
        seen |= members
    return findings


def _first_bad_hashed_id(ids: Sequence[str]) -> int | None:
    """Position of the first id that is not 64 lower-case hex digits (fast path in C)."""
    if not ids:
        return None
    if min(map(len, ids)) == max(map(len, ids)) == 64:
        joined = "".join(ids)
        if joined.isascii() and not joined.encode("ascii").translate(None, _HEX_DIGITS):
            return None
    return next(j for j, c in enumerate(ids) if not HASHED_ID_PATTERN.fullmatch(c))


_HEX_DIGITS: Final = b"0123456789abcdef"


def _check_counts(s: StratumDefinition, base: str) -> list[Finding]:
    findings: list[Finding] = []
    if isinstance(s.count, bool) or not isinstance(s.count, int) or s.count < 1:
        findings.append(
            finding(
                "draws.count", "分层「{name}」的抽取人数必须至少为 1", f"{base}/count", name=s.name
            )
        )
    if isinstance(s.alternates, bool) or not isinstance(s.alternates, int) or s.alternates < 0:
        findings.append(
            finding(
                "draws.count", "分层「{name}」的替补人数不能为负", f"{base}/alternates", name=s.name
            )
        )
    if findings:
        return findings
    available, required = len(s.candidates), s.count + s.alternates
    if required > available:
        findings.append(
            finding(
                "draws.stratum_short",
                "分层「{name}」可抽取的候选人只有 {available} 人，需要 {required} 人"
                "（正式 {count} 人、替补 {alternates} 人），缺 {short} 人",
                base,
                name=s.name,
                available=available,
                required=required,
                count=s.count,
                alternates=s.alternates,
                short=required - available,
            )
        )
    return findings


def _check_candidate_list(suite: str, mode: str, s: StratumDefinition, i: int) -> list[Finding]:
    ids = s.candidates
    what = f"分层「{s.name}」的候选编号"
    if mode == "hashed":
        bad = _first_bad_hashed_id(ids)
        if bad is not None:
            return [
                finding(
                    "draws.hashed_id",
                    _M_LABEL_AT,
                    json_pointer("candidates", s.name, bad),
                    what=what,
                    position=bad + 1,
                    reason="不是 64 位小写十六进制哈希",
                )
            ]
    else:
        problem = labels_problem(ids)
        if problem is not None:
            position, reason = problem
            return [
                finding(
                    "draws.label",
                    _M_LABEL_AT,
                    json_pointer("candidates", s.name, position),
                    what=what,
                    position=position + 1,
                    reason=reason,
                )
            ]
    findings: list[Finding] = []
    # Strictly increasing = sorted without equal neighbours; both checks run in C (a sorted list
    # sorts in O(n)).
    if sorted(ids) != list(ids) or any(map(operator.eq, ids, ids[1:])):
        j = next(j for j in range(1, len(ids)) if not ids[j - 1] < ids[j])
        path = json_pointer("candidates", s.name, j)
        if ids[j - 1] == ids[j]:
            findings.append(
                finding(
                    "draws.duplicate",
                    "分层「{name}」的候选人 {id} 重复",
                    path,
                    name=s.name,
                    id=ids[j],
                )
            )
        else:
            findings.append(
                finding(
                    "draws.candidates_unsorted",
                    "分层「{name}」的候选名单未按编号排序（第 {position} 个 {id}）",
                    path,
                    name=s.name,
                    position=j + 1,
                    id=ids[j],
                )
            )
    if s.candidate_count != len(ids):
        findings.append(
            finding(
                "draws.candidate_count_mismatch",
                "分层「{name}」记录的候选人数为 {recorded}，名单实有 {actual} 人",
                f"/definition/strata/{i}/candidate_count",
                name=s.name,
                recorded=s.candidate_count,
                actual=len(ids),
            )
        )
    actual = safe_candidates_hash(suite, ids)
    if actual != s.candidates_hash:
        findings.append(
            finding(
                "draws.candidates_hash_mismatch",
                "分层「{name}」的候选名单与定义中的名单哈希不一致"
                "（定义中为 {recorded}，按名单重算为 {actual}）：名单在固定后被改动",
                f"/definition/strata/{i}/candidates_hash",
                name=s.name,
                recorded=short_hex(s.candidates_hash),
                actual=short_hex(actual),
            )
        )
    return findings


# --------------------------------------------------------------------------------------------
# Contributions
# --------------------------------------------------------------------------------------------

_CENTER_FIELDS: Final = (
    ("commitment", "承诺", 32),
    ("value", "随机值", VALUE_SIZE),
    ("salt", "盐值", SALT_SIZE),
)


def check_contributions(
    suite: str,
    definition: Definition,
    center: CenterContribution,
    bidders: Sequence[BidderContribution],
    supervisor: SupervisorContribution,
    beacon: BeaconContribution | None,
) -> list[Finding]:
    """Sizes; the center's reveal opens its commitment; one contribution per bidder, a reason
    for each missing one; the supervisor's value; the beacon round named in the definition."""
    findings: list[Finding] = []
    base = "/contributions/center"
    for name, label, size in _CENTER_FIELDS:
        actual = len(getattr(center, name))
        if actual != size:
            findings.append(
                finding(
                    "draws.size",
                    "交易中心的{what}应为 {size} 字节，实为 {actual} 字节",
                    f"{base}/{name}",
                    what=label,
                    size=size,
                    actual=actual,
                )
            )
    if not findings and not commitment_matches(suite, center.commitment, center.value, center.salt):
        findings.append(
            finding(
                "draws.commitment_mismatch",
                "交易中心揭示的随机值与截止前公布的承诺不一致（承诺为 {commitment}，"
                "按揭示的随机值和盐值重算为 {actual}）",
                f"{base}/value",
                commitment=short_hex(center.commitment),
                actual=short_hex(commitment(suite, center.value, center.salt)),
            )
        )
    findings += _check_bidders(bidders)
    findings += _label("监督人随机值", supervisor.value, "/contributions/supervisor/value")
    findings += _label("监督人", supervisor.entered_by, "/contributions/supervisor/entered_by")
    return findings + _check_beacon(definition.beacon, beacon)


def _check_bidders(bidders: Sequence[BidderContribution]) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    for i, b in enumerate(bidders):
        path = f"/contributions/bidders/{i}"
        findings += _label("投标人编号", b.bidder, f"{path}/bidder")
        if b.bidder in seen:
            findings.append(
                finding(
                    "draws.duplicate",
                    "投标人 {bidder} 的随机数出现了不止一次",
                    f"{path}/bidder",
                    bidder=b.bidder,
                )
            )
        seen.add(b.bidder)
        if b.value is None:
            if b.reason:
                findings += _label("缺失原因", b.reason, f"{path}/reason")
            else:
                findings.append(
                    finding(
                        "draws.bidder_contribution",
                        "投标人 {bidder} 没有随机数，必须写明原因",
                        f"{path}/reason",
                        bidder=b.bidder,
                    )
                )
        elif len(b.value) != VALUE_SIZE:
            findings.append(
                finding(
                    "draws.size",
                    "投标人 {bidder} 的随机数应为 {size} 字节，实为 {actual} 字节",
                    f"{path}/value",
                    bidder=b.bidder,
                    size=VALUE_SIZE,
                    actual=len(b.value),
                )
            )
        elif b.reason:
            findings.append(
                finding(
                    "draws.bidder_contribution",
                    "投标人 {bidder} 已有随机数，不应写缺失原因",
                    f"{path}/reason",
                    bidder=b.bidder,
                )
            )
    return findings


def _check_beacon(spec: BeaconSpec | None, beacon: BeaconContribution | None) -> list[Finding]:
    path = "/contributions/beacon"
    if spec is None and beacon is None:
        return []
    if spec is None:
        return [finding("draws.beacon_mismatch", "抽取定义未指定公共信标，却记录了信标值", path)]
    if beacon is None:
        return [
            finding(
                "draws.beacon_mismatch",
                "抽取定义指定了公共信标 {source} 第 {round} 轮，缺少其输出值",
                path,
                source=spec.source,
                round=spec.round,
            )
        ]
    if (beacon.source, beacon.round) != (spec.source, spec.round):
        return [
            finding(
                "draws.beacon_mismatch",
                "信标值取自 {source} 第 {round} 轮，"
                "而抽取定义指定的是 {spec_source} 第 {spec_round} 轮",
                path,
                source=beacon.source,
                round=beacon.round,
                spec_source=spec.source,
                spec_round=spec.round,
            )
        ]
    if not 1 <= len(beacon.value) <= MAX_BEACON_VALUE:
        return [
            finding(
                "draws.size", "信标值应为 1 至 {max} 字节", f"{path}/value", max=MAX_BEACON_VALUE
            )
        ]
    return []


# --------------------------------------------------------------------------------------------
# Timeline
# --------------------------------------------------------------------------------------------


def _parse_time(value: str | None, path: str, findings: list[Finding]) -> dt.datetime | None:
    if value is None:
        return None
    try:
        when: dt.datetime | None = dt.datetime.fromisoformat(value)
    except ValueError:
        when = None
    if when is None or when.utcoffset() is None:
        findings.append(
            finding(
                "draws.timestamp",
                "时间「{value}」不是带时区的 ISO 8601 时间",
                path,
                value=value[:40],
            )
        )
        return None
    return when


# (earlier event, later event, pointer reported, message): spec §4.2.
# fmt: off
_ORDER_RULES: Final = (
    ("fixed", "deadline", "/definition/fixed_at",
     "抽取定义的固定时间 {first} 晚于投标截止时间 {second}"),
    ("committed", "deadline", "/contributions/center/committed_at",
     "交易中心的承诺时间 {first} 晚于投标截止时间 {second}"),
    ("committed", "entered", "/contributions/center/committed_at",
     "交易中心的承诺时间 {first} 晚于监督人录入随机值的时间 {second}"),
    ("fixed", "entered", "/definition/fixed_at",
     "抽取定义的固定时间 {first} 晚于监督人录入随机值的时间 {second}"),
    ("bidders_closed", "entered", "/contributions/bidders_closed_at",
     "投标人随机数的收齐时间 {first} 晚于监督人录入随机值的时间 {second}"),
    ("entered", "revealed", "/contributions/supervisor/entered_at",
     "监督人录入随机值的时间 {first} 晚于交易中心揭示随机值的时间 {second}"),
    ("revealed", "drawn", "/contributions/center/revealed_at",
     "交易中心揭示随机值的时间 {first} 晚于抽取时间 {second}"),
)
# fmt: on


def check_timeline(
    definition: Definition,
    deadline: str | None,
    center: CenterContribution,
    bidders: Sequence[BidderContribution],
    bidders_closed_at: str | None,
    supervisor: SupervisorContribution,
    drawn_at: str,
) -> list[Finding]:
    """The order of events that keeps every single party from steering the seed (spec §4.2)::

    fixed_at ≤ deadline, committed_at ≤ deadline   (if there is a deadline; coefficient
                                                    draws must have one, D1)
    committed_at, fixed_at, bidders_closed_at ≤ entered_at
                                                   (everything else is fixed first)
    entered_at ≤ revealed_at ≤ drawn_at            (the center reveals last)
    """
    findings: list[Finding] = []
    times = {
        "fixed": _parse_time(definition.fixed_at, "/definition/fixed_at", findings),
        "deadline": _parse_time(deadline, "/deadline", findings),
        "committed": _parse_time(
            center.committed_at, "/contributions/center/committed_at", findings
        ),
        "revealed": _parse_time(center.revealed_at, "/contributions/center/revealed_at", findings),
        "entered": _parse_time(
            supervisor.entered_at, "/contributions/supervisor/entered_at", findings
        ),
        "drawn": _parse_time(drawn_at, "/drawn_at", findings),
        "bidders_closed": _parse_time(
            bidders_closed_at, "/contributions/bidders_closed_at", findings
        ),
    }
    if findings:
        return findings
    if bidders and bidders_closed_at is None:
        findings.append(
            finding(
                "draws.timeline",
                "有投标人随机数时必须记录其收齐时间（全部揭示或确认缺失的时间）",
                "/contributions/bidders_closed_at",
            )
        )
    if definition.purpose == "coefficient" and deadline is None:
        findings.append(
            finding(
                "draws.timeline",
                "系数抽取必须记录投标截止时间，以证明候选值在截止前已固定",
                "/deadline",
            )
        )
    for first, second, path, message in _ORDER_RULES:
        a, b = times[first], times[second]
        if a is not None and b is not None and a > b:
            findings.append(
                finding("draws.timeline", message, path, first=a.isoformat(), second=b.isoformat())
            )
    return findings
