"""The test-vector blocks of docs/spec/draws.md §9.

    python -m tests.draws.make_vectors           # print them
    python -m tests.draws.make_vectors --write   # replace them in the spec

The spec is the source of truth once published: ``test_spec_vectors.py`` recomputes every block
from its inputs. Run this only when the algorithm version changes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import rfc8785

from sunlit.draws import RandomStream, make_disclosure, seed_preimage, stream_block
from sunlit.draws.engine import TAG_COMMIT, SeedBidder, lp

from .helpers import CENTER_SALT, CENTER_VALUE, coefficient_inputs, expert_inputs, expert_salted_ids

RANDBELOW_NS = (1, 2, 3, 7, 10, 100, 1000, 65537, 3 * 2**30, 2**52 + 1)
WEIGHTS = (1, 2, 3, 7)
SAMPLE = (12, 5)


def stream_vector(suite: str, seed: bytes) -> dict[str, Any]:
    stream = RandomStream(suite, seed)
    draws = []
    for n in RANDBELOW_NS:
        value = stream.randbelow(n)
        draws.append({"n": n, "value": value, "consumed": stream.consumed})
    weighted = RandomStream(suite, seed)
    sample = RandomStream(suite, seed)
    return {
        "suite": suite,
        "seed": seed.hex(),
        "blocks": [stream_block(suite, seed, i).hex() for i in range(3)],
        "randbelow": draws,
        "weighted": {
            "weights": list(WEIGHTS),
            "indices": [weighted.choose_weighted(WEIGHTS) for _ in range(8)],
        },
        "sample": {"n": SAMPLE[0], "m": SAMPLE[1], "positions": sample.sample(*SAMPLE)},
    }


def steps_vector(suite: str) -> dict[str, Any]:
    inputs = coefficient_inputs(suite)
    record = inputs.run()
    preimage = seed_preimage(
        suite=suite,
        draw_id=record.draw_id,
        purpose=record.purpose,
        definition_digest=record.definition_hash,
        center_value=record.center.value,
        bidders=[SeedBidder(b.bidder, b.value, b.reason) for b in record.bidders],
        supervisor_value=record.supervisor.value,
        beacon=None,
    )
    return {
        "commitment_preimage": (lp(TAG_COMMIT) + lp(CENTER_VALUE) + lp(CENTER_SALT)).hex(),
        "commitment": record.center.commitment.hex(),
        "definition_jcs": rfc8785.dumps(record.definition.to_json()).decode("utf-8"),
        "definition_hash": record.definition_hash.hex(),
        "seed_preimage": preimage.hex(),
        "seed": record.seed.hex(),
    }


def blocks() -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for suite in ("gm", "intl"):
        coefficient = coefficient_inputs(suite).run()
        expert = expert_inputs(suite).run()
        out += [
            (f"{suite}-coefficient", coefficient.to_json()),
            (f"{suite}-coefficient-steps", steps_vector(suite)),
            (f"{suite}-stream", stream_vector(suite, coefficient.seed)),
            (f"{suite}-expert", expert.to_json()),
            (
                f"{suite}-expert-disclosure",
                make_disclosure(expert, expert_salted_ids(suite)).to_json(),
            ),
        ]
    return out


def pretty(value: Any, indent: int = 0, used: int = 0) -> str:
    """JSON with arrays of scalars and small flat objects kept on one line when they fit.

    ``indent`` is the indentation of the current line, ``used`` the width already taken on it.
    """
    flat = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, list | dict):
        return flat
    children = value if isinstance(value, list) else list(value.values())
    if all(not isinstance(v, list | dict) for v in children) and used + len(flat) <= 100:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, list):
        items = [pad + pretty(v, indent + 2, indent + 2) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    lines = []
    for k, v in value.items():
        key = f"{pad}{json.dumps(k, ensure_ascii=False)}: "
        lines.append(key + pretty(v, indent + 2, len(key)))
    return "{\n" + ",\n".join(lines) + "\n" + " " * indent + "}"


def markdown() -> str:
    return "\n".join(
        f"```json vector={name}\n{pretty(document)}\n```\n" for name, document in blocks()
    )


def main() -> None:
    """Print the blocks, or with ``--write`` replace them in docs/spec/draws.md."""
    text = markdown()
    if "--write" not in sys.argv:
        print(text)
        return
    spec = Path(__file__).resolve().parents[2] / "docs" / "spec" / "draws.md"
    current = spec.read_text(encoding="utf-8")
    head = current[: current.index("```json vector=")]
    spec.write_text(head + text, encoding="utf-8")


if __name__ == "__main__":
    main()
