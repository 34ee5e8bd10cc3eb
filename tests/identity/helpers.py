"""Shared helpers for identity tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sunlit.identity import service
from sunlit.identity.models import Organization
from sunlit.identity.schemas import OrganizationIn, UserIn
from sunlit.kernel.authz import Role, system_actor
from sunlit.kernel.codes import make_credit_code

SYSTEM = system_actor("test")


def code(n: int, region: str = "320500") -> str:
    return make_credit_code("9", "1", region, f"{n:08d}")


def make_org(db: Session, n: int, name: str, roles: list[Role], **admin: Any) -> Organization:
    return service.register_organization(
        db,
        SYSTEM,
        OrganizationIn(
            name=name,
            credit_code=code(n),
            roles=roles,
            admin=UserIn(
                name=admin.get("person", "经办人"), roles=roles, username=admin.get("username")
            ),
        ),
    )


def csrf_headers(client: Any) -> dict[str, str]:
    """Fetch a page so the CSRF cookie is set, and return the matching header."""
    if "sunlit_csrf" not in client.cookies:
        client.get("/")
    return {"X-CSRF-Token": client.cookies["sunlit_csrf"]}
