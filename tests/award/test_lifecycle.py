"""The award lifecycle, every (state, action) pair, its guards, and the policy role matrix."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from sunlit.award.policies import POLICY
from sunlit.award.states import LIFECYCLE, AwardAction, AwardStatus, DecisionContext
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.errors import IllegalTransition

S, A = AwardStatus, AwardAction
FREE = DecisionContext(publicity_required=False, publicity_over=True, unanswered=0)
EXPECTED = {
    (S.OPEN, A.PUBLISH): S.PUBLICIZING,
    (S.OPEN, A.DECIDE): S.DECIDED,
    (S.OPEN, A.CANCEL): S.CANCELLED,
    (S.PUBLICIZING, A.OBJECT): S.PUBLICIZING,
    (S.PUBLICIZING, A.ANSWER): S.PUBLICIZING,
    (S.PUBLICIZING, A.DECIDE): S.DECIDED,
    (S.PUBLICIZING, A.CANCEL): S.CANCELLED,
    (S.DECIDED, A.NOTIFY): S.NOTIFIED,
    (S.DECIDED, A.CANCEL): S.CANCELLED,
    (S.NOTIFIED, A.CONTRACT): S.CONTRACTED,
}


@pytest.mark.parametrize(("state", "action"), list(product(AwardStatus, AwardAction)))
def test_every_state_and_action(state: AwardStatus, action: AwardAction) -> None:
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(IllegalTransition) as info:
            LIFECYCLE.apply(state, action, context=FREE)
        assert info.value.code == "award.process.illegal_transition"
        assert LIFECYCLE.label(state) in info.value.detail
    else:
        assert LIFECYCLE.apply(state, action, context=FREE) == expected


def test_decision_guards() -> None:
    must = DecisionContext(publicity_required=True, publicity_over=False, unanswered=0)
    with pytest.raises(IllegalTransition) as info:
        LIFECYCLE.apply(S.OPEN, A.DECIDE, context=must)
    assert "第五十四条" in info.value.detail
    running = DecisionContext(True, publicity_over=False, unanswered=0)
    with pytest.raises(IllegalTransition) as info:
        LIFECYCLE.apply(S.PUBLICIZING, A.DECIDE, context=running)
    assert "公示期尚未届满" in info.value.detail
    paused = DecisionContext(True, publicity_over=True, unanswered=2)
    with pytest.raises(IllegalTransition) as info:
        LIFECYCLE.apply(S.PUBLICIZING, A.DECIDE, context=paused)
    assert "2条异议未答复" in info.value.detail and "暂停" in info.value.detail
    done = DecisionContext(True, publicity_over=True, unanswered=0)
    assert LIFECYCLE.apply(S.PUBLICIZING, A.DECIDE, context=done) == S.DECIDED


TENDER = SimpleNamespace(tenderer_org_id="t-org", agency_org_id="a-org")


def _actor(role: Role, org: str) -> Actor:
    return Actor(user_id=f"u-{org}", org_id=org, roles=frozenset({role}), name="x")


ACTORS = {
    "tenderer": _actor(Role.TENDERER, "t-org"),
    "agency": _actor(Role.AGENCY, "a-org"),
    "other_tenderer": _actor(Role.TENDERER, "x-org"),
    "bidder": _actor(Role.BIDDER, "b-org"),
    "staff": _actor(Role.CENTER_STAFF, "c-org"),
    "supervisor": _actor(Role.SUPERVISOR, "s-org"),
    "public": Actor(roles=frozenset({Role.PUBLIC})),
}
MATRIX = {
    "award.open": {"tenderer", "agency", "staff"},
    "award.manage": {"tenderer", "agency"},
    "award.object": {"bidder"},
    "award.view_all": {"tenderer", "agency", "staff", "supervisor"},
    "award.monitor": {"staff", "supervisor"},
}


@pytest.mark.parametrize(("permission", "who"), list(product(MATRIX, ACTORS)))
def test_policy_matrix(permission: str, who: str) -> None:
    assert POLICY.allows(ACTORS[who], permission, TENDER) == (who in MATRIX[permission])
