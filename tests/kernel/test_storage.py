"""Local blob store: atomic streamed writes, safe keys."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sunlit.kernel.storage import BlobNotFound, LocalBlobStore, put_bytes, read_bytes


def test_streamed_write_and_read(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    chunks = [b"a" * 1000, b"b" * 5000]
    size, digest = store.put_stream("bids/x/1.bin", iter(chunks))
    assert size == 6000
    assert digest == hashlib.sha256(b"".join(chunks)).hexdigest()
    assert read_bytes(store, "bids/x/1.bin") == b"".join(chunks)
    assert store.exists("bids/x/1.bin")
    store.delete("bids/x/1.bin")
    assert not store.exists("bids/x/1.bin")
    with pytest.raises(BlobNotFound):
        store.open("bids/x/1.bin")


def test_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    put_bytes(store, "k", b"old")

    def broken():  # type: ignore[no-untyped-def]
        yield b"new data"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put_stream("k", broken())
    assert read_bytes(store, "k") == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["k"]


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "a//b", "", "a b"])
def test_unsafe_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        put_bytes(LocalBlobStore(tmp_path), key, b"x")
