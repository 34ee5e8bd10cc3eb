"""Two demo sections past their opening, woven into the six-week demo history.

- ``substation``: opened three weeks ago; experts drawn, evaluated, report signed, award
  publicity on the portal, the award letters sent and the contract registered.
- ``depot``: opened two days ago; experts drawn and confirmed, evaluation started yesterday,
  some experts have handed in their scores, the others have not (the expert workbench has work).

Tenders are registered and published through the services like the other demo tenders; from the
opening keys on, every step goes over the platform's HTTP API (a TestClient on the demo
database, demo users' certificate keys, sealed bids), with the same helpers as
``sunlit demo tender --through award``. Each step is an event of the story at its own time.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sunlit.bidding import sealed
from sunlit.bidding.opening_keys import generate_opening_key, generate_passphrase
from sunlit.demo import api_client
from sunlit.demo import award as steps
from sunlit.demo.tender import Market, Party, Prepared, _check, run_opening, seal
from sunlit.demo.tenders import (
    DEMO_AUDIENCE,
    Story,
    _publish,
    _register,
    _section,
    _submit_accept,
    _upload,
)
from sunlit.draws import CenterSecret
from sunlit.identity.devca import IssuedCredential
from sunlit.identity.models import User
from sunlit.kernel.authz import Role
from sunlit.kernel.crypto import load_private_key_any
from sunlit.kernel.crypto.x509 import load_certificate
from sunlit.kernel.db import Database
from sunlit.kernel.web import sessions
from sunlit.projects.schemas import EntrustmentIn, ProjectIn, TenderProjectIn

KEYS = {
    "王敏": "01-center-wangmin",
    "孙红": "03-supervisor-sunhong",
    "李建国": "04-tenderer-lijianguo",
    "陈静": "06-agency-chenjing",
}
# The demo pool's experts in 工程施工 (A0401..): six by main specialty.
STRATA = [{"specialty": "A0401", "count": 5, "alternates": 0}]


class Scenes:
    """The API side of the scenes: parties with sessions, the app, per-section state."""

    def __init__(self, story: Story, database: Database, data_dir: Path, keys_dir: Path) -> None:
        from sunlit.app import create_app
        from sunlit.settings import Settings

        self.story = story
        self.keys_dir = keys_dir
        settings = Settings(data_dir=data_dir, database_url=database.url, base_url=DEMO_AUDIENCE)
        # No lifespan: the scheduler does not run while the history is replayed.
        self.client = api_client(create_app(settings, database), DEMO_AUDIENCE)
        self.platform_key = (data_dir / "keys" / "platform.key.pem").read_bytes()
        self.tmp = Path(tempfile.mkdtemp(prefix="sunlit-demo-bids-"))
        self.tokens: list[str] = []
        self.parties: dict[str, Party] = {}
        self.state: dict[str, dict[str, Any]] = {}

    def party(self, user: User, key: str | None) -> Party:
        if user.id in self.parties:
            return self.parties[user.id]
        org = user.organization
        cred = None
        if key is not None:
            cred = IssuedCredential(
                certificate=load_certificate((self.keys_dir / f"{key}.cert.pem").read_bytes()),
                private_key=load_private_key_any((self.keys_dir / f"{key}.key.pem").read_bytes()),
            )
        token, _ = sessions.open_session(self.story.db, user.id, "certificate", 24 * 60)
        self.tokens.append(token)
        self.story.db.commit()
        p = Party(org.name, org.id, user.id, org.credit_code, user.name, cred, token)
        self.parties[user.id] = p
        return p

    def by_name(self, name: str) -> Party:
        user = self.story.db.scalar(select(User).where(User.name == name))
        assert user is not None, name
        return self.party(user, KEYS.get(name))

    def bidder(self, n: int) -> Party:
        org = self.story.cast.orgs[f"bidder{n}"]
        user = self.story.db.scalar(select(User).where(User.organization_id == org.id))
        assert user is not None
        return self.party(user, f"{9 + n:02d}-bidder-{n}")

    def experts(self) -> list[Party]:
        users = self.story.db.scalars(select(User).order_by(User.mobile))
        out = []
        for user in users:
            if Role.EXPERT.value in (user.roles or []) and user.organization.status == "active":
                n = int(user.mobile[-4:])
                out.append(self.party(user, f"{20 + n:02d}-expert-{n}"))
        return out

    def market(self, bidders: list[int]) -> Market:
        return Market(
            ca=None,  # type: ignore[arg-type]  # CRLs come from the story's demo CAs
            suite="gm",
            staff=self.by_name("王敏"),
            supervisor=self.by_name("孙红"),
            tenderer=self.by_name("李建国"),
            agency=self.by_name("陈静"),
            bidders=[self.bidder(n) for n in bidders],
        )

    def step(self, days: int, hour: int, minute: int, fn: Callable[[], object]) -> None:
        """An API step of the story: the story's own writes are committed first (the API
        runs on other connections), CRLs are kept fresh."""

        def run() -> None:
            self.story.refresh_crls(self.story.db)
            self.story.db.commit()
            fn()

        self.story.on(days, hour, minute, run)

    def close(self) -> None:
        """No demo bearer token outlives the loading."""
        self.story.db.commit()
        for token in self.tokens:
            sessions.close_session(self.story.db, token)
        self.story.db.commit()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _section_of(scenes: Scenes, key: str) -> tuple[str, str]:
    t = scenes.story.tenders[key]
    scenes.story.db.refresh(t)
    return t.sections[0].id, t.sections[0].code


def _keys_and_commitment(scenes: Scenes, key: str, market: Market) -> None:
    sid, code = _section_of(scenes, key)
    passes = {"tenderer": generate_passphrase(), "center": generate_passphrase()}
    for role, party in (("tenderer", market.agency), ("center", market.staff)):
        k = generate_opening_key(code, role, "gm", passes[role])  # type: ignore[arg-type]
        _check(
            scenes.client.post(
                f"/api/v1/sections/{sid}/opening-keys",
                json={
                    "role": role,
                    "public_key": k.public_pem.decode(),
                    "encrypted_private_key": k.encrypted_private_pem.decode(),
                },
                headers=party.headers,
            ),
            201,
            f"登记开标公钥（{role}）",
        )
    scenes.state[key] = {"sid": sid, "code": code, "passes": passes}


def _commit_draw(scenes: Scenes, key: str, market: Market) -> None:
    from sunlit.kernel import clock

    center = CenterSecret.new("gm", committed_at=clock.now())
    _check(
        scenes.client.post(
            f"/api/v1/sections/{scenes.state[key]['sid']}/draw-commitment",
            json={"commitment": center.commitment.hex()},
            headers=market.staff.headers,
        ),
        201,
        "提交抽取承诺",
    )
    scenes.state[key]["center"] = center


def _bid(scenes: Scenes, key: str, party: Party, price: str) -> None:
    st = scenes.state[key]
    keys = sealed.SectionKeys.from_json(
        scenes.client.get(f"/api/v1/sections/{st['sid']}/section-keys.json").content
    )
    data = seal(party, keys, price, scenes.tmp / f"{key}-{party.credit_code}")
    body = _check(
        scenes.client.put(f"/api/v1/sections/{st['sid']}/bid", content=data, headers=party.headers),
        201,
        f"上传投标文件（{party.name}）",
    )
    st.setdefault("prices", {})[party.credit_code] = price
    st.setdefault("receipts", []).append((party, body["bid"]["id"]))


def _open(scenes: Scenes, key: str, market: Market) -> None:
    from sunlit.kernel import clock

    st = scenes.state[key]
    manual = clock.get_clock()
    assert isinstance(manual, clock.ManualClock)
    prep = Prepared(
        st["sid"], st["code"], clock.now(), st["passes"], st["prices"], st["center"], st["receipts"]
    )
    run_opening(scenes.client, market, prep, manual, scenes.platform_key)


def _scene(
    scenes: Scenes,
    key: str,
    *,
    name: str,
    project: str,
    section: str,
    price: str,
    opening_day: int,
    bidders: list[int],
    through_award: bool,
) -> None:
    s, story = scenes, scenes.story
    market_: list[Market] = []

    def market() -> Market:
        if not market_:
            market_.append(s.market(bidders))
        return market_[0]

    org = story.cast.orgs
    start = opening_day - 23  # registered 23 days before the opening (20 days' notice period)
    deadline = story.at(opening_day, 9, 30)
    story.on(
        start,
        9,
        0,
        lambda: _register(
            story,
            key,
            "agency",
            ProjectIn(
                name=project,
                category="engineering",
                region_code="320500",
                tenderer_credit_code=org["metro"].credit_code,
                legal_person=org["metro"].name,
                fund_source="财政资金 40%，企业自筹 60%",
                approval_name="项目初步设计批复",
                approval_number="苏发改投〔2026〕41号",
            ),
            TenderProjectIn(
                name=name,
                method="open",
                project_type="A11",
                content=section,
                supervise_dept_name="苏州市住房和城乡建设局",
                entrustment=EntrustmentIn(contract_no="ZX-WT-2026-027", scope="招标全过程代理"),
            ),
            [
                _section(
                    section,
                    price,
                    "reasonable_low_price",
                    deadline,
                    control=str(Decimal(price) * Decimal("0.97")),
                    security="0",
                    days=360,
                    coefficients=[
                        ("下浮系数K", ["0.95", "0.96", "0.97", "0.98"]),
                        ("下浮率Δ（%）", ["3", "4", "5"]),
                    ],
                    qualification="建筑工程施工总承包二级及以上资质",
                )
            ],
        ),
    )
    story.on(start, 10, 0, lambda: _upload(story, "agency", key, f"{name}招标文件.pdf"))
    story.on(start, 15, 0, lambda: _submit_accept(story, "agency", key))
    s.step(start + 1, 9, 0, lambda: _keys_and_commitment(s, key, market()))
    story.on(start + 1, 9, 30, lambda: _publish(story, "agency", key))
    s.step(start + 1, 10, 0, lambda: _commit_draw(s, key, market()))
    base = Decimal(price) * Decimal("0.93")
    for i in range(len(bidders)):
        amount = f"{base - Decimal(i * 137_500) + Decimal(i * 3) / 100:.2f}"

        def bid(i: int = i, amount: str = amount) -> None:
            _bid(s, key, market().bidders[i], amount)

        s.step(opening_day - 6 + i, 10 + i, 20, bid)
    s.step(opening_day, 9, 31, lambda: _open(s, key, market()))
    panel: list[steps.Panel] = []

    def draw() -> None:
        evaluation = story.at(opening_day + 1, 9, 0)
        panel.append(
            steps.draw_experts(
                s.client,
                market(),
                s.state[key]["sid"],
                s.experts(),
                strata=STRATA,
                starts=evaluation,
            )
        )

    s.step(opening_day, 14, 0, draw)

    def sid() -> str:
        return str(s.state[key]["sid"])

    s.step(
        opening_day + 1,
        9,
        0,
        lambda: steps.start_evaluation(s.client, market(), sid(), panel[0]),
    )
    if not through_award:  # two of five hand in; the rest is work for the demo experts
        s.step(
            opening_day + 1,
            11,
            0,
            lambda: steps.score(s.client, market(), sid(), panel[0].experts[1:3]),
        )
        return
    s.step(
        opening_day + 1,
        11,
        0,
        lambda: steps.score(s.client, market(), sid(), panel[0].experts),
    )
    s.step(opening_day + 1, 15, 0, lambda: steps.sign_report(s.client, sid(), panel[0]))
    s.step(opening_day + 2, 10, 0, lambda: steps.open_award(s.client, market(), sid()))
    decided: list[dict[str, Any]] = []
    s.step(
        opening_day + 6,
        10,
        0,
        lambda: decided.append(steps.decide(s.client, market(), sid())),
    )
    s.step(
        opening_day + 9,
        10,
        0,
        lambda: steps.sign_contract(s.client, market(), sid(), decided[0]),
    )


def script(story: Story, database: Database, data_dir: Path, keys_dir: Path) -> Scenes:
    """Add the two scenes' events to ``story``; call :meth:`Scenes.close` after the replay."""
    scenes = Scenes(story, database, data_dir, keys_dir)
    _scene(
        scenes,
        "substation",
        name="苏州市轨道交通6号线主变电所土建施工",
        project="苏州市轨道交通6号线主变电所工程",
        section="主变电所土建施工",
        price="12800000",
        opening_day=-21,
        bidders=[1, 3, 5, 7],  # the gm (SM2) certificate holders
        through_award=True,
    )
    _scene(
        scenes,
        "depot",
        name="苏州市轨道交通6号线停车场土建施工",
        project="苏州市轨道交通6号线停车场工程",
        section="停车场土建施工",
        price="23600000",
        opening_day=-2,
        bidders=[3, 5, 7],
        through_award=False,
    )
    return scenes
