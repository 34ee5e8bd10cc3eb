"""Builds the demo: two development CAs (SM2 and ECDSA, 多CA互认), the market, certificates."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.demo import tenders
from sunlit.demo.data import organizations
from sunlit.demo.experts import load_experts
from sunlit.demo.partners import load_partners
from sunlit.identity import service
from sunlit.identity.devca import DevCA, write_credential
from sunlit.identity.models import TrustedCA, User
from sunlit.identity.schemas import OrganizationIn, UserIn
from sunlit.kernel import clock
from sunlit.kernel.authz import Actor, system_actor
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto.x509 import SubjectInfo
from sunlit.kernel.db import Database

DEMO = system_actor("demo")
CAS = {"gm": "阳光演示CA（国密SM2）", "intl": "Sunlit Demo CA (ECDSA P-256)"}


@dataclass
class DemoPaths:
    root: Path

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    def ca(self, suite: str) -> Path:
        return self.root / "ca" / suite

    @property
    def credentials(self) -> Path:
        return self.root / "credentials.txt"


def load(database: Database, paths: DemoPaths, password: str | None = None) -> dict[str, str]:
    """Create the whole demo in an empty database; returns the staff credentials.

    The market is registered at the start of a six-week history, then the demo tenders are
    replayed day by day up to now (``demo.tenders``), so every record, audit event and
    transparency-log leaf carries a time in order.
    """
    present = clock.get_clock()
    end = clock.now()
    history = ManualClock(end - dt.timedelta(days=tenders.HISTORY_DAYS))
    clock.set_clock(history)
    try:
        now = clock.now()
        cas = {
            suite: DevCA.create(paths.ca(suite), name, suite, now) for suite, name in CAS.items()
        }
        with database.session_scope() as db:
            for suite, ca in cas.items():
                row = service.add_trusted_ca(db, DEMO, CAS[suite], ca.certificate.to_pem().decode())
                service.update_crl(db, DEMO, row.id, ca.crl(now).der)
            for org in organizations():
                _load_org(db, org, cas, paths)
            load_experts(db, DEMO)  # the demo experts become the expert pool
        published = [now]

        def weekly_crls(db: Session) -> None:  # CAs publish a fresh CRL every week
            if clock.now() - published[0] >= dt.timedelta(days=6):
                _publish_crls(db, cas)
                published[0] = clock.now()

        tenders.load_history(
            database, paths.keys, paths.root / "blobs", history, weekly_crls, paths.root
        )
        history.set(max(end, history.now()))
        with database.session_scope() as db:
            _publish_crls(db, cas)
            _load_partners(db, database, paths)
            password = password or f"Sunlit-{secrets.token_urlsafe(9)}"
            admin = db.scalar(select(User).where(User.username == "admin"))
            assert admin is not None
            secret = service.set_password(db, DEMO, admin.id, password)
    finally:
        clock.set_clock(present)
    creds = {"username": "admin", "password": password, "totp_secret": secret}
    paths.credentials.write_text(
        "阳光交易演示平台 · 交易中心管理员（口令+动态口令登录）\n"
        f"登录名 username: admin\n口令 password: {password}\n"
        f"动态口令密钥 TOTP secret: {secret}\n"
        "当前动态口令: .venv/bin/sunlit demo totp admin\n"
    )
    paths.credentials.chmod(0o600)
    (paths.root / "demo.json").write_text(json.dumps({"version": 1}))
    return creds


def _load_partners(db: Session, database: Database, paths: DemoPaths) -> None:
    """The demo FI and deposit bank, admitted under the demo's own platform key (the one
    ``sunlit demo run`` serves from the same data directory)."""
    from sunlit.settings import Settings
    from sunlit.transparency import keys as platform_keys

    with platform_keys.configured(Settings(data_dir=paths.root, database_url=database.url)):
        load_partners(db, DEMO, paths.root)


def _publish_crls(db: Session, cas: dict[str, DevCA]) -> None:
    for suite, ca in cas.items():
        fingerprint = ca.certificate.fingerprint.hex()
        row = db.scalar(select(TrustedCA).where(TrustedCA.fingerprint == fingerprint))
        assert row is not None, suite
        service.update_crl(db, DEMO, row.id, ca.crl(clock.now()).der)


def _load_org(db: Session, org, cas: dict[str, DevCA], paths: DemoPaths) -> None:  # type: ignore[no-untyped-def]
    first, *others = org.people
    created = service.register_organization(
        db,
        DEMO if org.status == "active" else Actor(name="demo-registrant"),
        OrganizationIn(
            name=org.name,
            credit_code=org.credit_code,
            roles=list(org.roles),
            legal_representative=org.legal_rep,
            contact_name=first.name,
            contact_phone=first.mobile,
            address=org.address,
            basic_account_bank=org.bank,
            basic_account_no=org.account,
            admin=UserIn(
                name=first.name,
                mobile=first.mobile,
                roles=list(first.roles),
                username=first.username,
            ),
        ),
    )
    users = [db.scalar(select(User).where(User.organization_id == created.id))]
    for person in others:
        users.append(
            service.add_user(
                db,
                DEMO,
                created.id,
                UserIn(
                    name=person.name,
                    mobile=person.mobile,
                    roles=list(person.roles),
                    username=person.username,
                ),
            )
        )
    for person, user in zip(org.people, users, strict=True):
        assert user is not None
        cred = cas[person.suite].issue(
            SubjectInfo(person.name, org.name, org.credit_code),
            clock.now(),
        )
        write_credential(paths.keys, person.key, cred)
        if org.status == "active":
            service.bind_certificate_for(db, DEMO, user.id, cred.certificate.to_pem().decode())


def refresh_crls(database: Database, paths: DemoPaths) -> None:
    """CRLs expire after a week; a restarted demo publishes fresh ones."""
    with database.session_scope() as db:
        for suite in CAS:
            ca = DevCA.load(paths.ca(suite))
            fingerprint = ca.certificate.fingerprint.hex()
            row = db.scalar(select(TrustedCA).where(TrustedCA.fingerprint == fingerprint))
            if row is not None:
                service.update_crl(db, DEMO, row.id, ca.crl(clock.now()).der)
