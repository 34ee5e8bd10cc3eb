"""Publicly verifiable random draws (随机抽取): coefficients, experts, shortlists.

Quick tour (DESIGN.md D1–D4; the algorithm is specified in ``docs/spec/draws.md``)::

    from sunlit.draws import (BidderContribution, CenterSecret, Parameter,
                              SupervisorContribution, coefficient_definition, run_draw,
                              verify_record)

    # Before the bid deadline: fix the candidates, commit the center's value; log both.
    definition = coefficient_definition(
        [Parameter.of("K", ["0.95", "0.96", "0.97", "0.98"]),
         Parameter.of("下浮率", ["12%", "14%", "16%"], weights=[1, 2, 1])],
        fixed_at=clock.now())
    center = CenterSecret.new("gm", committed_at=clock.now())   # publish center.commitment

    # At the draw: bidders' numbers (revealed at opening, the list closed at bidders_closed_at),
    # then the supervisor's value, then the center's reveal.
    record = run_draw(
        suite="gm", draw_id="…", definition=definition,
        center=center.reveal(clock.now()),
        bidders=[BidderContribution("9135…", number),
                 BidderContribution.missing("9144…", "投标文件解密失败")],
        bidders_closed_at=closed_at,
        supervisor=SupervisorContribution.of("20261123", "监督 张三", entered_at),
        drawn_at=clock.now(), deadline=deadline)
    record.outputs          # (ParameterOutcome("K", 2, "0.97"), …)
    record.to_json()        # publish and log; anyone runs `sunlit draw verify RECORD.json`
    assert verify_record(record.to_json()).ok

Expert draws: :func:`sample_definition` with one :class:`Stratum` per specialty (candidates
after 回避 exclusions, ``count`` + ``alternates``), ``candidate_ids="hashed"`` with ids hashed by
:func:`conceal_candidates` (salts derived from one secret key per draw), then
:func:`make_disclosure` when evaluation starts.

This package is pure: no database, no clock, no I/O; the opening and expert domains persist
records and gather contributions. It never uses Python's ``random``.
"""

from __future__ import annotations

from .draw import (
    CenterSecret,
    Stratum,
    coefficient_definition,
    compute_outputs,
    make_disclosure,
    run_draw,
    sample_definition,
)
from .engine import (
    ALGORITHM,
    RandomStream,
    candidates_hash,
    commitment,
    commitment_matches,
    compute_seed,
    conceal_candidates,
    definition_hash,
    derive_candidate_salt,
    hash_candidate_id,
    new_secret,
    seed_preimage,
    stream_block,
)
from .errors import DrawRefused, Finding, RecordFormatError
from .records import (
    FORMAT,
    VERSION,
    BeaconContribution,
    BeaconSpec,
    BidderContribution,
    CenterContribution,
    Definition,
    DisclosedCandidate,
    Disclosure,
    DrawRecord,
    Parameter,
    ParameterOutcome,
    StratumDefinition,
    StratumOutcome,
    SupervisorContribution,
)
from .verify import CheckResult, VerificationResult, verify_record

__all__ = [
    "ALGORITHM",
    "FORMAT",
    "VERSION",
    "BeaconContribution",
    "BeaconSpec",
    "BidderContribution",
    "CenterContribution",
    "CenterSecret",
    "CheckResult",
    "Definition",
    "DisclosedCandidate",
    "Disclosure",
    "DrawRecord",
    "DrawRefused",
    "Finding",
    "Parameter",
    "ParameterOutcome",
    "RandomStream",
    "RecordFormatError",
    "Stratum",
    "StratumDefinition",
    "StratumOutcome",
    "SupervisorContribution",
    "VerificationResult",
    "candidates_hash",
    "coefficient_definition",
    "commitment",
    "commitment_matches",
    "compute_outputs",
    "compute_seed",
    "conceal_candidates",
    "definition_hash",
    "derive_candidate_salt",
    "hash_candidate_id",
    "make_disclosure",
    "new_secret",
    "run_draw",
    "sample_definition",
    "seed_preimage",
    "stream_block",
    "verify_record",
]
