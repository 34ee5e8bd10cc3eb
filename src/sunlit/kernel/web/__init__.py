"""The web layer shared by all domains: templates, sessions, CSRF, locale, error pages.

Domains build their pages with :func:`render` and their JSON with plain FastAPI routes; the
app factory calls :func:`install` once.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from sunlit.kernel import clock, i18n
from sunlit.kernel.authz import ANONYMOUS, Actor, Role
from sunlit.kernel.db import Database
from sunlit.kernel.errors import DomainError, InvalidInput, PermissionDenied, Unauthenticated
from sunlit.kernel.web.sessions import WebSession, find_session

log = logging.getLogger("sunlit.web")

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "sunlit_session"
CSRF_COOKIE = "sunlit_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
LOCALE_COOKIE = "sunlit_lang"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

ActorLoader = Callable[[Session, WebSession, Request], Actor | None]

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["_"] = i18n.gettext
templates.env.globals["now"] = clock.now


def add_template_dir(path: Path) -> None:
    """Let a domain add its ``templates/`` folder to the shared loader."""
    loader: Any = templates.env.loader
    if str(path) not in loader.searchpath:
        loader.searchpath.append(str(path))


def fmt_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return clock.ensure_aware(value).strftime(fmt) if value else ""


templates.env.filters["time"] = fmt_time


def role_label(value: str) -> str:
    return Role(value).label if value in Role._value2member_map_ else value


templates.env.globals["role_label"] = role_label


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def session_token(request: Request) -> str | None:
    return bearer_token(request) or request.cookies.get(SESSION_COOKIE)


def get_db(request: Request) -> Iterator[Session]:
    """FastAPI dependency: a session on the app's database, closed after the request."""
    database: Database = request.app.state.db
    with database.session_scope() as session:
        yield session


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def current_actor(request: Request) -> Actor:
    """The actor of this request (anonymous public when not logged in). Cached per request."""
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        actor: Actor = cached
        return actor
    actor = ANONYMOUS
    token = session_token(request)
    if token:
        database: Database = request.app.state.db
        loader: ActorLoader = request.app.state.actor_loader
        with database.session_scope() as db:
            row = find_session(db, token)
            if row is not None:
                request.state.web_session_csrf = row.csrf_token
                loaded = loader(db, row, request)
                if loaded is not None:
                    actor = loaded
    if actor is ANONYMOUS:
        actor = Actor(roles=ANONYMOUS.roles, ip=client_ip(request))
    request.state.actor = actor
    return actor


def require_actor(request: Request) -> Actor:
    """FastAPI dependency: the logged-in actor, or 401."""
    actor = current_actor(request)
    if not actor.is_authenticated:
        raise Unauthenticated("auth.required", "请先登录")
    return actor


def csrf_token(request: Request) -> str:
    """The token to embed in forms (``csrf_token`` field) or send as ``X-CSRF-Token``."""
    token: str | None = getattr(request.state, "csrf_token", None)
    if token is None:
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        request.state.csrf_token = token
    return token


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx = {
        "request": request,
        "actor": current_actor(request),
        "csrf_token": csrf_token(request),
        "locale": i18n.current_locale(),
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def act_or_rerender(
    request: Request,
    db: Session,
    action: Callable[[], object],
    *,
    redirect: str,
    page: Callable[[], tuple[str, dict[str, Any]]],
) -> Response:
    """A page form's post: run the use case, then see-other to ``redirect``; a refusal rolls
    the session back and renders the page again (``page()`` gives template and context) with the
    refusal's Chinese message and its HTTP status."""
    try:
        action()
    except DomainError as exc:
        db.rollback()
        try:
            name, ctx = page()
        except DomainError:
            raise exc from None
        ctx.update(flash=exc.detail, flash_kind="error")
        return render(request, name, ctx, status_code=exc.status)
    return RedirectResponse(redirect, status_code=303)


class CsrfFailed(PermissionDenied):
    pass


class WebMiddleware(BaseHTTPMiddleware):
    """Locale selection and CSRF protection (double-submit cookie, constant-time compare).

    Every unsafe web request, and every unsafe API request that carries the session cookie,
    must present the token from the ``sunlit_csrf`` cookie in the ``X-CSRF-Token`` header or
    the ``csrf_token`` form field. API calls without the session cookie (bearer token or
    anonymous) carry no ambient authority for an attacker to abuse and are exempt.
    """

    def __init__(self, app: Any, secure_cookies: bool = False) -> None:
        super().__init__(app)
        self.secure_cookies = secure_cookies

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        # Chinese unless the user explicitly chose another language (?lang= or the cookie):
        # a browser's Accept-Language is not a choice made on this platform.
        locale = i18n.normalize_locale(
            request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE)
        )
        token = i18n.set_locale(locale)
        try:
            if request.method in UNSAFE and self._needs_csrf(request):
                problem = await self._check_csrf(request)
                if problem is not None:
                    return error_response(request, problem)
            response = await call_next(request)
            if CSRF_COOKIE not in request.cookies and not is_api(request):
                response.set_cookie(
                    CSRF_COOKIE,
                    csrf_token(request),
                    httponly=False,
                    samesite="strict",
                    secure=self.secure_cookies,
                )
            if request.query_params.get("lang"):
                response.set_cookie(LOCALE_COOKIE, locale, samesite="lax", max_age=365 * 86400)
            return response
        finally:
            i18n._current.reset(token)

    @staticmethod
    def _needs_csrf(request: Request) -> bool:
        if is_api(request):
            # Only a session cookie is ambient authority an attacker's page could ride on.
            return SESSION_COOKIE in request.cookies
        return True  # every web form, including login (login CSRF)

    @staticmethod
    async def _check_csrf(request: Request) -> DomainError | None:
        expected = request.cookies.get(CSRF_COOKIE)
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            await request.body()  # cached, so the endpoint can read the form again
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if not expected or not sent or not hmac.compare_digest(expected, sent):
            return CsrfFailed(
                "csrf.invalid", "页面已过期或请求来源无法确认（CSRF 校验失败），请刷新页面后重试"
            )
        return None


def error_response(request: Request, exc: DomainError) -> Response:
    if is_api(request):
        return JSONResponse(
            exc.to_problem(), status_code=exc.status, media_type="application/problem+json"
        )
    if isinstance(exc, Unauthenticated) and request.method == "GET":
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return render(request, "error.html", {"error": exc}, status_code=exc.status)


def validation_problem(request: Request, exc: RequestValidationError) -> Response:
    errors = [
        {
            "field": ".".join(str(p) for p in e["loc"] if p != "body"),
            "type": e["type"],
            "msg": e["msg"],
        }
        for e in exc.errors()
    ]
    fields = "、".join(e["field"] for e in errors if e["field"]) or "请求"
    problem = InvalidInput(
        "request.invalid", "请求内容不符合要求：{fields}", fields=fields, errors=errors
    )
    return error_response(request, problem)


def install(app: FastAPI, *, secure_cookies: bool = False) -> None:
    app.add_middleware(WebMiddleware, secure_cookies=secure_cookies)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        return validation_problem(request, exc)


def set_session_cookie(response: Response, token: str, hours: int, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=hours * 3600,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
