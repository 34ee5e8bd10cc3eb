"""Blob store: a local directory by default, any S3-compatible store in production.

Blobs are addressed by key. Writes are atomic (a reader never sees a half-written blob) and
stream, so a multi-GB file never has to sit in memory.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

CHUNK = 1024 * 1024
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,511}$")


class BlobNotFound(KeyError):
    pass


def check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key.split("/") or "//" in key:
        raise ValueError(f"invalid blob key: {key!r}")
    return key


class BlobStore(Protocol):
    def put_stream(self, key: str, chunks: Iterable[bytes]) -> tuple[int, str]:
        """Store the chunks atomically; return (size, sha256 hex)."""
        ...

    def open(self, key: str) -> BinaryIO: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


def put_bytes(store: BlobStore, key: str, data: bytes) -> tuple[int, str]:
    return store.put_stream(key, [data])


def read_bytes(store: BlobStore, key: str) -> bytes:
    with store.open(key) as fh:
        return fh.read()


def iter_file(fh: BinaryIO, chunk: int = CHUNK) -> Iterator[bytes]:
    while block := fh.read(chunk):
        yield block


class LocalBlobStore:
    """Blobs as files below ``root``; written to a temp file, fsynced, then renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> tuple[int, str]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                for block in chunks:
                    fh.write(block)
                    digest.update(block)
                    size += len(block)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return size, digest.hexdigest()

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3BlobStore:
    """Any S3-compatible store (MinIO, Ceph RGW, a cloud provider) through boto3."""

    def __init__(
        self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None
    ) -> None:
        import boto3

        self.bucket = bucket
        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> tuple[int, str]:
        # Spool to a temporary file so that the upload is one atomic object write and the
        # hash is known; multipart upload is handled by boto3's transfer manager.
        digest, size = hashlib.sha256(), 0
        with tempfile.TemporaryFile() as tmp:
            for block in chunks:
                tmp.write(block)
                digest.update(block)
                size += len(block)
            tmp.seek(0)
            self.client.upload_fileobj(tmp, self.bucket, check_key(key))
        return size, digest.hexdigest()

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise BlobNotFound(key) from None
            raise
        body: BinaryIO = obj["Body"]
        return body

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError:
            return False
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=check_key(key))
