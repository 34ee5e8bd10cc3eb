"""The draw record format ``sunlit-draw`` version 1: data classes and strict JSON codec.

A record holds everything needed to recompute a draw offline (``docs/spec/draws.md`` §6):

* the **definition** (what is drawn, fixed beforehand, D1) and its hash: parameters with their
  candidate values and integer weights (coefficient draws), or strata with counts and the hash
  of their candidate lists (expert and shortlist draws; the lists are in ``candidates``);
* the **contributions** (D2): the center's commitment and reveal, each bidder's random number
  or the explicit reason it is missing, the supervisor's value, an optional beacon output;
* the **seed** and the **outputs**.

:meth:`DrawRecord.to_json` and :meth:`DrawRecord.from_json` round-trip exactly; parsing is
strict (unknown or missing fields are refused with a JSON Pointer to the problem) and checks
shape only: content is checked by :mod:`sunlit.draws.checks` and :mod:`sunlit.draws.verify`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from math import lcm
from typing import Any, Final, Literal, TypeAlias, cast, get_args

from .engine import ALGORITHM, definition_hash
from .errors import RecordFormatError

__all__ = [
    "DISCLOSURE_FORMAT",
    "FORMAT",
    "ID_MODES",
    "PURPOSES",
    "PURPOSE_LABELS",
    "VERSION",
    "BeaconContribution",
    "BeaconSpec",
    "BidderContribution",
    "CenterContribution",
    "Definition",
    "DisclosedCandidate",
    "Disclosure",
    "DrawRecord",
    "IdMode",
    "Outcome",
    "Parameter",
    "ParameterOutcome",
    "Purpose",
    "StratumDefinition",
    "StratumOutcome",
    "SupervisorContribution",
    "json_pointer",
    "timestamp",
]

FORMAT: Final = "sunlit-draw"
DISCLOSURE_FORMAT: Final = "sunlit-draw-disclosure"
VERSION: Final = 1

Purpose: TypeAlias = Literal["coefficient", "expert", "shortlist"]
IdMode: TypeAlias = Literal["plain", "hashed"]
PURPOSES: Final[tuple[str, ...]] = get_args(Purpose)
ID_MODES: Final[tuple[str, ...]] = get_args(IdMode)
PURPOSE_LABELS: Final[Mapping[str, str]] = {
    "coefficient": "系数抽取",
    "expert": "专家抽取",
    "shortlist": "入围抽取",
}

_HEX: Final = re.compile(r"(?:[0-9a-f]{2})*")


def timestamp(value: dt.datetime | str) -> str:
    """A record timestamp: ISO 8601 with its UTC offset (``2026-11-23T09:30:00+08:00``).

    Strings are kept as given (they are checked when the draw runs); datetimes must be aware.
    """
    if isinstance(value, str):
        return value
    if value.utcoffset() is None:
        raise ValueError("draw timestamps must be timezone-aware")
    return value.isoformat()


def json_pointer(*tokens: str | int) -> str:
    """An RFC 6901 JSON Pointer from its reference tokens (``~`` and ``/`` escaped)."""
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


# --------------------------------------------------------------------------------------------
# Definition
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BeaconSpec:
    """A public randomness beacon round named in the definition (fixed before the draw)."""

    source: str
    round: str

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "round": self.round}


@dataclass(frozen=True, slots=True)
class Parameter:
    """One drawn parameter of an evaluation method (K 值, 下浮率, 权重…) and its candidates.

    ``values`` are strings (``"0.95"``, ``"12%"``): no float ever enters a draw. ``weights``
    are positive integers (relative probabilities), ``None`` meaning equally likely.
    """

    name: str
    values: tuple[str, ...]
    weights: tuple[int, ...] | None = None

    @classmethod
    def of(
        cls,
        name: str,
        values: Iterable[str | int | Decimal],
        weights: Iterable[int | Fraction] | None = None,
    ) -> Parameter:
        """From convenient types: ``Decimal``/``int`` values become their decimal strings;
        rational weights (``Fraction``, e.g. probabilities ``1/6``) are scaled to the smallest
        integers with the same ratios. Floats are refused."""
        texts = tuple(_value_text(v) for v in values)
        if weights is None:
            return cls(name, texts, None)
        given = tuple(weights)
        if any(isinstance(w, bool) or not isinstance(w, int | Fraction) for w in given):
            raise TypeError("weights must be int or Fraction (never float)")
        if all(isinstance(w, int) for w in given):
            return cls(name, texts, tuple(int(w) for w in given))
        fractions = [Fraction(w) for w in given]
        scale = lcm(*(f.denominator for f in fractions))
        return cls(name, texts, tuple(int(f * scale) for f in fractions))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "values": list(self.values),
            "weights": None if self.weights is None else list(self.weights),
        }


def _value_text(value: str | int | Decimal) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError("parameter values must be str, int or Decimal (never float)")
    return str(value)


@dataclass(frozen=True, slots=True)
class StratumDefinition:
    """A stratum as recorded: counts to draw, its sorted candidate list and the list's hash."""

    name: str
    count: int
    alternates: int
    candidate_count: int
    candidates_hash: bytes
    candidates: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The stratum as it appears in the definition (the list itself is not in it)."""
        return {
            "name": self.name,
            "count": self.count,
            "alternates": self.alternates,
            "candidate_count": self.candidate_count,
            "candidates_hash": self.candidates_hash.hex(),
        }


@dataclass(frozen=True, slots=True)
class Definition:
    """What is drawn, fixed before the draw; its JSON (:meth:`to_json`) is what is hashed.

    Coefficient draws use ``parameters``; expert and shortlist draws use ``strata`` and
    ``candidate_ids`` (``"plain"`` ids or ``"hashed"`` salted hashes of ids). ``context`` holds
    free strings fixed with it (project and section codes…).
    """

    purpose: Purpose
    fixed_at: str
    context: Mapping[str, str] = field(default_factory=dict)
    beacon: BeaconSpec | None = None
    parameters: tuple[Parameter, ...] = ()
    candidate_ids: IdMode = "plain"
    strata: tuple[StratumDefinition, ...] = ()

    @property
    def is_sample(self) -> bool:
        """Whether candidates are sampled from strata (expert, shortlist) rather than values
        chosen for parameters (coefficient)."""
        return self.purpose != "coefficient"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "purpose": self.purpose,
            "fixed_at": self.fixed_at,
            "context": dict(self.context),
            "beacon": None if self.beacon is None else self.beacon.to_json(),
        }
        if self.is_sample:
            out["candidate_ids"] = self.candidate_ids
            out["strata"] = [s.to_json() for s in self.strata]
        else:
            out["parameters"] = [p.to_json() for p in self.parameters]
        return out

    def digest(self, suite: str) -> bytes:
        """The definition hash: publish (log) it when the definition is fixed."""
        return definition_hash(suite, self.to_json())


# --------------------------------------------------------------------------------------------
# Contributions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CenterContribution:
    """The trading center's value: committed before the deadline, revealed at the draw."""

    commitment: bytes
    committed_at: str
    value: bytes
    salt: bytes
    revealed_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "commitment": self.commitment.hex(),
            "committed_at": self.committed_at,
            "value": self.value.hex(),
            "salt": self.salt.hex(),
            "revealed_at": self.revealed_at,
        }


@dataclass(frozen=True, slots=True)
class BidderContribution:
    """A bidder's 32-byte random number from its sealed bid, or ``None`` with the reason it is
    missing (e.g. 投标文件解密失败). ``bidder`` is the opening domain's stable bidder id."""

    bidder: str
    value: bytes | None
    reason: str = ""

    @classmethod
    def missing(cls, bidder: str, reason: str) -> BidderContribution:
        return cls(bidder, None, reason)

    def to_json(self) -> dict[str, Any]:
        if self.value is None:
            return {"bidder": self.bidder, "status": "missing", "reason": self.reason}
        return {"bidder": self.bidder, "status": "revealed", "value": self.value.hex()}


@dataclass(frozen=True, slots=True)
class SupervisorContribution:
    """The supervisor's value: text typed at the draw, used as its UTF-8 bytes."""

    value: str
    entered_by: str
    entered_at: str

    @classmethod
    def of(
        cls, value: str, entered_by: str, entered_at: dt.datetime | str
    ) -> SupervisorContribution:
        return cls(value, entered_by, timestamp(entered_at))

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "entered_by": self.entered_by, "entered_at": self.entered_at}


@dataclass(frozen=True, slots=True)
class BeaconContribution:
    """The output of the beacon round named in the definition."""

    source: str
    round: str
    value: bytes

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "round": self.round, "value": self.value.hex()}


# --------------------------------------------------------------------------------------------
# Outputs and the record
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParameterOutcome:
    """The value drawn for one parameter; ``index`` points into its ``values``."""

    name: str
    index: int
    value: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "index": self.index, "value": self.value}


@dataclass(frozen=True, slots=True)
class StratumOutcome:
    """Candidates drawn from one stratum: ``selected`` (正式) then ``alternates`` (替补, to be
    called in this order), each in draw order."""

    stratum: str
    selected: tuple[str, ...]
    alternates: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "stratum": self.stratum,
            "selected": list(self.selected),
            "alternates": list(self.alternates),
        }


Outcome: TypeAlias = ParameterOutcome | StratumOutcome


@dataclass(frozen=True, slots=True)
class DrawRecord:
    """A complete, self-verifying draw record. Build one with :func:`sunlit.draws.run_draw`."""

    suite: str
    draw_id: str
    deadline: str | None
    definition: Definition
    definition_hash: bytes
    center: CenterContribution
    bidders: tuple[BidderContribution, ...]
    bidders_closed_at: str | None
    supervisor: SupervisorContribution
    beacon: BeaconContribution | None
    seed: bytes
    drawn_at: str
    outputs: tuple[Outcome, ...]

    @property
    def purpose(self) -> Purpose:
        return self.definition.purpose

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "algorithm": ALGORITHM,
            "suite": self.suite,
            "draw_id": self.draw_id,
            "deadline": self.deadline,
            "definition": self.definition.to_json(),
            "definition_hash": self.definition_hash.hex(),
        }
        if self.definition.is_sample:
            out["candidates"] = {s.name: list(s.candidates) for s in self.definition.strata}
        out["contributions"] = {
            "center": self.center.to_json(),
            "bidders": [b.to_json() for b in self.bidders],
            "bidders_closed_at": self.bidders_closed_at,
            "supervisor": self.supervisor.to_json(),
            "beacon": None if self.beacon is None else self.beacon.to_json(),
        }
        out["seed"] = self.seed.hex()
        out["drawn_at"] = self.drawn_at
        out["outputs"] = [o.to_json() for o in self.outputs]
        return out

    def dumps(self) -> str:
        """The record as JSON text (UTF-8, indented, Chinese kept readable)."""
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, document: Any) -> DrawRecord:
        """Parse strictly; raises :class:`RecordFormatError` naming the first problem."""
        return _parse_record(document)

    @classmethod
    def loads(cls, text: str | bytes) -> DrawRecord:
        return cls.from_json(_load_json(text))


@dataclass(frozen=True, slots=True)
class DisclosedCandidate:
    """The id behind one hashed candidate id, with its salt."""

    hashed: str
    candidate: str
    salt: bytes

    def to_json(self) -> dict[str, Any]:
        return {"hashed": self.hashed, "id": self.candidate, "salt": self.salt.hex()}


@dataclass(frozen=True, slots=True)
class Disclosure:
    """The salts of a confidential draw, published when evaluation starts (D4)."""

    suite: str
    draw_id: str
    seed: bytes
    candidates: tuple[DisclosedCandidate, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": DISCLOSURE_FORMAT,
            "version": VERSION,
            "suite": self.suite,
            "draw_id": self.draw_id,
            "seed": self.seed.hex(),
            "candidates": [c.to_json() for c in self.candidates],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, document: Any) -> Disclosure:
        return _parse_disclosure(document)

    @classmethod
    def loads(cls, text: str | bytes) -> Disclosure:
        return cls.from_json(_load_json(text))


# --------------------------------------------------------------------------------------------
# Strict parsing (shape only)
# --------------------------------------------------------------------------------------------


def _load_json(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecordFormatError("", "不是有效的 JSON 文本：{error}", error=str(exc)[:80]) from None


def _fail(path: str, message: str, **params: Any) -> RecordFormatError:
    return RecordFormatError(path, message, where=path or "/", **params)


class _Obj:
    """A JSON object read strictly: exactly the ``keys`` given, all present."""

    def __init__(self, value: Any, path: str, keys: Sequence[str]) -> None:
        if not isinstance(value, dict):
            raise _fail(path, "{where} 应为 JSON 对象")
        for key in keys:
            if key not in value:
                raise _fail(path, "{where} 缺少字段「{key}」", key=key)
        for key in value:
            if key not in keys:
                raise _fail(f"{path}{json_pointer(key)}", "{where} 是不认识的字段")
        self.value: dict[str, Any] = value
        self.path = path

    def at(self, key: str) -> str:
        return self.path + json_pointer(key)

    def raw(self, key: str) -> Any:
        return self.value[key]

    def text(self, key: str) -> str:
        return _text(self.value[key], self.at(key))

    def optional_text(self, key: str) -> str | None:
        return None if self.value[key] is None else self.text(key)

    def integer(self, key: str) -> int:
        return _integer(self.value[key], self.at(key))

    def hex(self, key: str) -> bytes:
        return _hex(self.value[key], self.at(key))

    def array(self, key: str) -> list[Any]:
        return _array(self.value[key], self.at(key))

    def obj(self, key: str, keys: Sequence[str]) -> _Obj:
        return _Obj(self.value[key], self.at(key), keys)


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _fail(path, "{where} 应为字符串")
    return value


def _integer(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, "{where} 应为整数")
    return value


def _array(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, "{where} 应为数组")
    return value


def _hex(value: Any, path: str) -> bytes:
    if not (isinstance(value, str) and _HEX.fullmatch(value)):
        raise _fail(path, "{where} 应为小写十六进制字符串")
    return bytes.fromhex(value)


def _texts(values: list[Any], path: str) -> tuple[str, ...]:
    if all(isinstance(v, str) for v in values):
        return tuple(values)
    position = next(j for j, v in enumerate(values) if not isinstance(v, str))
    raise _fail(f"{path}/{position}", "{where} 应为字符串")


def _check_header(doc: _Obj, expected_format: str) -> str:
    if doc.raw("format") != expected_format:
        raise _fail("/format", "不是 {expected} 文件", expected=expected_format)
    if doc.raw("version") != VERSION:
        raise _fail(
            "/version",
            "不支持的版本 {version}（本程序支持版本 {supported}）",
            version=str(doc.raw("version"))[:20],
            supported=VERSION,
        )
    return doc.text("suite")


_RECORD_KEYS: Final = (
    "format",
    "version",
    "algorithm",
    "suite",
    "draw_id",
    "deadline",
    "definition",
    "definition_hash",
    "contributions",
    "seed",
    "drawn_at",
    "outputs",
)


def _parse_record(document: Any) -> DrawRecord:
    sample = isinstance(document, dict) and "candidates" in document
    doc = _Obj(document, "", (*_RECORD_KEYS, "candidates") if sample else _RECORD_KEYS)
    suite = _check_header(doc, FORMAT)
    if doc.raw("algorithm") != ALGORITHM:
        raise _fail(
            "/algorithm",
            "不支持的抽取算法「{algorithm}」（本程序实现 {supported}）",
            algorithm=str(doc.raw("algorithm"))[:40],
            supported=ALGORITHM,
        )
    definition = _parse_definition(doc.raw("definition"), doc.value.get("candidates"))
    contributions = doc.obj(
        "contributions", ("center", "bidders", "bidders_closed_at", "supervisor", "beacon")
    )
    c = contributions.obj("center", ("commitment", "committed_at", "value", "salt", "revealed_at"))
    center = CenterContribution(
        c.hex("commitment"),
        c.text("committed_at"),
        c.hex("value"),
        c.hex("salt"),
        c.text("revealed_at"),
    )
    bidders = tuple(
        _parse_bidder(b, f"/contributions/bidders/{i}")
        for i, b in enumerate(contributions.array("bidders"))
    )
    s = contributions.obj("supervisor", ("value", "entered_by", "entered_at"))
    supervisor = SupervisorContribution(s.text("value"), s.text("entered_by"), s.text("entered_at"))
    beacon = None
    if contributions.raw("beacon") is not None:
        b = contributions.obj("beacon", ("source", "round", "value"))
        beacon = BeaconContribution(b.text("source"), b.text("round"), b.hex("value"))
    outputs = tuple(
        _parse_outcome(o, f"/outputs/{i}", definition.is_sample)
        for i, o in enumerate(doc.array("outputs"))
    )
    return DrawRecord(
        suite=suite,
        draw_id=doc.text("draw_id"),
        deadline=doc.optional_text("deadline"),
        definition=definition,
        definition_hash=doc.hex("definition_hash"),
        center=center,
        bidders=bidders,
        bidders_closed_at=contributions.optional_text("bidders_closed_at"),
        supervisor=supervisor,
        beacon=beacon,
        seed=doc.hex("seed"),
        drawn_at=doc.text("drawn_at"),
        outputs=outputs,
    )


_COMMON_DEFINITION_KEYS: Final = ("purpose", "fixed_at", "context", "beacon")


def _parse_definition(value: Any, candidates: Any) -> Definition:
    purpose = value.get("purpose") if isinstance(value, dict) else None
    if purpose == "coefficient":
        d = _Obj(value, "/definition", (*_COMMON_DEFINITION_KEYS, "parameters"))
        if candidates is not None:
            raise _fail("/candidates", "系数抽取的记录不应有候选名单")
    elif purpose in ("expert", "shortlist"):
        d = _Obj(value, "/definition", (*_COMMON_DEFINITION_KEYS, "candidate_ids", "strata"))
    else:
        raise _fail(
            "/definition/purpose",
            "不支持的抽取用途「{purpose}」（应为 coefficient、expert 或 shortlist）",
            purpose=str(purpose)[:40],
        )
    context_raw = d.raw("context")
    if not isinstance(context_raw, dict):
        raise _fail(d.at("context"), "{where} 应为 JSON 对象")
    context = {k: _text(v, d.at("context") + json_pointer(k)) for k, v in context_raw.items()}
    spec = None
    if d.raw("beacon") is not None:
        b = d.obj("beacon", ("source", "round"))
        spec = BeaconSpec(b.text("source"), b.text("round"))
    if purpose == "coefficient":
        parameters = tuple(
            _parse_parameter(p, f"/definition/parameters/{i}")
            for i, p in enumerate(d.array("parameters"))
        )
        return Definition("coefficient", d.text("fixed_at"), context, spec, parameters)
    mode = d.text("candidate_ids")
    if mode not in ID_MODES:
        raise _fail(
            d.at("candidate_ids"),
            "候选编号方式「{mode}」不受支持（应为 plain 或 hashed）",
            mode=mode[:20],
        )
    if not isinstance(candidates, dict):
        raise _fail("/candidates", "专家或入围抽取的记录缺少候选名单（candidates 对象）")
    strata = tuple(
        _parse_stratum(raw, f"/definition/strata/{i}", candidates)
        for i, raw in enumerate(d.array("strata"))
    )
    names = {s.name for s in strata}
    for name in candidates:
        if name not in names:
            raise _fail(json_pointer("candidates", name), "该候选名单不对应抽取定义中的任何分层")
    return Definition(
        cast(Purpose, purpose),
        d.text("fixed_at"),
        context,
        spec,
        candidate_ids=cast(IdMode, mode),
        strata=strata,
    )


def _parse_stratum(value: Any, path: str, candidates: dict[str, Any]) -> StratumDefinition:
    s = _Obj(value, path, ("name", "count", "alternates", "candidate_count", "candidates_hash"))
    name = s.text("name")
    where = json_pointer("candidates", name)
    if name not in candidates:
        raise _fail(where, "缺少分层「{name}」的候选名单", name=name[:40])
    return StratumDefinition(
        name=name,
        count=s.integer("count"),
        alternates=s.integer("alternates"),
        candidate_count=s.integer("candidate_count"),
        candidates_hash=s.hex("candidates_hash"),
        candidates=_texts(_array(candidates[name], where), where),
    )


def _parse_parameter(value: Any, path: str) -> Parameter:
    p = _Obj(value, path, ("name", "values", "weights"))
    values = _texts(p.array("values"), p.at("values"))
    weights = None
    if p.raw("weights") is not None:
        weights = tuple(
            _integer(w, f"{path}/weights/{k}") for k, w in enumerate(p.array("weights"))
        )
    return Parameter(p.text("name"), values, weights)


def _parse_bidder(value: Any, path: str) -> BidderContribution:
    status = value.get("status") if isinstance(value, dict) else None
    if status == "revealed":
        b = _Obj(value, path, ("bidder", "status", "value"))
        return BidderContribution(b.text("bidder"), b.hex("value"))
    if status == "missing":
        b = _Obj(value, path, ("bidder", "status", "reason"))
        return BidderContribution(b.text("bidder"), None, b.text("reason"))
    raise _fail(f"{path}/status", "{where} 应为 revealed 或 missing")


def _parse_outcome(value: Any, path: str, sample: bool) -> Outcome:
    if sample:
        o = _Obj(value, path, ("stratum", "selected", "alternates"))
        return StratumOutcome(
            o.text("stratum"),
            _texts(o.array("selected"), o.at("selected")),
            _texts(o.array("alternates"), o.at("alternates")),
        )
    o = _Obj(value, path, ("name", "index", "value"))
    return ParameterOutcome(o.text("name"), o.integer("index"), o.text("value"))


def _parse_disclosure(document: Any) -> Disclosure:
    doc = _Obj(document, "", ("format", "version", "suite", "draw_id", "seed", "candidates"))
    suite = _check_header(doc, DISCLOSURE_FORMAT)
    entries = []
    for i, raw in enumerate(doc.array("candidates")):
        e = _Obj(raw, f"/candidates/{i}", ("hashed", "id", "salt"))
        entries.append(DisclosedCandidate(e.text("hashed"), e.text("id"), e.hex("salt")))
    return Disclosure(suite, doc.text("draw_id"), doc.hex("seed"), tuple(entries))
