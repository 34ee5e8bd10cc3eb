"""Who may do what in an award process."""

from __future__ import annotations

from typing import Any

from sunlit.kernel.authz import Actor, Policy, Role, any_of, has_role
from sunlit.projects.queries import is_tender_party


def party(actor: Actor, tender: Any) -> bool:
    return tender is not None and is_tender_party(actor, tender)


staff_or_supervisor = has_role(Role.CENTER_STAFF, Role.SUPERVISOR)

POLICY = Policy(
    "award",
    {
        # 收到评标报告: the tenderer (or its agency) receives the signed report, center staff
        # may register it on the platform's behalf (the system actor always may).
        "award.open": any_of(party, has_role(Role.CENTER_STAFF)),
        # 招标人 (or its agency) publishes, answers objections, decides, notifies, contracts.
        "award.manage": party,
        # 投标人 who took part (checked by the use case) raise objections during publicity.
        "award.object": has_role(Role.BIDDER),
        "award.view_all": any_of(party, staff_or_supervisor),
        "award.monitor": staff_or_supervisor,
    },
)
