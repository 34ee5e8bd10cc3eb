"""The role pages through real HTML forms (cookie session + CSRF), without a browser."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.identity.helpers import csrf_headers
from tests.projects.helpers import Party, World, accepted_tender, build_world, deadline, publish


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=2)


def _as(client: Any, party: Party) -> dict[str, str]:
    client.cookies.set("sunlit_session", party.token)
    return {"csrf_token": csrf_headers(client)["X-CSRF-Token"]}


def _local(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M")


def test_agency_registers_and_submits_through_the_pages(client: Any, world: World) -> None:
    token = _as(client, world.agency)
    assert "项目工作台" in client.get("/workspace/tenders").text
    form = client.get("/workspace/tenders/new")
    assert "招标人统一社会信用代码" in form.text
    r = client.post(
        "/workspace/tenders/new",
        data={
            **token,
            "project_name": "苏州市吴中区第二实验小学新建工程",
            "category": "engineering",
            "region_code": "320506",
            "tenderer_credit_code": world.tenderer.credit_code,
            "tender_name": "吴中区第二实验小学新建工程施工",
            "method": "open",
            "must_tender": "on",
            "project_type": "A01",
            "contract_no": "ZX-2026-200",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    detail_url = r.headers["location"].split("?")[0]
    page = client.get(r.headers["location"])
    assert "E320506" in page.text and "项目已登记" in page.text
    tid = detail_url.rsplit("/", 1)[1]
    bad = client.post(
        f"/workspace/tenders/{tid}/sections",
        data={
            **token,
            "name": "施工标段",
            "evaluation_method": "comprehensive",
            "estimated_price": "1000000",
            "bid_security": "30000",
            "bid_deadline": _local(deadline(25)),
        },
    )
    assert bad.status_code == 422 and "第二十六条" in bad.text and "20000.00" in bad.text
    ok = client.post(
        f"/workspace/tenders/{tid}/sections",
        data={
            **token,
            "name": "施工标段",
            "evaluation_method": "reasonable_low_price",
            "estimated_price": "1,000,000",
            "bid_security": "20000",
            "bid_deadline": _local(deadline(25)),
            "coefficients": "下浮系数K：0.95，0.96，0.97",
        },
        follow_redirects=True,
    )
    assert ok.status_code == 200 and "0.95、0.96、0.97" in ok.text
    r = client.post(f"/workspace/tenders/{tid}/submit", data=token, follow_redirects=True)
    assert "已提交交易中心受理" in r.text and "待受理" in r.text
    # A bad registration re-renders the form with the message and keeps the input.
    r = client.post(
        "/workspace/tenders/new",
        data={
            **token,
            "project_name": "某项目",
            "category": "engineering",
            "region_code": "9999",
            "tender_name": "x施工",
            "method": "open",
        },
    )
    assert r.status_code == 422 and "行政区划代码" in r.text and "某项目" in r.text


def test_staff_accepts_books_and_sees_the_calendar(client: Any, world: World) -> None:
    tender = accepted_tender(client, world)  # accepted through the API
    token = _as(client, world.staff)
    assert "受理登记" in client.get("/staff/acceptance?status=accepted").text
    r = client.post(
        "/staff/venues/rooms",
        data={
            **token,
            "name": "第一开标室",
            "kind": "opening",
            "center_name": "苏州市公共资源交易中心",
            "seats": "30",
        },
        follow_redirects=True,
    )
    assert r.status_code == 200 and "场地已添加" in r.text
    page = client.get(f"/workspace/tenders/{tender['id']}")
    assert "预约开标室" in page.text
    room_id = page.text.split('name="room_id"><option value="')[1].split('"')[0]
    opening = dt.datetime.fromisoformat(tender["sections"][0]["bid_deadline"])
    r = client.post(
        f"/staff/tenders/{tender['id']}/bookings",
        data={
            **token,
            "purpose": "opening",
            "room_id": room_id,
            "section_id": tender["sections"][0]["id"],
            "starts_at": _local(opening - dt.timedelta(hours=1)),
            "ends_at": _local(opening + dt.timedelta(hours=2)),
        },
        follow_redirects=True,
    )
    assert "场地已预约" in r.text
    r = client.post(
        f"/staff/tenders/{tender['id']}/bookings",
        data={
            **token,
            "purpose": "opening",
            "room_id": room_id,
            "starts_at": _local(opening),
            "ends_at": _local(opening + dt.timedelta(hours=1)),
        },
    )
    assert r.status_code == 409 and "重叠" in r.text and tender["code"] in r.text
    week = client.get(f"/staff/venues?week={opening.date().isoformat()}")
    assert tender["code"] in week.text
    r = client.post(
        "/staff/restrictions",
        data={
            **token,
            "credit_code": world.bidders[0].credit_code,
            "reason": "串通投标",
            "authority": "苏州市住建局",
        },
        follow_redirects=True,
    )
    assert "已列入限制投标名单" in r.text and world.bidders[0].name in r.text


def test_publish_clarify_terminate_and_bidder_pages(
    client: Any, db: Session, world: World, clock: Any
) -> None:
    tender = accepted_tender(client, world)
    token = _as(client, world.agency)
    r = client.post(
        f"/workspace/tenders/{tender['id']}/notices",
        data={**token, "content": "招标公告正文", "section_ids": tender["sections"][0]["id"]},
        follow_redirects=True,
    )
    assert "公告草稿已保存" in r.text
    nid = r.text.split('action="/workspace/notices/')[1].split("/publish")[0]
    r = client.post(f"/workspace/notices/{nid}/publish", data=token, follow_redirects=True)
    assert "公告已发布" in r.text
    clock.advance(dt.timedelta(days=15))
    world.refresh_crl(db)
    r = client.post(f"/workspace/notices/{nid}/clarify", data={**token, "content": "答疑"})
    assert r.status_code == 409 and "最早可顺延至" in r.text
    r = client.post(
        f"/workspace/notices/{nid}/clarify",
        data={**token, "content": "答疑", "new_deadline": _local(deadline(16))},
        follow_redirects=True,
    )
    assert "澄清或修改已发布" in r.text
    _as(client, world.bidders[1])
    assert tender["name"] in client.get("/bidder/notices").text
    doc = client.get(f"/api/v1/notices/{nid}").json()["documents"][0]["id"]
    assert client.get(f"/documents/{doc}/download").status_code == 200
    mine = client.get("/bidder/downloads").text
    assert "招标文件.pdf" in mine
    assert "已获取" in client.get("/bidder/notices").text
    token = _as(client, world.agency)
    page = client.get(f"/workspace/tenders/{tender['id']}")
    assert "任何人不得知悉" in page.text and world.bidders[1].name not in page.text
    r = client.post(
        f"/workspace/tenders/{tender['id']}/terminate",
        data={**token, "reason": "项目调整"},
        follow_redirects=True,
    )
    assert "已终止招标并发布终止公告" in r.text
    client.cookies.clear()
    anonymous = client.get(f"/documents/{doc}/download", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_public_pages_render_with_a_notice(client: Any, world: World) -> None:
    tender = accepted_tender(client, world)
    notice = publish(client, world, tender)
    client.cookies.clear()
    home = client.get("/")
    assert tender["name"] in home.text and "近期开标" in home.text
    lst = client.get("/notices?category=engineering&status=open&date_from=2026-11-01")
    assert tender["name"] in lst.text and "正在招标" in lst.text
    detail = client.get(f"/notices/{notice['id']}")
    assert "下浮系数K" in detail.text and "网上开标" in detail.text
    r = client.get(
        f"/documents/{detail.text.split('/documents/')[1].split('/')[0]}/download",
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_every_form_carries_the_csrf_token(client: Any, world: World) -> None:
    tender = accepted_tender(client, world)
    pages = [
        (world.agency, ["/workspace/tenders/new", f"/workspace/tenders/{tender['id']}"]),
        (
            world.staff,
            [f"/workspace/tenders/{tender['id']}", "/staff/venues", "/staff/restrictions"],
        ),
    ]
    for party, urls in pages:
        token = _as(client, party)["csrf_token"]
        for url in urls:
            html = client.get(url).text
            forms = html.count('method="post"')
            assert forms > 0, url
            assert html.count(f'name="csrf_token" value="{token}"') >= forms, url
