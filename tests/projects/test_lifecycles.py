"""Every (state, action) of the tender-project, section and notice lifecycles."""

from __future__ import annotations

import itertools
from enum import StrEnum
from typing import Any

import pytest

from sunlit.kernel.errors import IllegalTransition, PermissionDenied
from sunlit.kernel.statemachine import StateMachine
from sunlit.notices.states import NOTICE_LIFECYCLE, NoticeAction, NoticeStatus
from sunlit.projects.states import (
    SECTION_LIFECYCLE,
    TENDER_LIFECYCLE,
    SectionAction,
    SectionStatus,
    TenderAction,
    TenderStatus,
)

T, A = TenderStatus, TenderAction
TENDER_EXPECTED = {
    (T.DRAFT, A.EDIT): T.DRAFT,
    (T.DRAFT, A.SUBMIT): T.SUBMITTED,
    (T.RETURNED, A.EDIT): T.RETURNED,
    (T.RETURNED, A.SUBMIT): T.SUBMITTED,
    (T.SUBMITTED, A.WITHDRAW): T.DRAFT,
    (T.SUBMITTED, A.ACCEPT): T.ACCEPTED,
    (T.SUBMITTED, A.RETURN): T.RETURNED,
    (T.ACCEPTED, A.WITHDRAW): T.DRAFT,
    (T.ACCEPTED, A.BOOK_VENUE): T.ACCEPTED,
    (T.ACCEPTED, A.PUBLISH): T.TENDERING,
    (T.ACCEPTED, A.TERMINATE_PART): T.ACCEPTED,
    (T.ACCEPTED, A.TERMINATE): T.TERMINATED,
    (T.TENDERING, A.BOOK_VENUE): T.TENDERING,
    (T.TENDERING, A.PUBLISH): T.TENDERING,
    (T.TENDERING, A.CLARIFY): T.TENDERING,
    (T.TENDERING, A.TERMINATE_PART): T.TENDERING,
    (T.TENDERING, A.TERMINATE): T.TERMINATED,
}
S, SA = SectionStatus, SectionAction
SECTION_EXPECTED = {
    (S.DRAFT, SA.EDIT): S.DRAFT,
    (S.DRAFT, SA.PUBLISH): S.PUBLISHED,
    (S.DRAFT, SA.TERMINATE): S.TERMINATED,
    (S.PUBLISHED, SA.CLARIFY): S.PUBLISHED,
    (S.PUBLISHED, SA.TERMINATE): S.TERMINATED,
}
N, NA = NoticeStatus, NoticeAction
NOTICE_EXPECTED = {
    (N.DRAFT, NA.EDIT): N.DRAFT,
    (N.DRAFT, NA.PUBLISH): N.PUBLISHED,
    (N.DRAFT, NA.TERMINATE): N.TERMINATED,
    (N.PUBLISHED, NA.CLARIFY): N.PUBLISHED,
    (N.PUBLISHED, NA.TERMINATE): N.TERMINATED,
}
MACHINES: list[tuple[StateMachine[Any, Any], type[StrEnum], type[StrEnum], dict[Any, Any]]] = [
    (TENDER_LIFECYCLE, TenderStatus, TenderAction, TENDER_EXPECTED),
    (SECTION_LIFECYCLE, SectionStatus, SectionAction, SECTION_EXPECTED),
    (NOTICE_LIFECYCLE, NoticeStatus, NoticeAction, NOTICE_EXPECTED),
]
CASES = [
    pytest.param(m, s, a, expected.get((s, a)), id=f"{m.name}:{s}:{a}")
    for m, states, actions, expected in MACHINES
    for s, a in itertools.product(states, actions)
]


@pytest.mark.parametrize(("machine", "state", "action", "target"), CASES)
def test_every_state_and_action(
    machine: StateMachine[Any, Any], state: StrEnum, action: StrEnum, target: StrEnum | None
) -> None:
    if target is None:
        with pytest.raises(IllegalTransition) as info:
            machine.apply(state, action, has_permission=lambda p: True)
        assert info.value.code == f"{machine.name}.illegal_transition"
        assert machine.label(state) in info.value.detail
        assert machine.label(action) in info.value.detail
    else:
        assert machine.apply(state, action, has_permission=lambda p: True) == target
        with pytest.raises(PermissionDenied):
            machine.apply(state, action, has_permission=lambda p: False)


@pytest.mark.parametrize(("machine", "states", "actions", "expected"), MACHINES)
def test_tables_are_exactly_the_expected_ones(
    machine: StateMachine[Any, Any],
    states: type[StrEnum],
    actions: type[StrEnum],
    expected: dict[Any, Any],
) -> None:
    assert {(t.source, t.action): t.target for t in machine.transitions} == expected
    for value in [*states, *actions]:
        assert machine.label(value) != str(value), f"{value} has no Chinese label"
