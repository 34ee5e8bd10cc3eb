"""The declarative state machine, driven by a table-driven test of every (state, action)."""

from __future__ import annotations

from enum import StrEnum
from itertools import product

import pytest

from sunlit.kernel.errors import IllegalTransition, PermissionDenied
from sunlit.kernel.i18n import use_locale
from sunlit.kernel.statemachine import StateMachine, Transition


class S(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class A(StrEnum):
    PUBLISH = "publish"
    CLOSE = "close"
    REOPEN = "reopen"


def _closing_guard(ctx: object) -> str | None:
    return "尚有未处理的异议" if ctx == "objection" else None


SM: StateMachine[S, A] = StateMachine(
    "test.thing",
    [
        Transition(S.DRAFT, A.PUBLISH, S.OPEN, "thing.publish"),
        Transition(S.OPEN, A.CLOSE, S.CLOSED, guard=_closing_guard),
    ],
    labels={
        S.DRAFT: "草稿",
        S.OPEN: "进行中",
        S.CLOSED: "已结束",
        A.PUBLISH: "发布",
        A.CLOSE: "结束",
        A.REOPEN: "重新开放",
    },
)
ALLOWED = {(S.DRAFT, A.PUBLISH): S.OPEN, (S.OPEN, A.CLOSE): S.CLOSED}


@pytest.mark.parametrize(("state", "action"), list(product(S, A)))
def test_every_state_action_pair(state: S, action: A) -> None:
    if (state, action) in ALLOWED:
        assert SM.apply(state, action) == ALLOWED[(state, action)]
        assert action in SM.allowed_actions(state)
    else:
        with pytest.raises(IllegalTransition) as info:
            SM.apply(state, action)
        assert info.value.status == 409
        assert info.value.code == "test.thing.illegal_transition"
        assert SM.label(state) in info.value.detail
        assert action not in SM.allowed_actions(state)


def test_guard_reason_is_reported() -> None:
    with pytest.raises(IllegalTransition) as info:
        SM.apply(S.OPEN, A.CLOSE, context="objection")
    assert info.value.code == "test.thing.guard_failed"
    assert "尚有未处理的异议" in info.value.detail


def test_permission_is_checked() -> None:
    with pytest.raises(PermissionDenied):
        SM.apply(S.DRAFT, A.PUBLISH, has_permission=lambda p: False)
    assert SM.apply(S.DRAFT, A.PUBLISH, has_permission=lambda p: p == "thing.publish") == S.OPEN


def test_duplicate_transition_is_a_definition_error() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        StateMachine("x", [Transition(S.DRAFT, A.PUBLISH, S.OPEN)] * 2)


def test_message_in_english_when_asked() -> None:
    """Messages render in the locale current when they are read (the request's)."""
    with pytest.raises(IllegalTransition) as info:
        SM.apply(S.CLOSED, A.REOPEN)
    assert info.value.code == "test.thing.illegal_transition"
    with use_locale("en"):
        assert info.value.detail == "“重新开放” is not allowed in state “已结束”"
    assert info.value.detail == "当前状态为“已结束”，不能执行“重新开放”"
