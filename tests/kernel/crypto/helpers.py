"""Helpers shared by the crypto provider tests: the OpenSSL 3 CLI runner."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SM2_ID = "1234567812345678"


class OpenSSL:
    """Runs the ``openssl`` command line tool."""

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def _run(
        self, args: tuple[str | Path, ...], stdin: bytes | None
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [self.binary, *map(str, args)], input=stdin, capture_output=True, timeout=120
        )

    def run(self, *args: str | Path, stdin: bytes | None = None) -> bytes:
        """Run and return stdout; a non-zero exit status fails the test with OpenSSL's output."""
        proc = self._run(args, stdin)
        if proc.returncode != 0:
            pytest.fail(
                f"openssl {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                f"{proc.stdout.decode(errors='replace')}\n{proc.stderr.decode(errors='replace')}"
            )
        return proc.stdout

    def ok(self, *args: str | Path, stdin: bytes | None = None) -> bool:
        """True when the command exits with status 0."""
        return self._run(args, stdin).returncode == 0

    def output(self, *args: str | Path) -> str:
        """stdout + stderr as text, whatever the exit status."""
        proc = self._run(args, None)
        return (proc.stdout + proc.stderr).decode(errors="replace")
