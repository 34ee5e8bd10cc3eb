"""The DomainError family: every refusal has a stable code and a Chinese message.

Rendered over HTTP as RFC 9457 ``application/problem+json``::

    {"type": "https://sunlit.invalid/problems/identity.uscc.check_char", "title": "...",
     "status": 422, "code": "identity.uscc.check_char", "detail": "...", "errors": [...]}
"""

from __future__ import annotations

from typing import Any, ClassVar

from sunlit.kernel.i18n import gettext

PROBLEM_BASE = "https://sunlit.invalid/problems/"


class DomainError(Exception):
    """A refusal that the user can understand. ``message`` is a zh-CN gettext id."""

    status: ClassVar[int] = 400

    def __init__(
        self,
        code: str,
        message: str,
        /,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.field = field
        self.params = params
        self.errors = errors or []

    @property
    def detail(self) -> str:
        """The message in the current locale."""
        return gettext(self.message, **self.params)

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"

    def to_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code,
            "title": self.detail,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if self.field:
            body["field"] = self.field
        if self.errors:
            body["errors"] = self.errors
        return body


class InvalidInput(DomainError):
    status = 422


class Unauthenticated(DomainError):
    status = 401


class PermissionDenied(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class IllegalTransition(Conflict):
    """An action that the lifecycle table does not allow from the current state."""


class Locked(DomainError):
    status = 423


class TooManyRequests(DomainError):
    status = 429


class ServiceUnavailable(DomainError):
    status = 503


def not_found(kind: str = "对象") -> NotFound:
    """The single way to say 'no such object, or you may not see it' (never 403)."""
    return NotFound("not_found", "{kind}不存在或无权查看", kind=gettext(kind))
