"""Who may do what with opening keys, draw commitments and bids.

Before the opening nobody but the bidder itself learns of a bid: the tenderer, the agency and
other bidders cannot list or count bids; center staff may see the *count* of valid bids of a
section (to prepare the opening hall), never the bidders (ADR 0010).
"""

from __future__ import annotations

from typing import Any

from sunlit.kernel.authz import Actor, Policy, Role, has_role
from sunlit.projects.queries import is_tender_party


def tender_party(actor: Actor, tender: Any) -> bool:
    return tender is not None and is_tender_party(actor, tender)


def own_bid(actor: Actor, bid: Any) -> bool:
    return bid is not None and actor.org_id is not None and bid.org_id == actor.org_id


staff = has_role(Role.CENTER_STAFF)

POLICY = Policy(
    "bidding",
    {
        "key.register.tenderer": tender_party,
        "key.register.center": staff,
        "draw.commit": staff,
        "bid.submit": has_role(Role.BIDDER),
        "bid.view_own": lambda actor, bid: actor.has(Role.BIDDER) and own_bid(actor, bid),
        "bid.withdraw": lambda actor, bid: actor.has(Role.BIDDER) and own_bid(actor, bid),
        "bid.count": staff,
    },
)
