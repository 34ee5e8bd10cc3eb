"""Running draws: definitions, the center's commitment, the draw itself, disclosures.

A draw goes through three moments; the caller logs what each one produces when it happens:

1. **Definition** — :func:`coefficient_definition` (parameters and candidate values, fixed
   before bidding closes, D1) or :func:`sample_definition` (strata of candidates after 回避
   exclusions, with the counts to draw). Publish :meth:`Definition.digest`. The center commits
   to a secret value with :meth:`CenterSecret.new` and publishes ``commitment``.
2. **Contributions** (D2) — bidders' random numbers revealed at opening (a missing one with its
   reason), then the supervisor's value, then the center's reveal (:meth:`CenterSecret.reveal`),
   optionally the output of the beacon round named in the definition.
3. **Draw** — :func:`run_draw` checks everything, computes the seed and the outputs and
   returns the :class:`DrawRecord` to publish (D3, D4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .checks import (
    check_contributions,
    check_definition,
    check_header,
    check_timeline,
    safe_candidates_hash,
)
from .engine import (
    SALT_SIZE,
    VALUE_SIZE,
    RandomStream,
    SeedBeacon,
    SeedBidder,
    commitment,
    compute_seed,
    hash_candidate_id,
    new_secret,
)
from .errors import DrawRefused, Finding, finding
from .records import (
    BeaconContribution,
    BeaconSpec,
    BidderContribution,
    CenterContribution,
    Definition,
    DisclosedCandidate,
    Disclosure,
    DrawRecord,
    IdMode,
    Outcome,
    Parameter,
    ParameterOutcome,
    StratumDefinition,
    StratumOutcome,
    SupervisorContribution,
    timestamp,
)

__all__ = [
    "CenterSecret",
    "Stratum",
    "coefficient_definition",
    "compute_outputs",
    "make_disclosure",
    "run_draw",
    "sample_definition",
    "seed_of",
]


@dataclass(frozen=True, slots=True)
class CenterSecret:
    """The center's secret value and salt and the commitment to publish before the deadline.

    Keep ``value`` and ``salt`` secret (encrypted at rest) until the draw, after the supervisor
    has entered a value; then :meth:`reveal`.
    """

    value: bytes
    salt: bytes
    commitment: bytes
    committed_at: str

    @classmethod
    def new(cls, suite: str, committed_at: dt.datetime | str) -> CenterSecret:
        """A fresh 32-byte value and salt from ``secrets`` and their commitment."""
        value, salt = new_secret(VALUE_SIZE), new_secret(SALT_SIZE)
        return cls(value, salt, commitment(suite, value, salt), timestamp(committed_at))

    def reveal(self, revealed_at: dt.datetime | str) -> CenterContribution:
        return CenterContribution(
            self.commitment, self.committed_at, self.value, self.salt, timestamp(revealed_at)
        )

    def __repr__(self) -> str:  # never print the secret
        return f"CenterSecret(commitment={self.commitment.hex()}, committed_at={self.committed_at})"


@dataclass(frozen=True, slots=True)
class Stratum:
    """Input of :func:`sample_definition`: one stratum (a specialty…) after exclusions.

    ``candidates`` in any order (they are sorted); ``count`` to draw (正式) and ``alternates``
    (替补, drawn after them, called in order).
    """

    name: str
    candidates: Iterable[str]
    count: int
    alternates: int = 0


def _refuse_if(findings: Sequence[Finding]) -> None:
    if findings:
        raise DrawRefused(findings)


def coefficient_definition(
    parameters: Sequence[Parameter],
    *,
    fixed_at: dt.datetime | str,
    context: Mapping[str, str] | None = None,
    beacon: BeaconSpec | None = None,
) -> Definition:
    """The definition of a coefficient draw; raises :class:`DrawRefused` if it is invalid."""
    definition = Definition(
        purpose="coefficient",
        fixed_at=timestamp(fixed_at),
        context=dict(context or {}),
        beacon=beacon,
        parameters=tuple(parameters),
    )
    _refuse_if(check_definition("gm", definition))  # the suite plays no part here
    return definition


def sample_definition(
    suite: str,
    strata: Sequence[Stratum],
    *,
    fixed_at: dt.datetime | str,
    purpose: Literal["expert", "shortlist"] = "expert",
    candidate_ids: IdMode = "plain",
    context: Mapping[str, str] | None = None,
    beacon: BeaconSpec | None = None,
) -> Definition:
    """The definition of an expert (or shortlist) draw over post-exclusion candidate lists.

    Each stratum's candidates are sorted by code point (= UTF-8 byte order) and hashed. Refuses
    (:class:`DrawRefused`) malformed or duplicate ids, an id in two strata, and any stratum with
    fewer candidates than ``count + alternates`` (naming the stratum and the shortfall).
    """
    _refuse_if(check_header(suite, "-"))
    built = []
    for s in strata:
        ordered = tuple(sorted(s.candidates))
        digest = safe_candidates_hash(suite, ordered)
        built.append(
            StratumDefinition(s.name, s.count, s.alternates, len(ordered), digest, ordered)
        )
    definition = Definition(
        purpose=purpose,
        fixed_at=timestamp(fixed_at),
        context=dict(context or {}),
        beacon=beacon,
        candidate_ids=candidate_ids,
        strata=tuple(built),
    )
    _refuse_if(check_definition(suite, definition))
    return definition


def run_draw(
    *,
    suite: str,
    draw_id: str,
    definition: Definition,
    center: CenterContribution,
    bidders: Sequence[BidderContribution],
    bidders_closed_at: dt.datetime | str | None = None,
    supervisor: SupervisorContribution,
    beacon: BeaconContribution | None = None,
    drawn_at: dt.datetime | str,
    deadline: dt.datetime | str | None = None,
) -> DrawRecord:
    """Check definition, contributions and timeline, then compute the seed and the outputs.

    ``bidders_closed_at`` is when the bidders' contributions were closed (every number revealed
    or declared missing); it is required when there are bidders and must precede the
    supervisor's value, so that no one can declare a number missing once the other values are
    known. Raises :class:`DrawRefused` listing every problem (a reveal that does not open the
    commitment, a stratum too small, events out of order…); nothing is drawn then. Bidders are
    recorded sorted by id, as they enter the seed.
    """
    record_deadline = None if deadline is None else timestamp(deadline)
    closed_at = None if bidders_closed_at is None else timestamp(bidders_closed_at)
    record_drawn_at = timestamp(drawn_at)
    _refuse_if(check_header(suite, draw_id))
    _refuse_if(
        check_definition(suite, definition)
        + check_contributions(suite, definition, center, bidders, supervisor, beacon)
        + check_timeline(
            definition, record_deadline, center, bidders, closed_at, supervisor, record_drawn_at
        )
    )
    digest = definition.digest(suite)
    ordered = tuple(sorted(bidders, key=lambda b: b.bidder.encode("utf-8")))
    seed = seed_of(suite, draw_id, definition.purpose, digest, center, ordered, supervisor, beacon)
    return DrawRecord(
        suite=suite,
        draw_id=draw_id,
        deadline=record_deadline,
        definition=definition,
        definition_hash=digest,
        center=center,
        bidders=ordered,
        bidders_closed_at=closed_at,
        supervisor=supervisor,
        beacon=beacon,
        seed=seed,
        drawn_at=record_drawn_at,
        outputs=compute_outputs(suite, definition, seed),
    )


def seed_of(
    suite: str,
    draw_id: str,
    purpose: str,
    definition_digest: bytes,
    center: CenterContribution,
    bidders: Iterable[BidderContribution],
    supervisor: SupervisorContribution,
    beacon: BeaconContribution | None,
) -> bytes:
    """The seed from the parts of a draw (see :func:`sunlit.draws.engine.seed_preimage`)."""
    return compute_seed(
        suite=suite,
        draw_id=draw_id,
        purpose=purpose,
        definition_digest=definition_digest,
        center_value=center.value,
        bidders=[SeedBidder(b.bidder, b.value, b.reason) for b in bidders],
        supervisor_value=supervisor.value,
        beacon=None if beacon is None else SeedBeacon(beacon.source, beacon.round, beacon.value),
    )


def compute_outputs(suite: str, definition: Definition, seed: bytes) -> tuple[Outcome, ...]:
    """Draw from the stream of ``seed``, parameters or strata in definition order.

    A parameter takes ``randbelow(len(values))``, or ``choose_weighted(weights)`` when it has
    weights; a stratum takes ``sample(n, count + alternates)`` positions in its sorted list,
    the first ``count`` selected and the rest alternates. The definition must be valid.
    """
    stream = RandomStream(suite, seed)
    outcomes: list[Outcome] = []
    if not definition.is_sample:
        for p in definition.parameters:
            if p.weights is None:
                index = stream.randbelow(len(p.values))
            else:
                index = stream.choose_weighted(p.weights)
            outcomes.append(ParameterOutcome(p.name, index, p.values[index]))
        return tuple(outcomes)
    for s in definition.strata:
        picks = [s.candidates[i] for i in stream.sample(len(s.candidates), s.count + s.alternates)]
        outcomes.append(StratumOutcome(s.name, tuple(picks[: s.count]), tuple(picks[s.count :])))
    return tuple(outcomes)


def make_disclosure(
    record: DrawRecord,
    salted_ids: Iterable[tuple[str, bytes]],
    *,
    outputs_only: bool = False,
) -> Disclosure:
    """The disclosure of a confidential draw from the platform's ``(id, salt)`` pairs.

    By default every pair is disclosed (so anyone can check that no expert was listed twice
    under two hashed ids); with ``outputs_only`` only the drawn candidates. A pair whose hash is
    not in the record is refused.
    """
    if record.definition.candidate_ids != "hashed":
        raise DrawRefused(
            [finding("draws.disclosure_not_hashed", "该抽取未使用匿名编号，无需披露")]
        )
    listed = {c for s in record.definition.strata for c in s.candidates}
    drawn = {
        c
        for o in record.outputs
        if isinstance(o, StratumOutcome)
        for c in (*o.selected, *o.alternates)
    }
    entries = []
    for candidate, salt in salted_ids:
        hashed = hash_candidate_id(record.suite, candidate, salt)
        if hashed not in listed:
            raise DrawRefused(
                [
                    finding(
                        "draws.disclosure_unknown",
                        "候选人 {id} 的匿名编号不在抽取记录的候选名单中",
                        id=candidate,
                    )
                ]
            )
        if not outputs_only or hashed in drawn:
            entries.append(DisclosedCandidate(hashed, candidate, salt))
    entries.sort(key=lambda e: e.hashed)
    return Disclosure(record.suite, record.draw_id, record.seed, tuple(entries))
