"""Findings and refusals of the draw engine: stable English codes, Chinese messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sunlit.kernel.errors import InvalidInput
from sunlit.kernel.i18n import gettext

__all__ = ["DrawRefused", "Finding", "RecordFormatError", "finding"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that is wrong with a draw or a record.

    ``code`` is stable (``draws.seed_mismatch`` …), ``message`` a zh-CN gettext id with
    ``{name}`` placeholders filled from ``params``, ``path`` a JSON Pointer (RFC 6901) into the
    record (``/contributions/center/value``), empty when the finding concerns the whole record.
    """

    code: str
    message: str
    path: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def detail(self) -> str:
        """The message in the current locale, parameters filled in."""
        return gettext(self.message, **self.params)

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "path": self.path, "detail": self.detail}

    def __str__(self) -> str:
        where = f" [{self.path}]" if self.path else ""
        return f"{self.code}{where}: {self.detail}"


def finding(code: str, message: str, path: str = "", **params: Any) -> Finding:
    """Shorthand: ``finding("draws.duplicate", "参数「{name}」重复", "/definition/…", name=n)``."""
    return Finding(code, message, path, params)


class DrawRefused(InvalidInput):
    """A draw that cannot be run (HTTP 422); every reason is listed in ``errors``."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        if not findings:
            raise ValueError("DrawRefused needs at least one finding")
        first = findings[0]
        super().__init__(
            first.code,
            first.message,
            field=first.path or None,
            errors=[f.to_json() for f in findings],
            **first.params,
        )
        self.findings = tuple(findings)


class RecordFormatError(InvalidInput):
    """A draw record or disclosure that is not well-formed JSON of the expected shape."""

    def __init__(self, path: str, message: str, **params: Any) -> None:
        super().__init__("draws.format", message, field=path or None, **params)
        self.path = path

    @property
    def finding(self) -> Finding:
        return Finding("draws.format", self.message, self.path, dict(self.params))
