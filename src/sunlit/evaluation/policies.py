"""Who may do what in an evaluation. Rules get an :class:`Ctx`: the tender project and, when
the actor sits on the committee, the actor's member row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sunlit.kernel.authz import Actor, Policy, Role, has_role
from sunlit.projects.queries import is_tender_party


@dataclass(frozen=True)
class Ctx:
    tender: Any
    member: Any = None  # EvaluationMember of the actor, if any
    leader_id: str | None = None


def _party(actor: Actor, ctx: Ctx) -> bool:
    return ctx.tender is not None and is_tender_party(actor, ctx.tender)


def _member(actor: Actor, ctx: Ctx) -> bool:
    m = ctx.member
    return m is not None and m.user_id == actor.user_id and not m.recused


def _listed(actor: Actor, ctx: Ctx) -> bool:
    """On the committee list, recused or not (a recused member still sees the progress)."""
    return ctx.member is not None and ctx.member.user_id == actor.user_id


def _leader(actor: Actor, ctx: Ctx) -> bool:
    return _member(actor, ctx) and ctx.leader_id is not None and ctx.member.id == ctx.leader_id


POLICY = Policy(
    "evaluation",
    {
        # 评标办法与评分标准: the tenderer or its agency, before evaluation starts.
        "evaluation.plan.edit": _party,
        "evaluation.plan.view": lambda a, c: (
            _party(a, c) or a.has(Role.CENTER_STAFF) or a.has(Role.SUPERVISOR) or _member(a, c)
        ),
        # The center forms the committee from the draw, sets venues, starts and terminates.
        "evaluation.host": has_role(Role.CENTER_STAFF),
        "evaluation.member": _member,
        "evaluation.leader": _leader,
        "evaluation.answer": has_role(Role.BIDDER),
        # Progress (who signed in, who handed in): staff, supervisor, members, the tenderer.
        "evaluation.progress": lambda a, c: (
            a.has(Role.CENTER_STAFF) or a.has(Role.SUPERVISOR) or _listed(a, c) or _party(a, c)
        ),
        # Every expert's scores: the committee itself and the supervisor (evaluation is
        # confidential until the report is signed; the tenderer sees the signed report).
        "evaluation.scores": lambda a, c: _member(a, c) or a.has(Role.SUPERVISOR),
        "evaluation.report.view": lambda a, c: (
            _member(a, c) or a.has(Role.SUPERVISOR) or a.has(Role.CENTER_STAFF) or _party(a, c)
        ),
    },
)
