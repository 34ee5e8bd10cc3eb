"""Fixtures for transparency tests: the platform key, the CLI environment, a logged-in staff."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from sunlit.identity import service as identity_service
from sunlit.identity.models import User
from sunlit.kernel import tlog
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from sunlit.settings import get_settings
from sunlit.transparency import keys
from sunlit.transparency.keys import PlatformKey
from tests.identity.helpers import SYSTEM, make_org

STAFF_PASSWORD = "Cent3r-Staff!pw"


@pytest.fixture(autouse=True)
def _gm_log() -> Iterator[None]:
    previous = tlog.set_default_suite("gm")
    yield
    tlog.set_default_suite(previous)


@pytest.fixture
def key(settings: Any) -> PlatformKey:
    """The platform key of the test settings (the one the app and the CLI use)."""
    keys.configure(settings)
    return keys.platform_key(settings)


@pytest.fixture
def key_pem(key: PlatformKey, tmp_path: Path) -> Path:
    path = tmp_path / "platform.pub.pem"
    path.write_text(key.public_pem())
    return path


@pytest.fixture
def cli(settings: Any, key: PlatformKey, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Run ``sunlit ...`` in-process against the test database and data directory."""
    from sunlit.cli import app

    monkeypatch.setenv("SUNLIT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SUNLIT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SUNLIT_CRYPTO_SUITE", settings.crypto_suite)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "400"})

    yield run
    get_settings.cache_clear()


@pytest.fixture
def staff_token(db: Session, client: Any, clock: ManualClock) -> str:
    make_org(
        db, 90, "苏州市公共资源交易中心", [Role.CENTER_STAFF], username="wangmin", person="王敏"
    )
    user = db.scalar(select(User).where(User.username == "wangmin"))
    assert user is not None
    secret = identity_service.set_password(db, SYSTEM, user.id, STAFF_PASSWORD)
    r = client.post(
        "/api/v1/auth/password",
        json={
            "username": "wangmin",
            "password": STAFF_PASSWORD,
            "totp": pyotp.TOTP(secret).at(clock.now()),
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["token"])
