"""Exclusions before a draw (回避与限制) and the candidate list of each stratum.

Pure functions over plain rows so that the rules can be tested and measured on their own; the
service gathers the rows (pool, leave, bidders, tenderer, agency, avoidance list) and stores
what comes out. Rules are applied in the order of :class:`~sunlit.experts.catalog.Rule`; each
excluded expert is recorded with the first rule that excluded him. When a stratum ends up with
fewer candidates than ``count + alternates``, the refusal names the rule after which it fell
short (or the specialty itself, when the pool never had enough).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .catalog import RULE_LABELS, Rule, matches


@dataclass(frozen=True, slots=True)
class PoolRow:
    """What the rules need to know about one expert."""

    id: str
    main_specialty: str
    specialties: tuple[str, ...]
    employer_credit_code: str
    region_code: str
    status: str
    restricted_until: dt.datetime | None
    last_drawn_at: dt.datetime | None
    id_digest: str


@dataclass(frozen=True, slots=True)
class StratumSpec:
    specialty: str
    count: int
    alternates: int

    @property
    def needed(self) -> int:
        return self.count + self.alternates


@dataclass(frozen=True)
class Context:
    """Everything the rules are checked against, for one draw."""

    evaluation_starts_at: dt.datetime
    on_leave: frozenset[str] = frozenset()  # expert ids with leave over the evaluation time
    regions: tuple[str, ...] = ()  # allowed 行政区划 prefixes; empty = anywhere
    bidder_codes: frozenset[str] = frozenset()
    tenderer_codes: frozenset[str] = frozenset()
    agency_codes: frozenset[str] = frozenset()
    avoidance: Mapping[str, str] = field(default_factory=dict)  # id digest -> reason
    cooldown_days: int = 0
    already_drawn: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Excluded:
    expert_id: str
    stratum: str
    rule: Rule
    detail: str


@dataclass(frozen=True)
class StratumReport:
    specialty: str
    needed: int
    in_specialty: int
    after_rule: tuple[tuple[Rule, int], ...]  # remaining after each rule, in rule order
    candidates: tuple[str, ...]

    @property
    def short_by(self) -> int:
        return max(0, self.needed - len(self.candidates))

    @property
    def emptied_by(self) -> Rule | None:
        """The rule after which the stratum fell below what it needs (None: the specialty)."""
        if self.in_specialty < self.needed:
            return None
        for rule, remaining in self.after_rule:
            if remaining < self.needed:
                return rule
        return None

    def excluded_by(self) -> dict[str, int]:
        out: dict[str, int] = {}
        before = self.in_specialty
        for rule, remaining in self.after_rule:
            if before - remaining:
                out[rule.value] = before - remaining
            before = remaining
        return out


@dataclass(frozen=True)
class Selection:
    strata: tuple[StratumReport, ...]
    excluded: tuple[Excluded, ...]

    @property
    def short(self) -> list[StratumReport]:
        return [s for s in self.strata if s.short_by]


def assign_strata(
    rows: Iterable[PoolRow], strata: Sequence[StratumSpec]
) -> dict[str, list[PoolRow]]:
    """Each expert in exactly one stratum: the first whose specialty covers his main specialty,
    else the first that covers any of his other specialties (ADR 0009)."""
    out: dict[str, list[PoolRow]] = {s.specialty: [] for s in strata}
    wanted = [s.specialty for s in strata]
    for row in rows:
        home = next((w for w in wanted if matches(row.main_specialty, w)), None)
        if home is None:
            home = next((w for w in wanted if any(matches(c, w) for c in row.specialties)), None)
        if home is not None:
            out[home].append(row)
    return out


def _checks(ctx: Context) -> list[tuple[Rule, object]]:
    start = ctx.evaluation_starts_at
    cooldown_from = start - dt.timedelta(days=ctx.cooldown_days)

    def inactive(r: PoolRow) -> str | None:
        return f"状态：{r.status}" if r.status != "active" else None

    def credit(r: PoolRow) -> str | None:
        if r.restricted_until is not None and r.restricted_until > start:
            return f"限制至 {r.restricted_until:%Y-%m-%d}"
        return None

    def leave(r: PoolRow) -> str | None:
        return "评标时间内请假" if r.id in ctx.on_leave else None

    def region(r: PoolRow) -> str | None:
        if ctx.regions and not any(r.region_code.startswith(p) for p in ctx.regions):
            return f"所在地区 {r.region_code}"
        return None

    def employer(codes: frozenset[str]) -> object:
        def check(r: PoolRow) -> str | None:
            return f"工作单位 {r.employer_credit_code}" if r.employer_credit_code in codes else None

        return check

    def avoidance(r: PoolRow) -> str | None:
        reason = ctx.avoidance.get(r.id_digest)
        return reason if reason is not None else None

    def cooldown(r: PoolRow) -> str | None:
        if ctx.cooldown_days and r.last_drawn_at is not None and r.last_drawn_at >= cooldown_from:
            return f"上次抽中 {r.last_drawn_at:%Y-%m-%d}"
        return None

    def drawn(r: PoolRow) -> str | None:
        return "本标段已抽取" if r.id in ctx.already_drawn else None

    return [
        (Rule.INACTIVE, inactive),
        (Rule.CREDIT, credit),
        (Rule.LEAVE, leave),
        (Rule.REGION, region),
        (Rule.BIDDER, employer(ctx.bidder_codes)),
        (Rule.TENDERER, employer(ctx.tenderer_codes)),
        (Rule.AGENCY, employer(ctx.agency_codes)),
        (Rule.AVOIDANCE, avoidance),
        (Rule.COOLDOWN, cooldown),
        (Rule.ALREADY_DRAWN, drawn),
    ]


def select(rows: Iterable[PoolRow], strata: Sequence[StratumSpec], ctx: Context) -> Selection:
    """Apply every rule to every stratum; candidates are what is left (sorted by id)."""
    checks = _checks(ctx)
    by_stratum = assign_strata(rows, strata)
    reports = []
    excluded: list[Excluded] = []
    for spec in strata:
        remaining = by_stratum[spec.specialty]
        in_specialty = len(remaining)
        after = []
        for rule, check in checks:
            kept = []
            for row in remaining:
                detail = check(row)  # type: ignore[operator]
                if detail is None:
                    kept.append(row)
                else:
                    excluded.append(Excluded(row.id, spec.specialty, rule, str(detail)[:500]))
            remaining = kept
            after.append((rule, len(remaining)))
        reports.append(
            StratumReport(
                spec.specialty,
                spec.needed,
                in_specialty,
                tuple(after),
                tuple(sorted(r.id for r in remaining)),
            )
        )
    return Selection(tuple(reports), tuple(excluded))


def shortfall_message(report: StratumReport, name: str) -> tuple[str, dict[str, Any]]:
    """The Chinese refusal for a stratum too small, naming the rule that emptied it."""
    rule = report.emptied_by
    params: dict[str, Any] = {
        "specialty": report.specialty,
        "name": name,
        "needed": report.needed,
        "left": len(report.candidates),
        "pool": report.in_specialty,
    }
    if rule is None:
        return (
            "专业 {specialty}（{name}）可抽专家不足：需要 {needed} 人（含替补），"
            "专家库中该专业仅有 {pool} 人",
            params,
        )
    params["rule"] = RULE_LABELS[rule]
    params["rule_code"] = rule.value
    return (
        "专业 {specialty}（{name}）可抽专家不足：需要 {needed} 人（含替补），"
        "专家库中该专业 {pool} 人，适用回避规则“{rule}”后不足，排除后仅剩 {left} 人",
        params,
    )
