"""An independent transcription of docs/spec/draws.md (§3–§5), written without the engine.

It works on the record JSON only (dicts and hex strings), uses ``hashlib`` for both suites and
a plain full-array Fisher–Yates, so agreement with :mod:`sunlit.draws` means the spec, not
the code, defines the draw.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


def H(suite: str, data: bytes) -> bytes:
    return hashlib.new({"gm": "sm3", "intl": "sha256"}[suite], data).digest()


def lp(x: bytes) -> bytes:
    return len(x).to_bytes(4, "big") + x


def u8(s: str) -> bytes:
    return s.encode("utf-8")


def commitment(suite: str, value: bytes, salt: bytes) -> bytes:
    return H(suite, lp(b"sunlit/draw/v1/commit") + lp(value) + lp(salt))


def hashed_id(suite: str, candidate: str, salt: bytes) -> str:
    return H(suite, lp(b"sunlit/draw/v1/candidate-id") + lp(salt) + lp(u8(candidate))).hex()


def candidates_hash(suite: str, ids: list[str]) -> bytes:
    body = b"".join(u8(i) + b"\n" for i in ids)
    return H(suite, lp(b"sunlit/draw/v1/candidates") + len(ids).to_bytes(4, "big") + body)


def definition_hash(suite: str, definition: dict[str, Any]) -> bytes:
    return H(suite, lp(b"sunlit/draw/v1/definition") + rfc8785.dumps(definition))


def seed_preimage(record: dict[str, Any]) -> bytes:
    c = record["contributions"]
    out = lp(b"sunlit/draw/v1/seed") + lp(u8(record["suite"])) + lp(u8(record["draw_id"]))
    out += lp(u8(record["definition"]["purpose"])) + lp(bytes.fromhex(record["definition_hash"]))
    out += lp(bytes.fromhex(c["center"]["value"]))
    bidders = sorted(c["bidders"], key=lambda b: u8(b["bidder"]))
    out += len(bidders).to_bytes(4, "big")
    for b in bidders:
        out += lp(u8(b["bidder"]))
        if b["status"] == "revealed":
            out += b"\x01" + lp(bytes.fromhex(b["value"]))
        else:
            out += b"\x00" + lp(u8(b["reason"]))
    out += lp(u8(c["supervisor"]["value"]))
    beacon = c["beacon"]
    if beacon is None:
        out += b"\x00"
    else:
        out += b"\x01" + lp(u8(beacon["source"])) + lp(u8(beacon["round"]))
        out += lp(bytes.fromhex(beacon["value"]))
    return out


class Stream:
    def __init__(self, suite: str, seed: bytes) -> None:
        self.suite, self.seed, self.data, self.i = suite, seed, b"", 0

    def read(self, k: int) -> bytes:
        while len(self.data) < k:
            block = H(
                self.suite, lp(b"sunlit/draw/v1/stream") + self.seed + self.i.to_bytes(8, "big")
            )
            self.data += block
            self.i += 1
        out, self.data = self.data[:k], self.data[k:]
        return out

    def randbelow(self, n: int) -> int:
        if n == 1:
            return 0
        b = (n - 1).bit_length()
        while True:
            x = int.from_bytes(self.read((b + 7) // 8), "big") % (1 << b)
            if x < n:
                return x


def outputs(record: dict[str, Any], seed: bytes) -> list[dict[str, Any]]:
    stream = Stream(record["suite"], seed)
    definition = record["definition"]
    result: list[dict[str, Any]] = []
    if definition["purpose"] == "coefficient":
        for p in definition["parameters"]:
            weights = p["weights"] or [1] * len(p["values"])
            r = stream.randbelow(sum(weights))
            index = 0
            while r >= weights[index]:
                r -= weights[index]
                index += 1
            result.append({"name": p["name"], "index": index, "value": p["values"][index]})
        return result
    for s in definition["strata"]:
        items = list(record["candidates"][s["name"]])
        m = s["count"] + s["alternates"]
        for i in range(m):
            j = i + stream.randbelow(len(items) - i)
            items[i], items[j] = items[j], items[i]
        result.append(
            {
                "stratum": s["name"],
                "selected": items[: s["count"]],
                "alternates": items[s["count"] : m],
            }
        )
    return result


def recompute(record: dict[str, Any]) -> dict[str, Any]:
    """Seed and outputs of a record, from its inputs alone."""
    suite = record["suite"]
    seed = H(suite, seed_preimage(record))
    return {"seed": seed.hex(), "outputs": outputs(record, seed)}
