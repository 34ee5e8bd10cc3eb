"""Who may do what with the transparency log.

Leaf visibility (spec §7.2): every leaf *hash*, every proof and every checkpoint is public. The
leaf *bytes* (the canonical event) are served only to

* the event's own actor (same user id),
* supervisors (行政监督), whose office is to inspect the whole trail,
* the platform itself (system actor, e.g. ``sunlit log export-proof``),
* anyone, for actions declared public records (:func:`declare_public_actions`), such as the
  issue of a checkpoint.

Everyone else gets the leaf hash and the proof only. Leaves carry a random 128-bit event id,
so a leaf hash cannot be matched against guessed contents.
"""

from __future__ import annotations

from sunlit.kernel.authz import Actor, Policy, Role, has_role

PUBLIC_ACTIONS: set[str] = {
    "transparency.checkpoint.issued",
    "transparency.checkpoint.cosigned",
}


def declare_public_actions(*actions: str) -> None:
    """Let a domain declare actions whose audit events are public records (e.g. notices)."""
    PUBLIC_ACTIONS.update(actions)


def can_see_leaf(actor: Actor, event_actor_user_id: str | None, action: str) -> bool:
    """Whether ``actor`` may read the canonical bytes of a leaf (event actor and action)."""
    if actor.auth_method == "system" or actor.has(Role.SUPERVISOR):
        return True
    if actor.user_id is not None and actor.user_id == event_actor_user_id:
        return True
    return action in PUBLIC_ACTIONS


POLICY = Policy(
    "transparency",
    {
        "checkpoint.issue": has_role(Role.CENTER_STAFF),
        "checkpoint.cosign": has_role(Role.SUPERVISOR),
        "log.audit": has_role(Role.CENTER_STAFF, Role.SUPERVISOR),
    },
)
