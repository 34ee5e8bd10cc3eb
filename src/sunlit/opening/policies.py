"""Who may do what in an opening."""

from __future__ import annotations

from typing import Any

from sunlit.kernel.authz import Actor, Policy, Role, has_role
from sunlit.projects.queries import is_tender_party


def _party(actor: Actor, tender: Any) -> bool:
    return tender is not None and is_tender_party(actor, tender)


def _holder(actor: Actor, tender: Any) -> bool:
    return actor.has(Role.CENTER_STAFF) or _party(actor, tender)


POLICY = Policy(
    "opening",
    {
        "opening.host": has_role(Role.CENTER_STAFF),
        "opening.decrypt": _holder,
        "opening.remedy": has_role(Role.BIDDER),
        "opening.supervise": has_role(Role.SUPERVISOR),
        "opening.confirm": _party,
        "opening.view": lambda actor, tender: actor.is_authenticated,
    },
)
