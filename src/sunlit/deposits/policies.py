"""Who may do what with deposits.

Before the bid deadline nobody but the bidder itself learns who requested a sub-account or
paid: center staff see counts only, the tenderer and the supervisor nothing (ADR 0017).
"""

from __future__ import annotations

from typing import Any

from sunlit.kernel.authz import Actor, Policy, Role, has_role
from sunlit.projects.queries import is_tender_party


def _own(actor: Actor, account: Any) -> bool:
    return account is not None and actor.org_id is not None and account.org_id == actor.org_id


def _party(actor: Actor, tender: Any) -> bool:
    return tender is not None and is_tender_party(actor, tender)


staff = has_role(Role.CENTER_STAFF)

POLICY = Policy(
    "deposits",
    {
        "bank.admit": staff,
        "bank.view": lambda actor, obj: actor.has(Role.CENTER_STAFF, Role.SUPERVISOR),
        "account.request": has_role(Role.BIDDER),
        "account.view_own": lambda actor, acc: actor.has(Role.BIDDER) and _own(actor, acc),
        "section.count": staff,
        # After the deadline: the payer list of a section.
        "section.list": lambda actor, tender: (
            actor.has(Role.CENTER_STAFF, Role.SUPERVISOR) or _party(actor, tender)
        ),
        "refund.release": staff,
        "refund.forfeit": staff,
        "reconcile": staff,
        "alert.view": lambda actor, obj: actor.has(Role.SUPERVISOR, Role.CENTER_STAFF),
    },
)
