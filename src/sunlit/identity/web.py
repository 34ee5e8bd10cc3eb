"""Identity pages (Chinese): login, registration, my organization, staff organization list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from sunlit.identity import queries, service
from sunlit.identity.api import Settings, login_settings
from sunlit.identity.policies import SELF_REGISTRABLE_ROLES
from sunlit.identity.schemas import OrganizationIn, UserIn
from sunlit.identity.states import ORG_LIFECYCLE, OrgStatus
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.errors import DomainError
from sunlit.kernel.web import (
    SESSION_COOKIE,
    add_template_dir,
    client_ip,
    current_actor,
    get_db,
    render,
    require_actor,
    set_session_cookie,
)

add_template_dir(Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)

Db = Annotated[Session, Depends(get_db)]
AnyActor = Annotated[Actor, Depends(current_actor)]
LoggedIn = Annotated[Actor, Depends(require_actor)]


def _start_session(request: Request, response: Response, result: service.LoginResult) -> None:
    s = request.app.state.settings
    set_session_cookie(response, result.token, s.session_hours, s.secure_cookies)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/me", tab: str = "cert") -> HTMLResponse:
    return render(
        request,
        "identity/login.html",
        {"next": _safe_next(next), "tab": tab, "signer_url": request.app.state.settings.signer_url},
    )


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/me"


@router.post("/login/password", response_class=HTMLResponse)
def login_password(
    request: Request,
    db: Db,
    settings: Settings,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    totp: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/me",
) -> Response:
    try:
        result = service.login_with_password(
            db, client_ip(request), username.strip(), password, totp, settings
        )
    except DomainError as exc:
        return render(
            request,
            "identity/login.html",
            {
                "next": next,
                "tab": "password",
                "error": exc.detail,
                "username": username,
                "signer_url": request.app.state.settings.signer_url,
            },
            status_code=exc.status,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    _start_session(request, response, result)
    return response


@router.post("/login/certificate")
async def login_certificate(request: Request, db: Db) -> Response:
    """Called by the login page's script after the local signer signed the challenge."""
    body: dict[str, Any] = await request.json()
    settings = login_settings(request)
    result = service.login_with_certificate(
        db,
        client_ip(request),
        str(body.get("challenge_id", "")),
        str(body.get("certificate", "")),
        str(body.get("signature", "")),
        settings,
    )
    response = JSONResponse({"redirect": _safe_next(str(body.get("next", "/me")))})
    _start_session(request, response, result)
    return response


@router.post("/logout")
def logout(request: Request, db: Db, actor: AnyActor) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and actor.is_authenticated:
        service.logout(db, actor, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


ROLE_CHOICES = [r for r in Role if r in SELF_REGISTRABLE_ROLES]


@router.get("/register", response_class=HTMLResponse)
def register_page(request: Request) -> HTMLResponse:
    return render(request, "identity/register.html", {"form": {}, "roles": ROLE_CHOICES})


@router.post("/register", response_class=HTMLResponse)
async def register(request: Request, db: Db, actor: AnyActor) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    roles = [str(r) for r in form.getlist("roles")]
    ctx: dict[str, Any] = {"form": values, "selected_roles": roles, "roles": ROLE_CHOICES}
    try:
        data = OrganizationIn(
            name=values.get("name", ""),
            credit_code=values.get("credit_code", ""),
            roles=[Role(r) for r in roles if r in Role._value2member_map_],
            legal_representative=values.get("legal_representative", ""),
            contact_name=values.get("contact_name", ""),
            contact_phone=values.get("contact_phone", ""),
            address=values.get("address", ""),
            basic_account_bank=values.get("basic_account_bank", ""),
            basic_account_no=values.get("basic_account_no", ""),
            admin=UserIn(
                name=values.get("contact_name", "")
                or values.get("legal_representative", "")
                or "经办人",
                mobile=values.get("contact_phone", ""),
            ),
        )
        org = service.register_organization(db, actor, data)
    except ValidationError as exc:
        ctx["error"] = _form_error(exc)
        ctx["error_field"] = str(exc.errors()[0]["loc"][0]) if exc.errors() else ""
        return render(request, "identity/register.html", ctx, status_code=422)
    except DomainError as exc:
        ctx["error"] = exc.detail
        ctx["error_field"] = exc.field or ""
        return render(request, "identity/register.html", ctx, status_code=exc.status)
    return render(request, "identity/registered.html", {"org": org})


FIELD_LABELS = {"name": "单位名称", "credit_code": "统一社会信用代码", "roles": "主体角色"}


def _form_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    label = FIELD_LABELS.get(field, field)
    if field == "roles":
        return "请至少选择一个主体角色"
    return f"“{label}”填写不符合要求，请检查后重新提交"


@router.get("/me", response_class=HTMLResponse)
def my_organization(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    return _me_page(request, db, actor)


def _me_page(
    request: Request, db: Session, actor: Actor, user_error: str = "", status_code: int = 200
) -> HTMLResponse:
    assert actor.user_id and actor.org_id
    user = queries.get_user(db, actor, actor.user_id)
    return render(
        request,
        "identity/me.html",
        {
            "user_error": user_error,
            "user": user,
            "org": user.organization,
            "users": queries.users_of(db, actor, actor.org_id),
            "certificates": queries.certificates_of(db, actor, user.id),
            "status_label": ORG_LIFECYCLE.label(OrgStatus(user.organization.status)),
            "signer_url": request.app.state.settings.signer_url,
        },
        status_code=status_code,
    )


@router.post("/me/users", response_class=HTMLResponse)
async def my_organization_add_user(request: Request, db: Db, actor: LoggedIn) -> Response:
    form = await request.form()
    assert actor.org_id
    try:
        data = UserIn(
            name=str(form.get("name", "")).strip(),
            mobile=str(form.get("mobile", "")).strip(),
            roles=[
                Role(str(r)) for r in form.getlist("roles") if str(r) in Role._value2member_map_
            ],
        )
        service.add_user(db, actor, actor.org_id, data)
    except ValidationError:
        return _me_page(request, db, actor, "请填写姓名", 422)
    except DomainError as exc:
        return _me_page(request, db, actor, exc.detail, exc.status)
    return RedirectResponse("/me", status_code=303)


@router.get("/staff/organizations", response_class=HTMLResponse)
def staff_organizations(
    request: Request,
    db: Db,
    actor: LoggedIn,
    q: str = "",
    status: str = "",
    role: str = "",
    page: int = 1,
) -> HTMLResponse:
    size = 20
    page = max(page, 1)
    rows, total = queries.search_organizations(
        db, actor, q, status or None, role or None, size, (page - 1) * size
    )
    return render(
        request,
        "identity/staff_orgs.html",
        {
            "rows": rows,
            "total": total,
            "q": q,
            "status": status,
            "role": role,
            "page": page,
            "pages": max(1, -(-total // size)),
            "statuses": list(OrgStatus),
            "lifecycle": ORG_LIFECYCLE,
            "all_roles": list(Role),
        },
    )


@router.get("/staff/organizations/{org_id}", response_class=HTMLResponse)
def staff_organization(request: Request, org_id: str, db: Db, actor: LoggedIn) -> HTMLResponse:
    org = queries.get_organization(db, actor, org_id)
    return render(
        request,
        "identity/staff_org.html",
        {
            "org": org,
            "users": queries.users_of(db, actor, org_id),
            "lifecycle": ORG_LIFECYCLE,
            "actions": ORG_LIFECYCLE.allowed_actions(OrgStatus(org.status)),
        },
    )


@router.post("/staff/organizations/{org_id}/review")
def staff_review(
    request: Request,
    org_id: str,
    db: Db,
    actor: LoggedIn,
    action: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    service.review_organization(db, actor, org_id, action, note)
    return RedirectResponse(f"/staff/organizations/{org_id}", status_code=303)
