"""Who may do what with documents and notices."""

from __future__ import annotations

from typing import Any

from sunlit.kernel.authz import Actor, Policy, Role, any_of, has_role
from sunlit.projects.queries import is_tender_party


def party(actor: Actor, tender: Any) -> bool:
    return tender is not None and is_tender_party(actor, tender)


staff_or_supervisor = has_role(Role.CENTER_STAFF, Role.SUPERVISOR)

POLICY = Policy(
    "notices",
    {
        "document.upload": party,
        "document.read": any_of(party, staff_or_supervisor),  # the issuer's own copy
        "document.download": has_role(Role.BIDDER),  # as a potential bidder (recorded)
        "notice.manage": party,
        "notice.view_draft": any_of(party, staff_or_supervisor),
        "downloads.view": any_of(party, staff_or_supervisor),  # after the deadline only
        "downloads.view_own": has_role(Role.BIDDER),
    },
)
