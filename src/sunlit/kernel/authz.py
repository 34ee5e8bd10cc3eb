"""Actors, roles and permission checks.

The kernel knows what an actor is; domains say in their ``policies.py`` which roles (and
which relations to an object) allow which action. Objects an actor may not see are reported
as not found (404), never as forbidden, so their existence does not leak.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sunlit.kernel.errors import PermissionDenied, Unauthenticated, not_found
from sunlit.kernel.i18n import gettext


class Role(StrEnum):
    CENTER_STAFF = "center_staff"
    TENDERER = "tenderer"
    AGENCY = "agency"
    BIDDER = "bidder"
    EXPERT = "expert"
    SUPERVISOR = "supervisor"
    FINANCIAL = "financial"
    PUBLIC = "public"

    @property
    def label(self) -> str:
        return gettext(ROLE_LABELS[self])


ROLE_LABELS: dict[Role, str] = {
    Role.CENTER_STAFF: "交易中心工作人员",
    Role.TENDERER: "招标人/采购人",
    Role.AGENCY: "招标代理/采购代理",
    Role.BIDDER: "投标人/供应商",
    Role.EXPERT: "评标专家",
    Role.SUPERVISOR: "行政监督",
    Role.FINANCIAL: "金融机构",
    Role.PUBLIC: "社会公众",
}


@dataclass(frozen=True)
class Actor:
    """Who is acting. ``roles`` are the roles the actor holds in its organization."""

    user_id: str | None = None
    org_id: str | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)
    name: str = ""
    org_name: str = ""
    auth_method: str = "anonymous"  # certificate | password | system | anonymous
    ip: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None or self.auth_method == "system"

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)


ANONYMOUS = Actor(roles=frozenset({Role.PUBLIC}))


def system_actor(name: str = "system") -> Actor:
    """The platform itself (set-up, scheduled jobs, demo loading)."""
    return Actor(name=name, auth_method="system", roles=frozenset({Role.CENTER_STAFF}))


Rule = Callable[[Actor, Any], bool]


def has_role(*roles: Role) -> Rule:
    def rule(actor: Actor, obj: Any) -> bool:
        return actor.has(*roles)

    return rule


def any_of(*rules: Rule) -> Rule:
    def rule(actor: Actor, obj: Any) -> bool:
        return any(r(actor, obj) for r in rules)

    return rule


def authenticated(actor: Actor, obj: Any) -> bool:
    return actor.is_authenticated


def is_system(actor: Actor, obj: Any) -> bool:
    return actor.auth_method == "system"


class Policy:
    """A domain's table of ``permission -> rule``. Unknown permissions are denied."""

    def __init__(self, name: str, rules: Mapping[str, Rule]) -> None:
        self.name = name
        self.rules = dict(rules)

    def allows(self, actor: Actor, permission: str, obj: Any = None) -> bool:
        rule = self.rules.get(permission)
        if rule is None:
            return False
        return is_system(actor, obj) or rule(actor, obj)

    def require(self, actor: Actor, permission: str, obj: Any = None) -> None:
        if self.allows(actor, permission, obj):
            return
        if not actor.is_authenticated:
            raise Unauthenticated("auth.required", "请先登录")
        raise PermissionDenied(f"{self.name}.forbidden", "当前账号无权执行此操作")

    def require_visible(self, actor: Actor, permission: str, obj: Any, kind: str) -> None:
        """Like :meth:`require`, but a refusal looks exactly like a missing object."""
        if obj is None or not self.allows(actor, permission, obj):
            raise not_found(kind)
