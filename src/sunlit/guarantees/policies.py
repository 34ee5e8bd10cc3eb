"""Who may do what with guarantees."""

from __future__ import annotations

from typing import Any

from sunlit.kernel.authz import Actor, Policy, Role, has_role
from sunlit.projects.queries import is_tender_party


def _beneficiary(actor: Actor, tender: Any) -> bool:
    """The tenderer (beneficiary) or its agency, for claims on its sections' guarantees."""
    return tender is not None and is_tender_party(actor, tender)


POLICY = Policy(
    "guarantee",
    {
        # The center admits FIs, approves products, chooses FIs per (sub-)center.
        "guarantee.admit": has_role(Role.CENTER_STAFF),
        "guarantee.monitor": has_role(Role.CENTER_STAFF, Role.SUPERVISOR),
        "guarantee.apply": has_role(Role.BIDDER),
        "guarantee.claim": _beneficiary,
        "guarantee.release": has_role(Role.CENTER_STAFF),
        # Supervisors see risk alerts (after the bid deadline of the section).
        "guarantee.alerts": has_role(Role.SUPERVISOR, Role.CENTER_STAFF),
        # An FI's own users (an organization with the financial role) see its queue.
        "guarantee.fi.view": has_role(Role.FINANCIAL),
        # The opening record shows each bid's security to the parties after the deadline.
        "guarantee.securities": lambda actor, tender: (
            actor.has(Role.CENTER_STAFF, Role.SUPERVISOR) or _beneficiary(actor, tender)
        ),
    },
)
