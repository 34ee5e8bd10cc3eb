"""Declarative lifecycles: ``(from_state, action) -> to_state, guard, permission``.

A domain writes its lifecycle as a table in ``states.py``; services call
:meth:`StateMachine.apply`. Anything the table does not allow raises
:class:`~sunlit.kernel.errors.IllegalTransition` (HTTP 409) with a Chinese message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sunlit.kernel.errors import IllegalTransition, PermissionDenied

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)

Guard = Callable[[Any], str | None]
"""A guard returns None when the transition may happen, else a zh-CN reason."""


@dataclass(frozen=True)
class Transition(Generic[S, A]):
    source: S
    action: A
    target: S
    permission: str | None = None
    guard: Guard | None = None


class StateMachine(Generic[S, A]):
    def __init__(
        self,
        name: str,
        transitions: Iterable[Transition[S, A]],
        labels: Mapping[StrEnum, str] | None = None,
    ) -> None:
        self.name = name
        self.labels = dict(labels or {})
        self._table: dict[tuple[S, A], Transition[S, A]] = {}
        for t in transitions:
            key = (t.source, t.action)
            if key in self._table:
                raise ValueError(f"{name}: duplicate transition {t.source}/{t.action}")
            self._table[key] = t

    @property
    def transitions(self) -> list[Transition[S, A]]:
        return list(self._table.values())

    def label(self, value: StrEnum) -> str:
        return self.labels.get(value, str(value))

    def allowed_actions(self, state: S) -> list[A]:
        return [t.action for (s, _), t in self._table.items() if s == state]

    def can(self, state: S, action: A) -> bool:
        return (state, action) in self._table

    def apply(
        self,
        state: S,
        action: A,
        *,
        context: Any = None,
        has_permission: Callable[[str], bool] | None = None,
    ) -> S:
        """Return the target state, or raise if the table, a guard or a permission says no."""
        t = self._table.get((state, action))
        if t is None:
            raise IllegalTransition(
                f"{self.name}.illegal_transition",
                "当前状态为“{state}”，不能执行“{action}”",
                state=self.label(state),
                action=self.label(action),
            )
        if (
            t.permission is not None
            and has_permission is not None
            and not has_permission(t.permission)
        ):
            raise PermissionDenied(
                f"{self.name}.forbidden", "无权执行“{action}”", action=self.label(action)
            )
        if t.guard is not None:
            reason = t.guard(context)
            if reason is not None:
                raise IllegalTransition(
                    f"{self.name}.guard_failed",
                    "不能执行“{action}”：{reason}",
                    action=self.label(action),
                    reason=reason,
                )
        return t.target
