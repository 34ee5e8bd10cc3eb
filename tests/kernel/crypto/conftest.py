"""Shared fixtures for the crypto provider tests: an OpenSSL 3 CLI runner and a file writer.

The OpenSSL CLI is required (DESIGN.md section 7): a missing ``openssl`` fails these tests
instead of skipping them, so interoperability can never silently go untested.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .helpers import OpenSSL


@pytest.fixture(scope="session")
def openssl() -> OpenSSL:
    binary = shutil.which("openssl")
    if binary is None:
        pytest.fail("the openssl CLI (OpenSSL 3) is required for the interoperability tests")
    version = subprocess.run([binary, "version"], capture_output=True, text=True).stdout
    if not version.startswith("OpenSSL 3."):
        pytest.fail(f"OpenSSL 3 is required, found {version!r}")
    return OpenSSL(binary)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, bytes], Path]:
    """Write bytes to a file under tmp_path and return its path."""

    def _write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return _write
