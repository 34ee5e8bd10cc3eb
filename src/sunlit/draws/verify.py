"""Offline verification of draw records: recompute everything, report precisely what differs.

:func:`verify_record` checks a record link by link, each link against the values recorded on
both of its sides, so a single edit is reported where it was made:

============  ==============================================================================
check         what is recomputed
============  ==============================================================================
format        the JSON has the exact shape of ``sunlit-draw`` version 1
definition    candidate lists → their hashes and counts; definition → its hash (and, when
              given, the hash published when it was fixed); sortedness, sizes, weights
contributions the center's reveal opens its commitment (and the published commitment);
              sizes; one contribution per bidder; the beacon round named in the definition
timeline      definition and commitment before the deadline; commitment and definition before
              the supervisor's value; the supervisor's value before the center's reveal
seed          recorded definition hash + contributions → the recorded seed
outputs       recorded seed → the recorded outputs, position by position
disclosure    (when given) each disclosed ``(id, salt)`` hashes to a listed candidate; no id
              hides behind two hashed ids
============  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .checks import (
    check_contributions,
    check_definition,
    check_header,
    check_timeline,
    short_hex,
)
from .draw import compute_outputs, seed_of
from .engine import hash_candidate_id
from .errors import Finding, RecordFormatError
from .records import (
    Definition,
    Disclosure,
    DrawRecord,
    Outcome,
    ParameterOutcome,
    StratumOutcome,
)

__all__ = ["CHECK_TITLES", "CheckResult", "VerificationResult", "verify_record"]

CHECK_TITLES: Final[Mapping[str, str]] = {
    "format": "记录格式",
    "definition": "抽取定义（参数、候选名单及其哈希）",
    "contributions": "随机贡献值与承诺",
    "timeline": "时间顺序",
    "seed": "种子",
    "outputs": "抽取结果",
    "disclosure": "匿名编号披露",
}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One verification step: ``findings`` empty means it passed; ``skipped`` means it could
    not run (an earlier problem prevents it)."""

    name: str
    findings: tuple[Finding, ...] = ()
    skipped: bool = False

    @property
    def title(self) -> str:
        return CHECK_TITLES[self.name]

    @property
    def ok(self) -> bool:
        return not self.findings and not self.skipped


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The outcome of :func:`verify_record`."""

    checks: tuple[CheckResult, ...]
    record: DrawRecord | None = None
    recomputed_seed: bytes | None = None
    recomputed_outputs: tuple[Outcome, ...] | None = None
    disclosed: Mapping[str, str] = field(default_factory=dict)
    disclosure_complete: bool = False

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for c in self.checks for f in c.findings)

    def codes(self) -> set[str]:
        """The codes of all findings (handy in tests and scripts)."""
        return {f.code for f in self.findings}


def verify_record(
    record: DrawRecord | Mapping[str, Any] | str | bytes,
    disclosure: Disclosure | Mapping[str, Any] | str | bytes | None = None,
    *,
    published_definition_hash: bytes | None = None,
    published_commitment: bytes | None = None,
) -> VerificationResult:
    """Recompute a draw record (a :class:`DrawRecord`, its JSON object, or JSON text).

    ``published_definition_hash`` and ``published_commitment``, when given, are the values
    published (logged) when the definition was fixed and when the center committed; the record
    must carry the same. Never raises for bad input: every problem is a finding.
    """
    try:
        parsed = _parse(record)
    except RecordFormatError as exc:
        return VerificationResult((CheckResult("format", (exc.finding,)), *_skipped()))
    checks = [CheckResult("format", tuple(check_header(parsed.suite, parsed.draw_id)))]
    if checks[0].findings:
        return VerificationResult((checks[0], *_skipped()), parsed)
    r = parsed
    definition_findings = check_definition(r.suite, r.definition)
    definition_findings += _check_definition_hash(r, published_definition_hash)
    checks.append(CheckResult("definition", tuple(definition_findings)))
    contribution_findings = check_contributions(
        r.suite, r.definition, r.center, r.bidders, r.supervisor, r.beacon
    )
    if published_commitment is not None and published_commitment != r.center.commitment:
        contribution_findings.append(
            Finding(
                "draws.commitment_mismatch",
                "记录中的中心承诺 {recorded} 不是截止前公布的承诺 {published}",
                "/contributions/center/commitment",
                {
                    "recorded": short_hex(r.center.commitment),
                    "published": short_hex(published_commitment),
                },
            )
        )
    checks.append(CheckResult("contributions", tuple(contribution_findings)))
    checks.append(
        CheckResult(
            "timeline",
            tuple(
                check_timeline(
                    r.definition,
                    r.deadline,
                    r.center,
                    r.bidders,
                    r.bidders_closed_at,
                    r.supervisor,
                    r.drawn_at,
                )
            ),
        )
    )
    seed_findings: list[Finding] = []
    try:
        seed = seed_of(
            r.suite,
            r.draw_id,
            r.purpose,
            r.definition_hash,
            r.center,
            r.bidders,
            r.supervisor,
            r.beacon,
        )
    except UnicodeEncodeError:  # a string that is not valid UTF-8 (reported as draws.label)
        seed = b""
        seed_findings.append(_UNENCODABLE)
    if seed and seed != r.seed:
        seed_findings.append(
            Finding(
                "draws.seed_mismatch",
                "种子与记录中的贡献值不一致（记录 {recorded}，按贡献值重算 {actual}）："
                "贡献值或种子被改动",
                "/seed",
                {"recorded": short_hex(r.seed), "actual": short_hex(seed)},
            )
        )
    checks.append(CheckResult("seed", tuple(seed_findings)))
    outputs: tuple[Outcome, ...] | None = None
    if any(f.code in _BLOCKING for f in definition_findings):
        checks.append(CheckResult("outputs", (_NOT_RECOMPUTED,)))
    else:
        # Outputs are recomputed from the recorded seed, so an edited output is reported as
        # such even when the seed is also wrong (that is reported by the seed check).
        usable = r.seed if len(r.seed) == 32 else seed
        if usable:
            outputs = compute_outputs(r.suite, r.definition, usable)
            checks.append(CheckResult("outputs", tuple(_compare_outputs(r, outputs))))
        else:
            checks.append(CheckResult("outputs", (_NOT_RECOMPUTED,)))
    disclosed: dict[str, str] = {}
    complete = False
    if disclosure is not None:
        disclosure_findings, disclosed, complete = _check_disclosure(r, disclosure)
        checks.append(CheckResult("disclosure", tuple(disclosure_findings)))
    return VerificationResult(tuple(checks), r, seed, outputs, disclosed, complete)


# Definition problems that make the outputs impossible to recompute (any other problem, such
# as an unsorted list or a hash mismatch, still lets the outputs be recomputed as recorded).
_BLOCKING: Final = frozenset(
    {
        "draws.stratum_short",
        "draws.count",
        "draws.empty",
        "draws.weights",
        "draws.unsupported",
        "draws.format",
    }
)


_NOT_RECOMPUTED: Final = Finding(
    "draws.outputs_not_recomputed", "抽取定义或种子有误，无法重算抽取结果", "/outputs"
)
_UNENCODABLE: Final = Finding(
    "draws.label", "记录中有不是有效 UTF-8 的文本（如孤立的代理字符），无法计算哈希", ""
)


def _skipped() -> tuple[CheckResult, ...]:
    return tuple(
        CheckResult(n, skipped=True) for n in CHECK_TITLES if n not in ("format", "disclosure")
    )


def _parse(record: DrawRecord | Mapping[str, Any] | str | bytes) -> DrawRecord:
    if isinstance(record, DrawRecord):
        return record
    if isinstance(record, str | bytes):
        return DrawRecord.loads(record)
    return DrawRecord.from_json(dict(record))


def _check_definition_hash(r: DrawRecord, published: bytes | None) -> list[Finding]:
    findings: list[Finding] = []
    try:
        actual = r.definition.digest(r.suite)
    except (UnicodeEncodeError, ValueError):  # rfc8785 refuses what JSON cannot carry
        return [_UNENCODABLE]
    if actual != r.definition_hash:
        findings.append(
            Finding(
                "draws.definition_hash_mismatch",
                "抽取定义与其哈希不一致（记录 {recorded}，重算 {actual}）：参数、候选值、权重或名单"
                "在固定后被改动",
                "/definition_hash",
                {"recorded": short_hex(r.definition_hash), "actual": short_hex(actual)},
            )
        )
    if published is not None and published != r.definition_hash:
        findings.append(
            Finding(
                "draws.definition_hash_mismatch",
                "记录中的抽取定义哈希 {recorded} 不是固定时公布的哈希 {published}",
                "/definition_hash",
                {"recorded": short_hex(r.definition_hash), "published": short_hex(published)},
            )
        )
    return findings


def _compare_outputs(r: DrawRecord, expected: Sequence[Outcome]) -> list[Finding]:
    recorded = r.outputs
    if len(recorded) != len(expected):
        return [
            Finding(
                "draws.output_mismatch",
                "记录有 {recorded} 项抽取结果，按定义应有 {expected} 项",
                "/outputs",
                {"recorded": len(recorded), "expected": len(expected)},
            )
        ]
    findings: list[Finding] = []
    for i, (got, want) in enumerate(zip(recorded, expected, strict=True)):
        if isinstance(want, ParameterOutcome):
            assert isinstance(got, ParameterOutcome)
            findings += _compare_parameter(i, got, want)
        else:
            assert isinstance(got, StratumOutcome) and isinstance(want, StratumOutcome)
            findings += _compare_stratum(i, got, want)
    return findings


def _compare_parameter(i: int, got: ParameterOutcome, want: ParameterOutcome) -> list[Finding]:
    path = f"/outputs/{i}"
    if got.name != want.name:
        return [
            Finding(
                "draws.output_mismatch",
                "第 {position} 项结果应为参数「{expected}」，记录为「{recorded}」",
                f"{path}/name",
                {"position": i + 1, "expected": want.name, "recorded": got.name},
            )
        ]
    if (got.index, got.value) != (want.index, want.value):
        return [
            Finding(
                "draws.output_mismatch",
                "参数「{name}」的抽取结果不一致：记录为 {recorded}（序号 {recorded_index}），"
                "按种子重算为 {expected}（序号 {expected_index}）",
                f"{path}/value" if got.index == want.index else f"{path}/index",
                {
                    "name": want.name,
                    "recorded": got.value,
                    "recorded_index": got.index,
                    "expected": want.value,
                    "expected_index": want.index,
                },
            )
        ]
    return []


_ROLES: Final = {"selected": "正式", "alternates": "替补"}


def _compare_stratum(i: int, got: StratumOutcome, want: StratumOutcome) -> list[Finding]:
    path = f"/outputs/{i}"
    if got.stratum != want.stratum:
        return [
            Finding(
                "draws.output_mismatch",
                "第 {position} 项结果应为分层「{expected}」，记录为「{recorded}」",
                f"{path}/stratum",
                {"position": i + 1, "expected": want.stratum, "recorded": got.stratum},
            )
        ]
    findings: list[Finding] = []
    for role in ("selected", "alternates"):
        g: tuple[str, ...] = getattr(got, role)
        w: tuple[str, ...] = getattr(want, role)
        if len(g) != len(w):
            findings.append(
                Finding(
                    "draws.output_mismatch",
                    "分层「{name}」记录了 {recorded} 名{role}，按定义应为 {expected} 名",
                    f"{path}/{role}",
                    {
                        "name": want.stratum,
                        "role": _ROLES[role],
                        "recorded": len(g),
                        "expected": len(w),
                    },
                )
            )
            continue
        for j, (a, b) in enumerate(zip(g, w, strict=True)):
            if a != b:
                findings.append(
                    Finding(
                        "draws.output_mismatch",
                        "分层「{name}」{role}第 {position} 位不一致：记录为 {recorded}，"
                        "按种子重算为 {expected}",
                        f"{path}/{role}/{j}",
                        {
                            "name": want.stratum,
                            "role": _ROLES[role],
                            "position": j + 1,
                            "recorded": a,
                            "expected": b,
                        },
                    )
                )
    return findings


def _check_disclosure(
    r: DrawRecord, disclosure: Disclosure | Mapping[str, Any] | str | bytes
) -> tuple[list[Finding], dict[str, str], bool]:
    try:
        d = _parse_disclosure(disclosure)
    except RecordFormatError as exc:
        return [exc.finding], {}, False
    if r.definition.candidate_ids != "hashed":
        return [Finding("draws.disclosure_not_hashed", "该抽取未使用匿名编号，无需披露")], {}, False
    if (d.suite, d.draw_id, d.seed) != (r.suite, r.draw_id, r.seed):
        return (
            [
                Finding(
                    "draws.disclosure_record",
                    "披露文件属于另一次抽取（抽取编号 {draw_id}，种子 {seed}）",
                    "",
                    {"draw_id": d.draw_id, "seed": short_hex(d.seed)},
                )
            ],
            {},
            False,
        )
    listed = _listed(r.definition)
    findings: list[Finding] = []
    disclosed: dict[str, str] = {}
    hidden_behind: dict[str, str] = {}
    for i, e in enumerate(d.candidates):
        path = f"/candidates/{i}"
        try:
            recomputed = hash_candidate_id(r.suite, e.candidate, e.salt)
        except UnicodeEncodeError:
            recomputed = ""
        if recomputed != e.hashed:
            findings.append(
                Finding(
                    "draws.disclosure_mismatch",
                    "匿名编号 {hashed} 与披露的候选人 {id} 及其盐值不符",
                    path,
                    {"hashed": e.hashed[:16] + "…", "id": e.candidate},
                )
            )
            continue
        if e.hashed not in listed:
            findings.append(
                Finding(
                    "draws.disclosure_unknown",
                    "候选人 {id} 的匿名编号不在抽取记录的候选名单中",
                    path,
                    {"id": e.candidate},
                )
            )
            continue
        first = hidden_behind.setdefault(e.candidate, e.hashed)
        if first != e.hashed:
            findings.append(
                Finding(
                    "draws.disclosure_duplicate",
                    "候选人 {id} 以两个匿名编号出现在候选名单中（{first}、{second}）："
                    "其中签概率被人为放大",
                    path,
                    {"id": e.candidate, "first": first[:16] + "…", "second": e.hashed[:16] + "…"},
                )
            )
        disclosed[e.hashed] = e.candidate
    return findings, disclosed, not findings and set(disclosed) == listed


def _parse_disclosure(disclosure: Disclosure | Mapping[str, Any] | str | bytes) -> Disclosure:
    if isinstance(disclosure, Disclosure):
        return disclosure
    if isinstance(disclosure, str | bytes):
        return Disclosure.loads(disclosure)
    return Disclosure.from_json(dict(disclosure))


def _listed(definition: Definition) -> set[str]:
    return {c for s in definition.strata for c in s.candidates}
