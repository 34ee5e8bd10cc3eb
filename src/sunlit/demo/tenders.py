"""Demo tenders in every phase, replayed as a six-week history so the portal looks alive.

Everything goes through the real use cases, in time order, on a manual clock that walks from
the start of the history to "now": registration, acceptance, venue bookings, signed tender
documents, notices, downloads, a clarification that had to extend the deadline, a termination,
and projects still waiting in the acceptance queue.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.demo.data import BIDDER_NAMES
from sunlit.identity.models import Organization, User
from sunlit.kernel import clock
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.clock import CalendarUnavailable, ManualClock, WorkingCalendar
from sunlit.kernel.crypto import load_private_key_any, sign_any
from sunlit.kernel.storage import LocalBlobStore
from sunlit.notices import service as notices
from sunlit.notices.models import Document
from sunlit.notices.schemas import ClarificationIn, NoticeIn, TerminationIn
from sunlit.projects import service as projects
from sunlit.projects.catalog import Method
from sunlit.projects.models import Booking, TenderProject
from sunlit.projects.schemas import (
    BookingIn,
    CoefficientIn,
    EntrustmentIn,
    ProjectIn,
    RegisterTenderIn,
    RestrictionIn,
    RoomIn,
    SectionIn,
    TenderProjectIn,
)

DEMO_AUDIENCE = "http://127.0.0.1:8000"
HISTORY_DAYS = 45
CENTER = "苏州市公共资源交易中心"


@dataclass
class Cast:
    """The demo people who act in the history, with their signing keys."""

    actors: dict[str, Actor]
    keys: dict[str, Any]
    orgs: dict[str, Organization]


@dataclass
class Story:
    today: dt.date
    db: Session
    cast: Cast
    blobs: LocalBlobStore
    calendar: WorkingCalendar
    refresh_crls: Callable[[Session], None]
    events: list[tuple[dt.datetime, int, Callable[[], object]]] = field(default_factory=list)
    tenders: dict[str, TenderProject] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)
    rooms: dict[str, str] = field(default_factory=dict)

    def at(self, days: int, hour: int = 10, minute: int = 0) -> dt.datetime:
        day = self.today + dt.timedelta(days=days)
        return dt.datetime.combine(day, dt.time(hour, minute), clock.CHINA_TZ)

    def on(self, days: int, hour: int, minute: int, step: Callable[[], object]) -> None:
        self.events.append((self.at(days, hour, minute), len(self.events), step))


def _cast(db: Session, keys_dir: Path) -> Cast:
    people = {
        "staff": ("王敏", "01-center-wangmin"),
        "supervisor": ("孙红", "03-supervisor-sunhong"),
        "metro": ("李建国", "04-tenderer-lijianguo"),
        "school": ("周云", "05-tenderer-zhouyun"),
        "agency": ("陈静", "06-agency-chenjing"),
    }
    actors, keys, orgs = {}, {}, {}
    for role, (name, key) in people.items():
        user = db.scalar(select(User).where(User.name == name))
        assert user is not None, name
        actors[role] = _actor(user)
        orgs[role] = user.organization
        keys[role] = load_private_key_any((keys_dir / f"{key}.key.pem").read_bytes())
    for i, (name, _region, _person) in enumerate(BIDDER_NAMES):
        bidder = db.scalar(select(Organization).where(Organization.name == name))
        assert bidder is not None, name
        user = db.scalar(select(User).where(User.organization_id == bidder.id))
        assert user is not None
        actors[f"bidder{i + 1}"] = _actor(user)
        orgs[f"bidder{i + 1}"] = bidder
    return Cast(actors, keys, orgs)


def _actor(user: User) -> Actor:
    return Actor(
        user_id=user.id,
        org_id=user.organization_id,
        roles=frozenset(Role(r) for r in user.roles),
        name=user.name,
        org_name=user.organization.name,
        auth_method="certificate",
    )


def _pdf(lines: list[str]) -> bytes:
    """A small valid PDF (ASCII text) standing in for a tender document."""
    text = " ".join(f"({line.encode('ascii', 'replace').decode()}) Tj T*" for line in lines)
    stream = f"BT /F1 12 Tf 14 TL 72 760 Td {text} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def notice_text(tender: TenderProject) -> str:
    kind = Method(tender.method).label
    sections = "\n".join(
        f"    {s.code}  {s.name}：估算价 {s.estimated_price:,.2f} 元，"
        f"工期（服务期）{s.duration_days or '—'} 日历天"
        for s in tender.sections
    )
    deadline = min((s.bid_deadline for s in tender.sections if s.bid_deadline), default=None)
    when = clock.ensure_aware(deadline).strftime("%Y年%m月%d日%H时%M分") if deadline else "—"
    return (
        f"一、{kind}条件\n本项目{tender.name}已由项目审批部门批准，资金已落实，"
        f"具备{kind}条件，现进行{kind}。\n\n"
        f"二、项目概况与范围\n{tender.content or tender.name}\n标段（包）划分：\n{sections}\n\n"
        "三、投标人资格要求\n详见招标文件。本次招标不接受被列入限制投标名单的单位投标。\n\n"
        "四、招标文件的获取\n凡有意参加投标者，请登录阳光交易平台，使用数字证书在线获取招标文件，"
        "平台不设其他获取条件。\n\n"
        f"五、投标文件的递交\n投标文件递交的截止时间（投标截止时间，下同）为{when}，"
        "投标人应使用投标文件制作工具在本机加密后在线递交。逾期送达的投标文件，平台将予以拒收。\n\n"
        "六、开标\n开标时间同投标截止时间，采用网上开标（不见面开标）方式，"
        "投标人可在线参加开标并解密投标文件。\n\n"
        "七、发布公告的媒介\n本公告同时在中国招标投标公共服务平台和阳光交易平台发布。"
    )


def _section(
    name: str,
    price: str,
    method: str,
    deadline: dt.datetime,
    *,
    control: str | None = None,
    security: str = "0",
    days: int | None = 365,
    coefficients: list[tuple[str, list[str]]] | None = None,
    qualification: str = "",
    bidders: int | None = None,
) -> SectionIn:
    return SectionIn(
        name=name,
        content=name,
        estimated_price=Decimal(price),
        control_price=Decimal(control) if control else None,
        bid_security=Decimal(security),
        duration_days=days,
        evaluation_method=method,
        bid_deadline=deadline,
        qualification=qualification,
        min_bidders=bidders,
        coefficients=[
            CoefficientIn(name=n, candidates=[Decimal(v) for v in values])
            for n, values in (coefficients or [])
        ],
    )


def _sign(story: Story, who: str, tender: TenderProject, content: bytes) -> str:
    digest = f"sha256:{hashlib.sha256(content).hexdigest()}"
    message = notices.document_message(DEMO_AUDIENCE, tender.code, digest)
    return base64.b64encode(sign_any(story.cast.keys[who], message)).decode()


def _upload(story: Story, who: str, key: str, name: str, kind: str = "tender_document") -> None:
    tender = story.tenders[key]
    content = _pdf(["Sunlit demo", tender.code, tender.project.code, name.encode().hex()[:40]])
    story.refresh_crls(story.db)
    notices.upload_document(
        story.db,
        story.cast.actors[who],
        story.blobs,
        tender.id,
        kind,
        notices.Upload(name, "application/pdf", io.BytesIO(content)),
        _sign(story, who, tender, content),
        "sha256",
        DEMO_AUDIENCE,
    )


def _register(
    story: Story,
    key: str,
    who: str,
    project: ProjectIn,
    tender: TenderProjectIn,
    sections: list[SectionIn],
) -> None:
    t = projects.register_tender(
        story.db, story.cast.actors[who], RegisterTenderIn(project=project, tender=tender)
    )
    for s in sections:
        projects.add_section(story.db, story.cast.actors[who], t.id, s)
    story.db.refresh(t)
    story.tenders[key] = t


def _publish(story: Story, who: str, key: str, invitees: list[str] | None = None) -> None:
    tender = story.tenders[key]
    story.db.refresh(tender)
    codes = [story.cast.orgs[b].credit_code for b in invitees or []]
    draft = notices.create_notice(
        story.db,
        story.cast.actors[who],
        tender.id,
        NoticeIn(content=notice_text(tender), invitee_credit_codes=codes),
    )
    notices.publish_notice(story.db, story.cast.actors[who], draft.id, story.calendar)
    story.notices[key] = draft.id


def _download(story: Story, bidder: str, key: str) -> None:
    doc = story.db.scalar(
        select(Document).where(
            Document.notice_id == story.notices[key], Document.kind == "tender_document"
        )
    )
    assert doc is not None
    notices.download_document(
        story.db, story.cast.actors[bidder], doc.id, "10.12.0.8", "Mozilla/5.0 (demo)"
    )


def _submit_accept(story: Story, who: str, key: str, note: str = "资料齐全，予以受理") -> None:
    t = story.tenders[key]
    projects.submit(story.db, story.cast.actors[who], t.id)
    projects.accept(story.db, story.cast.actors["staff"], t.id, note)


def _book(
    story: Story,
    key: str,
    purpose: str,
    room: str,
    starts: dt.datetime,
    hours: float,
    *,
    section: int | None = 0,
    branches: tuple[str, ...] = (),
) -> None:
    t = story.tenders[key]
    story.db.refresh(t)
    projects.book_venue(
        story.db,
        story.cast.actors["staff"],
        t.id,
        BookingIn(
            purpose=purpose,
            room_id=story.rooms[room],
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=hours),
            section_id=t.sections[section].id if section is not None else None,
            branch_room_ids=[story.rooms[b] for b in branches],
        ),
    )


def _script(story: Story) -> None:
    s, on = story, story.on
    org = story.cast.orgs
    eng = "engineering"
    gp = "government_procurement"

    def project(name: str, category: str, owner: str, region: str = "320500") -> ProjectIn:
        return ProjectIn(
            name=name,
            category=category,
            region_code=region,
            tenderer_credit_code=org[owner].credit_code,
            legal_person=org[owner].name,
            fund_source="财政资金" if category == gp else "财政资金 40%，企业自筹 60%",
            approval_name="项目可行性研究报告批复" if category == eng else "",
            approval_number="苏发改投〔2026〕58号" if category == eng else "",
        )

    entrust = EntrustmentIn(contract_no="ZX-WT-2026-031", scope="招标全过程代理")

    def rooms() -> None:
        for name, kind, center, seats, remote in [
            ("第一开标室", "opening", CENTER, 80, False),
            ("第二开标室", "opening", CENTER, 40, False),
            ("第一评标室", "evaluation", CENTER, 15, False),
            ("第二评标室", "evaluation", CENTER, 15, False),
            ("远程评标室A", "evaluation", "南京市公共资源交易中心", 12, True),
            ("远程评标室", "evaluation", "无锡市公共资源交易中心", 10, True),
        ]:
            room = projects.create_room(
                s.db,
                s.cast.actors["staff"],
                RoomIn(name=name, kind=kind, center_name=center, seats=seats, remote=remote),
            )
            s.rooms[name] = room.id

    on(-HISTORY_DAYS + 1, 9, 0, rooms)
    on(
        -20,
        15,
        0,
        lambda: projects.add_restriction(
            s.db,
            s.cast.actors["supervisor"],
            RestrictionIn(
                credit_code=org["bidder8"].credit_code,
                reason="在苏州市某道路工程投标中与其他投标人串通投标",
                authority="苏州市住房和城乡建设局",
                document_no="苏建罚〔2026〕37号",
                ends_at=s.at(345, 0, 0),
            ),
        ),
    )

    # 1. Past its deadline, waiting for the opening (engineering, the tenderer itself).
    on(
        -40,
        9,
        30,
        lambda: _register(
            s,
            "metro6",
            "metro",
            project("苏州市轨道交通6号线工程", eng, "metro"),
            TenderProjectIn(
                name="苏州市轨道交通6号线站点装修工程",
                method="open",
                project_type="A11",
                content="6号线8座车站公共区装修，含地面、墙面、吊顶及导向标识",
                supervise_dept_name="苏州市住房和城乡建设局",
            ),
            [
                _section(
                    "装修工程第1标段（东段4站）",
                    "38600000",
                    "comprehensive",
                    s.at(-5, 9, 30),
                    control="37500000",
                    security="700000",
                    days=300,
                ),
                _section(
                    "装修工程第2标段（西段4站）",
                    "35200000",
                    "comprehensive",
                    s.at(-5, 9, 30),
                    control="34000000",
                    security="700000",
                    days=300,
                ),
            ],
        ),
    )
    on(-40, 10, 0, lambda: _upload(s, "metro", "metro6", "6号线站点装修工程招标文件.pdf"))
    on(-39, 14, 0, lambda: _submit_accept(s, "metro", "metro6"))
    on(
        -38,
        9,
        0,
        lambda: _book(s, "metro6", "opening", "第一开标室", s.at(-5, 9, 0), 3, section=None),
    )
    on(
        -38,
        9,
        10,
        lambda: _book(
            s,
            "metro6",
            "evaluation",
            "第一评标室",
            s.at(-5, 13, 30),
            5,
            branches=("远程评标室A",),
        ),
    )
    on(-36, 9, 0, lambda: _publish(s, "metro", "metro6"))
    for i, b in enumerate(["bidder1", "bidder2", "bidder3", "bidder4", "bidder5"]):
        on(-35 + i * 3, 10 + i, 15, functools.partial(_download, s, b, "metro6"))

    # 2. Tendering, with a clarification that had to extend the deadline (agency).
    on(
        -16,
        10,
        0,
        lambda: _register(
            s,
            "metro8",
            "agency",
            project("苏州市轨道交通8号线工程", eng, "metro"),
            TenderProjectIn(
                name="苏州市轨道交通8号线车辆段土建施工",
                method="open",
                project_type="A11",
                content="8号线车辆段综合楼、检修库、运用库土建及附属工程",
                supervise_dept_name="苏州市住房和城乡建设局",
                entrustment=entrust,
            ),
            [
                _section(
                    "土建施工第1标段（综合楼、检修库）",
                    "52000000",
                    "reasonable_low_price",
                    s.at(10, 9, 30),
                    control="50000000",
                    security="800000",
                    days=540,
                    coefficients=[
                        ("下浮系数K", ["0.95", "0.96", "0.97", "0.98"]),
                        ("下浮率Δ（%）", ["3", "4", "5"]),
                    ],
                    qualification="建筑工程施工总承包一级及以上资质",
                ),
                _section(
                    "土建施工第2标段（运用库及附属）",
                    "41000000",
                    "comprehensive",
                    s.at(10, 9, 30),
                    control="39800000",
                    security="800000",
                    days=480,
                ),
            ],
        ),
    )
    on(-16, 11, 0, lambda: _upload(s, "agency", "metro8", "8号线车辆段土建施工招标文件.pdf"))
    on(-15, 9, 30, lambda: _submit_accept(s, "agency", "metro8"))
    on(-14, 9, 0, lambda: _book(s, "metro8", "opening", "第一开标室", s.at(10, 9, 0), 3))
    on(-12, 9, 0, lambda: _publish(s, "agency", "metro8"))
    for i, b in enumerate(["bidder2", "bidder3", "bidder4", "bidder6"]):
        on(-11 + i * 2, 14, 20, functools.partial(_download, s, b, "metro8"))
    on(
        -2,
        9,
        0,
        lambda: _upload(s, "agency", "metro8", "澄清与修改（一）.pdf", "clarification_document"),
    )
    on(
        -2,
        10,
        0,
        lambda: notices.clarify(
            s.db,
            s.cast.actors["agency"],
            s.notices["metro8"],
            ClarificationIn(
                content="一、第1标段工程量清单第3.2节钢筋工程量更正，详见附件。\n"
                "二、因澄清距投标截止时间不足15日，投标截止时间及开标时间相应顺延。",
                new_deadline=s.at(14, 9, 30),
            ),
            s.calendar,
        ),
    )

    def rebook() -> None:
        t = s.tenders["metro8"]
        old = s.db.scalar(select(Booking).where(Booking.tender_project_id == t.id))
        assert old is not None
        projects.cancel_booking(s.db, s.cast.actors["staff"], old.id, "开标时间顺延")
        _book(s, "metro8", "opening", "第一开标室", s.at(14, 9, 0), 3, section=None)
        _book(
            s,
            "metro8",
            "evaluation",
            "第二评标室",
            s.at(14, 13, 30),
            6,
            branches=("远程评标室A",),
        )

    on(-1, 9, 0, rebook)

    # 3. Government procurement, open tender (agency for the education bureau).
    on(
        -10,
        10,
        0,
        lambda: _register(
            s,
            "campus",
            "agency",
            project("吴中区智慧校园建设项目", gp, "school", "320506"),
            TenderProjectIn(
                name="吴中区智慧校园设备采购",
                method="open",
                content="交互式教学一体机120台、录播系统8套及安装调试",
                supervise_dept_name="苏州市吴中区财政局",
                entrustment=EntrustmentIn(contract_no="ZX-WT-2026-044", scope="采购代理"),
            ),
            [
                _section(
                    "第1包 交互式教学一体机",
                    "3600000",
                    "gp_comprehensive_scoring",
                    s.at(13, 9, 30),
                    control="3600000",
                    security="50000",
                    days=60,
                ),
                _section(
                    "第2包 录播系统",
                    "1280000",
                    "gp_comprehensive_scoring",
                    s.at(13, 14, 0),
                    security="20000",
                    days=45,
                ),
            ],
        ),
    )
    on(-10, 11, 0, lambda: _upload(s, "agency", "campus", "智慧校园设备采购招标文件.pdf"))
    on(-9, 9, 30, lambda: _submit_accept(s, "agency", "campus"))
    on(-8, 9, 0, lambda: _publish(s, "agency", "campus"))
    on(-6, 15, 0, lambda: _download(s, "bidder7", "campus"))
    on(-4, 10, 30, lambda: _download(s, "bidder1", "campus"))

    # 4. Government procurement, competitive consultation (the bureau itself).
    on(
        -6,
        10,
        0,
        lambda: _register(
            s,
            "property",
            "school",
            project("吴中区中小学物业管理服务项目", gp, "school", "320506"),
            TenderProjectIn(
                name="吴中区中小学校园物业管理服务采购",
                method="competitive_consultation",
                content="12所中小学校园保洁、安保、绿化养护服务，服务期一年",
                supervise_dept_name="苏州市吴中区财政局",
            ),
            [
                _section(
                    "校园物业管理服务",
                    "2860000",
                    "gp_comprehensive_scoring",
                    s.at(8, 9, 30),
                    security="30000",
                    days=365,
                )
            ],
        ),
    )
    on(-6, 11, 0, lambda: _upload(s, "school", "property", "物业管理服务磋商文件.pdf"))
    on(-5, 9, 30, lambda: _submit_accept(s, "school", "property"))
    on(-3, 9, 0, lambda: _publish(s, "school", "property"))

    # 5. An invitation to tender: only the three invited bidders see it.
    on(
        -9,
        10,
        0,
        lambda: _register(
            s,
            "supervision",
            "agency",
            project("苏州市轨道交通8号线监理", eng, "metro"),
            TenderProjectIn(
                name="苏州市轨道交通8号线工程监理服务",
                method="invited",
                project_type="A11",
                content="8号线车辆段及正线土建施工监理",
                entrustment=entrust,
            ),
            [
                _section(
                    "监理服务",
                    "6800000",
                    "comprehensive",
                    s.at(16, 9, 30),
                    security="100000",
                    days=900,
                )
            ],
        ),
    )
    on(-9, 11, 0, lambda: _upload(s, "agency", "supervision", "监理服务招标文件.pdf"))
    on(-8, 10, 0, lambda: _submit_accept(s, "agency", "supervision"))
    on(
        -6,
        9,
        0,
        lambda: _publish(s, "agency", "supervision", ["bidder1", "bidder3", "bidder5"]),
    )

    # 6. Terminated (招标终止) with a termination notice.
    on(
        -30,
        10,
        0,
        lambda: _register(
            s,
            "furniture",
            "school",
            project("吴中区教育局办公家具采购项目", gp, "school", "320506"),
            TenderProjectIn(
                name="吴中区教育局办公家具采购", method="open", content="办公桌椅、文件柜"
            ),
            [
                _section(
                    "办公家具",
                    "860000",
                    "gp_lowest_price",
                    s.at(-2, 9, 30),
                    security="10000",
                    days=30,
                )
            ],
        ),
    )
    on(-30, 11, 0, lambda: _upload(s, "school", "furniture", "办公家具采购招标文件.pdf"))
    on(-29, 9, 30, lambda: _submit_accept(s, "school", "furniture"))
    on(-28, 9, 0, lambda: _publish(s, "school", "furniture"))
    on(-25, 14, 0, lambda: _download(s, "bidder7", "furniture"))
    on(
        -20,
        10,
        0,
        lambda: notices.terminate(
            s.db,
            s.cast.actors["school"],
            s.tenders["furniture"].id,
            TerminationIn(
                reason="因采购需求发生重大变化，本项目终止采购，已获取招标文件的供应商不受影响。"
            ),
        ),
    )

    # 7. Accepted with its opening booked, notice not yet published.
    on(
        -3,
        10,
        0,
        lambda: _register(
            s,
            "mep",
            "agency",
            project("苏州市轨道交通8号线机电工程", eng, "metro"),
            TenderProjectIn(
                name="苏州市轨道交通8号线机电设备安装工程",
                method="open",
                project_type="A11",
                content="通风空调、给排水、动力照明安装",
                entrustment=entrust,
            ),
            [
                _section(
                    "机电安装工程",
                    "46500000",
                    "lowest_evaluated_price",
                    s.at(26, 9, 30),
                    security="800000",
                    days=420,
                )
            ],
        ),
    )
    on(-3, 11, 0, lambda: _upload(s, "agency", "mep", "机电设备安装工程招标文件.pdf"))
    on(-2, 15, 0, lambda: _submit_accept(s, "agency", "mep"))
    on(-1, 16, 0, lambda: _book(s, "mep", "opening", "第二开标室", s.at(26, 9, 0), 3))

    # 8. Submitted, waiting in the acceptance queue.
    on(
        -2,
        10,
        0,
        lambda: _register(
            s,
            "annex",
            "agency",
            project("苏州市轨道交通8号线附属工程", eng, "metro"),
            TenderProjectIn(
                name="苏州市轨道交通8号线出入口及风亭附属工程施工",
                method="open",
                project_type="A11",
                entrustment=entrust,
            ),
            [
                _section(
                    "附属工程施工",
                    "18800000",
                    "comprehensive",
                    s.at(30, 9, 30),
                    security="300000",
                )
            ],
        ),
    )
    on(-2, 11, 0, lambda: _upload(s, "agency", "annex", "附属工程施工招标文件.pdf"))
    on(
        -1,
        10,
        0,
        lambda: projects.submit(s.db, s.cast.actors["agency"], s.tenders["annex"].id),
    )

    # 9. Returned with reasons.
    on(
        -5,
        10,
        0,
        lambda: _register(
            s,
            "playground",
            "school",
            project("吴中区实验小学操场改造工程", eng, "school", "320506"),
            TenderProjectIn(
                name="吴中区实验小学操场改造工程施工", method="open", project_type="A01"
            ),
            [
                _section(
                    "操场改造施工",
                    "4200000",
                    "lowest_evaluated_price",
                    s.at(25, 9, 30),
                    security="80000",
                    days=90,
                )
            ],
        ),
    )
    on(
        -5,
        11,
        0,
        lambda: projects.submit(s.db, s.cast.actors["school"], s.tenders["playground"].id),
    )
    on(
        -3,
        16,
        0,
        lambda: projects.return_tender(
            s.db,
            s.cast.actors["staff"],
            s.tenders["playground"].id,
            "缺少项目审批文件及招标文件，请补充后重新提交",
        ),
    )

    # 10. A draft the agency is still preparing.
    on(
        -1,
        15,
        0,
        lambda: _register(
            s,
            "design",
            "agency",
            project("苏州市轨道交通8号线装饰装修设计", eng, "metro"),
            TenderProjectIn(
                name="苏州市轨道交通8号线车站装饰装修设计",
                method="open",
                project_type="A11",
                entrustment=entrust,
            ),
            [],
        ),
    )

    # 11. Request for quotation (询价): three working days; skipped if the calendar lacks a year.
    def inquiry() -> None:
        deadline_day = s.calendar.add_working_days(s.today, 4)
        _register(
            s,
            "supplies",
            "school",
            project("吴中区教育局办公用品采购项目", gp, "school", "320506"),
            TenderProjectIn(
                name="吴中区教育局办公用品询价采购", method="inquiry", content="打印纸、硒鼓等"
            ),
            [
                _section(
                    "办公用品",
                    "180000",
                    "gp_lowest_price_deal",
                    dt.datetime.combine(deadline_day, dt.time(9, 30), clock.CHINA_TZ),
                    days=15,
                )
            ],
        )
        _upload(s, "school", "supplies", "办公用品询价通知书.pdf")
        _submit_accept(s, "school", "supplies")
        _publish(s, "school", "supplies")

    on(-1, 11, 0, inquiry)


def load_history(
    database: Any,
    keys_dir: Path,
    blob_dir: Path,
    history: ManualClock,
    refresh_crls: Callable[[Session], None],
    data_dir: Path | None = None,
) -> dict[str, str]:
    """Replay the demo tenders on ``history`` (a manual clock set to the start of the history).
    With ``data_dir`` (the platform's), also the sections opened, evaluated and awarded over
    the API (``demo.scenes``)."""
    today = (history.now() + dt.timedelta(days=HISTORY_DAYS)).date()
    skipped: dict[str, str] = {}
    with database.session_scope() as db:
        story = Story(
            today=today,
            db=db,
            cast=_cast(db, keys_dir),
            blobs=LocalBlobStore(blob_dir),
            calendar=WorkingCalendar(),
            refresh_crls=refresh_crls,
        )
        _script(story)
        scenes = None
        if data_dir is not None:
            from sunlit.demo.scenes import script

            scenes = script(story, database, data_dir, keys_dir)
        for when, _, step in sorted(story.events, key=lambda e: (e[0], e[1])):
            if when > history.now():
                history.set(when)
            try:
                step()
            except CalendarUnavailable as exc:  # a year the calendar does not know yet
                db.rollback()
                skipped[when.isoformat()] = exc.detail
        if scenes is not None:
            scenes.close()
    return skipped
