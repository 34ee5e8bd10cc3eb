"""Every (state, action) of the opening lifecycle, and the role × action matrix."""

from __future__ import annotations

import pytest

from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.errors import IllegalTransition
from sunlit.opening.policies import POLICY
from sunlit.opening.states import LIFECYCLE, OpeningAction, OpeningStatus

S, A = OpeningStatus, OpeningAction
EXPECTED = {
    (S.SCHEDULED, A.START): S.STARTED,
    (S.SCHEDULED, A.TERMINATE): S.TERMINATED,
    (S.STARTED, A.CONTINUE): S.STARTED,
    (S.STARTED, A.DECRYPT): S.DECRYPTING,
    (S.STARTED, A.TERMINATE): S.TERMINATED,
    (S.DECRYPTING, A.DECRYPT): S.DECRYPTING,
    (S.DECRYPTING, A.ANNOUNCE): S.ANNOUNCED,
    (S.DECRYPTING, A.TERMINATE): S.TERMINATED,
    (S.ANNOUNCED, A.REMEDY): S.ANNOUNCED,
    (S.ANNOUNCED, A.BIDDER_CONFIRM): S.ANNOUNCED,
    (S.ANNOUNCED, A.SUPERVISOR_VALUE): S.ANNOUNCED,
    (S.ANNOUNCED, A.DRAW): S.ANNOUNCED,
    (S.ANNOUNCED, A.SEAL_RECORD): S.ANNOUNCED,
    (S.ANNOUNCED, A.CONFIRM): S.CLOSED,
    (S.ANNOUNCED, A.TERMINATE): S.TERMINATED,
}


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_state_and_action(state: OpeningStatus, action: OpeningAction) -> None:
    target = EXPECTED.get((state, action))
    if target is None:
        with pytest.raises(IllegalTransition):
            LIFECYCLE.apply(state, action, has_permission=lambda p: True)
    else:
        assert LIFECYCLE.apply(state, action, has_permission=lambda p: True) == target


class Tender:
    tenderer_org_id = "t"
    agency_org_id = "a"


ACTORS = {
    "staff": Actor(user_id="u", org_id="c", roles=frozenset({Role.CENTER_STAFF})),
    "tenderer": Actor(user_id="u", org_id="t", roles=frozenset({Role.TENDERER})),
    "agency": Actor(user_id="u", org_id="a", roles=frozenset({Role.AGENCY})),
    "other_tenderer": Actor(user_id="u", org_id="x", roles=frozenset({Role.TENDERER})),
    "bidder": Actor(user_id="u", org_id="b", roles=frozenset({Role.BIDDER})),
    "supervisor": Actor(user_id="u", org_id="s", roles=frozenset({Role.SUPERVISOR})),
}
MATRIX = {
    "opening.host": {"staff"},
    "opening.decrypt": {"staff", "tenderer", "agency"},
    "opening.remedy": {"bidder"},
    "opening.bidder_confirm": {"bidder"},
    "opening.supervise": {"supervisor"},
    "opening.confirm": {"tenderer", "agency"},
}


@pytest.mark.parametrize("permission", sorted(MATRIX))
@pytest.mark.parametrize("who", sorted(ACTORS))
def test_role_action_matrix(permission: str, who: str) -> None:
    assert POLICY.allows(ACTORS[who], permission, Tender()) == (who in MATRIX[permission])
