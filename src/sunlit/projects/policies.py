"""Who may do what with projects, tender projects, venues and restrictions."""

from __future__ import annotations

from typing import Any

from sunlit.kernel.authz import Actor, Policy, Role, any_of, has_role


def is_party(actor: Actor, tender: Any) -> bool:
    """The tenderer or its entrusted agency, acting in that capacity."""
    if tender is None or actor.org_id is None:
        return False
    if actor.org_id == tender.tenderer_org_id and actor.has(Role.TENDERER):
        return True
    return actor.org_id == tender.agency_org_id and actor.has(Role.AGENCY)


staff = has_role(Role.CENTER_STAFF)
staff_or_supervisor = has_role(Role.CENTER_STAFF, Role.SUPERVISOR)

POLICY = Policy(
    "projects",
    {
        "project.create": has_role(Role.TENDERER, Role.AGENCY),
        "tender.view": any_of(is_party, staff_or_supervisor),
        "tender.manage": is_party,
        "tender.review": staff,
        "tender.list_all": staff_or_supervisor,
        "venue.manage": staff,
        "venue.book": staff,
        "venue.view": staff_or_supervisor,
        "restriction.manage": staff_or_supervisor,
        "restriction.view": staff_or_supervisor,
    },
)
