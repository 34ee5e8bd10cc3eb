"""Who may do what in the identity domain."""

from __future__ import annotations

from typing import Any

from sunlit.kernel.authz import Actor, Policy, Role, any_of, authenticated, has_role

SELF_REGISTRABLE_ROLES = frozenset({Role.BIDDER, Role.TENDERER, Role.AGENCY})
"""Roles an organization may claim when it registers itself; the rest are granted by staff."""


def own_org(actor: Actor, org: Any) -> bool:
    return org is not None and actor.org_id is not None and actor.org_id == org.id


def staff_or_supervisor(actor: Actor, obj: Any) -> bool:
    return actor.has(Role.CENTER_STAFF, Role.SUPERVISOR)


POLICY = Policy(
    "identity",
    {
        "org.view": any_of(own_org, staff_or_supervisor),
        "org.list": staff_or_supervisor,
        "org.review": has_role(Role.CENTER_STAFF),
        "org.resubmit": own_org,
        "org.grant_any_role": has_role(Role.CENTER_STAFF),
        "org.manage_users": any_of(own_org, has_role(Role.CENTER_STAFF)),
        "user.bind_certificate_for": has_role(Role.CENTER_STAFF),
        "user.unlock": has_role(Role.CENTER_STAFF),
        "user.set_password": has_role(Role.CENTER_STAFF),
        "trust.manage": has_role(Role.CENTER_STAFF),
        "me": authenticated,
    },
)
