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
        # 确认无误: a bidder (its bid in this opening is checked by the use case).
        "opening.bidder_confirm": has_role(Role.BIDDER),
        "opening.supervise": has_role(Role.SUPERVISOR),
        "opening.confirm": _party,
        "opening.view": lambda actor, tender: actor.is_authenticated,
        # 开标异议: a bidder raises (its bid is checked by the use case), the tenderer or its
        # agency answers on the spot; staff and the supervisor see every objection.
        "opening.objection.raise": has_role(Role.BIDDER),
        "opening.objection.answer": _party,
        "opening.objection.view_all": lambda actor, tender: (
            _party(actor, tender) or actor.has(Role.CENTER_STAFF) or actor.has(Role.SUPERVISOR)
        ),
    },
)
