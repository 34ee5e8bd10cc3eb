"""Running draws: determinism, what the seed depends on, order independence, refusals, strata."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sunlit.draws import (
    BeaconContribution,
    BidderContribution,
    CenterSecret,
    DrawRecord,
    DrawRefused,
    Parameter,
    ParameterOutcome,
    Stratum,
    StratumOutcome,
    SupervisorContribution,
    coefficient_definition,
    commitment_matches,
    run_draw,
    sample_definition,
    verify_record,
)
from sunlit.kernel.i18n import use_locale

from .helpers import (
    BEACON_SPEC,
    BIDDERS,
    DEADLINE,
    ENTERED_AT,
    FIXED_AT,
    PARAMETERS,
    REVEALED_AT,
    SUPERVISOR,
    Inputs,
    center,
    coefficient_inputs,
    expert_inputs,
)

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, database=None)
SUITES = ["gm", "intl"]


def refusal(run: Callable[[], object]) -> DrawRefused:
    with pytest.raises(DrawRefused) as info:
        run()
    return info.value


def codes(exc: DrawRefused) -> set[str]:
    return {f.code for f in exc.findings}


# --- determinism and what the seed depends on ---------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_same_inputs_same_record(suite: str) -> None:
    for make in (coefficient_inputs, expert_inputs):
        first, second = make(suite).run(), make(suite).run()
        assert first == second and first.to_json() == second.to_json()


def test_the_suite_changes_everything() -> None:
    gm, intl = coefficient_inputs("gm").run(), coefficient_inputs("intl").run()
    assert gm.seed != intl.seed and gm.definition_hash != intl.definition_hash


def _flip(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def _replace_parameter(i: int, **changes: object) -> Callable[[Inputs], Inputs]:
    def mutate(inputs: Inputs) -> Inputs:
        parameters = list(inputs.definition.parameters)
        parameters[i] = dataclasses.replace(parameters[i], **changes)  # type: ignore[arg-type]
        definition = coefficient_definition(
            parameters, fixed_at=inputs.definition.fixed_at, context=inputs.definition.context
        )
        return inputs.but(definition=definition)

    return mutate


COEFFICIENT_MUTATIONS: dict[str, Callable[[Inputs], Inputs]] = {
    "center value": lambda i: i.but(center=center(i.suite, value=_flip(i.center.value))),
    "center salt does not enter the seed but re-commits": lambda i: i.but(
        center=center(i.suite, value=_flip(i.center.value), salt=_flip(i.center.salt))
    ),
    "a bidder's number": lambda i: i.but(
        bidders=[
            BidderContribution(BIDDERS[0].bidder, _flip(BIDDERS[0].value or b"")),
            *BIDDERS[1:],
        ]
    ),
    "a bidder's id": lambda i: i.but(
        bidders=[BidderContribution("91350200MA2Y8KQX3S", BIDDERS[0].value), *BIDDERS[1:]]
    ),
    "a bidder missing instead of revealed": lambda i: i.but(
        bidders=[BidderContribution.missing(BIDDERS[0].bidder, "解密失败"), *BIDDERS[1:]]
    ),
    "the reason of a missing bidder": lambda i: i.but(
        bidders=[*BIDDERS[:2], BidderContribution.missing(BIDDERS[2].bidder, "未提交随机数")]
    ),
    "one bidder more": lambda i: i.but(
        bidders=[*BIDDERS, BidderContribution("91350206MA2XN5EF5U", bytes(32))]
    ),
    "one bidder less": lambda i: i.but(bidders=list(BIDDERS[:2])),
    "supervisor value": lambda i: i.but(
        supervisor=dataclasses.replace(SUPERVISOR, value="73912027")
    ),
    "draw id": lambda i: i.but(draw_id=i.draw_id + "X"),
    "a candidate value": _replace_parameter(0, values=("0.95", "0.96", "0.97", "0.99")),
    "a weight": _replace_parameter(2, weights=(1, 1, 3)),
    "weights made explicit": _replace_parameter(0, weights=(1, 1, 1, 1)),
    "a parameter name": _replace_parameter(1, name="下浮系数"),
    "fixed_at": lambda i: i.but(
        definition=coefficient_definition(PARAMETERS, fixed_at="2026-11-20T10:00:01+08:00")
    ),
}


@pytest.mark.parametrize("mutation", COEFFICIENT_MUTATIONS, ids=list(COEFFICIENT_MUTATIONS))
def test_any_change_of_an_input_changes_the_seed(mutation: str) -> None:
    base = coefficient_inputs()
    changed = COEFFICIENT_MUTATIONS[mutation](base).run()
    assert changed.seed != base.run().seed
    assert verify_record(changed.to_json()).ok


EXPERT_MUTATIONS: dict[str, Callable[[Inputs], Inputs]] = {
    "a candidate removed": lambda i: _strata(
        i, lambda s: dataclasses.replace(s, candidates=tuple(s.candidates)[1:])
    ),
    "a candidate added": lambda i: _strata(
        i, lambda s: dataclasses.replace(s, candidates=(*s.candidates, f"Z-{s.name}"))
    ),
    "a count": lambda i: _strata(
        i, lambda s: dataclasses.replace(s, candidates=s.candidates, count=s.count + 1)
    ),
    "alternates": lambda i: _strata(
        i, lambda s: dataclasses.replace(s, candidates=s.candidates, alternates=0)
    ),
    "beacon value": lambda i: i.but(
        beacon=BeaconContribution(BEACON_SPEC.source, BEACON_SPEC.round, b"\x01")
    ),
}


def _strata(inputs: Inputs, change: Callable[[Stratum], Stratum]) -> Inputs:
    strata = [
        change(Stratum(s.name, s.candidates, s.count, s.alternates))
        for s in inputs.definition.strata
    ]
    definition = sample_definition(
        inputs.suite, strata, fixed_at=inputs.definition.fixed_at, beacon=inputs.definition.beacon
    )
    return inputs.but(definition=definition)


@pytest.mark.parametrize("mutation", EXPERT_MUTATIONS, ids=list(EXPERT_MUTATIONS))
def test_any_change_of_an_expert_draw_changes_the_seed(mutation: str) -> None:
    base = expert_inputs(hashed_ids=False)
    changed = EXPERT_MUTATIONS[mutation](base).run()
    assert changed.seed != base.run().seed
    assert verify_record(changed.to_json()).ok


@given(order=st.permutations(range(len(BIDDERS))))
@PROPERTY_SETTINGS
def test_bidder_order_does_not_matter(order: list[int]) -> None:
    base = coefficient_inputs()
    shuffled = base.but(bidders=[BIDDERS[k] for k in order]).run()
    assert shuffled == base.run()
    assert [b.bidder for b in shuffled.bidders] == sorted(b.bidder for b in BIDDERS)


def test_missing_contribution_is_recorded_not_skipped() -> None:
    record = coefficient_inputs().run()
    missing = [b.to_json() for b in record.bidders if b.value is None]
    assert missing == [
        {"bidder": BIDDERS[2].bidder, "status": "missing", "reason": "投标文件解密失败"}
    ]
    without = coefficient_inputs().but(bidders=list(BIDDERS[:2])).run()
    assert without.seed != record.seed


# --- the center's commitment ------------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_center_secret_commits_and_reveals(suite: str) -> None:
    secret = CenterSecret.new(suite, FIXED_AT)
    assert commitment_matches(suite, secret.commitment, secret.value, secret.salt)
    assert secret.value.hex() not in repr(secret) and secret.salt.hex() not in repr(secret)
    revealed = secret.reveal(REVEALED_AT)
    record = coefficient_inputs(suite).but(center=revealed).run()
    assert record.center.commitment == secret.commitment
    assert CenterSecret.new(suite, FIXED_AT).value != secret.value


def test_a_reveal_that_does_not_open_the_commitment_is_refused() -> None:
    inputs = coefficient_inputs()
    forged = dataclasses.replace(inputs.center, value=_flip(inputs.center.value))
    exc = refusal(inputs.but(center=forged).run)
    assert exc.code == "draws.commitment_mismatch"
    assert "与截止前公布的承诺不一致" in exc.detail
    assert exc.field == "/contributions/center/value"
    bad_salt = dataclasses.replace(inputs.center, salt=_flip(inputs.center.salt))
    assert refusal(inputs.but(center=bad_salt).run).code == "draws.commitment_mismatch"


def test_wrong_sizes_are_refused() -> None:
    inputs = coefficient_inputs()
    exc = refusal(inputs.but(center=dataclasses.replace(inputs.center, value=b"short")).run)
    assert exc.code == "draws.size" and "随机值应为 32 字节，实为 5 字节" in exc.detail
    short = BidderContribution(BIDDERS[0].bidder, bytes(16))
    exc = refusal(inputs.but(bidders=[short]).run)
    assert exc.code == "draws.size" and BIDDERS[0].bidder in exc.detail


def test_bidder_contribution_rules() -> None:
    inputs = coefficient_inputs()
    assert codes(refusal(inputs.but(bidders=[BIDDERS[0], BIDDERS[0]]).run)) == {"draws.duplicate"}
    no_reason = BidderContribution.missing(BIDDERS[0].bidder, "")
    assert refusal(inputs.but(bidders=[no_reason]).run).code == "draws.bidder_contribution"
    both = BidderContribution(BIDDERS[0].bidder, bytes(32), "解密失败")
    assert refusal(inputs.but(bidders=[both]).run).code == "draws.bidder_contribution"


def test_every_problem_is_listed() -> None:
    inputs = coefficient_inputs()
    exc = refusal(
        inputs.but(
            bidders=[BIDDERS[0], BIDDERS[0]],
            supervisor=dataclasses.replace(SUPERVISOR, value=""),
            drawn_at="2026-11-23T10:00:00+08:00",
        ).run
    )
    assert codes(exc) == {"draws.duplicate", "draws.label", "draws.timeline"}
    assert len(exc.errors) == len(exc.findings) == 3


# --- timeline ---------------------------------------------------------------------------------


TIMELINE_CASES: dict[str, tuple[Callable[[Inputs], Inputs], str, str]] = {
    "definition fixed after the deadline": (
        lambda i: i.but(
            definition=coefficient_definition(PARAMETERS, fixed_at="2026-11-23T09:31:00+08:00")
        ),
        "/definition/fixed_at",
        "晚于投标截止时间",
    ),
    "commitment after the deadline": (
        lambda i: i.but(
            center=dataclasses.replace(i.center, committed_at="2026-11-23T09:30:01+08:00")
        ),
        "/contributions/center/committed_at",
        "晚于投标截止时间",
    ),
    "center revealed before the supervisor's value": (
        lambda i: i.but(
            center=dataclasses.replace(i.center, revealed_at="2026-11-23T10:04:00+08:00")
        ),
        "/contributions/supervisor/entered_at",
        "晚于交易中心揭示随机值的时间",
    ),
    "a bidder declared missing after the supervisor's value": (
        lambda i: i.but(bidders_closed_at="2026-11-23T10:05:01+08:00"),
        "/contributions/bidders_closed_at",
        "投标人随机数的收齐时间",
    ),
    "bidders without a closing time": (
        lambda i: i.but(bidders_closed_at=None),
        "/contributions/bidders_closed_at",
        "必须记录其收齐时间",
    ),
    "drawn before the reveal": (
        lambda i: i.but(drawn_at="2026-11-23T10:05:30+08:00"),
        "/contributions/center/revealed_at",
        "晚于抽取时间",
    ),
    "no deadline for a coefficient draw": (
        lambda i: i.but(deadline=None),
        "/deadline",
        "必须记录投标截止时间",
    ),
}


@pytest.mark.parametrize("case", TIMELINE_CASES, ids=list(TIMELINE_CASES))
def test_events_out_of_order_are_refused(case: str) -> None:
    mutate, path, text = TIMELINE_CASES[case]
    exc = refusal(mutate(coefficient_inputs()).run)
    assert exc.code == "draws.timeline" and exc.field == path and text in exc.detail


def test_expert_list_fixed_after_the_supervisor_is_refused() -> None:
    inputs = expert_inputs(hashed_ids=False)
    late = dataclasses.replace(inputs.definition, fixed_at="2026-11-23T10:05:01+08:00")
    exc = refusal(inputs.but(definition=late).run)
    assert exc.code == "draws.timeline" and "晚于监督人录入随机值的时间" in exc.detail


def test_timestamps_must_carry_an_offset() -> None:
    inputs = coefficient_inputs()
    exc = refusal(inputs.but(drawn_at="2026-11-23T10:06:00").run)
    assert exc.code == "draws.timestamp" and exc.field == "/drawn_at"
    with pytest.raises(ValueError, match="timezone-aware"):
        SupervisorContribution.of("1", "x", __import__("datetime").datetime(2026, 1, 1))


# --- coefficient draws ------------------------------------------------------------------------


def test_coefficient_outputs() -> None:
    record = coefficient_inputs().run()
    assert [type(o) for o in record.outputs] == [ParameterOutcome] * 3
    for outcome, parameter in zip(record.outputs, PARAMETERS, strict=True):
        assert isinstance(outcome, ParameterOutcome)
        assert outcome.name == parameter.name
        assert parameter.values[outcome.index] == outcome.value


def test_parameter_of_converts_and_scales() -> None:
    from decimal import Decimal

    p = Parameter.of("K", [Decimal("0.95"), 1], [Fraction(1, 6), Fraction(1, 3)])
    assert p.values == ("0.95", "1") and p.weights == (1, 2)
    assert Parameter.of("K", ["a", "b"], [2, 4]).weights == (2, 4)
    with pytest.raises(TypeError, match="never float"):
        Parameter.of("K", ["a"], [0.5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="never float"):
        Parameter.of("K", [0.95])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("parameters", "code", "text"),
    [
        ([], "draws.empty", "至少需要一个参数"),
        ([Parameter("K", ())], "draws.empty", "没有候选值"),
        ([Parameter("K", ("1", "1"))], "draws.duplicate", "用权重表示"),
        ([Parameter("K", ("1",)), Parameter("K", ("2",))], "draws.duplicate", "参数「K」重复"),
        ([Parameter("K", ("1", "2"), (1,))], "draws.weights", "2 个候选值，却有 1 个权重"),
        ([Parameter("K", ("1", "2"), (1, 0))], "draws.weights", "第 2 个为 0"),
        ([Parameter("K", ("1",), (2**53,))], "draws.weights", "超过 2^53 - 1"),
        ([Parameter("", ("1",))], "draws.label", "为空"),
    ],
)
def test_bad_parameters_are_refused(parameters: list[Parameter], code: str, text: str) -> None:
    exc = refusal(lambda: coefficient_definition(parameters, fixed_at=FIXED_AT))
    assert exc.code == code and text in exc.detail


# --- expert draws -----------------------------------------------------------------------------


def test_strata_counts_and_alternates_are_respected() -> None:
    record = expert_inputs(hashed_ids=False).run()
    for outcome, stratum in zip(record.outputs, record.definition.strata, strict=True):
        assert isinstance(outcome, StratumOutcome)
        assert outcome.stratum == stratum.name
        assert len(outcome.selected) == stratum.count
        assert len(outcome.alternates) == stratum.alternates
        drawn = outcome.selected + outcome.alternates
        assert len(set(drawn)) == len(drawn) and set(drawn) <= set(stratum.candidates)


def test_candidates_are_sorted_whatever_the_input_order() -> None:
    ids = ["E0003", "E0001", "专家9", "E0002", "A-7"]
    a = sample_definition("gm", [Stratum("S", ids, 2)], fixed_at=FIXED_AT)
    b = sample_definition("gm", [Stratum("S", list(reversed(ids)), 2)], fixed_at=FIXED_AT)
    assert a == b
    assert a.strata[0].candidates == ("A-7", "E0001", "E0002", "E0003", "专家9")


@given(
    sizes=st.lists(st.integers(1, 60), min_size=1, max_size=5),
    data=st.data(),
    seed_byte=st.integers(0, 255),
)
@PROPERTY_SETTINGS
def test_expert_draw_properties(sizes: list[int], data: st.DataObject, seed_byte: int) -> None:
    strata = []
    for k, size in enumerate(sizes):
        count = data.draw(st.integers(1, size))
        alternates = data.draw(st.integers(0, size - count))
        strata.append(Stratum(f"S{k}", [f"S{k}-{n}" for n in range(size)], count, alternates))
    definition = sample_definition("intl", strata, fixed_at=FIXED_AT)
    record = run_draw(
        suite="intl",
        draw_id=f"P-{seed_byte}",
        definition=definition,
        center=center("intl", value=bytes([seed_byte]) * 32),
        bidders=[],
        supervisor=SUPERVISOR,
        drawn_at=REVEALED_AT,
    )
    for outcome, s in zip(record.outputs, strata, strict=True):
        assert isinstance(outcome, StratumOutcome)
        drawn = outcome.selected + outcome.alternates
        assert (len(outcome.selected), len(outcome.alternates)) == (s.count, s.alternates)
        assert len(set(drawn)) == len(drawn)  # without replacement
        assert all(c.startswith(f"{s.name}-") for c in drawn)
    assert verify_record(record.to_json()).ok


def test_drawing_more_than_a_stratum_holds_is_refused_with_the_shortfall() -> None:
    strata = [
        Stratum("A010101", [f"E{n}" for n in range(10)], 5, 2),
        Stratum("A010102", [f"F{n}" for n in range(4)], 5, 2),
        Stratum("A010103", [f"G{n}" for n in range(6)], 5, 2),
    ]
    exc = refusal(lambda: sample_definition("gm", strata, fixed_at=FIXED_AT))
    assert codes(exc) == {"draws.stratum_short"}
    assert exc.detail == (
        "分层「A010102」可抽取的候选人只有 4 人，需要 7 人（正式 5 人、替补 2 人），缺 3 人"
    )
    assert exc.field == "/definition/strata/1"
    assert [e["detail"][-5:] for e in exc.errors] == ["缺 3 人", "缺 1 人"]
    assert "A010103" in exc.errors[1]["detail"]
    with use_locale("en"):  # no English catalog entry yet: Chinese is the fallback, never an id
        assert "缺 3 人" in exc.detail


def test_bad_strata_are_refused() -> None:
    def make(*strata: Stratum, mode: str = "plain") -> object:
        return sample_definition("gm", list(strata), fixed_at=FIXED_AT, candidate_ids=mode)  # type: ignore[arg-type]

    cases = [
        (lambda: make(), "draws.empty"),
        (lambda: make(Stratum("S", ["a", "a", "b"], 1)), "draws.duplicate"),
        (lambda: make(Stratum("S", ["a", "b"], 1), Stratum("T", ["b", "c"], 1)), "draws.duplicate"),
        (lambda: make(Stratum("S", ["a"], 1), Stratum("S", ["b"], 1)), "draws.duplicate"),
        (lambda: make(Stratum("S", ["a", "b"], 0)), "draws.count"),
        (lambda: make(Stratum("S", ["a", "b"], 1, -1)), "draws.count"),
        (lambda: make(Stratum("S", ["a", "x\ny"], 1)), "draws.label"),
        (lambda: make(Stratum("S", ["a", ""], 1)), "draws.label"),
        (lambda: make(Stratum("S", ["E0001"], 1), mode="hashed"), "draws.hashed_id"),
        (lambda: make(Stratum("S", ["a"], 1), mode="secret"), "draws.unsupported"),
    ]
    for run, code in cases:
        assert refusal(run).code == code
    overlap = refusal(lambda: make(Stratum("S", ["a", "b"], 1), Stratum("T", ["b", "c"], 1)))
    assert "候选人 b 同时出现在分层「S」和「T」中" in overlap.detail
    assert refusal(
        lambda: sample_definition("sm9", [Stratum("S", ["a"], 1)], fixed_at=FIXED_AT)
    ).code == ("draws.unsupported")


def test_beacon_named_in_the_definition_is_required() -> None:
    inputs = expert_inputs()
    assert refusal(inputs.but(beacon=None).run).code == "draws.beacon_mismatch"
    other_round = BeaconContribution("drand/quicknet", "12345679", b"\x01")
    exc = refusal(inputs.but(beacon=other_round).run)
    assert exc.code == "draws.beacon_mismatch" and "12345679" in exc.detail
    assert refusal(coefficient_inputs().but(beacon=other_round).run).code == "draws.beacon_mismatch"
    big = BeaconContribution("drand/quicknet", "12345678", bytes(1025))
    assert refusal(inputs.but(beacon=big).run).code == "draws.size"


def test_record_json_round_trips() -> None:
    for inputs in (coefficient_inputs(), expert_inputs(), expert_inputs("intl", hashed_ids=False)):
        record = inputs.run()
        assert DrawRecord.from_json(record.to_json()) == record
        assert DrawRecord.loads(record.dumps()) == record


def test_unknown_suite_and_bad_draw_id_are_refused() -> None:
    assert refusal(coefficient_inputs().but(suite="sm9").run).code == "draws.unsupported"
    assert refusal(coefficient_inputs().but(draw_id="").run).code == "draws.label"


def test_a_shortlist_draw_uses_the_same_sampling() -> None:
    bidders = [f"9135{n:014d}" for n in range(15)]
    definition = sample_definition(
        "gm", [Stratum("入围", bidders, 9)], fixed_at=FIXED_AT, purpose="shortlist"
    )
    record = run_draw(
        suite="gm",
        draw_id="SHORT-1",
        definition=definition,
        center=center("gm"),
        bidders=list(BIDDERS),
        bidders_closed_at=ENTERED_AT,
        supervisor=SUPERVISOR,
        drawn_at=REVEALED_AT,
        deadline=DEADLINE,
    )
    assert record.purpose == "shortlist"
    assert verify_record(record.dumps()).ok
