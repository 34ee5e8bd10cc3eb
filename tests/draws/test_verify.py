"""verify_record: every kind of tampering is caught and reported precisely, where it was made."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sunlit.draws import (
    Disclosure,
    DrawRecord,
    candidates_hash,
    definition_hash,
    hash_candidate_id,
    make_disclosure,
    verify_record,
)
from sunlit.draws.draw import compute_outputs, seed_of
from sunlit.draws.errors import DrawRefused
from sunlit.draws.verify import VerificationResult

from .helpers import coefficient_inputs, expert_inputs, expert_salted_ids

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, database=None)


def coefficient() -> dict[str, Any]:
    return coefficient_inputs().run().to_json()


def expert(hashed_ids: bool = False) -> dict[str, Any]:
    return expert_inputs(hashed_ids=hashed_ids).run().to_json()


def failing(result: VerificationResult) -> dict[str, list[tuple[str, str, str]]]:
    """check name -> [(code, path, detail)] for the checks that failed."""
    return {
        c.name: [(f.code, f.path, f.detail) for f in c.findings]
        for c in result.checks
        if c.findings
    }


def only(result: VerificationResult, check: str) -> list[tuple[str, str, str]]:
    failed = failing(result)
    assert set(failed) == {check}, failed
    return failed[check]


def test_genuine_records_verify() -> None:
    for record in (coefficient(), expert(), expert(hashed_ids=True)):
        result = verify_record(record)
        assert result.ok and not result.findings
        assert [c.name for c in result.checks] == [
            "format",
            "definition",
            "contributions",
            "timeline",
            "seed",
            "outputs",
        ]
        assert result.recomputed_seed == bytes.fromhex(record["seed"])
        # Text and bytes work too.
        assert verify_record(json.dumps(record)).ok
        assert verify_record(json.dumps(record, ensure_ascii=False).encode()).ok


# --- changed outputs ------------------------------------------------------------------------


def test_changed_coefficient_output() -> None:
    record = coefficient()
    drawn = record["outputs"][0]
    other = (drawn["index"] + 1) % 4
    record["outputs"][0] = {
        "name": "K",
        "index": other,
        "value": ["0.95", "0.96", "0.97", "0.98"][other],
    }
    [(code, path, detail)] = only(verify_record(record), "outputs")
    assert code == "draws.output_mismatch" and path == "/outputs/0/index"
    assert detail == (
        f"参数「K」的抽取结果不一致：记录为 {record['outputs'][0]['value']}（序号 {other}），"
        f"按种子重算为 {drawn['value']}（序号 {drawn['index']}）"
    )


def test_changed_value_with_the_index_kept() -> None:
    record = coefficient()
    record["outputs"][1]["value"] = "99%"
    [(code, path, detail)] = only(verify_record(record), "outputs")
    assert (code, path) == ("draws.output_mismatch", "/outputs/1/value")
    assert "参数「下浮率」" in detail and "记录为 99%" in detail


def test_changed_expert_output() -> None:
    record = expert()
    stratum = record["outputs"][0]
    drawn = set(stratum["selected"]) | set(stratum["alternates"])
    outsider = next(c for c in record["candidates"]["A010101"] if c not in drawn)
    original = stratum["selected"][1]
    stratum["selected"][1] = outsider
    [(code, path, detail)] = only(verify_record(record), "outputs")
    assert (code, path) == ("draws.output_mismatch", "/outputs/0/selected/1")
    assert detail == (
        f"分层「A010101」正式第 2 位不一致：记录为 {outsider}，按种子重算为 {original}"
    )


def test_swapped_alternates_and_dropped_expert() -> None:
    record = expert()
    record["outputs"][0]["alternates"].reverse()
    record["outputs"][1]["selected"].pop()
    found = only(verify_record(record), "outputs")
    assert [p for _, p, _ in found] == [
        "/outputs/0/alternates/0",
        "/outputs/0/alternates/1",
        "/outputs/1/selected",
    ]
    assert "替补第 1 位不一致" in found[0][2]
    assert found[2][2] == "分层「A010102」记录了 1 名正式，按定义应为 2 名"


def test_missing_output_entry() -> None:
    record = coefficient()
    record["outputs"].pop()
    [(code, path, detail)] = only(verify_record(record), "outputs")
    assert (code, path, detail) == (
        "draws.output_mismatch",
        "/outputs",
        "记录有 2 项抽取结果，按定义应有 3 项",
    )


# --- changed candidates and definitions -----------------------------------------------------


def test_changed_candidate() -> None:
    record = expert()
    ids = record["candidates"]["A010101"]
    drawn = set(record["outputs"][0]["selected"]) | set(record["outputs"][0]["alternates"])
    position = next(j for j, c in enumerate(ids) if c not in drawn)
    ids[position] = ids[position] + "0"  # still sorted: E0004 -> E00040
    [(code, path, detail)] = only(verify_record(record), "definition")
    assert (code, path) == (
        "draws.candidates_hash_mismatch",
        "/definition/strata/0/candidates_hash",
    )
    assert (
        "分层「A010101」的候选名单与定义中的名单哈希不一致" in detail
        and "名单在固定后被改动" in detail
    )


def test_added_candidate_is_caught_by_count_and_hash() -> None:
    record = expert()
    record["candidates"]["A010102"].append("E9999")
    failed = failing(verify_record(record))
    assert set(failed) == {"definition", "outputs"}  # n changed, so the positions differ too
    found = failed["definition"]
    assert {c for c, _, _ in found} == {
        "draws.candidate_count_mismatch",
        "draws.candidates_hash_mismatch",
    }
    assert "记录的候选人数为 7，名单实有 8 人" in found[0][2]


def test_unsorted_and_duplicated_candidates() -> None:
    record = expert()
    ids = record["candidates"]["A010101"]
    ids[0], ids[1] = ids[1], ids[0]
    found = failing(verify_record(record))["definition"]
    assert found[0][:2] == ("draws.candidates_unsorted", "/candidates/A010101/1")
    record = expert()
    record["candidates"]["A010101"][1] = record["candidates"]["A010101"][0]
    found = failing(verify_record(record))["definition"]
    assert found[0][0] == "draws.duplicate" and "候选人 E0001 重复" in found[0][2]


def test_changed_weight_is_caught_by_the_definition_hash() -> None:
    record = coefficient()
    record["definition"]["parameters"][2]["weights"] = [1, 1, 3]
    result = verify_record(record)
    found = failing(result)
    assert found["definition"][0][:2] == ("draws.definition_hash_mismatch", "/definition_hash")
    assert "参数、候选值、权重或名单在固定后被改动" in found["definition"][0][2]
    assert set(found) <= {"definition", "outputs"}


def test_a_stratum_made_too_small_cannot_be_recomputed() -> None:
    record = expert()
    record["definition"]["strata"][1]["count"] = 7
    found = failing(verify_record(record))
    assert ("draws.stratum_short", "/definition/strata/1") in [
        (c, p) for c, p, _ in found["definition"]
    ]
    assert found["outputs"] == [
        ("draws.outputs_not_recomputed", "/outputs", "抽取定义或种子有误，无法重算抽取结果")
    ]


def test_a_rebuilt_forgery_is_only_caught_by_the_published_anchors() -> None:
    """Everything in a record is public, so a forger can recompute every hash after changing
    the list: the record is then self-consistent. What binds it to the real draw is the
    definition hash published when the list was fixed (and the logged record itself)."""
    genuine = DrawRecord.from_json(expert())
    record = expert()
    ids = record["candidates"]["A010101"]
    ids[ids.index(genuine.outputs[0].selected[0])] = "E0000"  # type: ignore[union-attr]
    ids.sort()
    stratum = record["definition"]["strata"][0]
    stratum["candidates_hash"] = candidates_hash("gm", ids).hex()
    record["definition_hash"] = definition_hash("gm", record["definition"]).hex()
    forged = DrawRecord.from_json(record)
    seed = seed_of(
        "gm",
        forged.draw_id,
        forged.purpose,
        forged.definition_hash,
        forged.center,
        forged.bidders,
        forged.supervisor,
        forged.beacon,
    )
    record["seed"] = seed.hex()
    record["outputs"] = [o.to_json() for o in compute_outputs("gm", forged.definition, seed)]
    assert verify_record(record).ok
    result = verify_record(record, published_definition_hash=genuine.definition_hash)
    [(code, path, detail)] = only(result, "definition")
    assert (code, path) == ("draws.definition_hash_mismatch", "/definition_hash")
    assert "不是固定时公布的哈希" in detail
    assert verify_record(genuine, published_definition_hash=genuine.definition_hash).ok


# --- changed contributions ------------------------------------------------------------------


def test_changed_bidder_number() -> None:
    record = coefficient()
    record["contributions"]["bidders"][0]["value"] = "00" * 32
    [(code, path, detail)] = only(verify_record(record), "seed")
    assert (code, path) == ("draws.seed_mismatch", "/seed")
    assert detail.startswith("种子与记录中的贡献值不一致") and detail.endswith("贡献值或种子被改动")


def test_changed_supervisor_value_or_missing_reason() -> None:
    edits: list[Callable[[dict[str, Any]], object]] = [
        lambda r: r["contributions"]["supervisor"].update(value="73912027"),
        lambda r: r["contributions"]["bidders"][2].update(reason="弃权"),
        lambda r: r["contributions"]["bidders"].pop(),
        lambda r: r.update(draw_id="DRAW-OTHER"),
    ]
    for edit in edits:
        record = coefficient()
        edit(record)
        assert only(verify_record(record), "seed")[0][0] == "draws.seed_mismatch"


def test_reordered_bidders_still_verify() -> None:
    record = coefficient()
    record["contributions"]["bidders"].reverse()
    assert verify_record(record).ok


def test_changed_center_value() -> None:
    record = coefficient()
    record["contributions"]["center"]["value"] = "ff" * 32
    found = failing(verify_record(record))
    assert set(found) == {"contributions", "seed"}
    [(code, path, detail)] = found["contributions"]
    assert (code, path) == ("draws.commitment_mismatch", "/contributions/center/value")
    assert "交易中心揭示的随机值与截止前公布的承诺不一致" in detail


def test_commitment_replaced_together_with_the_value() -> None:
    """A consistent (commitment, value, salt) triple differs from the commitment published
    before the deadline."""
    genuine = coefficient()
    published = bytes.fromhex(genuine["contributions"]["center"]["commitment"])
    assert verify_record(genuine, published_commitment=published).ok
    result = verify_record(genuine, published_commitment=bytes(32))
    [(code, path, _)] = only(result, "contributions")
    assert (code, path) == ("draws.commitment_mismatch", "/contributions/center/commitment")


def test_changed_seed() -> None:
    record = coefficient()
    record["seed"] = "00" * 32
    found = failing(verify_record(record))
    assert found["seed"][0][0] == "draws.seed_mismatch"
    assert set(found) <= {"seed", "outputs"}


def test_changed_times() -> None:
    record = coefficient()
    record["contributions"]["center"]["revealed_at"] = "2026-11-23T10:00:00+08:00"
    [(code, path, detail)] = only(verify_record(record), "timeline")
    assert (code, path) == ("draws.timeline", "/contributions/supervisor/entered_at")
    assert detail == (
        "监督人录入随机值的时间 2026-11-23T10:05:00+08:00 晚于交易中心揭示随机值的时间 "
        "2026-11-23T10:00:00+08:00"
    )
    record = coefficient()
    record["deadline"] = "not a time"
    assert only(verify_record(record), "timeline")[0][:2] == ("draws.timestamp", "/deadline")


def test_beacon_removed() -> None:
    record = expert()
    record["contributions"]["beacon"] = None
    found = failing(verify_record(record))
    assert found["contributions"][0][0] == "draws.beacon_mismatch"


# --- malformed records ------------------------------------------------------------------------


MALFORMED: dict[str, tuple[Any, str, str]] = {
    "not json": ("{", "", "不是有效的 JSON 文本"),
    "not an object": ("[]", "", "/ 应为 JSON 对象"),
    "unknown field": (lambda r: r.update(extra=1), "/extra", "是不认识的字段"),
    "missing field": (lambda r: r.pop("seed"), "", "缺少字段「seed」"),
    "other format": (lambda r: r.update(format="x"), "/format", "不是 sunlit-draw 文件"),
    "version 2": (lambda r: r.update(version=2), "/version", "不支持的版本 2"),
    "other algorithm": (lambda r: r.update(algorithm="v0"), "/algorithm", "不支持的抽取算法「v0」"),
    "upper-case hex": (
        lambda r: r.update(seed=r["seed"].upper()),
        "/seed",
        "应为小写十六进制字符串",
    ),
    "float weight": (
        lambda r: r["definition"]["parameters"][2].update(weights=[1, 1, 2.0]),
        "/definition/parameters/2/weights/2",
        "应为整数",
    ),
    "bool index": (lambda r: r["outputs"][0].update(index=True), "/outputs/0/index", "应为整数"),
    "bad status": (
        lambda r: r["contributions"]["bidders"][0].update(status="late"),
        "/contributions/bidders/0/status",
        "应为 revealed 或 missing",
    ),
    "unknown purpose": (
        lambda r: r["definition"].update(purpose="lottery"),
        "/definition/purpose",
        "不支持的抽取用途「lottery」",
    ),
    "candidates in a coefficient record": (
        lambda r: r.update(candidates={}),
        "/candidates",
        "系数抽取的记录不应有候选名单",
    ),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_records_are_reported_with_their_path(case: str) -> None:
    edit, path, text = MALFORMED[case]
    if isinstance(edit, str):
        document: Any = edit
    else:
        document = coefficient()
        edit(document)
    result = verify_record(document)
    assert not result.ok
    [(code, found_path, detail)] = failing(result)["format"]
    assert (code, found_path) == ("draws.format", path) and text in detail, detail
    assert all(c.skipped for c in result.checks[1:])


def test_expert_record_shape_errors() -> None:
    record = expert()
    del record["candidates"]["A010102"]
    [(_, path, detail)] = failing(verify_record(record))["format"]
    assert (path, detail) == ("/candidates/A010102", "缺少分层「A010102」的候选名单")
    record = expert()
    record["candidates"]["ZZ"] = []
    [(_, path, detail)] = failing(verify_record(record))["format"]
    assert path == "/candidates/ZZ" and "不对应抽取定义中的任何分层" in detail
    record = expert()
    record["candidates"]["A010101"][3] = 7
    assert failing(verify_record(record))["format"][0][1] == "/candidates/A010101/3"


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: r["contributions"]["bidders"][0].update(bidder="\ud800"),
        lambda r: r["contributions"]["supervisor"].update(value="\udfff"),
        lambda r: r["definition"]["context"].update({"\ud800": "x"}),
        lambda r: r["definition"]["parameters"][0]["values"].append("\ud800"),
        lambda r: r.update(draw_id="\ud800", seed="00"),
    ],
)
def test_lone_surrogates_are_reported_not_raised(edit: Callable[[dict[str, Any]], object]) -> None:
    record = coefficient()
    edit(record)
    result = verify_record(json.dumps(record))  # JSON escapes carry lone surrogates
    assert not result.ok and "draws.label" in result.codes()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(garbage=JSON)
@PROPERTY_SETTINGS
def test_verify_never_raises_on_garbage(garbage: Any) -> None:
    assert not verify_record({"value": garbage} if not isinstance(garbage, dict) else garbage).ok


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))]
    return [path]


BASE = expert(hashed_ids=True)
BASE_LEAVES = _leaves(BASE)


@given(data=st.data(), replacement=JSON)
@PROPERTY_SETTINGS
def test_any_single_edit_of_a_record_is_detected(data: st.DataObject, replacement: Any) -> None:
    path = data.draw(st.sampled_from(BASE_LEAVES))
    record = copy.deepcopy(BASE)
    node = record
    for key in path[:-1]:
        node = node[key]
    if node[path[-1]] == replacement:
        return
    node[path[-1]] = replacement
    # Informative fields (not hashed) may change without breaking the chain: the supervisor's
    # name and the center's salt-free timestamps; everything else must be caught.
    informative = {("contributions", "supervisor", "entered_by")}
    result = verify_record(record)
    if (
        path in informative
        and isinstance(replacement, str)
        and replacement
        and "\n" not in replacement
    ):
        return
    if path[:3] == ("contributions", "center", "committed_at") or path in {
        ("contributions", "center", "revealed_at"),
        ("contributions", "supervisor", "entered_at"),
        ("contributions", "bidders_closed_at"),
        ("drawn_at",),
        ("deadline",),
    }:
        return  # timestamps are checked for order only (the log anchors them)
    assert not result.ok, (path, replacement)


# --- disclosure -------------------------------------------------------------------------------


def test_complete_and_partial_disclosures() -> None:
    record = DrawRecord.from_json(expert(hashed_ids=True))
    complete = make_disclosure(record, expert_salted_ids("gm"))
    result = verify_record(record, complete)
    assert result.ok and result.disclosure_complete and len(result.disclosed) == 19
    selected = record.outputs[0].selected  # type: ignore[union-attr]
    assert result.disclosed[selected[0]].startswith("E0")
    partial = make_disclosure(record, expert_salted_ids("gm"), outputs_only=True)
    assert len(partial.candidates) == 3 + 2 + 2 + 1
    result = verify_record(record.to_json(), partial.dumps())
    assert result.ok and not result.disclosure_complete


def test_tampered_disclosures() -> None:
    record = DrawRecord.from_json(expert(hashed_ids=True))
    document = make_disclosure(record, expert_salted_ids("gm")).to_json()
    swapped = copy.deepcopy(document)
    swapped["candidates"][0]["id"], swapped["candidates"][1]["id"] = (
        swapped["candidates"][1]["id"],
        swapped["candidates"][0]["id"],
    )
    found = failing(verify_record(record, swapped))["disclosure"]
    assert [c for c, _, _ in found] == ["draws.disclosure_mismatch"] * 2
    assert found[0][1] == "/candidates/0"
    other = copy.deepcopy(document)
    other["seed"] = "00" * 32
    assert failing(verify_record(record, other))["disclosure"][0][0] == "draws.disclosure_record"
    stranger = copy.deepcopy(document)
    salt = bytes(32)
    stranger["candidates"].append(
        {"hashed": hash_candidate_id("gm", "E7777", salt), "id": "E7777", "salt": salt.hex()}
    )
    found = failing(verify_record(record, stranger))["disclosure"]
    assert found == [
        (
            "draws.disclosure_unknown",
            "/candidates/19",
            "候选人 E7777 的匿名编号不在抽取记录的候选名单中",
        )
    ]
    broken = copy.deepcopy(document)
    broken["candidates"][0]["salt"] = "XYZ"
    assert failing(verify_record(record, broken))["disclosure"][0][:2] == (
        "draws.format",
        "/candidates/0/salt",
    )
    plain = expert(hashed_ids=False)
    assert (
        failing(verify_record(plain, document))["disclosure"][0][0] == "draws.disclosure_not_hashed"
    )
    with pytest.raises(DrawRefused):
        make_disclosure(DrawRecord.from_json(plain), [])
    with pytest.raises(DrawRefused) as info:
        make_disclosure(record, [("E7777", salt)])
    assert info.value.code == "draws.disclosure_unknown"


def test_an_expert_listed_twice_is_exposed_by_a_complete_disclosure() -> None:
    """The platform lists a favoured expert under two hashed ids (two salts) to double his
    chances; the draw itself verifies, the complete disclosure does not."""
    from sunlit.draws import Stratum, run_draw, sample_definition

    from .helpers import SUPERVISOR, center

    salts = {f"E{n}": bytes([n]) * 32 for n in range(1, 7)}
    entries = [(c, s) for c, s in salts.items()] + [("E1", bytes([99]) * 32)]
    definition = sample_definition(
        "gm",
        [Stratum("S", [hash_candidate_id("gm", c, s) for c, s in entries], 2)],
        fixed_at="2026-11-23T08:00:00+08:00",
        candidate_ids="hashed",
    )
    record = run_draw(
        suite="gm",
        draw_id="D",
        definition=definition,
        center=center("gm"),
        bidders=[],
        supervisor=SUPERVISOR,
        drawn_at="2026-11-23T10:06:00+08:00",
    )
    assert verify_record(record).ok
    disclosure = make_disclosure(record, entries)
    found = failing(verify_record(record, disclosure))["disclosure"]
    assert [c for c, _, _ in found] == ["draws.disclosure_duplicate"]
    assert "候选人 E1 以两个匿名编号出现在候选名单中" in found[0][2]
    assert not verify_record(record, disclosure).disclosure_complete
    assert isinstance(Disclosure.loads(disclosure.dumps()), Disclosure)
