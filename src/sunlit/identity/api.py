"""Identity JSON API under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from sunlit.identity import queries, service
from sunlit.identity.schemas import (
    CertificateLoginIn,
    CertificateOut,
    ChallengeOut,
    LoginOut,
    MeOut,
    OrganizationIn,
    OrganizationOut,
    PasswordLoginIn,
    ReviewIn,
    TrustedCAIn,
    TrustedCAOut,
    UserIn,
    UserOut,
)
from sunlit.kernel.authz import Actor
from sunlit.kernel.web import client_ip, current_actor, get_db, require_actor, session_token

router = APIRouter(prefix="/api/v1", tags=["identity 身份"])

Db = Annotated[Session, Depends(get_db)]
AnyActor = Annotated[Actor, Depends(current_actor)]
LoggedIn = Annotated[Actor, Depends(require_actor)]


def login_settings(request: Request) -> service.LoginSettings:
    s = request.app.state.settings
    return service.LoginSettings(
        max_failures=s.login_max_failures,
        lock_minutes=s.login_lock_minutes,
        challenge_seconds=s.challenge_seconds,
        session_hours=s.session_hours,
        audience=s.base_url,
    )


Settings = Annotated[service.LoginSettings, Depends(login_settings)]


def _login_out(result: service.LoginResult) -> LoginOut:
    return LoginOut(
        token=result.token,
        expires_at=result.expires_at,
        user=UserOut.model_validate(result.user),
        organization=OrganizationOut.model_validate(result.user.organization),
    )


@router.post("/organizations", response_model=OrganizationOut, status_code=201, summary="主体注册")
def register_organization(data: OrganizationIn, db: Db, actor: AnyActor) -> OrganizationOut:
    return OrganizationOut.model_validate(service.register_organization(db, actor, data))


@router.get("/organizations", response_model=list[OrganizationOut], summary="主体查询（交易中心）")
def list_organizations(
    db: Db,
    actor: LoggedIn,
    response: Response,
    q: str = "",
    status: str | None = None,
    role: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[OrganizationOut]:
    rows, total = queries.search_organizations(db, actor, q, status, role, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return [OrganizationOut.model_validate(o) for o in rows]


@router.get("/organizations/{org_id}", response_model=OrganizationOut)
def get_organization(org_id: str, db: Db, actor: LoggedIn) -> OrganizationOut:
    return OrganizationOut.model_validate(queries.get_organization(db, actor, org_id))


@router.post("/organizations/{org_id}/review", response_model=OrganizationOut, summary="审核")
def review_organization(org_id: str, data: ReviewIn, db: Db, actor: LoggedIn) -> OrganizationOut:
    org = service.review_organization(db, actor, org_id, data.action, data.note)
    return OrganizationOut.model_validate(org)


@router.get("/organizations/{org_id}/users", response_model=list[UserOut])
def list_users(org_id: str, db: Db, actor: LoggedIn) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in queries.users_of(db, actor, org_id)]


@router.post("/organizations/{org_id}/users", response_model=UserOut, status_code=201)
def add_user(org_id: str, data: UserIn, db: Db, actor: LoggedIn) -> UserOut:
    return UserOut.model_validate(service.add_user(db, actor, org_id, data))


@router.post("/auth/challenge", response_model=ChallengeOut, summary="获取证书登录/绑定挑战")
def challenge(db: Db, actor: AnyActor, settings: Settings, purpose: str = "login") -> ChallengeOut:
    ch, message = service.issue_challenge(db, actor, purpose, settings)
    return ChallengeOut(challenge_id=ch.id, message=message.decode(), expires_at=ch.expires_at)


@router.post("/auth/certificate", response_model=LoginOut, summary="证书登录")
def certificate_login(
    data: CertificateLoginIn, request: Request, db: Db, settings: Settings
) -> LoginOut:
    result = service.login_with_certificate(
        db, client_ip(request), data.challenge_id, data.certificate, data.signature, settings
    )
    return _login_out(result)


@router.post("/auth/password", response_model=LoginOut, summary="口令+动态口令登录（工作人员）")
def password_login(data: PasswordLoginIn, request: Request, db: Db, settings: Settings) -> LoginOut:
    result = service.login_with_password(
        db, client_ip(request), data.username, data.password, data.totp, settings
    )
    return _login_out(result)


@router.post("/auth/logout", status_code=204, summary="退出登录")
def logout(request: Request, db: Db, actor: LoggedIn) -> Response:
    token = session_token(request)
    if token:
        service.logout(db, actor, token)
    return Response(status_code=204)


@router.get("/me", response_model=MeOut, summary="我的账号与单位")
def me(db: Db, actor: LoggedIn) -> MeOut:
    assert actor.user_id is not None
    user = queries.get_user(db, actor, actor.user_id)
    return MeOut(
        user=UserOut.model_validate(user),
        organization=OrganizationOut.model_validate(user.organization),
        certificates=[
            CertificateOut.model_validate(c) for c in queries.certificates_of(db, actor, user.id)
        ],
    )


@router.post(
    "/me/certificates",
    response_model=CertificateOut,
    status_code=201,
    summary="绑定证书（证明持有私钥）",
)
def bind_certificate(
    data: CertificateLoginIn, db: Db, actor: LoggedIn, settings: Settings
) -> CertificateOut:
    cert = service.bind_certificate(
        db, actor, data.challenge_id, data.certificate, data.signature, settings
    )
    return CertificateOut.model_validate(cert)


@router.get("/trust/cas", response_model=list[TrustedCAOut], summary="平台信任的 CA（公开）")
def list_cas(db: Db) -> list[TrustedCAOut]:
    return [TrustedCAOut.model_validate(c) for c in queries.trusted_cas(db)]


@router.post("/trust/cas", response_model=TrustedCAOut, status_code=201, summary="添加信任 CA")
def add_ca(data: TrustedCAIn, db: Db, actor: LoggedIn) -> TrustedCAOut:
    return TrustedCAOut.model_validate(
        service.add_trusted_ca(db, actor, data.name, data.certificate)
    )
