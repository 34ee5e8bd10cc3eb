"""`sunlit demo load` admits a demo FI and a demo deposit bank whose keys sit in the demo data
directory, where `sunlit sim fi` / `sunlit sim bank` find them; the staff pages list both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.demo import partners
from sunlit.demo.loader import DemoPaths, load
from sunlit.deposits import queries as deposit_queries
from sunlit.guarantees import queries as guarantee_queries
from sunlit.identity.models import User
from sunlit.kernel import partner
from sunlit.kernel.authz import Role
from sunlit.kernel.crypto import load_private_key_any
from sunlit.kernel.db import Database
from sunlit.kernel.web import sessions
from sunlit.sim.bank import load_or_create_key
from sunlit.sim.fi import FiSimulator
from tests.projects.helpers import _party


def test_demo_admits_an_fi_and_a_deposit_bank_the_simulators_can_play(
    database: Database, db: Session, client: Any, tmp_path: Path
) -> None:
    root = tmp_path / "demo"
    load(database, DemoPaths(root), password="Demo-Passw0rd!")
    db.rollback()
    staff = _party(db, None, 901, "交易中心", [Role.CENTER_STAFF], "周敏")

    (inst,) = guarantee_queries.institutions(db)
    assert (inst.name, inst.credit_code, inst.status) == (
        partners.FI_NAME,
        partners.FI_CREDIT_CODE,
        "admitted",
    )
    (product,) = guarantee_queries.products(db, inst.id)
    assert product.status == "active"
    assert [c.region_code for c in guarantee_queries.choices(db)] == [partners.REGION]
    (bank,) = deposit_queries.banks(db, staff.actor)
    assert (bank["code"], bank["status"]) == (partners.BANK_CODE, "active")
    assert bank["master_account_no"] == partners.BANK_MASTER_ACCOUNT and bank["rates"]

    # The simulators started on the demo folder sign with the keys the center registered.
    fi_partner = partner.get_partner(db, inst.partner_id)
    sim = FiSimulator(
        partners.fi_folder(root),
        code=partners.FI_CODE,
        name=partners.FI_NAME,
        credit_code=partners.FI_CREDIT_CODE,
        platform_url="http://127.0.0.1:1",
    )
    assert sim.public_pem.strip() == fi_partner.public_key_pem.strip()
    bank_key = load_or_create_key(partners.bank_key_path(root), "gm")
    bank_partner = db.scalar(select(partner.Partner).where(partner.Partner.code == "simbank"))
    assert bank_partner is not None
    assert bank_key.public_key().to_pem().decode().strip() == bank_partner.public_key_pem.strip()
    key = load_private_key_any(partners.bank_key_path(root).read_bytes())
    assert partners.bank_key_path(root).stat().st_mode & 0o077 == 0 and key is not None

    page = client.get("/staff/guarantees", headers=staff.headers)
    assert page.status_code == 200 and partners.FI_NAME in page.text
    page = client.get("/staff/deposits", headers=staff.headers)
    assert page.status_code == 200 and partners.BANK_NAME in page.text

    # The FI is the demo's bank organization: its user sees the institution's queue.
    assert inst.org_id is not None
    fi_user = db.scalar(select(User).where(User.organization_id == inst.org_id))
    assert fi_user is not None and fi_user.name == "黄芳"
    token, _ = sessions.open_session(db, fi_user.id, "certificate", 24)
    db.commit()
    page = client.get("/fi/guarantees", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 200 and partners.FI_NAME in page.text
    assert "电子投标保函（银行，演示）" in page.text
