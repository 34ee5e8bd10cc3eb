"""Projects JSON API under /api/v1: projects, tender projects, sections, acceptance, venues."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from sunlit.kernel import clock
from sunlit.kernel.authz import Actor
from sunlit.kernel.clock import WorkingCalendar
from sunlit.kernel.web import get_db, require_actor
from sunlit.projects import queries, service
from sunlit.projects.schemas import (
    BookingIn,
    BookingOut,
    CancelIn,
    ProjectIn,
    ProjectOut,
    RegisterTenderIn,
    RestrictionIn,
    RestrictionOut,
    ReviewIn,
    RoomIn,
    RoomOut,
    SectionIn,
    SectionOut,
    TenderProjectIn,
    TenderProjectOut,
)

router = APIRouter(prefix="/api/v1", tags=["projects 项目与受理"])

Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]


def working_calendar(request: Request) -> WorkingCalendar:
    """The statutory working-day calendar (plus the center's file for new years), cached."""
    cal: WorkingCalendar | None = getattr(request.app.state, "working_calendar", None)
    if cal is None:
        cal = WorkingCalendar.from_file(request.app.state.settings.calendar_file)
        request.app.state.working_calendar = cal
    return cal


Calendar = Annotated[WorkingCalendar, Depends(working_calendar)]


def _tender(t: object) -> TenderProjectOut:
    return TenderProjectOut.model_validate(t)


@router.post("/projects", response_model=ProjectOut, status_code=201, summary="项目登记")
def create_project(data: ProjectIn, db: Db, actor: LoggedIn) -> ProjectOut:
    return ProjectOut.model_validate(service.create_project(db, actor, data))


@router.get("/projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: str, db: Db, actor: LoggedIn) -> ProjectOut:
    return ProjectOut.model_validate(queries.get_project(db, actor, project_id))


@router.post(
    "/projects/{project_id}/tender-projects",
    response_model=TenderProjectOut,
    status_code=201,
    summary="招标项目登记",
)
def create_tender_project(
    project_id: str, data: TenderProjectIn, db: Db, actor: LoggedIn
) -> TenderProjectOut:
    return _tender(service.create_tender_project(db, actor, project_id, data))


@router.post(
    "/tender-projects",
    response_model=TenderProjectOut,
    status_code=201,
    summary="项目与招标项目一并登记",
)
def register_tender(data: RegisterTenderIn, db: Db, actor: LoggedIn) -> TenderProjectOut:
    return _tender(service.register_tender(db, actor, data))


@router.get(
    "/tender-projects",
    response_model=list[TenderProjectOut],
    summary="我的招标项目（招标人、代理）或全部招标项目（交易中心、监督）",
)
def list_tender_projects(
    db: Db,
    actor: LoggedIn,
    response: Response,
    status: str | None = None,
    q: str = "",
    scope: Annotated[str, Query(pattern="^(mine|all)$")] = "mine",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[TenderProjectOut]:
    if scope == "all":
        rows, total = queries.search_tender_projects(db, actor, status, q, limit, offset)
    else:
        rows = queries.my_tender_projects(db, actor, status)
        total = len(rows)
    response.headers["X-Total-Count"] = str(total)
    return [_tender(t) for t in rows]


@router.get("/tender-projects/{tender_id}", response_model=TenderProjectOut)
def get_tender_project(tender_id: str, db: Db, actor: LoggedIn) -> TenderProjectOut:
    return _tender(queries.get_tender_project(db, actor, tender_id))


@router.put("/tender-projects/{tender_id}", response_model=TenderProjectOut)
def update_tender_project(
    tender_id: str, data: TenderProjectIn, db: Db, actor: LoggedIn
) -> TenderProjectOut:
    return _tender(service.update_tender_project(db, actor, tender_id, data))


@router.post(
    "/tender-projects/{tender_id}/sections",
    response_model=SectionOut,
    status_code=201,
    summary="新增标段（包）",
)
def add_section(tender_id: str, data: SectionIn, db: Db, actor: LoggedIn) -> SectionOut:
    return SectionOut.model_validate(service.add_section(db, actor, tender_id, data))


@router.get("/sections/{section_id}", response_model=SectionOut)
def get_section(section_id: str, db: Db, actor: LoggedIn) -> SectionOut:
    return SectionOut.model_validate(queries.get_section(db, actor, section_id))


@router.put("/sections/{section_id}", response_model=SectionOut, summary="修改标段（发布前）")
def update_section(section_id: str, data: SectionIn, db: Db, actor: LoggedIn) -> SectionOut:
    return SectionOut.model_validate(service.update_section(db, actor, section_id, data))


@router.post(
    "/tender-projects/{tender_id}/submit", response_model=TenderProjectOut, summary="提交受理"
)
def submit(tender_id: str, db: Db, actor: LoggedIn) -> TenderProjectOut:
    return _tender(service.submit(db, actor, tender_id))


@router.post(
    "/tender-projects/{tender_id}/withdraw", response_model=TenderProjectOut, summary="撤回"
)
def withdraw(tender_id: str, db: Db, actor: LoggedIn) -> TenderProjectOut:
    return _tender(service.withdraw(db, actor, tender_id))


@router.post(
    "/tender-projects/{tender_id}/accept",
    response_model=TenderProjectOut,
    summary="受理登记（交易中心）",
)
def accept(tender_id: str, data: ReviewIn, db: Db, actor: LoggedIn) -> TenderProjectOut:
    return _tender(service.accept(db, actor, tender_id, data.note))


@router.post(
    "/tender-projects/{tender_id}/return",
    response_model=TenderProjectOut,
    summary="退回（交易中心，须注明原因）",
)
def return_tender(tender_id: str, data: ReviewIn, db: Db, actor: LoggedIn) -> TenderProjectOut:
    return _tender(service.return_tender(db, actor, tender_id, data.note))


# --- venues --------------------------------------------------------------------------------


@router.get("/venues/rooms", response_model=list[RoomOut], summary="开标室、评标室")
def list_rooms(db: Db, actor: LoggedIn) -> list[RoomOut]:
    return [RoomOut.model_validate(r) for r in queries.rooms(db, actor, include_inactive=True)]


@router.post("/venues/rooms", response_model=RoomOut, status_code=201, summary="新增场地")
def create_room(data: RoomIn, db: Db, actor: LoggedIn) -> RoomOut:
    return RoomOut.model_validate(service.create_room(db, actor, data))


@router.get("/venues/bookings", response_model=list[BookingOut], summary="场地日历")
def list_bookings(
    db: Db,
    actor: LoggedIn,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[BookingOut]:
    begin = service.as_china(start) if start else clock.now()
    finish = service.as_china(end) if end else begin + dt.timedelta(days=31)
    rows = queries.bookings_between(db, actor, begin, finish)
    return [BookingOut.model_validate(b) for b in rows]


@router.post(
    "/tender-projects/{tender_id}/bookings",
    response_model=BookingOut,
    status_code=201,
    summary="预约开标室/评标室（含远程分会场）",
)
def book_venue(tender_id: str, data: BookingIn, db: Db, actor: LoggedIn) -> BookingOut:
    return BookingOut.model_validate(service.book_venue(db, actor, tender_id, data))


@router.get("/tender-projects/{tender_id}/bookings", response_model=list[BookingOut])
def tender_bookings(tender_id: str, db: Db, actor: LoggedIn) -> list[BookingOut]:
    return [BookingOut.model_validate(b) for b in queries.bookings_of(db, actor, tender_id)]


@router.post("/venues/bookings/{booking_id}/cancel", response_model=BookingOut, summary="取消预约")
def cancel_booking(booking_id: str, data: CancelIn, db: Db, actor: LoggedIn) -> BookingOut:
    return BookingOut.model_validate(service.cancel_booking(db, actor, booking_id, data.reason))


# --- restrictions --------------------------------------------------------------------------


@router.get("/restrictions", response_model=list[RestrictionOut], summary="限制投标名单")
def list_restrictions(db: Db, actor: LoggedIn) -> list[RestrictionOut]:
    return [RestrictionOut.model_validate(r) for r in queries.restrictions(db, actor)]


@router.post(
    "/restrictions", response_model=RestrictionOut, status_code=201, summary="列入限制投标名单"
)
def add_restriction(data: RestrictionIn, db: Db, actor: LoggedIn) -> RestrictionOut:
    return RestrictionOut.model_validate(service.add_restriction(db, actor, data))


@router.post(
    "/restrictions/{restriction_id}/revoke", response_model=RestrictionOut, summary="撤销限制"
)
def revoke_restriction(
    restriction_id: str, data: CancelIn, db: Db, actor: LoggedIn
) -> RestrictionOut:
    return RestrictionOut.model_validate(
        service.revoke_restriction(db, actor, restriction_id, data.reason)
    )
