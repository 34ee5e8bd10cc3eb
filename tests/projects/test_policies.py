"""Role × action matrices of the projects and notices policies."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sunlit.kernel.authz import ANONYMOUS, Actor, Role, system_actor
from sunlit.notices.policies import POLICY as NOTICES
from sunlit.projects.policies import POLICY as PROJECTS


@dataclass
class FakeTender:
    tenderer_org_id: str = "tenderer-org"
    agency_org_id: str | None = "agency-org"


def actor(role: Role, org: str) -> Actor:
    return Actor(user_id=f"u-{org}", org_id=org, roles=frozenset({role}), name=org)


ACTORS = {
    "staff": actor(Role.CENTER_STAFF, "center"),
    "supervisor": actor(Role.SUPERVISOR, "bureau"),
    "tenderer": actor(Role.TENDERER, "tenderer-org"),
    "agency": actor(Role.AGENCY, "agency-org"),
    "other_tenderer": actor(Role.TENDERER, "x-org"),
    "other_agency": actor(Role.AGENCY, "y-org"),
    "bidder": actor(Role.BIDDER, "bidder-org"),
    "expert": actor(Role.EXPERT, "univ"),
    "financial": actor(Role.FINANCIAL, "bank"),
    "anonymous": ANONYMOUS,
    # A bidder account in the tenderer's organization is not the tenderer acting.
    "bidder_in_tenderer_org": actor(Role.BIDDER, "tenderer-org"),
}
NAMES = list(ACTORS)

# permission -> the actors allowed (on FakeTender where an object is involved)
PROJECT_MATRIX = {
    "project.create": {"tenderer", "agency", "other_tenderer", "other_agency"},
    "tender.view": {"staff", "supervisor", "tenderer", "agency"},
    "tender.manage": {"tenderer", "agency"},
    "tender.review": {"staff"},
    "tender.list_all": {"staff", "supervisor"},
    "venue.manage": {"staff"},
    "venue.book": {"staff"},
    "venue.view": {"staff", "supervisor"},
    "restriction.manage": {"staff", "supervisor"},
    "restriction.view": {"staff", "supervisor"},
}
NOTICE_MATRIX = {
    "document.upload": {"tenderer", "agency"},
    "document.read": {"staff", "supervisor", "tenderer", "agency"},
    "document.download": {"bidder", "bidder_in_tenderer_org"},
    "notice.manage": {"tenderer", "agency"},
    "notice.view_draft": {"staff", "supervisor", "tenderer", "agency"},
    "downloads.view": {"staff", "supervisor", "tenderer", "agency"},
    "downloads.view_own": {"bidder", "bidder_in_tenderer_org"},
}


@pytest.mark.parametrize(
    ("policy", "permission", "who"),
    [
        (policy, permission, who)
        for policy, matrix in ((PROJECTS, PROJECT_MATRIX), (NOTICES, NOTICE_MATRIX))
        for permission in matrix
        for who in NAMES
    ],
)
def test_matrix(policy, permission: str, who: str) -> None:  # type: ignore[no-untyped-def]
    matrix = PROJECT_MATRIX if policy is PROJECTS else NOTICE_MATRIX
    assert policy.allows(ACTORS[who], permission, FakeTender()) == (who in matrix[permission])


def test_matrices_cover_every_permission() -> None:
    assert set(PROJECTS.rules) == set(PROJECT_MATRIX)
    assert set(NOTICES.rules) == set(NOTICE_MATRIX)


def test_a_tender_without_agency_has_only_the_tenderer_as_party() -> None:
    tender = FakeTender(agency_org_id=None)
    assert PROJECTS.allows(ACTORS["tenderer"], "tender.manage", tender)
    assert not PROJECTS.allows(ACTORS["agency"], "tender.manage", tender)


def test_system_actor_may_do_everything() -> None:
    system = system_actor("test")
    for permission in [*PROJECT_MATRIX, *NOTICE_MATRIX]:
        policy = PROJECTS if permission in PROJECT_MATRIX else NOTICES
        assert policy.allows(system, permission, FakeTender())
