"""The test vectors of docs/spec/draws.md §9 hold, read from the document itself (so spec and code
cannot drift), recomputed by the engine and by an independent transcription of the spec."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from sunlit.draws import (
    DrawRecord,
    RandomStream,
    commitment,
    definition_hash,
    make_disclosure,
    run_draw,
    seed_preimage,
    stream_block,
    verify_record,
)
from sunlit.draws.engine import TAG_COMMIT, SeedBidder, lp

from . import reference
from .helpers import (
    CENTER_SALT,
    CENTER_VALUE,
    coefficient_inputs,
    expert_inputs,
    expert_salted_ids,
)

SPEC = Path(__file__).resolve().parents[2] / "docs" / "spec" / "draws.md"
BLOCK = re.compile(r"^```json vector=(\S+)\n(.*?)^```$", re.M | re.S)
SUITES = ["gm", "intl"]
KINDS = ["coefficient", "coefficient-steps", "stream", "expert", "expert-disclosure"]


def _vectors() -> dict[str, Any]:
    found = BLOCK.findall(SPEC.read_text(encoding="utf-8"))
    vectors = {name: json.loads(body) for name, body in found}
    assert len(vectors) == len(found), "duplicate vector names in the spec"
    return vectors


VECTORS = _vectors()


def test_the_spec_publishes_every_vector() -> None:
    assert set(VECTORS) == {f"{s}-{k}" for s in SUITES for k in KINDS}


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("kind", ["coefficient", "expert"])
def test_record_vectors_verify_and_match_the_reference(suite: str, kind: str) -> None:
    vector = VECTORS[f"{suite}-{kind}"]
    assert vector["suite"] == suite
    result = verify_record(vector)
    assert result.ok, [str(f) for f in result.findings]
    # An independent transcription of the spec computes the same seed and outputs.
    assert reference.definition_hash(suite, vector["definition"]).hex() == vector["definition_hash"]
    assert reference.recompute(vector) == {"seed": vector["seed"], "outputs": vector["outputs"]}


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("kind", ["coefficient", "expert"])
def test_record_vectors_are_rebuilt_exactly(suite: str, kind: str) -> None:
    vector = VECTORS[f"{suite}-{kind}"]
    # From the documented fixed inputs (tests/draws/helpers.py) ...
    inputs = coefficient_inputs(suite) if kind == "coefficient" else expert_inputs(suite)
    assert inputs.run().to_json() == vector
    # ... and from the inputs found in the record itself.
    parsed = DrawRecord.from_json(vector)
    rebuilt = run_draw(
        suite=parsed.suite,
        draw_id=parsed.draw_id,
        definition=parsed.definition,
        center=parsed.center,
        bidders=list(reversed(parsed.bidders)),
        bidders_closed_at=parsed.bidders_closed_at,
        supervisor=parsed.supervisor,
        beacon=parsed.beacon,
        drawn_at=parsed.drawn_at,
        deadline=parsed.deadline,
    )
    assert rebuilt.to_json() == vector


@pytest.mark.parametrize("suite", SUITES)
def test_intermediate_steps(suite: str) -> None:
    steps = VECTORS[f"{suite}-coefficient-steps"]
    record = DrawRecord.from_json(VECTORS[f"{suite}-coefficient"])
    assert (
        steps["commitment_preimage"] == (lp(TAG_COMMIT) + lp(CENTER_VALUE) + lp(CENTER_SALT)).hex()
    )
    assert steps["commitment"] == commitment(suite, CENTER_VALUE, CENTER_SALT).hex()
    assert steps["commitment"] == record.center.commitment.hex()
    assert reference.commitment(suite, CENTER_VALUE, CENTER_SALT).hex() == steps["commitment"]
    jcs = rfc8785.dumps(record.definition.to_json())
    assert steps["definition_jcs"] == jcs.decode("utf-8")
    assert steps["definition_hash"] == definition_hash(suite, record.definition.to_json()).hex()
    preimage = seed_preimage(
        suite=suite,
        draw_id=record.draw_id,
        purpose=record.purpose,
        definition_digest=bytes.fromhex(steps["definition_hash"]),
        center_value=record.center.value,
        bidders=[SeedBidder(b.bidder, b.value, b.reason) for b in record.bidders],
        supervisor_value=record.supervisor.value,
        beacon=None,
    )
    assert steps["seed_preimage"] == preimage.hex()
    assert reference.seed_preimage(VECTORS[f"{suite}-coefficient"]).hex() == steps["seed_preimage"]
    assert steps["seed"] == reference.H(suite, preimage).hex() == record.seed.hex()


@pytest.mark.parametrize("suite", SUITES)
def test_stream_vectors(suite: str) -> None:
    v = VECTORS[f"{suite}-stream"]
    seed = bytes.fromhex(v["seed"])
    assert v["seed"] == VECTORS[f"{suite}-coefficient"]["seed"]
    assert [stream_block(suite, seed, i).hex() for i in range(3)] == v["blocks"]
    stream = RandomStream(suite, seed)
    assert stream.read(96).hex() == "".join(v["blocks"])
    stream = RandomStream(suite, seed)
    ref = reference.Stream(suite, seed)
    for step in v["randbelow"]:
        assert stream.randbelow(step["n"]) == step["value"] == ref.randbelow(step["n"])
        assert stream.consumed == step["consumed"]
    weighted = RandomStream(suite, seed)
    assert [weighted.choose_weighted(v["weighted"]["weights"]) for _ in range(8)] == v["weighted"][
        "indices"
    ]
    sample = RandomStream(suite, seed)
    assert sample.sample(v["sample"]["n"], v["sample"]["m"]) == v["sample"]["positions"]


@pytest.mark.parametrize("suite", SUITES)
def test_disclosure_vectors(suite: str) -> None:
    record = VECTORS[f"{suite}-expert"]
    disclosure = VECTORS[f"{suite}-expert-disclosure"]
    result = verify_record(record, disclosure)
    assert result.ok, [str(f) for f in result.findings]
    assert result.disclosure_complete
    for entry in disclosure["candidates"]:
        salt = bytes.fromhex(entry["salt"])
        assert reference.hashed_id(suite, entry["id"], salt) == entry["hashed"]
    built = make_disclosure(DrawRecord.from_json(record), expert_salted_ids(suite))
    assert built.to_json() == disclosure
