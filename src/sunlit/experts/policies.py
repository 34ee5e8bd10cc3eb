"""Who may do what with the expert pool and draws."""

from __future__ import annotations

from typing import Any

from sunlit.kernel.authz import Actor, Policy, Role, has_role
from sunlit.projects.queries import is_tender_party


def _tender_party(actor: Actor, tender: Any) -> bool:
    return tender is not None and is_tender_party(actor, tender)


def _own_profile(actor: Actor, expert: Any) -> bool:
    return (
        actor.has(Role.EXPERT)
        and expert is not None
        and actor.user_id is not None
        and getattr(expert, "user_id", None) == actor.user_id
    )


STAFF = has_role(Role.CENTER_STAFF)

POLICY = Policy(
    "experts",
    {
        # The pool: staff manage it (and import/export); an expert maintains his own profile
        # and leave; supervisors read it.
        "experts.pool.manage": STAFF,
        "experts.pool.view": has_role(Role.CENTER_STAFF, Role.SUPERVISOR),
        "experts.profile.edit": lambda a, e: STAFF(a, e) or _own_profile(a, e),
        "experts.credit.record": has_role(Role.CENTER_STAFF, Role.SUPERVISOR),
        # Draws: staff run them, the tenderer (or its agency) gives its 回避 list, the
        # supervisor enters its value; all three follow the draw (without names).
        "experts.draw.manage": STAFF,
        "experts.draw.avoid": _tender_party,
        "experts.draw.supervise": has_role(Role.SUPERVISOR),
        "experts.draw.view": lambda a, t: (
            a.has(Role.CENTER_STAFF, Role.SUPERVISOR) or _tender_party(a, t)
        ),
        # A drawn expert answers his own invitation.
        "experts.invitation.answer": has_role(Role.EXPERT),
    },
)
