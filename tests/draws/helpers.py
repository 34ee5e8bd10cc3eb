"""Fixed inputs for draw tests and for the test vectors of docs/spec/draws.md.

Nothing here is random: values are byte patterns, so the vectors can be regenerated exactly
(``python -m tests.draws.make_vectors``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from sunlit.draws import (
    BeaconContribution,
    BeaconSpec,
    BidderContribution,
    CenterContribution,
    Definition,
    DrawRecord,
    Parameter,
    Stratum,
    SupervisorContribution,
    coefficient_definition,
    commitment,
    derive_candidate_salt,
    hash_candidate_id,
    run_draw,
    sample_definition,
)

FIXED_AT = "2026-11-20T10:00:00+08:00"
COMMITTED_AT = "2026-11-20T10:00:00+08:00"
DEADLINE = "2026-11-23T09:30:00+08:00"
BIDDERS_CLOSED_AT = "2026-11-23T10:00:00+08:00"
ENTERED_AT = "2026-11-23T10:05:00+08:00"
REVEALED_AT = "2026-11-23T10:06:00+08:00"
DRAWN_AT = "2026-11-23T10:06:00+08:00"

CENTER_VALUE = bytes(range(32))
CENTER_SALT = bytes(range(32, 64))
SALT_KEY = bytes(range(64, 96))
BEACON_VALUE = bytes(range(96, 144))  # 48 bytes, the size of a drand round signature

BIDDERS = (
    BidderContribution("91350200MA2Y8KQX3R", bytes([0xA1]) * 32),
    BidderContribution("91350203MA31U5K23X", bytes([0xB2]) * 32),
    BidderContribution.missing("91350211MA8TJ2NP0C", "投标文件解密失败"),
)
SUPERVISOR = SupervisorContribution("73912026", "监督员 张三", ENTERED_AT)
BEACON_SPEC = BeaconSpec("drand/quicknet", "12345678")

PARAMETERS = (
    Parameter.of("K", ["0.95", "0.96", "0.97", "0.98"]),
    Parameter.of("下浮率", ["12%", "13%", "14%", "15%", "16%", "17%", "18%", "19%", "20%"]),
    Parameter.of(
        "基准价方法",
        ["方法一", "方法二", "方法三"],
        [Fraction(1, 4), Fraction(1, 4), Fraction(1, 2)],
    ),
)

EXPERT_STRATA = (
    ("A010101", [f"E{n:04d}" for n in range(1, 13)], 3, 2),
    ("A010102", [f"E{n:04d}" for n in range(101, 108)], 2, 1),
)


def center(
    suite: str, value: bytes = CENTER_VALUE, salt: bytes = CENTER_SALT
) -> CenterContribution:
    return CenterContribution(
        commitment(suite, value, salt), COMMITTED_AT, value, salt, REVEALED_AT
    )


def salt_of(suite: str, candidate_id: str) -> bytes:
    return derive_candidate_salt(suite, SALT_KEY, candidate_id)


def hashed(suite: str, candidate_id: str) -> str:
    return hash_candidate_id(suite, candidate_id, salt_of(suite, candidate_id))


@dataclass
class Inputs:
    """Everything run_draw takes, as one mutable bundle (tests replace single fields)."""

    suite: str
    draw_id: str
    definition: Definition
    center: CenterContribution
    bidders: list[BidderContribution]
    bidders_closed_at: str | None = BIDDERS_CLOSED_AT
    supervisor: SupervisorContribution = SUPERVISOR
    beacon: BeaconContribution | None = None
    drawn_at: str = DRAWN_AT
    deadline: str | None = DEADLINE
    extra: dict[str, Any] = field(default_factory=dict)

    def run(self) -> DrawRecord:
        return run_draw(
            suite=self.suite,
            draw_id=self.draw_id,
            definition=self.definition,
            center=self.center,
            bidders=self.bidders,
            bidders_closed_at=self.bidders_closed_at,
            supervisor=self.supervisor,
            beacon=self.beacon,
            drawn_at=self.drawn_at,
            deadline=self.deadline,
        )

    def but(self, **changes: Any) -> Inputs:
        return replace(self, **changes)


def coefficient_inputs(suite: str = "gm") -> Inputs:
    definition = coefficient_definition(
        PARAMETERS,
        fixed_at=FIXED_AT,
        context={"项目编号": "E3502000001000123001", "标段编号": "E3502000001000123001001"},
    )
    return Inputs(suite, "DRAW-2026-000123-K", definition, center(suite), list(BIDDERS))


def expert_inputs(suite: str = "gm", *, hashed_ids: bool = True) -> Inputs:
    strata = [
        Stratum(name, [hashed(suite, c) if hashed_ids else c for c in ids], count, alternates)
        for name, ids, count, alternates in EXPERT_STRATA
    ]
    definition = sample_definition(
        suite,
        strata,
        fixed_at="2026-11-23T08:00:00+08:00",
        candidate_ids="hashed" if hashed_ids else "plain",
        context={"项目编号": "E3502000001000123001", "评标时间": "2026-11-23T14:00:00+08:00"},
        beacon=BEACON_SPEC,
    )
    return Inputs(
        suite,
        "DRAW-2026-000124-E",
        definition,
        center(suite),
        [],
        bidders_closed_at=None,
        beacon=BeaconContribution(BEACON_SPEC.source, BEACON_SPEC.round, BEACON_VALUE),
        deadline=None,
    )


def expert_salted_ids(suite: str) -> list[tuple[str, bytes]]:
    return [(c, salt_of(suite, c)) for _, ids, _, _ in EXPERT_STRATA for c in ids]
