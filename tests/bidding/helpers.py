"""Helpers of the sealed-bid tests: container regions, edits, re-signing."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785

from sunlit.bidding import sealed
from sunlit.bidding.errors import BidError
from sunlit.kernel.crypto import PrivateKey, get_suite


def header_of(data: bytes) -> sealed.SealedHeader:
    return sealed.inspect(io.BytesIO(data))


def regions(data: bytes) -> dict[str, tuple[int, int]]:
    """Byte ranges: ``magic``, ``header_len``, ``header``, ``sig_len``, ``signature``,
    ``digest``, ``summary``, and ``file<i>.chunk<j>`` for every chunk (tag included)."""
    header = header_of(data)
    out: dict[str, tuple[int, int]] = {}
    pos = 0
    for name, size in (
        ("magic", 8),
        ("header_len", 4),
        ("header", len(header.header_json)),
        ("sig_len", 2),
        ("signature", len(header.signature)),
        ("digest", 32),
        ("summary", header.summary_size),
    ):
        out[name] = (pos, pos + size)
        pos += size
    for entry in header.files:
        count = sealed.chunk_count(entry.size)
        for j in range(count):
            size = min(sealed.CHUNK_SIZE, entry.size - j * sealed.CHUNK_SIZE) + sealed.TAG_SIZE
            out[f"file{entry.index}.chunk{j}"] = (pos, pos + size)
            pos += size
    assert pos == len(data)
    return out


def flip(data: bytes, position: int, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[position] ^= 1 << bit
    return bytes(out)


def rebuild(
    data: bytes, mutate: Callable[[dict[str, Any]], None], signer: PrivateKey | None
) -> bytes:
    """Re-emit a container with an edited header, re-signed by ``signer`` (or keeping the old
    signature) and with a *correct* digest: what a forger who edits the header would do."""
    header = header_of(data)
    doc = json.loads(header.header_json)
    mutate(doc)
    raw = rfc8785.dumps(doc)
    suite = get_suite(header.suite)
    sig = suite.sign(signer, raw) if signer is not None else header.signature
    block = sealed.MAGIC + len(raw).to_bytes(4, "big") + raw + len(sig).to_bytes(2, "big") + sig
    return block + suite.hash(block) + data[header.header_block_size :]


class OneWay(io.RawIOBase):
    """A non-seekable stream (an upload body): read() only."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._inner.read(min(len(buffer), 65536))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def oneway(data: bytes) -> io.BufferedReader:
    return io.BufferedReader(OneWay(data))


def code_of(fn: Callable[[], object]) -> str:
    with pytest.raises(BidError) as info:
        fn()
    return info.value.code
